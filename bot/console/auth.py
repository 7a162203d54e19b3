"""Login with WeCom and the session cookie.

Sessions are signed tokens (HMAC-SHA256) carrying the userid and an expiry, in an HttpOnly, SameSite=Lax
cookie (Secure over https): no table to migrate or sweep, and every instance behind a load balancer accepts them
when they share `[console] session_secret` (or the [wecom] secret it is derived from). Logout clears the cookie;
a token copied out of a browser stays good until it expires (`session_ttl_seconds`, 8 h by default) — the price
of not keeping session rows, stated here so nobody assumes otherwise.

The CSRF token of a session is an HMAC of the session's nonce: every form carries it, every POST checks it.
The OAuth `state` is signed with an expiry and bound to the browser by a short-lived cookie (RFC 6749 §10.12):
a forged or stale state is refused, and so is one that does not match the cookie (see `check_state`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from bot.config import Settings

SESSION_COOKIE = "lianhu_console"
STATE_COOKIE = "lianhu_console_login"
STATE_TTL = 600  # seconds a login round trip through WeCom may take


@dataclass(frozen=True)
class Session:
    userid: str
    nonce: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs and checks the session and login-state cookies with one key."""

    def __init__(self, settings: Settings, *, clock=time.time) -> None:
        c = settings.console
        if c.session_secret:
            key = c.session_secret.encode()
        elif settings.wecom.secret:
            # derived, not the secret itself: a leaked cookie key must not be the WeCom API secret
            key = hmac.new(settings.wecom.secret.encode(), b"lianhu-console-session", hashlib.sha256).digest()
        else:  # nothing configured (a bare dev run): sessions last until restart
            key = secrets.token_bytes(32)
        self._key = key
        self.ttl = c.session_ttl_seconds
        self.clock = clock

    def _mac(self, purpose: str, payload: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}|{payload}".encode(), hashlib.sha256).digest())

    def sign(self, purpose: str, data: dict) -> str:
        payload = _b64(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
        return f"{payload}.{self._mac(purpose, payload)}"

    def open(self, purpose: str, token: str | None) -> dict | None:
        """The data of a token signed for `purpose` that has not expired; None for anything else."""
        if not token or token.count(".") != 1:
            return None
        payload, mac = token.split(".")
        if not hmac.compare_digest(mac, self._mac(purpose, payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("exp"), int) or data["exp"] <= self.clock():
            return None
        return data

    # --- sessions -------------------------------------------------------------------------------------------
    def new_session(self, userid: str) -> tuple[str, Session]:
        s = Session(userid, secrets.token_urlsafe(12), int(self.clock()) + self.ttl)
        return self.sign("session", {"u": s.userid, "n": s.nonce, "exp": s.expires_at}), s

    def session(self, token: str | None) -> Session | None:
        data = self.open("session", token)
        if data is None or not isinstance(data.get("u"), str) or not data["u"]:
            return None
        return Session(data["u"], str(data.get("n", "")), data["exp"])

    def csrf(self, session: Session) -> str:
        return self._mac("csrf", f"{session.userid}|{session.nonce}")[:32]

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf(session), str(token))

    # --- login state ---------------------------------------------------------------------------------------
    # WeCom takes `state` as "a-zA-Z0-9, at most 128 bytes": 16 hex nonce + 10-digit expiry + 32 hex MAC.
    def new_state(self, next_path: str) -> tuple[str, str]:
        """(state for the URL, cookie binding it to this browser and remembering where to return)."""
        nonce, exp = secrets.token_hex(8), int(self.clock()) + STATE_TTL
        state = f"{nonce}{exp:010d}{self._state_mac(nonce, exp)}"
        return state, self.sign("state", {"s": state, "next": next_path, "exp": exp})

    def _state_mac(self, nonce: str, exp: int) -> str:
        return hmac.new(self._key, f"state|{nonce}|{exp}".encode(), hashlib.sha256).hexdigest()[:32]

    def check_state(self, cookie: str | None, state: str | None) -> str | None:
        """The page to return to when `state` is one we issued and has not expired, else None.

        With the binding cookie present, the state must be the one this browser was sent off with (RFC 6749
        §10.12). Without it (a client that keeps no cookies for an IP host, a WeCom webview that dropped it) a
        signed, unexpired state is accepted and the person lands on /console/: the remaining risk is someone in
        the roster logging another person into *their own* console, whose header then shows the wrong name."""
        if not state or not re.fullmatch(r"[0-9a-f]{16}[0-9]{10}[0-9a-f]{32}", state):
            return None
        nonce, exp, mac = state[:16], int(state[16:26]), state[26:]
        if exp <= self.clock() or not hmac.compare_digest(mac, self._state_mac(nonce, exp)):
            return None
        if cookie is None:
            return "/console/"
        data = self.open("state", cookie)
        if data is None or not hmac.compare_digest(str(data.get("s", "")), state):
            return None
        return safe_next(data.get("next"))


def safe_next(path: object) -> str:
    """Only a console path of this site: never an open redirect."""
    if isinstance(path, str) and path.startswith("/console/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/console/"


def public_base(request: web.Request, settings: Settings) -> str:
    """How browsers reach us: [server] public_url when set (behind a proxy), else this request's origin."""
    if settings.server.public_url:
        return settings.server.public_url.rstrip("/")
    return f"{request.scheme}://{request.host}"


def is_https(request: web.Request, settings: Settings) -> bool:
    if settings.server.public_url.startswith("https://"):
        return True
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def cookie_secure(request: web.Request, settings: Settings) -> bool:
    mode = settings.console.cookie_secure
    return mode == "always" or (mode == "auto" and is_https(request, settings))


def set_cookie(resp: web.StreamResponse, request: web.Request, settings: Settings, name: str, value: str, max_age: int):
    resp.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console/",
        httponly=True,
        samesite="Lax",  # sent on the top-level redirect back from WeCom, never on cross-site POSTs
        secure=cookie_secure(request, settings),
    )


def clear_cookie(resp: web.StreamResponse, name: str) -> None:
    resp.del_cookie(name, path="/console/")


def authorize_url(settings: Settings, redirect_uri: str, state: str) -> str:
    """网页授权 inside the WeCom client (the exact form WeCom documents, #wechat_redirect included)."""
    base = settings.console.oauth_base.rstrip("/")
    return (
        f"{base}/connect/oauth2/authorize?appid={quote(settings.wecom.corp_id, safe='')}"
        f"&redirect_uri={quote(redirect_uri, safe='')}&response_type=code&scope=snsapi_base"
        f"&state={quote(state, safe='')}#wechat_redirect"
    )


def qr_login_url(settings: Settings, redirect_uri: str, state: str) -> str:
    """扫码登录 on a PC browser (the 2023 wwlogin form; the callback is the same)."""
    base = settings.console.sso_base.rstrip("/")
    return (
        f"{base}/wwlogin/sso/login?login_type=CorpApp&appid={quote(settings.wecom.corp_id, safe='')}"
        f"&agentid={settings.wecom.agent_id}&redirect_uri={quote(redirect_uri, safe='')}"
        f"&state={quote(state, safe='')}"
    )
