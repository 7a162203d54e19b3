"""The emulated qyapi: tokens, app messages, webhook limits, response_url, fault injection."""

from __future__ import annotations

import base64
import hashlib

from yarl import URL

from .conftest import AGENT, BRANCH, CORP, WEBHOOK_KEY


async def get_token(client) -> str:
    resp = await client.get("/cgi-bin/gettoken", params={"corpid": CORP, "corpsecret": "appSecret"})
    data = await resp.json()
    assert data["errcode"] == 0, data
    return data["access_token"]


async def send_app(client, token, **body):
    payload = {"touser": "zhangwei", "msgtype": "text", "agentid": AGENT, "text": {"content": "你好"}, **body}
    resp = await client.post("/cgi-bin/message/send", params={"access_token": token}, json=payload)
    return await resp.json()


async def webhook(client, body, key=WEBHOOK_KEY):
    resp = await client.post("/cgi-bin/webhook/send", params={"key": key}, json=body)
    return await resp.json()


async def test_gettoken_caches_and_rejects_bad_credentials(env):
    c = env.client
    first = await (await c.get("/cgi-bin/gettoken", params={"corpid": CORP, "corpsecret": "appSecret"})).json()
    assert first["errcode"] == 0 and first["errmsg"] == "ok" and first["expires_in"] == 7200
    env.clock.advance(100)
    second = await (await c.get("/cgi-bin/gettoken", params={"corpid": CORP, "corpsecret": "appSecret"})).json()
    assert second["access_token"] == first["access_token"] and second["expires_in"] == 7100
    wrong = await (await c.get("/cgi-bin/gettoken", params={"corpid": CORP, "corpsecret": "nope"})).json()
    assert wrong["errcode"] == 40001
    corp = await (await c.get("/cgi-bin/gettoken", params={"corpid": "x", "corpsecret": "appSecret"})).json()
    assert corp["errcode"] == 40013
    assert env.emu.stats["gettoken"] == 4


async def test_message_send_records_in_each_private_inbox(env):
    token = await get_token(env.client)
    data = await send_app(
        env.client,
        token,
        touser="zhangwei|wangli|nobody|wmh011x7Qe",
        msgtype="markdown",
        markdown={"content": "**本月走访提醒**"},
        text=None,
    )
    assert data["errcode"] == 0 and data["invaliduser"] == "nobody|wmh011x7Qe"
    for userid in ("zhangwei", "wangli"):
        [entry] = env.emu.timeline(f"app:{userid}")
        assert (entry.sender, entry.direction, entry.msgtype, entry.content) == (
            "app",
            "out",
            "markdown",
            "**本月走访提醒**",
        )
    assert env.emu.timeline("app:nobody") == []
    card = await send_app(
        env.client,
        token,
        msgtype="textcard",
        textcard={"title": "走访", "description": "本月还差 2 户", "url": "https://x"},
    )
    assert card["errcode"] == 0
    assert env.emu.timeline("app:zhangwei")[-1].content.startswith("**走访**\n本月还差 2 户")
    none_valid = await send_app(env.client, token, touser="nobody")
    assert none_valid["errcode"] == 81013


async def test_token_expiry_and_invalid_tokens(env):
    token = await get_token(env.client)
    assert (await send_app(env.client, token))["errcode"] == 0
    env.clock.advance(7200)
    assert (await send_app(env.client, token))["errcode"] == 42001
    fresh = await get_token(env.client)
    assert fresh != token and (await send_app(env.client, fresh))["errcode"] == 0
    env.emu.faults.expire_tokens()
    assert (await send_app(env.client, fresh))["errcode"] == 42001
    newest = await get_token(env.client)
    assert newest != fresh and (await send_app(env.client, newest))["errcode"] == 0
    assert (await send_app(env.client, "made-up"))["errcode"] == 40014
    resp = await env.client.post("/cgi-bin/message/send", json={})
    assert (await resp.json())["errcode"] == 41001


async def test_message_send_validation(env):
    token = await get_token(env.client)
    assert (await send_app(env.client, token, agentid=AGENT + 1))["errcode"] == 40056
    assert (await send_app(env.client, token, text={"content": "字" * 682 + "ab"}))["errcode"] == 0  # 2048 B
    assert (await send_app(env.client, token, text={"content": "字" * 683}))["errcode"] == 45002  # 2049 B
    assert (await send_app(env.client, token, msgtype="voice"))["errcode"] == 40008
    resp = await env.client.post("/cgi-bin/message/send", params={"access_token": token}, data=b"{not json")
    assert (await resp.json())["errcode"] == 47001
    resp = await env.client.get("/cgi-bin/message/send", params={"access_token": token})
    assert (await resp.json())["errcode"] == 43002


async def test_webhook_twenty_per_minute_sliding_window(env):
    for i in range(20):
        assert (await webhook(env.client, {"msgtype": "text", "text": {"content": f"第{i}条"}}))["errcode"] == 0
        env.clock.advance(1)  # first message at t0, last at t0+19; the clock ends at t0+20
    assert (await webhook(env.client, {"msgtype": "text", "text": {"content": "超了"}}))["errcode"] == 45009
    env.clock.advance(39)  # t0+59: the first is still inside the window
    assert (await webhook(env.client, {"msgtype": "text", "text": {"content": "超了"}}))["errcode"] == 45009
    env.clock.advance(1.5)  # t0+60.5: the first one slid out, exactly one slot is free
    assert (await webhook(env.client, {"msgtype": "text", "text": {"content": "又可以了"}}))["errcode"] == 0
    assert (await webhook(env.client, {"msgtype": "text", "text": {"content": "再来"}}))["errcode"] == 45009
    contents = [e.content for e in env.emu.timeline(BRANCH)]
    assert len(contents) == 21 and contents[-1] == "又可以了" and "超了" not in contents


async def test_webhook_limits_and_keys(env):
    ok = await webhook(env.client, {"msgtype": "markdown", "markdown": {"content": "x" * 4096}})
    assert ok["errcode"] == 0
    too_long = await webhook(env.client, {"msgtype": "markdown", "markdown": {"content": "x" * 4097}})
    assert too_long["errcode"] == 40058 and "4096" in too_long["errmsg"]
    v2 = await webhook(env.client, {"msgtype": "markdown_v2", "markdown_v2": {"content": "字" * 1366}})
    assert v2["errcode"] == 40058  # 4098 bytes
    text = await webhook(env.client, {"msgtype": "text", "text": {"content": "字" * 683}})
    assert text["errcode"] == 45002
    assert (await webhook(env.client, {"msgtype": "text", "text": {"content": "hi"}}, key="nope"))["errcode"] == 93000
    assert (await webhook(env.client, {"msgtype": "file", "file": {"media_id": "m"}}))["errcode"] == 40008
    news = {"msgtype": "news", "news": {"articles": [{"title": f"t{i}", "url": "u"} for i in range(9)]}}
    assert (await webhook(env.client, news))["errcode"] == 45008
    assert len(env.emu.timeline(BRANCH)) == 1


async def test_webhook_mentions_and_image(env):
    body = {"msgtype": "text", "text": {"content": "请及时走访", "mentioned_list": ["zhangwei", "@all"]}}
    assert (await webhook(env.client, body))["errcode"] == 0
    assert (await webhook(env.client, {"msgtype": "markdown", "markdown": {"content": "<@wangli> 还差 2 户"}}))[
        "errcode"
    ] == 0
    png = b"\x89PNG fake"
    image = {"base64": base64.b64encode(png).decode(), "md5": hashlib.md5(png).hexdigest()}
    assert (await webhook(env.client, {"msgtype": "image", "image": image}))["errcode"] == 0
    image["md5"] = "0" * 32
    assert (await webhook(env.client, {"msgtype": "image", "image": image}))["errcode"] == 40009
    contents = [e.content for e in env.emu.timeline(BRANCH)]
    assert contents[0] == "请及时走访\n@张伟 @所有人"
    assert contents[1] == "@王丽 还差 2 户"
    assert contents[2].startswith("[图片")


async def test_response_url_is_single_use_and_expires(env):
    await env.emu.say("zhangwei", BRANCH, "@联户小助手 本月未走访户")
    url = URL(env.bot.hits[0].plain["response_url"])
    assert url.path == "/cgi-bin/aibot/response"
    body = {"msgtype": "markdown", "markdown": {"content": "本月未走访 **2** 户"}}
    first = await (await env.client.post(url.path_qs, json=body)).json()
    assert first["errcode"] == 0
    again = await (await env.client.post(url.path_qs, json=body)).json()
    assert again["errcode"] == 93000 and "used" in again["errmsg"]
    [reply] = [e for e in env.emu.timeline(BRANCH) if e.direction == "out"]
    assert (reply.channel, reply.content) == ("response_url", "本月未走访 **2** 户")

    await env.emu.say("zhangwei", "bot", "再查一次")
    late = URL(env.bot.hits[1].plain["response_url"])
    env.clock.advance(3601)
    expired = await (await env.client.post(late.path_qs, json=body)).json()
    assert expired["errcode"] == 93000 and "expired" in expired["errmsg"]
    unknown = await (await env.client.post("/cgi-bin/aibot/response?response_code=bogus", json=body)).json()
    assert unknown["errcode"] == 93000
    assert env.emu.timeline("single:zhangwei")[-1].direction == "in"


async def test_response_url_rejects_bad_body_without_spending_the_code(env):
    await env.emu.say("zhangwei", "bot", "hi")
    url = URL(env.bot.hits[0].plain["response_url"])
    bad = await (await env.client.post(url.path_qs, json={"msgtype": "text", "text": {"content": "x"}})).json()
    assert bad["errcode"] == 40008
    card = {"msgtype": "template_card", "template_card": {"main_title": {"title": "走访登记"}}}
    assert (await (await env.client.post(url.path_qs, json=card)).json())["errcode"] == 0
    assert env.emu.timeline("single:zhangwei")[-1].content == "**走访登记**"


async def test_fault_injection(env):
    faults = env.emu.faults
    token = await get_token(env.client)
    faults.fail_next("message/send", 45033, times=2)
    assert (await send_app(env.client, token))["errcode"] == 45033
    assert (await send_app(env.client, token))["errcode"] == 45033
    assert (await send_app(env.client, token))["errcode"] == 0

    faults.http_status("/cgi-bin/gettoken", 503)
    resp = await env.client.get("/cgi-bin/gettoken", params={"corpid": CORP, "corpsecret": "appSecret"})
    assert resp.status == 503
    assert await get_token(env.client) == token

    faults.fail_rate("webhook/send", 1.0, codes=[-1, 45009], seed=7)
    codes = {(await webhook(env.client, {"msgtype": "text", "text": {"content": "x"}}))["errcode"] for _ in range(8)}
    assert codes == {-1, 45009}
    assert env.emu.timeline(BRANCH) == []
    faults.clear()
    assert (await webhook(env.client, {"msgtype": "text", "text": {"content": "x"}}))["errcode"] == 0
    assert len(faults.injected) == 2 + 1 + 8


async def test_unknown_path_is_a_json_404(env):
    resp = await env.client.post("/cgi-bin/appchat/send", json={})
    assert resp.status == 404
    data = await resp.json()
    assert data["errcode"] != 0 and "appchat/send" in data["errmsg"]


async def test_duplicate_check_drops_the_same_content_within_the_interval(env):
    token = await get_token(env.client)
    check = {"enable_duplicate_check": 1, "duplicate_check_interval": 120}
    for _ in range(2):  # a resend after a crash mid-request
        assert (await send_app(env.client, token, **check))["errcode"] == 0
    assert (await send_app(env.client, token, text={"content": "另一条"}, **check))["errcode"] == 0
    env.clock.advance(121)
    assert (await send_app(env.client, token, **check))["errcode"] == 0  # past the interval: shown again
    assert (await send_app(env.client, token))["errcode"] == 0  # without the check: always shown
    shown = [e.content for e in env.emu.timeline("app:zhangwei")]
    assert shown == ["你好", "另一条", "你好", "你好"]
    assert env.emu.stats["message/send:duplicate_dropped"] == 1
