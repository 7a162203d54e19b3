"""WeCom login for web pages, emulated: 网页授权 (OAuth2 inside the client) and 扫码登录 (a PC browser).

Real WeCom (wecom-platform docs, "身份验证"): the page sends the browser to
`open.weixin.qq.com/connect/oauth2/authorize?appid=CORPID&redirect_uri=…&response_type=code&scope=snsapi_base
&state=…#wechat_redirect` (inside the client) or `login.work.weixin.qq.com/wwlogin/sso/login?login_type=CorpApp
&appid=CORPID&agentid=…&redirect_uri=…&state=…` (QR code on a PC); WeCom sends it back to redirect_uri with
`code` and the same `state`; the server trades the code at `cgi-bin/auth/getuserinfo?access_token=…&code=…`
for `userid` (a member of the organisation) or `openid` (anyone else). A code is good for 5 minutes, once.

Here the person is chosen with one click from the roster on a page, so the demo logs in as anyone.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from yarl import URL

if TYPE_CHECKING:
    from emulator.server import Emulator

CODE_TTL = 300.0  # "code只能消费一次，5分钟未被使用自动过期"


@dataclass
class _Code:
    userid: str
    expires_at: float
    used: bool = False


_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:"Noto Sans CJK SC",sans-serif;max-width:560px;margin:0 auto;padding:16px;color:#222}}
h1{{font-size:20px}} .note{{color:#666;font-size:14px}} ul{{list-style:none;padding:0}}
li a{{display:block;padding:12px;margin:6px 0;border:1px solid #ddd;border-radius:8px;text-decoration:none;
color:#222}} li a:hover{{background:#f6f6f6}} .err{{color:#b00}}</style></head><body>
<h1>{title}</h1><p class="note">{note}</p>{body}</body></html>"""


class OAuthMixin:
    """Mixed into Emulator: the login pages, the code store and the getuserinfo API."""

    def _init_oauth(self: Emulator) -> None:
        self._codes: dict[str, _Code] = {}
        self._apis["auth/getuserinfo"] = self._api_getuserinfo

    def _oauth_routes(self: Emulator, app: web.Application) -> None:
        app.router.add_get("/connect/oauth2/authorize", self._oauth_authorize)
        app.router.add_get("/wwlogin/sso/login", self._sso_login)
        app.router.add_get("/emu/oauth/grant", self._oauth_grant)

    def issue_code(self: Emulator, userid: str) -> str:
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(userid, self.clock() + CODE_TTL)
        return code

    def _login_page(self: Emulator, request: web.Request, *, title: str, note: str) -> web.Response:
        q = request.query
        redirect_uri, state = q.get("redirect_uri", ""), q.get("state", "")
        problem = self._check_login_request(request)
        if problem:
            body = f'<p class="err">{html.escape(problem)}</p>'
            return web.Response(
                text=_PAGE.format(title=title, note="", body=body), content_type="text/html", status=400
            )
        items = []
        for u in self.world.members():
            grant = URL("/emu/oauth/grant").with_query(userid=u.userid, redirect_uri=redirect_uri, state=state)
            items.append(
                f'<li><a href="{html.escape(str(grant))}" data-userid="{html.escape(u.userid)}">'
                f"以 {html.escape(u.name)}（{html.escape(u.userid)}）登录</a></li>"
            )
        stranger = URL("/emu/oauth/grant").with_query(userid="", redirect_uri=redirect_uri, state=state)
        items.append(f'<li><a href="{html.escape(str(stranger))}" data-userid="">以不在通讯录里的人登录</a></li>')
        body = "<ul>" + "".join(items) + "</ul>"
        return web.Response(text=_PAGE.format(title=title, note=note, body=body), content_type="text/html")

    def _check_login_request(self: Emulator, request: web.Request) -> str | None:
        q = request.query
        if q.get("appid") != self.settings.corp_id:
            return "appid 参数错误（应为企业的 CorpID）"
        if not q.get("redirect_uri", "").startswith(("http://", "https://")):
            return "redirect_uri 参数错误"
        if request.path.startswith("/connect/"):
            if q.get("response_type") != "code" or q.get("scope") not in ("snsapi_base", "snsapi_privateinfo"):
                return "response_type 或 scope 参数错误"
        else:
            if q.get("login_type") != "CorpApp" or q.get("agentid") != str(self.settings.agent_id):
                return "login_type 或 agentid 参数错误"
        return None

    async def _oauth_authorize(self: Emulator, request: web.Request) -> web.Response:
        self.stats["oauth/authorize"] += 1
        return self._login_page(request, title="企业微信网页授权（模拟）", note="选择在企业微信里打开这个页面的人：")

    async def _sso_login(self: Emulator, request: web.Request) -> web.Response:
        self.stats["sso/login"] += 1
        return self._login_page(
            request, title="企业微信扫码登录（模拟）", note="真实环境在这里显示二维码；选择用手机扫码确认的人："
        )

    async def _oauth_grant(self: Emulator, request: web.Request) -> web.StreamResponse:
        q = request.query
        userid = q.get("userid", "")
        # someone outside the organisation still gets a code; getuserinfo then answers with an openid
        code = self.issue_code(userid or f"o{secrets.token_hex(8)}")
        target = URL(q.get("redirect_uri", "")).update_query(code=code, state=q.get("state", ""))
        raise web.HTTPFound(str(target))

    async def _api_getuserinfo(self: Emulator, request: web.Request) -> web.Response:
        from emulator.server import ApiError, _ok

        self._require(request, "GET")
        self._check_token(request)
        code = request.query.get("code", "")
        grant = self._codes.get(code)
        if grant is None or grant.used or self.clock() >= grant.expires_at:
            raise ApiError(40029, "invalid code")
        grant.used = True
        user = self.world.user(grant.userid)
        if user is not None and not user.external:
            return _ok(userid=user.userid, user_ticket="")
        return _ok(openid=grant.userid)
