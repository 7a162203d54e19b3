"""Session tokens, CSRF tokens, login state and redirects of the console (bot/console/auth.py), without a server."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.console import auth


def signer(now: float = 1_000_000.0, **console) -> auth.Signer:
    s = Settings()
    s.wecom.secret = "app-secret"
    for k, v in console.items():
        setattr(s.console, k, v)
    return auth.Signer(s, clock=lambda: now)


def test_session_roundtrip_and_expiry():
    token, sess = signer().new_session("chenjianguo")
    assert signer().session(token) == sess  # another instance with the same secret accepts it
    assert signer(now=1_000_000.0 + 8 * 3600).session(token) is None  # expired exactly at the ttl
    assert signer(session_ttl_seconds=60).ttl == 60


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: "eyJ1IjoiYWRtaW4iLCJuIjoieCIsImV4cCI6OTk5OTk5OTk5OX0." + t.split(".")[1],  # payload swapped
        lambda t: t.replace(".", ""),
        lambda t: "",
    ],
)
def test_tampered_session_is_refused(mangle):
    token, _ = signer().new_session("zhangwei")
    assert signer().session(mangle(token)) is None


def test_a_different_secret_refuses_the_token():
    token, _ = signer().new_session("zhangwei")
    assert signer(session_secret="other").session(token) is None


def test_csrf_is_per_session():
    s = signer()
    _, a = s.new_session("zhangwei")
    _, b = s.new_session("zhangwei")
    assert s.csrf_ok(a, s.csrf(a))
    assert not s.csrf_ok(a, s.csrf(b)) and not s.csrf_ok(a, "") and not s.csrf_ok(a, None)


def test_state_is_signed_short_and_bound_to_its_cookie():
    s = signer()
    state, cookie = s.new_state("/console/matters/request/3")
    assert state.isalnum() and len(state) <= 128  # WeCom: "a-zA-Z0-9, at most 128 bytes"
    assert s.check_state(cookie, state) == "/console/matters/request/3"
    other_state, _ = s.new_state("/console/")
    assert s.check_state(cookie, other_state) is None  # another browser's state
    assert s.check_state(None, state) == "/console/"  # no cookie kept: signed and fresh is enough
    assert s.check_state(None, state[:-1] + ("0" if state[-1] != "0" else "1")) is None  # forged
    assert s.check_state(None, "forged") is None
    assert signer(session_secret="other").check_state(None, state) is None
    assert signer(now=1_000_000.0 + auth.STATE_TTL).check_state(cookie, state) is None  # stale


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/console/visits?month=2026-11", "/console/visits?month=2026-11"),
        ("//evil.example/console/", "/console/"),
        ("https://evil.example/", "/console/"),
        ("/console/\\evil", "/console/"),
        (None, "/console/"),
    ],
)
def test_return_path_never_leaves_the_console(path, expected):
    assert auth.safe_next(path) == expected


def test_authorize_url_is_wecoms_exact_form():
    s = Settings()
    s.wecom.corp_id = "ww123"
    url = auth.authorize_url(s, "https://lianhu.example/console/oauth/callback", "st8")
    assert url == (
        "https://open.weixin.qq.com/connect/oauth2/authorize?appid=ww123"
        "&redirect_uri=https%3A%2F%2Flianhu.example%2Fconsole%2Foauth%2Fcallback"
        "&response_type=code&scope=snsapi_base&state=st8#wechat_redirect"
    )
    s.wecom.agent_id = 1000002
    qr = auth.qr_login_url(s, "https://lianhu.example/console/oauth/callback", "st8")
    assert qr.startswith("https://login.work.weixin.qq.com/wwlogin/sso/login?login_type=CorpApp&appid=ww123")
    assert "&agentid=1000002&" in qr


def test_console_messages_have_their_own_conversation_key():
    import datetime as dt

    from handlers.context import Inbound

    now = dt.datetime.now(dt.UTC)
    console = Inbound("console", "m1", "zhangwei", "", "single", "受理 诉求1", now)
    chat = Inbound("aibot", "m2", "zhangwei", "", "single", "1", now)
    assert console.chat_key == "console:zhangwei" != chat.chat_key
