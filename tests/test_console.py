"""The console through HTTP against the bot and the emulator on real sockets: WeCom login (网页授权, 扫码登录),
scopes, CSRF, and every action going through the chat's own code path (same event rows, same notices)."""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from storage.models import AuditEvent, InboundMessage, LinkChange, OutboundMessage
from tests.matters.helpers import AT, BRANCH, Db, bot_replies


@pytest.fixture
async def db(pair):
    d = Db(pair.settings.database.url)
    yield d
    await d.close()


async def say(pair, who: str, text: str) -> str:
    await pair.emulator.say(who, BRANCH, AT + text)
    return bot_replies(pair, BRANCH)[-1]


def browser() -> aiohttp.ClientSession:
    # unsafe: keep cookies for 127.0.0.1 (a browser does)
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def login(pair, userid: str, http: aiohttp.ClientSession | None = None, *, qr: bool = False):
    """Log in as `userid` the way a person does: /console/ → WeCom's page → one click → callback → /console/."""
    http = http or browser()
    start = "/console/login/qr" if qr else "/console/"
    r = await http.get(pair.bot_url + start, allow_redirects=False)
    assert r.status == 302, await r.text()
    page = await http.get(r.headers["Location"].split("#")[0])
    assert page.status == 200, await page.text()
    html = await page.text()
    link = re.search(rf'href="([^"]+)" data-userid="{re.escape(userid)}"', html)
    assert link, f"{userid} not offered on the login page"
    grant = await http.get(pair.emulator_url + unescape(link.group(1)), allow_redirects=False)
    assert grant.status == 302
    back = await http.get(grant.headers["Location"], allow_redirects=False)
    return http, back


async def logged_in(pair, userid: str) -> aiohttp.ClientSession:
    http, back = await login(pair, userid)
    assert back.status == 302 and back.headers["Location"] == "/console/", await back.text()
    return http


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def nonce_of(html: str) -> str:
    found = re.search(r'name="nonce" value="([^"]+)"', html)
    return found.group(1) if found else secrets.token_urlsafe(12)  # no button on the page: a hand-made form


# --- the contract -------------------------------------------------------------------------------------------
async def test_console_without_session_redirects_to_wecom_oauth(pair):
    async with browser() as http:
        r = await http.get(pair.bot_url + "/console/", allow_redirects=False)
        assert r.status == 302
        loc = r.headers["Location"]
        s = pair.settings
        assert loc.startswith(f"{s.console.oauth_base}/connect/oauth2/authorize?appid={s.wecom.corp_id}&redirect_uri=")
        assert loc.endswith("#wechat_redirect")
        q = parse_qs(urlsplit(loc.split("#")[0]).query)
        assert q["redirect_uri"] == [f"{pair.bot_url}/console/oauth/callback"]
        assert q["response_type"] == ["code"] and q["scope"] == ["snsapi_base"] and q["state"][0]
        assert "redirect_uri=http%3A%2F%2F" in loc  # url-encoded, as the contract writes it
        cookie = r.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


async def test_callback_reads_userid_sets_session_and_returns_to_console(pair):
    http, back = await login(pair, "chenjianguo")
    async with http:
        assert back.status == 302 and back.headers["Location"] == "/console/"
        cookie = back.headers.getall("Set-Cookie")
        session = next(c for c in cookie if c.startswith("lianhu_console="))
        assert "HttpOnly" in session and "SameSite=Lax" in session and "Secure" not in session  # plain http
        assert pair.emulator.stats["auth/getuserinfo"] == 1
        home = await http.get(pair.bot_url + "/console/")
        assert home.status == 200 and "陈建国" in await home.text()


async def test_qr_login_on_a_pc_reaches_the_same_callback(pair):
    http, back = await login(pair, "wangli", qr=True)
    async with http:
        assert back.status == 302 and back.headers["Location"] == "/console/"
        assert pair.emulator.stats["sso/login"] == 1
        assert "王丽" in await (await http.get(pair.bot_url + "/console/")).text()


async def test_visits_page_lists_unvisited_by_head_name_within_scope(pair):
    month = dt.date.today().strftime("%Y-%m")
    async with await logged_in(pair, "chenjianguo") as sec, await logged_in(pair, "zhangwei") as member:
        branch = await (await sec.get(f"{pair.bot_url}/console/visits?month={month}")).text()
        mine = await (await member.get(f"{pair.bot_url}/console/visits?month={month}")).text()
    # 书记: every unvisited household of the branch; 张伟 (M04): only H011–H016
    assert "王根发" in branch and "陈阿土" in branch and "冯阿林" in branch
    assert "王根发" in mine and "方桂香" in mine
    assert "陈阿土" not in mine and "冯阿林" not in mine


async def test_a_visit_reported_in_chat_leaves_the_unvisited_list(pair):
    await say(pair, "zhangwei", "今天走访了王根发家")
    async with await logged_in(pair, "zhangwei") as http:
        html = await (await http.get(pair.bot_url + "/console/visits")).text()
    unvisited = html.split('id="unvisited"')[1].split("</ul>")[0]
    assert "王根发" not in unvisited and "王彩娥" in unvisited


async def test_bad_month_is_a_clear_400(pair):
    async with await logged_in(pair, "chenjianguo") as http:
        r = await http.get(pair.bot_url + "/console/visits?month=2026-13")
        assert r.status == 400 and "月份格式" in await r.text() and "<html" in await r.text()


# --- who may log in, who sees what ------------------------------------------------------------------------------
async def test_person_outside_the_roster_gets_a_plain_refusal(pair):
    http, back = await login(pair, "")  # the emulator's "not in the address book" choice
    async with http:
        assert back.status == 403
        text = await back.text()
        assert "不能使用联户工作台" in text or "只有本单位通讯录" in text
        assert "lianhu_console=" not in " ".join(back.headers.getall("Set-Cookie", []))


async def test_callback_with_a_state_this_browser_never_got_is_refused(pair):
    async with browser() as http:
        r = await http.get(pair.bot_url + "/console/oauth/callback?code=abc&state=forged", allow_redirects=False)
        assert r.status == 400 and "登录已过期" in await r.text()
    assert pair.emulator.stats["auth/getuserinfo"] == 0  # refused before asking WeCom


async def test_a_code_is_good_once(pair):
    http = browser()
    r = await http.get(pair.bot_url + "/console/", allow_redirects=False)
    page = await (await http.get(r.headers["Location"].split("#")[0])).text()
    href = unescape(re.search(r'href="([^"]+)" data-userid="wangli"', page).group(1))
    grant = await http.get(pair.emulator_url + href, allow_redirects=False)
    callback = grant.headers["Location"]
    async with http:
        first = await http.get(callback, allow_redirects=False)
        assert first.status == 302
        again = await http.get(callback, allow_redirects=False)  # replayed: WeCom takes a code once
        assert again.status == 400 and "登录已过期" in await again.text()
        assert "lianhu_console=" not in " ".join(again.headers.getall("Set-Cookie", []))


async def test_a_state_sent_off_by_another_browser_is_refused(pair):
    async with browser() as attacker, browser() as victim:
        r = await attacker.get(pair.bot_url + "/console/", allow_redirects=False)
        page = await (await attacker.get(r.headers["Location"].split("#")[0])).text()
        href = unescape(re.search(r'href="([^"]+)" data-userid="wangli"', page).group(1))
        callback = (await attacker.get(pair.emulator_url + href, allow_redirects=False)).headers["Location"]
        await victim.get(pair.bot_url + "/console/", allow_redirects=False)  # the victim has a login under way
        r = await victim.get(callback, allow_redirects=False)
        assert r.status == 400


async def test_contract_flow_with_a_client_that_keeps_no_cookies(pair):
    """The contract as an outside checker may run it: three plain requests, no cookie jar in between."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        r = await http.get(pair.bot_url + "/console/", allow_redirects=False)
        state = parse_qs(urlsplit(r.headers["Location"].split("#")[0]).query)["state"][0]
        code = pair.emulator.issue_code("chenjianguo")
        r = await http.get(f"{pair.bot_url}/console/oauth/callback?code={code}&state={state}", allow_redirects=False)
        assert r.status == 302 and r.headers["Location"] == "/console/"
        token = r.cookies["lianhu_console"].value
        month = dt.date.today().strftime("%Y-%m")
        r = await http.get(
            f"{pair.bot_url}/console/visits?month={month}", headers={"Cookie": f"lianhu_console={token}"}
        )
        assert r.status == 200 and "陈阿土" in await r.text()


async def test_member_pages_scope_and_cadre_pages_refused(pair):
    async with await logged_in(pair, "zhangwei") as http:
        for path in ("/console/roster", "/console/ledgers", "/console/sending"):
            r = await http.get(pair.bot_url + path)
            assert r.status == 403 and "只给支部书记、委员" in await r.text(), path
        home = await (await http.get(pair.bot_url + "/console/")).text()
        assert 'href="/console/roster"' not in home


async def test_member_sees_own_matters_only(pair):
    await say(pair, "zhangwei", "王根发家门口的路灯坏了")  # 诉求1, a household of 张伟
    await say(pair, "lixiulan", "冯阿林家的水管漏水")  # 诉求2, a household of 李秀兰
    async with await logged_in(pair, "zhangwei") as member, await logged_in(pair, "chenjianguo") as sec:
        mine = await (await member.get(pair.bot_url + "/console/matters")).text()
        assert "诉求1" in mine and "诉求2" not in mine
        assert (await member.get(pair.bot_url + "/console/matters/request/2")).status == 404
        branch = await (await sec.get(pair.bot_url + "/console/matters")).text()
        assert "诉求1" in branch and "诉求2" in branch
        detail = await (await sec.get(pair.bot_url + "/console/matters/request/1")).text()
        assert "登记" in detail and "张伟" in detail  # the event history, with who


# --- CSRF and logout ------------------------------------------------------------------------------------------
async def test_post_without_or_with_wrong_csrf_is_403_and_changes_nothing(pair, db):
    await say(pair, "zhangwei", "王根发家门口的路灯坏了")
    async with await logged_in(pair, "chenjianguo") as http:
        url = pair.bot_url + "/console/matters/request/1/act"
        r = await http.post(url, data={"action": "受理"})
        assert r.status == 403
        r = await http.post(url, data={"action": "受理", "csrf": "x" * 32})
        assert r.status == 403 and "什么都没有改动" in await r.text()
        # another person's token does not work either
        async with await logged_in(pair, "wanghaifeng") as other:
            page = await (await other.get(pair.bot_url + "/console/matters/request/1")).text()
            r = await http.post(url, data={"action": "受理", "csrf": csrf_of(page)})
            assert r.status == 403
    assert (await db.matter("request", 1)).state == "已登记"


async def test_logout_clears_the_session(pair):
    async with await logged_in(pair, "chenjianguo") as http:
        page = await (await http.get(pair.bot_url + "/console/")).text()
        r = await http.post(pair.bot_url + "/console/logout", data={"csrf": csrf_of(page)})
        assert r.status == 200 and "已退出" in await r.text()
        again = await http.get(pair.bot_url + "/console/", allow_redirects=False)
        assert again.status == 302 and "/connect/oauth2/authorize" in again.headers["Location"]


async def test_expired_session_sends_back_to_login(pair):
    from bot.console.auth import Signer

    old = Signer(pair.settings, clock=lambda: 0.0)  # signed with the same key, expired long ago
    token, _ = old.new_session("chenjianguo")
    async with browser() as http:
        http.cookie_jar.update_cookies({"lianhu_console": token}, response_url=aiohttp.client.URL(pair.bot_url))
        r = await http.get(pair.bot_url + "/console/", allow_redirects=False)
        assert r.status == 302 and "/connect/oauth2/authorize" in r.headers["Location"]


# --- every action: the chat's code path ---------------------------------------------------------------------------
async def act(http, pair, kind: str, number: int, action: str, **fields) -> str:
    url = f"{pair.bot_url}/console/matters/{kind}/{number}"
    page = await (await http.get(url)).text()
    data = {"csrf": csrf_of(page), "nonce": nonce_of(page), "action": action, **fields}
    r = await http.post(url + "/act", data=data)
    assert r.status == 200, await r.text()
    return await r.text()


async def test_every_action_goes_through_the_chat_path(pair, db):
    await say(pair, "zhangwei", "王根发家门口的路灯坏了，晚上看不见")  # 诉求1
    await say(pair, "zhangwei", "严德富家门口的排水沟堵了")  # 诉求2 (not one the branch approves: no 把关 wait)
    await say(pair, "zhangwei", "王彩娥家院墙塌了")  # 诉求3
    async with await logged_in(pair, "chenjianguo") as http:
        html = await act(http, pair, "request", 1, "受理", note="户组梳理")
        assert "诉求1 已受理。备注：户组梳理" in html
        html = await act(http, pair, "request", 1, "商议", note="村里统一更换，联系13912345678")
        assert "诉求1 已商议：村里统一更换" in html and "13912345678" not in html
        html = await act(http, pair, "request", 1, "派", assignee="王丽", due="2030-12-03")
        assert "诉求1 已派给王丽承办，12月3日前办结" in html
        html = await act(http, pair, "request", 1, "延期", due="2030-12-10", note="等灯具")
        assert "诉求1 已延期到12月10日，原因：等灯具" in html
        html = await act(http, pair, "request", 1, "办结", note="路灯已换新，电话13812345678")
        assert "诉求1 已办结" in html and "13812345678" not in html  # masked as in chat
        html = await act(http, pair, "request", 2, "不予受理", note="不符合条件")
        assert "诉求2 不予受理，原因：不符合条件" in html
        html = await act(http, pair, "request", 3, "上报")
        assert "诉求3 已上报镇街四个平台" in html
        html = await act(http, pair, "request", 2, "受理")  # a move the state does not allow: the chat's answer
        assert "没有变化" in html
    m = await db.matter("request", 1)
    assert [e[0] for e in await db.events(m.id)] == ["登记", "受理", "商议", "派", "延期", "办结"]
    assert all(actor == "chenjianguo" for _, _, actor in (await db.events(m.id))[1:])
    # the same notices as chat: the assignee is told, the reporter hears of each change once
    assert any("请您承办 诉求1" in t for t in await db.outbox_to("wangli"))
    told = await db.outbox_to("zhangwei")
    assert sum("诉求1 已受理" in t for t in told) == 1 and sum("诉求1 已办结" in t for t in told) == 1
    # recorded as the person's own message (who and when), answered on the page, not sent to their WeCom
    n = await db.scalar(select(func.count()).select_from(InboundMessage).where(InboundMessage.channel == "console"))
    assert n == 8
    replies_to_sec = await db.outbox_to("chenjianguo")
    assert not any("已受理" in t for t in replies_to_sec)


async def test_member_buttons_get_the_chat_refusal(pair, db):
    await say(pair, "zhangwei", "王根发家门口的路灯坏了")
    async with await logged_in(pair, "zhangwei") as http, await logged_in(pair, "chenjianguo") as sec:
        mine = await (await http.get(pair.bot_url + "/console/matters/request/1")).text()
        assert 'data-action="派"' not in mine and 'data-action="受理"' not in mine  # only what he may press
        theirs = await (await sec.get(pair.bot_url + "/console/matters/request/1")).text()
        assert 'data-action="派"' in theirs and 'data-action="受理"' in theirs
        html = await act(http, pair, "request", 1, "派", assignee="王丽")  # a hand-made form: the chat's refusal
        assert "没有变化：“派”需要支部书记或委员。" in html
    assert (await db.matter("request", 1)).state == "已登记"


async def test_a_form_sent_twice_acts_once(pair, db):
    await say(pair, "zhangwei", "王根发家门口的路灯坏了")
    async with await logged_in(pair, "chenjianguo") as http:
        url = f"{pair.bot_url}/console/matters/request/1"
        page = await (await http.get(url)).text()
        data = {"csrf": csrf_of(page), "nonce": nonce_of(page), "action": "商议", "note": "统一更换"}
        await http.post(url + "/act", data=data)
        await http.post(url + "/act", data=data)
    m = await db.matter("request", 1)
    assert [e[0] for e in await db.events(m.id)] == ["登记", "商议"]


# --- 名册 ------------------------------------------------------------------------------------------------------
async def test_roster_download_and_reupload_roundtrip(pair):
    async with await logged_in(pair, "chenjianguo") as http:
        r = await http.get(pair.bot_url + "/console/roster.xlsx")
        assert r.status == 200
        data = await r.read()
        assert load_workbook(io.BytesIO(data)).sheetnames
        page = await (await http.get(pair.bot_url + "/console/roster")).text()
        form = aiohttp.FormData()
        form.add_field("csrf", csrf_of(page))
        form.add_field("file", data, filename="roster.xlsx")
        r = await http.post(pair.bot_url + "/console/roster/upload", data=form)
        html = await r.text()
        assert r.status == 200 and "已导入" in html and "党员 14 名" in html


async def test_roster_upload_with_errors_lists_them_and_imports_nothing(pair, db, tmp_path):
    from storage.models import Branch

    version = await db.scalar(select(Branch.roster_version))
    async with await logged_in(pair, "chenjianguo") as http:
        data = await (await http.get(pair.bot_url + "/console/roster.xlsx")).read()
        wb = load_workbook(io.BytesIO(data))
        ws = wb["党员"]
        header = [c.value for c in ws[1]]
        ws.cell(row=3, column=header.index("姓名") + 1).value = None  # a member without a name
        buf = io.BytesIO()
        wb.save(buf)
        page = await (await http.get(pair.bot_url + "/console/roster")).text()
        form = aiohttp.FormData()
        form.add_field("csrf", csrf_of(page))
        form.add_field("file", buf.getvalue(), filename="roster.xlsx")
        r = await http.post(pair.bot_url + "/console/roster/upload", data=form)
        html = await r.text()
    assert r.status == 400 and "什么都没有导入" in html, html[html.find("<main>") :][:1500]
    problems = html.split('id="import-problems"')[1]
    assert ws.title in problems and "<td>3</td>" in problems and "姓名" in problems
    assert await db.scalar(select(Branch.roster_version)) == version


async def test_roster_upload_too_large_is_refused_plainly(pair):
    async with await logged_in(pair, "chenjianguo") as http:
        page = await (await http.get(pair.bot_url + "/console/roster")).text()
        form = aiohttp.FormData()
        form.add_field("csrf", csrf_of(page))
        form.add_field("file", b"0" * (6 * 1024 * 1024), filename="roster.xlsx")
        r = await http.post(pair.bot_url + "/console/roster/upload", data=form)
        assert r.status == 413 and "文件太大" in await r.text()


async def test_roster_upload_refused_to_a_member(pair):
    async with await logged_in(pair, "zhangwei") as http:
        page = await (await http.get(pair.bot_url + "/console/")).text()
        form = aiohttp.FormData()
        form.add_field("csrf", csrf_of(page))
        form.add_field("file", b"x", filename="roster.xlsx")
        r = await http.post(pair.bot_url + "/console/roster/upload", data=form)
        assert r.status == 403


async def test_pending_link_change_approved_through_the_chat_path(pair, db):
    reply = await say(pair, "zhangwei", "调整联户 王根发 王丽 离得近")
    assert "调整1" in reply
    async with await logged_in(pair, "chenjianguo") as http:
        page = await (await http.get(pair.bot_url + "/console/roster")).text()
        assert "调整1" in page and "待审批" in page
        r = await http.post(
            pair.bot_url + "/console/roster/changes/1",
            data={"csrf": csrf_of(page), "nonce": nonce_of(page), "verb": "同意"},
        )
        html = await r.text()
    assert "调整1 已同意：王根发家今后由王丽联系" in html
    assert await db.scalar(select(LinkChange.state).where(LinkChange.number == 1)) == "已同意"
    assert any("调整1 已同意" in t for t in await db.outbox_to("wangli"))


# --- 台账, 发送, 定时任务, 积分 ---------------------------------------------------------------------------------
async def test_every_ledger_downloads_for_a_month(pair):
    from storage.export import KINDS

    async with await logged_in(pair, "chenjianguo") as http:
        page = await (await http.get(pair.bot_url + "/console/ledgers?month=2026-11")).text()
        for kind in KINDS:
            assert f"/console/ledgers/{kind}.xlsx?month=2026-11" in page
            r = await http.get(f"{pair.bot_url}/console/ledgers/{kind}.xlsx?month=2026-11")
            assert r.status == 200, kind
            assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
            assert load_workbook(io.BytesIO(await r.read())).sheetnames


async def test_dead_letter_shown_with_reason_and_retried(pair, db):
    from storage import outbox

    async with db.sm() as s, s.begin():
        outbox.enqueue(s, channel="app", target="wangli", content="测试通知", key="t-dead", branch_id=1)
    async with db.sm() as s, s.begin():
        row = await s.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == "t-dead"))
        row.status, row.error, row.attempts = "dead", "60111 userid not found", 8
        row_id = row.id
    async with await logged_in(pair, "chenjianguo") as http:
        page = await (await http.get(pair.bot_url + "/console/sending")).text()
        assert f"#{row_id}" in page and "60111 userid not found" in page and "王丽" in page
        r = await http.post(f"{pair.bot_url}/console/sending/{row_id}/retry", data={"csrf": csrf_of(page)})
        assert f"#{row_id} 已放回发件箱" in await r.text()
    status = await db.scalar(select(OutboundMessage.status).where(OutboundMessage.id == row_id))
    assert status in ("pending", "sending", "sent")
    audit = await db.scalar(select(AuditEvent.actor).where(AuditEvent.action == "outbox_retry"))
    assert audit == "chenjianguo"


async def test_jobs_listed_and_run_now(pair, db):
    from storage.models import JobRun

    async with await logged_in(pair, "chenjianguo") as http:
        page = await (await http.get(pair.bot_url + "/console/sending")).text()
        assert "积分结算" in page and "从未运行" in page
        r = await http.post(pair.bot_url + "/console/jobs/points/run", data={"csrf": csrf_of(page)})
        html = await r.text()
        assert "积分结算" in html and "已运行" in html
        r = await http.post(pair.bot_url + "/console/jobs/points/run", data={"csrf": csrf_of(page)})
        assert "本周期已运行过" in await r.text()
    assert await db.scalar(select(func.count()).select_from(JobRun).where(JobRun.status == "done")) == 1
    runs = await db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "job_run"))
    assert runs == 2  # who pressed 立即运行, both times


async def test_points_member_own_secretary_branch_without_ranking(pair):
    async with await logged_in(pair, "zhangwei") as member, await logged_in(pair, "chenjianguo") as sec:
        mine = await (await member.get(pair.bot_url + "/console/points")).text()
        assert "我的积分" in mine and "支部党员积分" not in mine
        branch = await (await sec.get(pair.bot_url + "/console/points")).text()
        assert "支部党员积分" in branch and "不排名次" in branch
        codes = re.findall(r"<td>(M\d\d)</td>", branch)
        assert codes == sorted(codes) and len(codes) >= 10


async def test_cookies_are_secure_behind_https(pair):
    async with browser() as http:
        r = await http.get(pair.bot_url + "/console/", allow_redirects=False, headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in r.headers["Set-Cookie"]


# --- township staff ---------------------------------------------------------------------------------------------
async def test_township_staff_see_the_branch_and_act_on_escalated_matters(pair, db):
    from emulator.world import User

    pair.emulator.world.users["zhenjie01"] = User("zhenjie01", "镇街干部")
    pair.settings.roles.township_userids.append("zhenjie01")
    await say(pair, "zhangwei", "王根发家门口的路灯坏了")
    await say(pair, "chenjianguo", "上报 诉求1 镇综合信息指挥室")
    async with await logged_in(pair, "zhenjie01") as http:
        listing = await (await http.get(pair.bot_url + "/console/matters")).text()  # opens on 已上报
        assert "诉求1" in listing and "镇街" in listing
        html = await act(http, pair, "request", 1, "办结", note="镇里已协调供电所修好")
        assert "诉求1 已办结" in html
        assert (await http.get(pair.bot_url + "/console/sending")).status == 200  # the branch's books
        page = await (await http.get(pair.bot_url + "/console/roster")).text()
        assert "上传名册" not in page  # the roster is the branch's own to maintain
        r = await http.post(
            pair.bot_url + "/console/branch",
            data={"csrf": csrf_of(page), "branch": "1", "next": "/console/matters"},
            allow_redirects=False,
        )
        assert r.status == 302 and r.headers["Location"] == "/console/matters"
        assert "lianhu_console_branch=1" in r.headers["Set-Cookie"]
    events = await db.events((await db.matter("request", 1)).id)
    assert events[-1] == ("办结", "已办结", "zhenjie01")


async def test_matter_filters_kind_member_overdue_and_must_visit(pair, db):
    from storage.models import Matter, MustVisitTask

    await say(pair, "zhangwei", "王根发家门口的路灯坏了")  # 诉求1
    await say(pair, "lixiulan", "冯阿林家想要一台收音机")  # 心愿1
    await say(pair, "chenjianguo", "派 诉求1 王丽")
    async with db.sm() as s, s.begin():
        m = await s.scalar(select(Matter).where(Matter.kind == "request", Matter.number == 1))
        m.due_date = dt.date(2020, 1, 1)
        wish = await s.scalar(select(Matter).where(Matter.kind == "wish", Matter.number == 1))
        s.add(MustVisitTask(branch_id=wish.branch_id, household_id=wish.household_id, trigger="illness"))
    async with await logged_in(pair, "chenjianguo") as http:

        async def refs(query: str) -> set[str]:
            html = await (await http.get(f"{pair.bot_url}/console/matters?{query}")).text()
            return set(re.findall(r'class="ref">([^<]+)<', html))

        assert await refs("state=open") == {"诉求1", "心愿1"}
        assert await refs("kind=wish") == {"心愿1"}
        assert await refs("overdue=1") == {"诉求1"}
        assert await refs("mustvisit=1") == {"心愿1"}
        wangli = await db.scalar(select(Matter.assignee_id).where(Matter.kind == "request"))
        assert await refs(f"member={wangli}") == {"诉求1"}
        assert await refs("state=承办中") == {"诉求1"}
        assert await refs("state=closed") == set()


async def test_central_household_leader_sees_the_members_they_lead(pair):
    month = dt.date.today().strftime("%Y-%m")
    async with await logged_in(pair, "zhengguoping") as http:  # 中心户 (not a cadre) of 孙小军, 胡建华, 陈雅婷
        html = await (await http.get(f"{pair.bot_url}/console/visits?month={month}")).text()
        assert (await http.get(pair.bot_url + "/console/roster")).status == 403
    unvisited = html.split('id="unvisited"')[1].split("</ul>")[0]
    assert all(n in unvisited for n in ("郑阿宝", "汪建平", "范国栋", "陶建设"))  # his own and his members'
    assert "陈阿土" not in unvisited and "王根发" not in unvisited  # the secretary's, 张伟's


async def test_csv_roster_upload(pair):
    import csv

    from storage.roster_file import SHEET_HOUSEHOLDS, SHEET_MEMBERS

    async with await logged_in(pair, "chenjianguo") as http:
        wb = load_workbook(io.BytesIO(await (await http.get(pair.bot_url + "/console/roster.xlsx")).read()))

        def as_csv(sheet: str) -> bytes:
            buf = io.StringIO()
            csv.writer(buf).writerows(
                [["" if v is None else v for v in row] for row in wb[sheet].iter_rows(values_only=True)]
            )
            return buf.getvalue().encode("utf-8-sig")

        page = await (await http.get(pair.bot_url + "/console/roster")).text()
        form = aiohttp.FormData()
        form.add_field("csrf", csrf_of(page))
        form.add_field("file", as_csv(SHEET_MEMBERS), filename="qianyang_members.csv")
        form.add_field("file", as_csv(SHEET_HOUSEHOLDS), filename="qianyang_households.csv")
        r = await http.post(pair.bot_url + "/console/roster/upload", data=form)
        html = await r.text()
    assert r.status == 200 and "已导入" in html and "联系户 60 户" in html


async def test_without_wecom_credentials_the_console_says_what_to_configure(migrated_url):
    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(migrated_url))
    async with TestClient(TestServer(app)) as client:
        r = await client.get("/console/", allow_redirects=False)
        assert r.status == 503 and "corp_id" in await r.text()


async def test_link_change_rejected_needs_a_reason_and_tells_the_requester(pair, db):
    await say(pair, "zhangwei", "调整联户 王根发 王丽 离得近")
    async with await logged_in(pair, "chenjianguo") as http:
        page = await (await http.get(pair.bot_url + "/console/roster")).text()
        url = pair.bot_url + "/console/roster/changes/1"
        r = await http.post(url, data={"csrf": csrf_of(page), "nonce": "n" * 12, "verb": "驳回"})
        assert "驳回请写明原因" in await r.text()
        r = await http.post(
            url, data={"csrf": csrf_of(page), "nonce": "m" * 12, "verb": "驳回", "note": "就近原则不适用"}
        )
        assert "调整1 已驳回，原因：就近原则不适用" in await r.text()
    assert await db.scalar(select(LinkChange.state).where(LinkChange.number == 1)) == "已驳回"
    assert any("调整1 被驳回" in t for t in await db.outbox_to("zhangwei"))
