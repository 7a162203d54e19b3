"""The demo page in a real browser (Debian's chromium through Playwright, no browser download), as a village would
use it: a resident's 微信客服 chat without a script error, no @ button for residents, the monthly chart shown as a
picture in the 党员群 after the page's "现在运行" button, and a phone-width screen that still shows the chat.

Screenshots go to pytest's tmp dir; with LIANHU_DEMO_SCREENSHOTS=1 also to docs/demo/ (how the ones in the docs
were made)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "demo"
BRANCH = "wrQYbranch0001"
RESIDENT = "wmh006x7Qe"  # 王秀英家, in 王海峰's 联户群

playwright_api = pytest.importorskip("playwright.async_api", reason="Playwright for Python is not installed")
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} missing (apt-get install -y chromium fonts-noto-cjk)"
)


def _archive(s):
    s.archive.poll_seconds = 0.05


async def _as(page, userid: str, chat: str) -> None:
    await page.select_option("#me", userid)
    await page.click(f'.chat-btn[data-chat="{chat}"]')


async def _send(page, text: str) -> None:
    await page.fill("#text", text)
    await page.click("#send")
    await page.wait_for_function("document.getElementById('status').textContent.indexOf('发送中') < 0")


async def test_the_demo_page_as_a_village_uses_it(make_pair, tmp_path):
    pair = await make_pair(_archive, archive="bridge")
    shots = tmp_path / "shots"
    shots.mkdir()
    errors: list[str] = []
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--lang=zh-CN"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 860}, locale="zh-CN")
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(pair.emulator_url + "/")
            await page.wait_for_selector(".chat-btn")

            # a resident: no @ button anywhere, and the 微信客服 chat opens with its own title
            await _as(page, RESIDENT, "wrQYm02hh01")
            assert not await page.is_visible("#mention")
            await _as(page, RESIDENT, "kf")
            assert await page.inner_text("#title") == "村里的微信客服"
            assert not await page.is_visible("#mention")
            assert "微信客服" in await page.inner_text('.chat-btn[data-chat="kf"]')
            await _send(page, "想要一副老花镜")
            await page.wait_for_selector(".msg.bot .bubble")
            who = await page.inner_text(".msg.bot .who")
            assert who.startswith("村里的微信客服"), who  # not the raw sender id
            await page.screenshot(path=str(shots / "kf-resident.png"))

            # a member in the 党员群: the @ button is there; a visit, then this month's summary from the page
            await _as(page, "zhangwei", BRANCH)
            assert await page.is_visible("#mention")
            await _send(page, "@联户小助手 今天走访了严德富")
            await page.wait_for_selector(".msg.bot .bubble")
            assert "流式" not in await page.inner_text("#messages")
            await page.click('[data-job="summary"]')
            await page.wait_for_function("document.getElementById('jobs').textContent.indexOf('已运行') >= 0")
            img = await page.wait_for_selector("#messages img.pic", timeout=20_000)
            assert await img.evaluate("i => i.complete && i.naturalWidth > 200"), "the chart did not load"
            assert "字节]" not in await page.inner_text("#messages")
            await page.screenshot(path=str(shots / "summary-chart.png"))

            # a phone's width: the chat column is there and wide enough to read
            await page.set_viewport_size({"width": 420, "height": 860})
            box = await page.eval_on_selector("#messages", "e => e.getBoundingClientRect().toJSON()")
            assert box["width"] >= 380 and box["height"] > 200, box
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{overflow}px wider than the screen"
            await page.screenshot(path=str(shots / "phone-420.png"), full_page=True)
        finally:
            await browser.close()
    assert errors == [], errors
    if os.environ.get("LIANHU_DEMO_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        for f in shots.iterdir():
            shutil.copy(f, DOCS / f.name)
