"""The console's pages. Reads go through the storage queries the jobs and exports use; every action on a matter
or a 调整 is sent through the runtime as the chat command it stands for (channel "console"), so the rules, the
event rows, the notices and the reply are the chat's own — the console holds no copy of them."""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote, urlencode

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.console import auth
from bot.console.viewer import Viewer, resolve_viewer, view_context
from bot.keys import CLIENT_KEY, RUNTIME_KEY, SESSIONMAKER_KEY, SETTINGS_KEY
from bot.wecom.errors import WeComApiError
from domain import commands
from handlers import common
from handlers.context import Inbound
from nlp.pii import mask_pii
from storage import export as ledgers
from storage import matters as mt
from storage import outbox, points, repo, rhythm
from storage.models import (
    AuditEvent,
    Grid,
    Household,
    Link,
    LinkChange,
    Matter,
    Member,
    MustVisitTask,
    OutboundMessage,
)
from storage.roster_file import Problem, RosterError, load_roster, write_roster_xlsx
from storage.roster_sync import export_roster, import_roster

JINJA_KEY = web.AppKey("console_jinja", object)
SIGNER_KEY = web.AppKey("console_signer", auth.Signer)
VIEWER = web.RequestKey("console_viewer", Viewer)
CSRF = web.RequestKey("console_csrf", str)
FORM = web.RequestKey("console_form", object)
FLASH = web.RequestKey("console_flash", object)
BRANCH_COOKIE = "lianhu_console_branch"
FLASH_COOKIE = "lianhu_console_flash"
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
UPLOAD_MAX = 5 * 1024 * 1024  # a village roster is ~20 KB; a county's a few MB
ACTIONS = ("受理", "商议", "派", "办结", "延期", "不予受理", "上报")
CHANNEL_LABEL = {
    "app": "应用消息",
    "webhook": "群机器人",
    "aibot": "智能机器人",
    "template": "群发任务",
    "kf": "微信客服",
    "response_url": "机器人回复",
}

View = Callable[[web.Request, AsyncSession, Viewer], Awaitable[web.StreamResponse]]


# --- plumbing -----------------------------------------------------------------------------------------------
def _settings(request: web.Request) -> Settings:
    return request.app[SETTINGS_KEY]


def _signer(request: web.Request) -> auth.Signer:
    return request.app[SIGNER_KEY]


def _now(request: web.Request) -> dt.datetime:
    return request.app[RUNTIME_KEY].clock()


def _today(request: web.Request) -> dt.date:
    return rhythm.local_date(_now(request))


def render(request: web.Request, template: str, ctx: dict, status: int = 200) -> web.Response:
    base = {
        "viewer": request.get(VIEWER),
        "csrf": request.get(CSRF, ""),
        "path": request.path,
        "flash": request.get(FLASH),
    }
    resp = aiohttp_jinja2.render_string(template, request, base | ctx, app_key=JINJA_KEY)
    resp = web.Response(text=resp, content_type="text/html", status=status)
    resp.headers["Cache-Control"] = "no-store"  # personal data: never kept by a shared PC's browser or a proxy
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Content-Security-Policy"] = (
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    )
    return resp


def refuse(request: web.Request, status: int, title: str, text: str) -> web.Response:
    return render(request, "refuse.html", {"title": title, "text": text}, status=status)


def _redirect(location: str) -> web.Response:
    """A 302 with the Location exactly as written (aiohttp's HTTPFound would decode the %-escapes WeCom needs)."""
    return web.Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})


def _login_redirect(request: web.Request, next_path: str, *, qr: bool = False) -> web.Response:
    settings, signer = _settings(request), _signer(request)
    if not (settings.wecom.corp_id and settings.wecom.secret):
        text = "工作台用企业微信登录：请先在配置的 [wecom] 里填写 corp_id、secret 和 agent_id。"
        return refuse(request, 503, "还不能登录", text)
    state, cookie = signer.new_state(auth.safe_next(next_path))
    redirect_uri = f"{auth.public_base(request, settings)}/console/oauth/callback"
    url = (auth.qr_login_url if qr else auth.authorize_url)(settings, redirect_uri, state)
    resp = _redirect(url)
    auth.set_cookie(resp, request, settings, auth.STATE_COOKIE, cookie, auth.STATE_TTL)
    return resp


def page(*, cadre: bool = False, manage: bool = False):
    """Session, CSRF (every POST), the viewer and their rights, then the view with a read session.

    cadre: 书记/委员 of the branch or township staff; manage: 书记/委员 of the branch itself (roster import)."""

    def wrap(view: View):
        async def handler(request: web.Request) -> web.StreamResponse:
            signer = _signer(request)
            session = signer.session(request.cookies.get(auth.SESSION_COOKIE))
            if session is None:
                if request.method == "GET":
                    return _login_redirect(request, request.path_qs)
                return refuse(request, 403, "登录已过期", "登录已过期，请重新打开工作台再操作。")
            if request.method == "POST":
                if request.path.endswith("/roster/upload"):
                    request = request.clone(client_max_size=UPLOAD_MAX)
                try:
                    form = await request.post()
                except web.HTTPRequestEntityTooLarge:
                    return refuse(request, 413, "文件太大", "上传的文件太大（名册不超过 5 MB），什么都没有导入。")
                if not signer.csrf_ok(session, form.get("csrf")):  # type: ignore[arg-type]
                    return refuse(
                        request, 403, "操作无效", "这个表单已失效（可能来自别的网页），什么都没有改动。请刷新页面再试。"
                    )
                request[FORM] = form
            request[CSRF] = signer.csrf(session)
            rt = request.app[RUNTIME_KEY]
            try:
                want = int(request.cookies.get(BRANCH_COOKIE, "0"))
            except ValueError:
                want = 0
            async with request.app[SESSIONMAKER_KEY]() as s:
                viewer = await resolve_viewer(rt, s, session.userid, want_branch=want, now=_now(request))
                if viewer is None:
                    return refuse(
                        request,
                        403,
                        "无法使用工作台",
                        "没有在村里的党员名册里找到您，不能使用联户工作台。如有疑问请联系支部书记。",
                    )
                request[VIEWER] = viewer
                if viewer.branch is None:
                    return refuse(request, 403, "还没有支部", "还没有导入任何支部的名册。")
                if (cadre or manage) and not viewer.cadre:
                    return refuse(request, 403, "没有权限", "这一页只给支部书记、委员看。")
                if manage and viewer.township:
                    return refuse(request, 403, "没有权限", "名册由本支部书记、委员维护。")
                try:
                    return await view(request, s, viewer)
                except web.HTTPClientError as exc:  # 400/404 from a view: the same plain page as every refusal
                    title = "没有找到" if exc.status == 404 else "请求有误"
                    return refuse(request, exc.status, title, exc.text or title)

        return handler

    return wrap


def _flash_redirect(request: web.Request, location: str, text: str | None) -> web.Response:
    resp = _redirect(location)
    if text:  # a cookie holds ~4 KB: 600 characters of Chinese fit, base64 and signature included
        value = _signer(request).sign("flash", {"t": text[:600], "exp": int(_signer(request).clock()) + 120})
        auth.set_cookie(resp, request, _settings(request), FLASH_COOKIE, value, 120)
    return resp


def _take_flash(request: web.Request) -> str | None:
    data = _signer(request).open("flash", request.cookies.get(FLASH_COOKIE))
    return mask_pii(str(data["t"])) if data else None  # the chat's answer may echo a number the person typed


def _with_flash(resp: web.Response, request: web.Request) -> web.Response:
    if request.cookies.get(FLASH_COOKIE):
        auth.clear_cookie(resp, FLASH_COOKIE)
    return resp


def _month(request: web.Request) -> str:
    m = request.query.get("month", "")
    if m and not MONTH.fullmatch(m):
        raise web.HTTPBadRequest(text="月份格式应为 2026-11")
    return m or rhythm.month_of(_today(request))


def _nonce() -> str:
    return secrets.token_urlsafe(12)


async def _names(s: AsyncSession, branch_id: int) -> dict[str, str]:
    """userid → how people are named on screen (members by name, residents as 某某家)."""
    out = {m.userid: m.name for m in await s.scalars(select(Member).where(Member.branch_id == branch_id)) if m.userid}
    for h in await s.scalars(
        select(Household).where(Household.branch_id == branch_id, Household.external_userid.is_not(None))
    ):
        out[h.external_userid] = f"{h.head_name}家（群众）"  # type: ignore[index]
    return out


# --- login ----------------------------------------------------------------------------------------------------
async def oauth_callback(request: web.Request) -> web.StreamResponse:
    settings, signer = _settings(request), _signer(request)
    next_path = signer.check_state(request.cookies.get(auth.STATE_COOKIE), request.query.get("state"))
    if next_path is None:
        return refuse(request, 400, "登录已过期", "这次登录已过期或不是从本页面发起的，请重新打开工作台。")
    code = request.query.get("code", "")
    if not code:
        return refuse(request, 403, "没有登录", "企业微信没有同意这次登录。")
    try:
        userid = await userid_for_code(request, code)
    except WeComApiError as exc:
        if exc.errcode == 40029:  # the code was used already or is older than 5 minutes
            return refuse(request, 400, "登录已过期", "这次登录已过期，请重新打开工作台。")
        return refuse(request, 502, "登录失败", f"向企业微信确认身份时出错，请稍后重试。（{exc}）")
    except (OSError, ValueError) as exc:
        return refuse(request, 502, "登录失败", f"向企业微信确认身份时出错，请稍后重试。（{exc}）")
    if not userid:
        return refuse(request, 403, "无法使用工作台", "只有本单位通讯录里的党员和镇街干部可以登录工作台。")
    async with request.app[SESSIONMAKER_KEY]() as s:
        viewer = await resolve_viewer(request.app[RUNTIME_KEY], s, userid, want_branch=None, now=_now(request))
    if viewer is None:
        return refuse(
            request,
            403,
            "无法使用工作台",
            "没有在村里的党员名册里找到您，不能使用联户工作台。如有疑问请联系支部书记。",
        )
    token, _ = signer.new_session(userid)
    resp = _redirect(next_path)
    auth.set_cookie(resp, request, settings, auth.SESSION_COOKIE, token, signer.ttl)
    auth.clear_cookie(resp, auth.STATE_COOKIE)
    return resp


async def userid_for_code(request: web.Request, code: str) -> str | None:
    """cgi-bin/auth/getuserinfo: `userid` for a member of the organisation, None for anyone else (openid)."""
    client = request.app[CLIENT_KEY]
    for attempt in (0, 1):
        token = await client.token(force=attempt == 1)
        async with client.http.get(
            f"{client.api_base}/cgi-bin/auth/getuserinfo",
            params={"access_token": token, "code": code},
            timeout=client.timeout,
        ) as resp:
            data = await resp.json(content_type=None)
        errcode = int(data.get("errcode", 0))
        if errcode == 0:
            userid = data.get("userid") or data.get("UserId")  # the older user/getuserinfo spelled it UserId
            return str(userid) if userid else None
        err = WeComApiError(errcode, str(data.get("errmsg", "")), "auth/getuserinfo")
        if not (err.token_expired and attempt == 0):
            raise err
    return None


async def login_qr(request: web.Request) -> web.StreamResponse:
    return _login_redirect(request, request.query.get("next", "/console/"), qr=True)


async def logout(request: web.Request) -> web.StreamResponse:
    signer = _signer(request)
    session = signer.session(request.cookies.get(auth.SESSION_COOKIE))
    form = await request.post()
    if session is not None and not signer.csrf_ok(session, form.get("csrf")):  # type: ignore[arg-type]
        return refuse(request, 403, "操作无效", "这个表单已失效，请刷新页面再试。")
    resp = render(request, "logged_out.html", {})
    for name in (auth.SESSION_COOKIE, BRANCH_COOKIE, FLASH_COOKIE):
        auth.clear_cookie(resp, name)
    return resp


async def root(request: web.Request) -> web.StreamResponse:
    return _redirect("/console/")


@page()
async def choose_branch(request: web.Request, s: AsyncSession, v: Viewer) -> web.StreamResponse:
    resp = _redirect(auth.safe_next(request[FORM].get("next")))
    try:
        bid = int(request[FORM].get("branch", "0"))
    except ValueError:
        bid = 0
    if v.township and any(b.id == bid for b in v.branches):
        auth.set_cookie(resp, request, _settings(request), BRANCH_COOKIE, str(bid), _signer(request).ttl)
    return resp


# --- home -----------------------------------------------------------------------------------------------------
@page()
async def home(request: web.Request, s: AsyncSession, v: Viewer) -> web.StreamResponse:
    assert v.branch is not None
    today = _today(request)
    month = rhythm.month_of(today)
    unvisited = await repo.unvisited(s, v.branch.id, month, member_ids=v.member_ids)
    open_q = _matters_query(v).where(Matter.state_type == "open")
    open_rows = list(await s.scalars(open_q))
    overdue = [m for m in open_rows if m.due_date and m.due_date < today]
    return render(
        request,
        "home.html",
        {"month": month, "unvisited": len(unvisited), "open": len(open_rows), "overdue": len(overdue)},
    )


# --- 走访 ------------------------------------------------------------------------------------------------------
@page()
async def visits(request: web.Request, s: AsyncSession, v: Viewer) -> web.StreamResponse:
    assert v.branch is not None
    month = _month(request)
    ids = v.member_ids
    report = await rhythm.month_report(s, v.branch, month, today=_today(request))
    mine = [x for x in report.members if (ids is None or x.member.id in ids) and x.households]
    grids = {g.id: g.name for g in await s.scalars(select(Grid).where(Grid.branch_id == v.branch.id))}
    by_grid: dict[str, list[int]] = {}
    for x in mine:
        for h in x.households:
            row = by_grid.setdefault(grids.get(h.grid_id, "未分网格") if h.grid_id else "未分网格", [0, 0])
            row[0] += 1
            row[1] += h.id in x.visited_ids
    members = [
        {
            "name": x.member.name,
            "due": len(x.households),
            "visited": len(x.visited_ids & {h.id for h in x.households}),
            "key_due": x.key_due,
            "key_visited": x.key_visited,
            "visits": x.visits,
        }
        for x in mine
    ]
    for r in members:
        r["pct"] = round(100 * r["visited"] / r["due"]) if r["due"] else 0
    due = sum(r["due"] for r in members)
    done = sum(r["visited"] for r in members)
    unvisited = await repo.unvisited(s, v.branch.id, month, member_ids=ids)
    key_rows = await repo.key_household_coverage(s, v.branch.id, month, member_ids=ids)
    y, m = (int(x) for x in month.split("-"))
    prev_m = f"{y - (m == 1):04d}-{(m - 2) % 12 + 1:02d}"
    next_m = f"{y + (m == 12):04d}-{m % 12 + 1:02d}"
    return render(
        request,
        "visits.html",
        {
            "month": month,
            "month_label": f"{y}年{m}月",
            "prev_month": prev_m,
            "next_month": next_m,
            "members": members,
            "grids": [
                {"name": k, "due": a, "visited": b, "pct": round(100 * b / a) if a else 0}
                for k, (a, b) in sorted(by_grid.items())
            ],
            "due": due,
            "done": done,
            "pct": round(100 * done / due) if due else 0,
            "unvisited": unvisited,
            "key_rows": key_rows,
            "key_done": sum(1 for r in key_rows if r.visits),
        },
    )


# --- 事项 ------------------------------------------------------------------------------------------------------
def _matters_query(v: Viewer):
    """The matters a viewer may see: the branch for 书记/委员/镇街; for a member, as "我的诉求" answers in chat
    (handlers.matters.handle_status): their households', the ones they handle, the ones they reported."""
    assert v.branch is not None
    q = select(Matter).where(Matter.branch_id == v.branch.id)
    if v.cadre:
        return q
    me = v.member
    assert me is not None
    mine = select(Link.household_id).where(Link.member_id == me.id, Link.valid_to.is_(None))
    return q.where(or_(Matter.household_id.in_(mine), Matter.assignee_id == me.id, Matter.reporter == v.userid))


STATE_FILTERS = {"open": "办理中", "fixed": "已办结", "closed": "已关闭", "all": "全部"}


@page()
async def matters(request: web.Request, s: AsyncSession, v: Viewer) -> web.StreamResponse:
    q = request.query
    today = _today(request)
    # township staff act on what villages could not solve: their list opens on the escalated ones
    state = q.get("state", "已上报" if v.township else "open")
    query = _matters_query(v)
    if state in ("open", "fixed", "closed"):
        query = query.where(Matter.state_type == state)
    elif state in mt.STATES:
        query = query.where(Matter.state == state)
    kind = q.get("kind", "")
    if kind in ("request", "wish"):
        query = query.where(Matter.kind == kind)
    member_id = q.get("member", "")
    if member_id.isdigit():
        query = query.where(or_(Matter.assignee_id == int(member_id), Matter.member_id == int(member_id)))
    if q.get("overdue"):
        query = query.where(Matter.state_type == "open", Matter.due_date.is_not(None), Matter.due_date < today)
    if q.get("mustvisit"):  # households with a 八必访 still waiting for its visit
        open_tasks = select(MustVisitTask.household_id).where(MustVisitTask.closed_at.is_(None))
        query = query.where(Matter.household_id.in_(open_tasks))
    rows = list(await s.scalars(query.order_by(Matter.created_at.desc(), Matter.id.desc()).limit(300)))
    assert v.branch is not None
    members = {m.id: m for m in await rhythm.branch_members(s, v.branch.id)}
    hh = await rhythm.households_by_id(s, {m.household_id for m in rows if m.household_id})
    items = [
        {
            "ref": mt.ref(m),
            "url": f"/console/matters/{m.kind}/{m.number}",
            "category": m.category,
            "household": hh[m.household_id].head_name if m.household_id in hh else "",
            "summary": mask_pii(m.summary),
            "state": m.state,
            "state_type": m.state_type,
            "assignee": members[m.assignee_id].name if m.assignee_id in members else "",
            "due": m.due_date,
            "overdue": bool(m.state_type == "open" and m.due_date and m.due_date < today),
            "sensitive": m.sensitive,
        }
        for m in rows
    ]
    return render(
        request,
        "matters.html",
        {
            "items": items,
            "state": state,
            "kind": kind,
            "member": member_id,
            "overdue": bool(q.get("overdue")),
            "mustvisit": bool(q.get("mustvisit")),
            "state_filters": STATE_FILTERS,
            "state_labels": list(mt.STATES),
            "members": sorted(members.values(), key=lambda m: m.code) if v.cadre else [],
        },
    )


async def _visible_matter(request: web.Request, s: AsyncSession, v: Viewer) -> Matter:
    kind, number = request.match_info["kind"], request.match_info["number"]
    if kind not in ("request", "wish") or not number.isdigit():
        raise web.HTTPNotFound(text="没有这个事项")
    m = (
        await s.execute(_matters_query(v).where(Matter.kind == kind, Matter.number == int(number)))
    ).scalar_one_or_none()
    if m is None:
        raise web.HTTPNotFound(text="没有这个事项，或不在您能看到的范围内")
    return m


@page()
async def matter_detail(request: web.Request, s: AsyncSession, v: Viewer) -> web.StreamResponse:
    m = await _visible_matter(request, s, v)
    assert v.branch is not None
    names = await _names(s, v.branch.id)
    events = [
        {
            "at": rhythm.aware(e.at).astimezone(rhythm.TZ),
            "action": e.action,
            "from": e.from_state,
            "to": e.to_state,
            "who": names.get(e.actor, "系统" if e.actor in ("", "system", "scheduler") else e.actor),
            "note": mask_pii(e.note),
        }
        for e in await mt.events_of(s, m.id)
    ]
    household = await s.get(Household, m.household_id) if m.household_id else None
    assignee = await s.get(Member, m.assignee_id) if m.assignee_id else None
    # only the buttons this person may press now, by the chat's own rule (domain/commands.py `may`); pressing
    # one still goes through the chat path, which decides again
    ctx = view_context(s, v.sender, v.branch, _now(request))
    actor, subject = common.actor_of(ctx), await common.subject_of(ctx, m)
    actions = [a for a in ACTIONS if commands.may(actor, a, subject).allowed]
    today = _today(request)
    flash = _take_flash(request)
    request[FLASH] = flash
    resp = render(
        request,
        "matter.html",
        {
            "m": m,
            "ref": mt.ref(m),
            "summary": mask_pii(m.summary),
            "household": household,
            "assignee": assignee,
            "reporter": names.get(m.reporter, "群众"),
            "events": events,
            "actions": actions,
            "members": await rhythm.branch_members(s, v.branch.id),
            "nonce": _nonce(),
            "default_due": today + dt.timedelta(days=5),
            "overdue": bool(m.state_type == "open" and m.due_date and m.due_date < today),
        },
    )
    return _with_flash(resp, request)


def _md(d: dt.date) -> str:
    return f"{d.month}月{d.day}日"


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def command_for(action: str, ref: str, form) -> str | None:
    """The chat command a button stands for (spec commands.md): the runtime takes it from here."""
    note = " ".join(str(form.get("note", "")).split())
    if action in ("受理", "商议", "办结", "不予受理"):
        return f"{action} {ref} {note}".strip()
    if action == "上报":
        return f"上报 {ref} {' '.join(str(form.get('dest', '')).split()) or note}".strip()
    if action == "派":
        who = str(form.get("assignee", "")).strip()
        due = _date(str(form.get("due", "")))
        return f"派 {ref} {who}" + (f" {_md(due)}前" if due else "")
    if action == "延期":
        due = _date(str(form.get("due", "")))
        return f"延期 {ref} {_md(due) if due else ''} {note}".strip()
    return None


async def say_as(request: web.Request, v: Viewer, text: str, nonce: str) -> str:
    """Send `text` through the runtime as this person's private message; return the bot's answer."""
    assert v.branch is not None
    rt = request.app[RUNTIME_KEY]
    if v.township and len(v.branches) > 1:
        text = f"{v.branch.name} {text}"  # township staff name the branch first, as in chat
    nonce = nonce if re.fullmatch(r"[A-Za-z0-9_-]{8,40}", nonce) else _nonce()
    msg = Inbound(
        channel="console",
        msg_id=f"console-{v.userid}-{nonce}",  # a double click or a re-sent form is one action, not two
        sender=v.userid,
        chat_id="",
        chat_type="single",
        text=text,
        sent_at=rt.clock(),
        meta={"via": "console"},
    )
    result = await rt.handle(msg)
    return result.reply or "没有变化。"


@page()
async def matter_act(request: web.Request, s: AsyncSession, v: Viewer) -> web.StreamResponse:
    m = await _visible_matter(request, s, v)
    form = request[FORM]
    action = str(form.get("action", ""))
    cmd = command_for(action, mt.ref(m), form) if action in ACTIONS else None
    if cmd is None:
        return refuse(request, 400, "不认识的操作", f"不认识的操作“{action}”，什么都没有改动。")
    await s.close()  # the runtime writes in its own transaction; do not hold a read one open (SQLite)
    reply = await say_as(request, v, cmd, str(form.get("nonce", "")))
    return _flash_redirect(request, f"/console/matters/{m.kind}/{m.number}", reply)


# --- 名册 ------------------------------------------------------------------------------------------------------
async def _roster_page(request: web.Request, s: AsyncSession, v: Viewer, *, problems=None, report=None, status=200):
    assert v.branch is not None
    bid = v.branch.id
    members = {m.id: m for m in await s.scalars(select(Member).where(Member.branch_id == bid))}
    names = await _names(s, bid)
    links = list(
        await s.execute(
            select(Link, Household)
            .join(Household, Household.id == Link.household_id)
            .where(Link.branch_id == bid)
            .order_by(Link.valid_from.desc(), Link.id.desc())
            .limit(100)
        )
    )
    history = [
        {
            "at": rhythm.aware(link.valid_from).astimezone(rhythm.TZ),
            "household": h.head_name,
            "member": members[link.member_id].name if link.member_id in members else "",
            "until": rhythm.aware(link.valid_to).astimezone(rhythm.TZ) if link.valid_to else None,
            "reason": mask_pii(link.reason),
            "by": names.get(link.changed_by, link.changed_by or "名册导入"),
        }
        for link, h in links
    ]
    pending = []
    for lc, h in await s.execute(
        select(LinkChange, Household)
        .join(Household, Household.id == LinkChange.household_id)
        .where(LinkChange.branch_id == bid, LinkChange.state == "待审批")
        .order_by(LinkChange.number)
    ):
        pending.append(
            {
                "number": lc.number,
                "household": h.head_name,
                "from": members[lc.from_member_id].name if lc.from_member_id in members else "无",
                "to": members[lc.to_member_id].name if lc.to_member_id in members else "",
                "reason": mask_pii(lc.reason),
                "by": names.get(lc.requested_by, lc.requested_by),
            }
        )
    flash = _take_flash(request)
    request[FLASH] = flash
    counts = {
        "members": sum(1 for m in members.values() if m.active),
        "households": len(
            list(await s.scalars(select(Household.id).where(Household.branch_id == bid, Household.active)))
        ),
    }
    resp = render(
        request,
        "roster.html",
        {
            "history": history,
            "pending": pending,
            "problems": problems,
            "report": report,
            "counts": counts,
            "nonce": _nonce(),
            "can_import": not v.township,
        },
        status=status,
    )
    return _with_flash(resp, request)


roster = page(cadre=True)(_roster_page)
_SAFE_NAME = re.compile(r"[^\w.\-]+")


@page(manage=True)
async def roster_upload(request: web.Request, s: AsyncSession, v: Viewer) -> web.StreamResponse:
    """The same all-or-nothing import as `lianhu roster import`: checked whole, written in one transaction."""
    assert v.branch is not None
    files = [f for f in request[FORM].getall("file", []) if hasattr(f, "file") and f.filename]
    roster_view = _roster_page
    if not files:
        problems = [Problem("上传", None, None, None, "请选择名册文件（.xlsx，或 *_members.csv 和 *_households.csv）")]
        return await roster_view(request, s, v, problems=problems, status=400)
    with tempfile.TemporaryDirectory(prefix="lianhu-roster-") as tmp:
        paths = []
        for f in files:
            name = _SAFE_NAME.sub("_", Path(f.filename).name) or "roster.xlsx"
            p = Path(tmp) / name
            p.write_bytes(f.file.read())
            paths.append(p)
        xlsx = [p for p in paths if p.suffix.lower() in (".xlsx", ".xlsm")]
        members_csv = [p for p in paths if p.name.endswith("_members.csv")]
        main = xlsx[0] if len(xlsx) == 1 and len(paths) == 1 else members_csv[0] if len(members_csv) == 1 else None
        try:
            if main is None:
                raise RosterError(
                    [
                        Problem(
                            "上传",
                            None,
                            None,
                            None,
                            "请上传一个 .xlsx 名册，或一组 CSV（*_members.csv、*_households.csv 等）",
                        )
                    ]
                )
            rf = load_roster(main, branch_name=v.branch.name if main.suffix.lower() == ".csv" else None)
            if rf.branch_name != v.branch.name:
                raise RosterError(
                    [Problem("组织", None, "党组织", None, f"名册里是“{rf.branch_name}”，不是本支部“{v.branch.name}”")]
                )
            await s.close()
            async with request.app[SESSIONMAKER_KEY]() as ws, ws.begin():
                report = await import_roster(ws, rf, actor=v.userid)
        except RosterError as exc:
            return await roster_view(request, s, v, problems=exc.problems, status=400)
    return await roster_view(request, s, v, report=report)


@page(cadre=True)
async def roster_download(request: web.Request, s: AsyncSession, v: Viewer) -> web.StreamResponse:
    assert v.branch is not None
    rf = await export_roster(s, v.branch.id)
    with tempfile.TemporaryDirectory(prefix="lianhu-roster-") as tmp:
        path = Path(tmp) / "roster.xlsx"
        write_roster_xlsx(rf, path)
        data = path.read_bytes()
    return _xlsx(data, f"{v.branch.name}-名册.xlsx")


@page(cadre=True)
async def link_decide(request: web.Request, s: AsyncSession, v: Viewer) -> web.StreamResponse:
    form = request[FORM]
    verb, number = str(form.get("verb", "")), request.match_info["number"]
    if verb not in ("同意", "驳回") or not number.isdigit():
        return refuse(request, 400, "不认识的操作", "不认识的操作，什么都没有改动。")
    note = " ".join(str(form.get("note", "")).split())
    await s.close()
    reply = await say_as(request, v, f"{verb} 调整{number} {note}".strip(), str(form.get("nonce", "")))
    return _flash_redirect(request, "/console/roster", reply)


def _xlsx(data: bytes, filename: str) -> web.Response:
    return web.Response(
        body=data,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store",
        },
    )


# --- 台账 ------------------------------------------------------------------------------------------------------
@page(cadre=True)
async def ledger_list(request: web.Request, s: AsyncSession, v: Viewer) -> web.StreamResponse:
    month = request.query.get("month") or rhythm.previous_month(rhythm.month_of(_today(request)))
    if not MONTH.fullmatch(month):
        raise web.HTTPBadRequest(text="月份格式应为 2026-11")
    links = [
        {"kind": k, "title": t, "url": f"/console/ledgers/{k}.xlsx?{urlencode({'month': month})}"}
        for k, t in ledgers.KINDS.items()
    ]
    return render(request, "ledgers.html", {"month": month, "links": links})


@page(cadre=True)
async def ledger_download(request: web.Request, s: AsyncSession, v: Viewer) -> web.StreamResponse:
    assert v.branch is not None
    kind = request.match_info["kind"]
    if kind not in ledgers.KINDS:
        raise web.HTTPNotFound(text="没有这种台账")
    month = _month(request)
    wb = await ledgers.BUILDERS[kind](s, v.branch, month)
    buf = io.BytesIO()
    wb.save(buf)
    return _xlsx(buf.getvalue(), f"{v.branch.name}-{ledgers.KINDS[kind]}-{month}.xlsx")


# --- 发送 与 定时任务 ----------------------------------------------------------------------------------------------
@page(cadre=True)
async def sending(request: web.Request, s: AsyncSession, v: Viewer) -> web.StreamResponse:
    assert v.branch is not None
    from bot.scheduler import SCHEDULER_KEY

    names = await _names(s, v.branch.id)
    dead = [
        {
            "id": r.id,
            "at": rhythm.aware(r.created_at).astimezone(rhythm.TZ) if r.created_at else None,
            "channel": CHANNEL_LABEL.get(r.channel, r.channel),
            "to": names.get(r.target, r.target),
            "content": mask_pii(r.content if len(r.content) <= 120 else r.content[:120] + "…"),
            "error": r.error or "未知原因",
            "attempts": r.attempts,
        }
        for r in await outbox.dead_letters(s, branch_id=v.branch.id, limit=100)
    ]
    pending = len(
        list(
            await s.scalars(
                select(OutboundMessage.id).where(
                    OutboundMessage.branch_id == v.branch.id, OutboundMessage.status.in_(outbox.ACTIVE)
                )
            )
        )
    )
    jobs = await request.app[SCHEDULER_KEY].status(branch_id=v.branch.id)
    flash = _take_flash(request)
    request[FLASH] = flash
    resp = render(
        request,
        "sending.html",
        {"dead": dead, "pending": pending, "jobs": jobs, "enabled": _settings(request).schedule.enabled},
    )
    return _with_flash(resp, request)


@page(cadre=True)
async def retry(request: web.Request, s: AsyncSession, v: Viewer) -> web.StreamResponse:
    assert v.branch is not None
    row_id = int(request.match_info["id"])
    row = await s.get(OutboundMessage, row_id)
    await s.close()
    if row is None or row.branch_id != v.branch.id:
        raise web.HTTPNotFound(text="没有这条消息")
    async with request.app[SESSIONMAKER_KEY]() as ws, ws.begin():
        ok = await outbox.requeue(ws, row_id)
        if ok:  # who sent it again, and when: with the requeue or not at all
            ws.add(AuditEvent(branch_id=v.branch.id, actor=v.userid, action="outbox_retry", subject=f"#{row_id}"))
    rt = request.app[RUNTIME_KEY]
    if ok and rt.outbox is not None:
        rt.outbox.wake()
    text = f"#{row_id} 已放回发件箱，稍后发送。" if ok else f"#{row_id} 不是没发出去的消息，没有改动。"
    return _flash_redirect(request, "/console/sending", text)


JOB_WORDS = {
    "ran": "已运行",
    "done-before": "本周期已运行过（要再运行请勾选“再运行一次”）",
    "busy": "另一个实例正在运行",
    "failed": "运行失败",
    "gave-up": "多次失败，请勾选“再运行一次”重试",
}


@page(cadre=True)
async def run_job(request: web.Request, s: AsyncSession, v: Viewer) -> web.StreamResponse:
    """What `lianhu jobs run NAME --branch B` does, for the viewer's branch and the current period."""
    from bot.scheduler import JOBS, SCHEDULER_KEY, period_now

    assert v.branch is not None
    name = request.match_info["name"]
    if name not in JOBS:
        raise web.HTTPNotFound(text="没有这个任务")
    await s.close()
    sched = request.app[SCHEDULER_KEY]
    period = period_now(name, sched.clock().astimezone(sched.tz))
    force = bool(request[FORM].get("force"))
    o = await sched.run_job(name, v.branch, period, force=force)
    async with request.app[SESSIONMAKER_KEY]() as ws, ws.begin():
        detail = {"period": period, "status": o.status, "force": force}
        ws.add(AuditEvent(branch_id=v.branch.id, actor=v.userid, action="job_run", subject=name, detail=detail))
    rt = request.app[RUNTIME_KEY]
    if rt.outbox is not None:
        rt.outbox.wake()
    detail = f"：{o.detail.get('error')}" if o.status == "failed" and o.detail.get("error") else ""
    text = f"{JOBS[name].title}（{period}）：{JOB_WORDS.get(o.status, o.status)}{detail}"
    return _flash_redirect(request, "/console/sending", text)


# --- 积分 ------------------------------------------------------------------------------------------------------
@page()
async def points_page(request: web.Request, s: AsyncSession, v: Viewer) -> web.StreamResponse:
    assert v.branch is not None
    year_s = request.query.get("year", "")
    year = int(year_s) if year_s.isdigit() and 2000 < int(year_s) < 2100 else _today(request).year
    start, end = points.year_bounds(year)
    mine = None
    if v.member is not None:
        mine = {
            "total": await points.member_total(s, v.member.id, start, end),
            "entries": [
                {"at": rhythm.aware(e.at).astimezone(rhythm.TZ), "points": e.points, "cause": mask_pii(e.cause)}
                for e in await points.member_entries(s, v.member.id, start, end, limit=100)
            ],
        }
    branch_rows = None
    if v.cadre:
        # by 党员编号, never by score: the 减负 rules forbid a public ranking, and a table sorted by points is one
        rows = await points.ranking(s, v.branch.id, start, end)
        branch_rows = sorted(({"code": m.code, "name": m.name, "total": t} for m, t in rows), key=lambda r: r["code"])
    return render(request, "points.html", {"year": year, "mine": mine, "branch_rows": branch_rows})
