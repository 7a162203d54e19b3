"""Callbacks from the emulated WeCom to a fake bot: crypto, delivery rules, the 5-second rule, streams."""

from __future__ import annotations

import asyncio
import json

import pytest
from defusedxml import ElementTree

from bot.wecom.crypto import CallbackCrypto
from bot.wecom.errors import BadReceiveId

from .conftest import AGENT, AIBOT_KEY, AIBOT_TOKEN, APP_KEY, APP_TOKEN, BRANCH, CORP, HH_GROUP


async def test_group_mention_is_delivered_encrypted_and_stream_reply_lands(env):
    env.bot.aibot_reply = lambda p: {
        "msgtype": "stream",
        "stream": {"id": "s1", "finish": True, "content": "**收到**"},
    }
    result = await env.emu.say("zhangwei", BRANCH, "@联户小助手 本月未走访户")

    assert result.delivered and result.ok and result.attempts == 1 and result.statuses == [200]
    [hit] = env.bot.hits
    assert set(json.loads(hit.body)) == {"encrypt"}
    assert set(hit.query) == {"msg_signature", "timestamp", "nonce"}
    assert hit.query["timestamp"] == str(int(env.clock.now))
    p = hit.plain
    assert p["aibotid"] == "aibAAAA" and p["chatid"] == BRANCH and p["chattype"] == "group"
    assert p["from"] == {"userid": "zhangwei"}
    assert p["msgtype"] == "text" and p["text"] == {"content": "@联户小助手 本月未走访户"}
    assert p["msgid"] == result.msgid and p["create_time"] == int(env.clock.now)
    assert p["response_url"].startswith(f"{env.emu.base_url}/cgi-bin/aibot/response?response_code=")
    # The 智能机器人 receive id is "": a decrypter expecting the corp id must refuse the same body.
    q = hit.query
    with pytest.raises(BadReceiveId):
        CallbackCrypto(AIBOT_TOKEN, AIBOT_KEY, CORP).decrypt(
            q["msg_signature"], q["timestamp"], q["nonce"], json.loads(hit.body)["encrypt"]
        )

    entries = env.emu.timeline(BRANCH)
    assert [(e.direction, e.sender, e.content) for e in entries] == [
        ("in", "zhangwei", "@联户小助手 本月未走访户"),
        ("out", "aibot", "**收到**"),
    ]
    assert result.replies == [entries[1]] and result.stream_finished is True


async def test_internal_group_without_mention_is_not_delivered(env):
    result = await env.emu.say("zhangwei", BRANCH, "今天走访了王大爷家")
    assert not result.delivered and "@联户小助手" in result.why
    assert env.bot.hits == []
    [entry] = env.emu.timeline(BRANCH)
    assert entry.channel == "undelivered" and entry.content == "今天走访了王大爷家"


async def test_external_group_only_reaches_the_archive(env):
    first = await env.emu.say("wmh011x7Qe", HH_GROUP, "微心愿：想要一个老年手机")
    second = await env.emu.say("zhangwei", HH_GROUP, "@联户小助手 收到")  # an @ does not help in an external group
    assert not first.delivered and not second.delivered and "外部群" in first.why
    assert env.bot.hits == []
    assert [item["seq"] for item in env.emu.archive] == [1, 2]
    msg = env.emu.archive[0]["msg"]
    assert msg["from"] == "wmh011x7Qe" and msg["roomid"] == HH_GROUP and msg["action"] == "send"
    assert msg["msgtype"] == "text" and msg["text"] == {"content": "微心愿：想要一个老年手机"}
    assert msg["tolist"] == ["zhangwei"] and msg["msgtime"] == int(env.clock.now * 1000)
    assert len(env.emu.timeline(HH_GROUP)) == 2


async def test_single_chat_delivers_every_text(env):
    result = await env.emu.say("zhangwei", "bot", "你好")
    assert result.delivered and result.ok
    [hit] = env.bot.hits
    assert hit.plain["chattype"] == "single" and "chatid" not in hit.plain
    assert hit.plain["text"]["content"] == "你好"
    assert [e.content for e in env.emu.timeline("single:zhangwei")] == ["你好"]


async def test_residents_and_outsiders_cannot_post_where_wecom_forbids(env):
    resident = await env.emu.say("wmh011x7Qe", "bot", "你好")
    outsider = await env.emu.say("wangli", HH_GROUP, "大家好")
    assert not resident.delivered and not outsider.delivered
    assert env.emu.timeline() == [] and env.bot.hits == []
    with pytest.raises(ValueError):
        await env.emu.say("nobody", "bot", "hi")


async def test_slow_bot_gets_the_identical_body_four_times(env):
    env.bot.delay = 0.5  # past callback_timeout=0.3
    result = await env.emu.say("zhangwei", BRANCH, "@联户小助手 本月未走访户")
    assert result.attempts == 4 and result.statuses == [None] * 4 and not result.ok
    assert len(env.bot.hits) == 4
    assert len({h.body for h in env.bot.hits}) == 1
    assert len({tuple(sorted(h.query.items())) for h in env.bot.hits}) == 1
    assert len({h.plain["msgid"] for h in env.bot.hits}) == 1
    assert "4 次" in result.why


async def test_non_200_counts_as_failure_and_is_retried(env):
    env.bot.status_seq = [500, 503]
    result = await env.emu.say("zhangwei", "bot", "你好")
    assert result.statuses == [500, 503, 200] and result.ok
    assert len({h.body for h in env.bot.hits}) == 1


async def test_unfinished_stream_is_refreshed_until_finish(env):
    refreshes = []

    def reply(p):
        if p["msgtype"] == "text":
            return {"msgtype": "stream", "stream": {"id": "s1", "finish": False, "content": "正在查询…"}}
        refreshes.append(p)
        done = len(refreshes) == 3
        content = "本月未走访 2 户" if done else "正在查询…"
        return {"msgtype": "stream", "stream": {"id": "s1", "finish": done, "content": content}}

    env.bot.aibot_reply = reply
    result = await env.emu.say("zhangwei", BRANCH, "@联户小助手 本月未走访户")
    assert result.refreshes == 3 and result.stream_finished is True
    for p in refreshes:
        assert p["stream"] == {"id": "s1"} and p["chatid"] == BRANCH and p["from"] == {"userid": "zhangwei"}
        assert p["aibotid"] == "aibAAAA" and p["chattype"] == "group"
    msgids = {p["msgid"] for p in refreshes} | {result.msgid}
    assert len(msgids) == 4
    out = [e for e in env.emu.timeline(BRANCH) if e.direction == "out"]
    assert [e.content for e in out] == ["本月未走访 2 户"]


async def test_stream_refresh_stops_after_six_minutes(env):
    def reply(p):
        if p["msgtype"] == "stream":
            env.clock.advance(100)
        return {"msgtype": "stream", "stream": {"id": "s9", "finish": False, "content": f"第{env.clock.now}"}}

    env.bot.aibot_reply = reply
    result = await env.emu.say("zhangwei", "bot", "统计一下")
    # refreshes at +0, +100, +200, +300 s; the next would be at +400 s, past the 6-minute window
    assert result.refreshes == 4 and result.stream_finished is False
    [out] = [e for e in env.emu.timeline("single:zhangwei") if e.direction == "out"]
    assert out.content == f"第{env.clock.now}"


async def test_text_markdown_card_and_empty_replies(env):
    replies = iter(
        [
            {"msgtype": "markdown", "markdown": {"content": "**好的**"}},
            {
                "msgtype": "template_card",
                "template_card": {"card_type": "text_notice", "main_title": {"title": "走访"}},
            },
            None,
        ]
    )
    env.bot.aibot_reply = lambda p: next(replies)
    for _ in range(3):
        await env.emu.say("zhangwei", "bot", "hi")
    out = [e for e in env.emu.timeline("single:zhangwei") if e.direction == "out"]
    assert [(e.msgtype, e.content) for e in out] == [("markdown", "**好的**"), ("template_card", "**走访**")]


async def test_passive_reply_with_a_bad_signature_is_rejected(env):
    env.bot.reply_crypto = CallbackCrypto("wrong-token", AIBOT_KEY, "")
    env.bot.aibot_reply = lambda p: {"msgtype": "markdown", "markdown": {"content": "伪造"}}
    result = await env.emu.say("zhangwei", "bot", "hi")
    assert result.ok and result.errors and result.replies == []
    assert [e.direction for e in env.emu.timeline()] == ["in"]


async def test_app_xml_callback_and_encrypted_reply(env):
    def reply(plain):
        root = ElementTree.fromstring(plain)
        return (
            f"<xml><ToUserName><![CDATA[{root.findtext('FromUserName')}]]></ToUserName>"
            f"<FromUserName><![CDATA[{CORP}]]></FromUserName><CreateTime>1</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[已记录走访]]></Content>"
            f"<AgentID>{AGENT}</AgentID></xml>"
        )

    env.bot.app_reply = reply
    result = await env.emu.say("zhangwei", "app", "今天走访了3组王大爷家 <ok> ]]>")
    assert result.ok and result.errors == []
    [hit] = env.bot.hits
    envelope = ElementTree.fromstring(hit.body)
    assert envelope.findtext("ToUserName") == CORP and envelope.findtext("AgentID") == str(AGENT)
    msg = ElementTree.fromstring(hit.plain)
    assert msg.findtext("ToUserName") == CORP and msg.findtext("FromUserName") == "zhangwei"
    assert msg.findtext("MsgType") == "text" and msg.findtext("Content") == "今天走访了3组王大爷家 <ok> ]]>"
    assert int(msg.findtext("MsgId")) >= 2**62 and msg.findtext("MsgId") == result.msgid
    assert msg.findtext("AgentID") == str(AGENT) and msg.findtext("CreateTime") == str(int(env.clock.now))
    # The app's receive id is the corp id.
    q = hit.query
    with pytest.raises(BadReceiveId):
        CallbackCrypto(APP_TOKEN, APP_KEY, "").decrypt(
            q["msg_signature"], q["timestamp"], q["nonce"], envelope.findtext("Encrypt")
        )
    assert [(e.direction, e.content) for e in env.emu.timeline("app:zhangwei")] == [
        ("in", "今天走访了3组王大爷家 <ok> ]]>"),
        ("out", "已记录走访"),
    ]


async def test_app_empty_reply_records_only_the_message(env):
    result = await env.emu.say("zhangwei", "app", "你好")
    assert result.ok and result.replies == []
    assert [e.direction for e in env.emu.timeline("app:zhangwei")] == ["in"]


async def test_url_verification(env):
    assert await env.emu.verify_url("aibot")
    assert await env.emu.verify_url("app")
    env.bot.echo_mangle = lambda s: f'"{s}"'
    assert not await env.emu.verify_url("aibot")
    env.bot.echo_mangle = lambda s: s + "\n"
    assert not await env.emu.verify_url("app")
    assert env.emu.last_verify["kind"] == "app" and env.emu.last_verify["ok"] is False


async def test_at_most_three_messages_in_flight_per_user(env):
    env.bot.delay = 0.2  # within the timeout, so each exchange stays open for a while
    results = await asyncio.gather(*(env.emu.say("zhangwei", "bot", f"第{i}条") for i in range(4)))
    assert sum(r.delivered for r in results) == 3
    assert "三条" in next(r.why for r in results if not r.delivered)
    assert len(env.bot.hits) == 3
    refused = [e for e in env.emu.timeline("single:zhangwei") if e.channel == "undelivered"]
    assert len(refused) == 1


async def test_open_stream_is_visible_as_a_draft_until_it_finishes(env):
    seen = []

    def reply(p):
        if p["msgtype"] == "text":
            return {"msgtype": "stream", "stream": {"id": "s1", "finish": False, "content": "正在查询…"}}
        seen.append({k: dict(v) for k, v in env.emu.live_streams.items()})
        return {"msgtype": "stream", "stream": {"id": "s1", "finish": True, "content": "查好了"}}

    env.bot.aibot_reply = reply
    result = await env.emu.say("zhangwei", "bot", "查一下")
    assert seen == [{"single:zhangwei": {result.msgid: "正在查询…"}}]
    assert env.emu.live_streams == {}
