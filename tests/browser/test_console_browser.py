"""The console in a real browser: Debian's chromium driven by Playwright (no browser download), logging in through
the emulator's 网页授权 page, every page on a phone (390 px) and a PC (1280 px), one action end to end.

Screenshots go to pytest's tmp dir; with LIANHU_CONSOLE_SCREENSHOTS=1 also to docs/console/ (how the ones in the
docs were made). Skipped, saying why, when chromium or Playwright is missing (.ci/run installs chromium).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.matters.helpers import AT, BRANCH

CHROMIUM = "/usr/bin/chromium"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "console"
VIEWPORTS = {"phone": (390, 844), "pc": (1280, 900)}
PAGES = [
    ("home", "/console/", "您好"),
    ("visits", "/console/visits", "走访"),
    ("matters", "/console/matters", "事项"),
    ("matter", "/console/matters/request/1", "诉求1"),
    ("roster", "/console/roster", "名册"),
    ("ledgers", "/console/ledgers", "台账"),
    ("sending", "/console/sending", "定时任务"),
    ("points", "/console/points", "积分"),
]

playwright_api = pytest.importorskip("playwright.async_api", reason="Playwright for Python is not installed")
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} missing (apt-get install -y chromium fonts-noto-cjk)"
)


async def _seed(pair) -> None:
    for who, text in [
        ("zhangwei", "王根发家门口的路灯坏了，晚上看不见"),
        ("zhangwei", "王彩娥家老人住院了，想申请临时救助"),
        ("lixiulan", "冯阿林家想要一台收音机"),
        ("zhangwei", "今天走访了严德富家"),
    ]:
        await pair.emulator.say(who, BRANCH, AT + text)
    await pair.emulator.say("chenjianguo", BRANCH, AT + "派 诉求2 王丽")


async def _login(page, pair, userid: str, shot: Path | None = None) -> None:
    await page.goto(pair.bot_url + "/console/")
    if shot is not None:
        await page.screenshot(path=str(shot), full_page=True)
    await page.click(f'a[data-userid="{userid}"]')  # the emulator's one-click 网页授权
    await page.wait_for_url(pair.bot_url + "/console/")


async def test_console_pages_on_phone_and_pc_and_one_action(pair, tmp_path):
    await _seed(pair)
    shots = tmp_path / "shots"
    shots.mkdir()
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--lang=zh-CN"])
        try:
            for label, (w, h) in VIEWPORTS.items():
                ctx = await browser.new_context(viewport={"width": w, "height": h}, locale="zh-CN")
                page = await ctx.new_page()
                await _login(page, pair, "chenjianguo")
                for name, path, heading in PAGES:
                    resp = await page.goto(pair.bot_url + path)
                    assert resp is not None and resp.status == 200, path
                    assert heading in await page.inner_text("main"), path
                    # mobile first: nothing wider than the screen (tables scroll inside their card at worst)
                    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                    assert overflow <= 1, f"{path} is {overflow}px wider than a {w}px screen"
                    await page.screenshot(path=str(shots / f"{name}-{label}.png"), full_page=True)
                await ctx.close()

            # one action, as a secretary would on the phone: 受理 诉求1
            ctx = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
            page = await ctx.new_page()
            await _login(page, pair, "chenjianguo")
            await page.goto(pair.bot_url + "/console/matters/request/1")
            await page.click("details >> summary:text-is('受理')")
            await page.fill("details[open] input[name=note]", "户组梳理")
            await page.click("details[open] button[data-action='受理']")
            await page.wait_for_url(pair.bot_url + "/console/matters/request/1")
            assert "诉求1 已受理。备注：户组梳理" in await page.inner_text(".flash")
            assert "已受理" in await page.inner_text("h1 .state")
            assert "户组梳理" in await page.inner_text("ol.events")
            await page.screenshot(path=str(shots / "action-phone.png"), full_page=True)
            # the member is told, as in chat
            await page.goto(pair.bot_url + "/console/visits")
            await ctx.close()

            # someone outside the roster: the plain refusal page
            ctx = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
            page = await ctx.new_page()
            await page.goto(pair.bot_url + "/console/")
            await page.click('a[data-userid=""]')
            await page.wait_for_load_state()
            assert "无法使用工作台" in await page.inner_text("main")
            await page.screenshot(path=str(shots / "refused-phone.png"), full_page=True)
            await ctx.close()

            # a member's own view on the phone
            ctx = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
            page = await ctx.new_page()
            await _login(page, pair, "zhangwei", shots / "login-phone.png")
            await page.goto(pair.bot_url + "/console/visits")
            unvisited = await page.inner_text("#unvisited")
            assert "王根发" in unvisited and "陈阿土" not in unvisited
            await page.screenshot(path=str(shots / "visits-member-phone.png"), full_page=True)
            await ctx.close()
        finally:
            await browser.close()
    if os.environ.get("LIANHU_CONSOLE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        from PIL import Image  # (matplotlib's dependency) a 64-colour palette keeps the docs' PNGs small

        for f in shots.iterdir():
            Image.open(f).convert("RGB").quantize(colors=64).save(DOCS / f.name, optimize=True)
