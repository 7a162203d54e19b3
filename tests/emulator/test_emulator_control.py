"""The control API the demo page uses, the page itself, and the in-process runner."""

from __future__ import annotations

import aiohttp

from emulator.server import start_emulator

from .conftest import BRANCH, HH_GROUP, FakeBot, make_settings, make_world


async def test_page_and_world(env):
    page = await env.client.get("/")
    assert page.status == 200 and "联户助手" in await page.text()
    world = await (await env.client.get("/emu/world")).json()
    kinds = {u["userid"]: u["kind"] for u in world["users"]}
    assert kinds["zhangwei"] == "member" and kinds["wmh011x7Qe"] == "resident"
    chats = {c["chat_id"]: c for c in world["chats"]}
    assert chats[BRANCH]["internal"] and chats[BRANCH]["level"] == "一级"
    assert not chats[HH_GROUP]["internal"] and chats[HH_GROUP]["level"] == "二级"
    assert world["bot"]["name"] == "联户小助手"


async def test_say_and_timeline_polling(env):
    env.bot.aibot_reply = lambda p: {
        "msgtype": "stream",
        "stream": {"id": "s", "finish": True, "content": "好的"},
    }
    external = await (
        await env.client.post("/emu/say", json={"user": "wmh011x7Qe", "chat": HH_GROUP, "text": "你好"})
    ).json()
    assert external["delivered"] is False and "外部群" in external["why"] and external["replies"] == []

    r = await (await env.client.post("/emu/say", json={"user": "zhangwei", "chat": "bot", "text": "你好"})).json()
    assert r["delivered"] and r["ok"] and r["chat"] == "single:zhangwei"
    assert [x["content"] for x in r["replies"]] == ["好的"]

    tl = await (await env.client.get("/emu/timeline", params={"chat": "single:zhangwei,app:zhangwei"})).json()
    assert [(e["sender"], e["direction"], e["content"]) for e in tl["entries"]] == [
        ("zhangwei", "in", "你好"),
        ("aibot", "out", "好的"),
    ]
    assert tl["streaming"] == []
    later = await (await env.client.get("/emu/timeline", params={"after": tl["last_seq"]})).json()
    assert later["entries"] == []
    everything = await (await env.client.get("/emu/timeline")).json()
    assert len(everything["entries"]) == 3

    bad = await env.client.post("/emu/say", json={"user": "nobody", "chat": "bot", "text": "x"})
    assert bad.status == 400


async def test_verify_endpoint(env):
    data = await (await env.client.post("/emu/verify", json={"kind": "app"})).json()
    assert data["ok"] is True and data["detail"]["status"] == 200


async def test_start_emulator_on_a_real_port(aiohttp_server):
    bot = FakeBot()
    bot_server = await aiohttp_server(bot.make_app())
    settings = make_settings(str(bot_server.make_url("")).rstrip("/"))
    emu, runner, base_url = await start_emulator(settings, make_world())
    try:
        assert base_url.startswith("http://127.0.0.1:") and not base_url.endswith(":0")
        assert emu.base_url == base_url
        async with aiohttp.ClientSession() as http:
            async with http.get(
                f"{base_url}/cgi-bin/gettoken", params={"corpid": settings.corp_id, "corpsecret": "appSecret"}
            ) as resp:
                assert (await resp.json())["errcode"] == 0
        result = await emu.say("chenjianguo", BRANCH, "@联户小助手 本月未走访户")
        assert result.ok
        assert bot.hits[0].plain["response_url"].startswith(f"{base_url}/cgi-bin/aibot/response")
    finally:
        await runner.cleanup()
