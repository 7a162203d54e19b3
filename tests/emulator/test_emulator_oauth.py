"""The emulated WeCom login: 网页授权 and 扫码登录 pages, one-click grant, and cgi-bin/auth/getuserinfo."""

from __future__ import annotations

from yarl import URL

from .conftest import AGENT, CORP
from .test_emulator_qyapi import get_token

BACK = "https://lianhu.example/console/oauth/callback"


def authorize(**over) -> dict[str, str]:
    q = {"appid": CORP, "redirect_uri": BACK, "response_type": "code", "scope": "snsapi_base", "state": "s1"}
    return q | over


async def grant(env, userid: str) -> str:
    resp = await env.client.get(
        "/emu/oauth/grant", params={"userid": userid, "redirect_uri": BACK, "state": "s1"}, allow_redirects=False
    )
    assert resp.status == 302
    back = URL(resp.headers["Location"])
    assert str(back.with_query(None)) == BACK and back.query["state"] == "s1"
    return back.query["code"]


async def userinfo(env, code: str) -> dict:
    token = await get_token(env.client)
    resp = await env.client.get("/cgi-bin/auth/getuserinfo", params={"access_token": token, "code": code})
    return await resp.json()


async def test_authorize_page_offers_every_member_and_checks_its_parameters(env):
    page = await (await env.client.get("/connect/oauth2/authorize", params=authorize())).text()
    assert 'data-userid="chenjianguo"' in page and 'data-userid="zhangwei"' in page
    assert "wmh011x7Qe" not in page  # residents are not in the organisation's address book
    for bad in (authorize(appid="wwother"), authorize(scope="snsapi_userinfo"), authorize(redirect_uri="x")):
        assert (await env.client.get("/connect/oauth2/authorize", params=bad)).status == 400


async def test_qr_login_page_needs_the_app(env):
    q = {"login_type": "CorpApp", "appid": CORP, "agentid": str(AGENT), "redirect_uri": BACK, "state": "s1"}
    assert (await env.client.get("/wwlogin/sso/login", params=q)).status == 200
    assert (await env.client.get("/wwlogin/sso/login", params=q | {"agentid": "1"})).status == 400


async def test_code_gives_the_userid_once_and_expires(env):
    code = await grant(env, "zhangwei")
    assert (await userinfo(env, code))["userid"] == "zhangwei"
    assert (await userinfo(env, code))["errcode"] == 40029  # used
    late = await grant(env, "wangli")
    env.clock.advance(301)
    assert (await userinfo(env, late))["errcode"] == 40029  # 5 minutes


async def test_someone_outside_the_organisation_gets_an_openid(env):
    data = await userinfo(env, await grant(env, ""))
    assert data["errcode"] == 0 and "userid" not in data and data["openid"]


async def test_getuserinfo_needs_a_token(env):
    resp = await env.client.get("/cgi-bin/auth/getuserinfo", params={"code": "x"})
    assert (await resp.json())["errcode"] == 41001
