"""The walking skeleton end to end: real encrypted callbacks from the emulator into the running bot, asserting
on the emulator's timeline and on the database."""

from __future__ import annotations

import datetime as dt
import json
import time

import aiohttp
import pytest
from sqlalchemy import func, select, update

from bot.wecom.crypto import CallbackCrypto
from handlers.context import TZ
from storage.db import make_engine, make_sessionmaker
from storage.models import ConversationState, Household, InboundMessage, Member, Visit

BRANCH = "wrQYbranch0001"
AT = "@联户小助手 "


def today() -> dt.date:
    return dt.datetime.now(TZ).date()


async def visits_of(url: str, code: str) -> list[dt.date]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            rows = await s.scalars(
                select(Visit.visit_date)
                .join(Household, Household.id == Visit.household_id)
                .where(Household.code == code)
                .order_by(Visit.visit_date)
            )
            return list(rows)
    finally:
        await engine.dispose()


async def count(url: str, model) -> int:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return int(await s.scalar(select(func.count()).select_from(model)))
    finally:
        await engine.dispose()


def bot_replies(pair, chat: str) -> list[str]:
    return [e.content for e in pair.emulator.timeline(chat) if e.direction == "out"]


async def test_member_reports_visit_in_branch_group(pair):
    r = await pair.emulator.say("zhangwei", BRANCH, AT + "昨天走访了王大伯，路灯坏了")
    assert r.delivered and r.ok and r.attempts == 1
    yesterday = today() - dt.timedelta(days=1)
    assert await visits_of(pair.settings.database.url, "H011") == [yesterday]
    reply = bot_replies(pair, BRANCH)[-1].splitlines()
    assert reply[0] == f"已记录：{yesterday.month}月{yesterday.day}日 走访 王根发（三组2号）"
    # the problem mentioned in the visit becomes a matter of that household, as a side effect
    assert any(line.startswith("已登记 诉求1（设施维修）：王根发家——路灯坏了") for line in reply)


async def test_ambiguous_household_asks_then_numbered_reply_completes(pair):
    await pair.emulator.say("zhangwei", BRANCH, AT + "今天走访王家")
    question = bot_replies(pair, BRANCH)[-1]
    assert "哪一户" in question
    assert "1. 王根发（三组2号）" in question and "2. 王彩娥（三组3号）" in question
    assert await visits_of(pair.settings.database.url, "H011") == []
    assert await visits_of(pair.settings.database.url, "H012") == []

    await pair.emulator.say("zhangwei", BRANCH, AT + "2")
    assert await visits_of(pair.settings.database.url, "H012") == [today()]
    assert await visits_of(pair.settings.database.url, "H011") == []
    assert "王彩娥" in bot_replies(pair, BRANCH)[-1]
    assert await count(pair.settings.database.url, ConversationState) == 0


async def test_question_is_per_user_another_members_number_is_not_an_answer(pair):
    await pair.emulator.say("zhangwei", BRANCH, AT + "今天走访王家")
    await pair.emulator.say("wangli", BRANCH, AT + "2")
    assert await visits_of(pair.settings.database.url, "H012") == []
    assert await count(pair.settings.database.url, ConversationState) == 1


async def test_question_expires_with_a_private_note(pair):
    await pair.emulator.say("zhangwei", BRANCH, AT + "今天走访王家")
    from bot.keys import RUNTIME_KEY

    runtime = pair.runners[1].app[RUNTIME_KEY]
    runtime.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)
    assert await runtime.sweep_conversations() == 1
    assert await count(pair.settings.database.url, ConversationState) == 0
    notes = bot_replies(pair, "app:zhangwei")
    assert notes and "超时" in notes[-1]
    # the late answer is no longer taken as a choice
    await pair.emulator.say("zhangwei", BRANCH, AT + "2")
    assert await visits_of(pair.settings.database.url, "H012") == []


async def test_secretary_gets_branch_unvisited_member_gets_own(pair):
    await pair.emulator.say("zhangwei", BRANCH, AT + "今天走访了严德富")
    await pair.emulator.say("chenjianguo", BRANCH, AT + "本月未走访户")
    branch_view = bot_replies(pair, BRANCH)[-1]
    assert "共 59 户" in branch_view
    assert "严德富" not in branch_view and "王根发" in branch_view
    assert "陈建国（5 户）" in branch_view and "郑国平（4 户）" in branch_view
    assert "【重点户】" in branch_view and "困难家庭" not in branch_view  # types stay out of the group

    await pair.emulator.say("zhangwei", "bot", "本月未走访户")
    own = bot_replies(pair, "single:zhangwei")[-1]
    assert "共 5 户" in own and "严德富" not in own and "陈阿土" not in own
    assert "空巢老人" in own  # 1:1 shows the key-household type


async def test_exempt_members_households_are_left_out(pair):
    engine = make_engine(pair.settings.database.url)
    async with make_sessionmaker(engine)() as s, s.begin():
        await s.execute(update(Member).where(Member.code == "M04").values(status="免联户"))
    await engine.dispose()
    await pair.emulator.say("chenjianguo", "bot", "本月未走访户")
    text = bot_replies(pair, "single:chenjianguo")[-1]
    assert "张伟" not in text and "王根发" not in text
    assert "共 54 户" in text


async def test_app_channel_answers_through_message_send(pair):
    r = await pair.emulator.say("zhangwei", "app", "今天走访了蒋立新")
    assert r.ok
    assert await visits_of(pair.settings.database.url, "H015") == [today()]
    for _ in range(50):
        if bot_replies(pair, "app:zhangwei"):
            break
        await _sleep(0.05)
    assert bot_replies(pair, "app:zhangwei")[-1].startswith("已记录：")


async def _sleep(s: float) -> None:
    import asyncio

    await asyncio.sleep(s)


# --- raw callbacks: redelivery and refusal ---------------------------------------------------------------


def _aibot_post(pair, payload: dict, *, ts: int | None = None, tamper: bool = False):
    s = pair.settings
    crypto = CallbackCrypto(s.aibot.token, s.aibot.encoding_aes_key, "")
    ts_s, nonce = str(ts or int(time.time())), "n0nce"
    enc, sig = crypto.encrypt(json.dumps(payload, ensure_ascii=False), nonce, ts_s)
    if tamper:
        sig = "0" * 40
    url = f"{pair.bot_url}/wecom/aibot?msg_signature={sig}&timestamp={ts_s}&nonce={nonce}"
    return url, json.dumps({"encrypt": enc}), crypto


def _visit_payload(msgid: str, text: str = "@联户小助手 今天走访了方奶奶") -> dict:
    return {
        "msgid": msgid,
        "aibotid": "aibot-demo",
        "chatid": BRANCH,
        "chattype": "group",
        "from": {"userid": "zhangwei"},
        "msgtype": "text",
        "text": {"content": text},
        "create_time": int(time.time()),
    }


async def test_redelivered_callback_is_answered_again_but_recorded_once(pair):
    url, body, crypto = _aibot_post(pair, _visit_payload("CAIQredeliver1"))
    answers = []
    async with aiohttp.ClientSession() as http:
        for _ in range(4):  # the first delivery and WeCom's three retries
            async with http.post(url, data=body) as resp:
                assert resp.status == 200
                env = await resp.json()
                plain = json.loads(crypto.decrypt(env["msgsignature"], env["timestamp"], env["nonce"], env["encrypt"]))
                answers.append(plain["stream"]["content"])
    assert len(set(answers)) == 1 and answers[0].startswith("已记录：")
    assert await visits_of(pair.settings.database.url, "H016") == [today()]
    assert await count(pair.settings.database.url, InboundMessage) == 1


@pytest.mark.parametrize(
    "case",
    ["bad_signature", "stale_timestamp", "not_json", "no_encrypt", "garbage_cipher", "missing_params", "too_big"],
)
async def test_forged_or_malformed_aibot_callbacks_are_refused_and_write_nothing(pair, case):
    url, body, _ = _aibot_post(
        pair,
        _visit_payload(f"CAIQbad-{case}"),
        tamper=case == "bad_signature",
        ts=int(time.time()) - 3600 if case == "stale_timestamp" else None,
    )
    if case == "not_json":
        body = "{not json"
    elif case == "no_encrypt":
        body = json.dumps({"nope": 1})
    elif case == "garbage_cipher":
        s = pair.settings
        ts = str(int(time.time()))
        from bot.wecom.crypto import sign

        garbage = "QUJD" * 11
        url = f"{pair.bot_url}/wecom/aibot?msg_signature={sign(s.aibot.token, ts, 'n', garbage)}&timestamp={ts}&nonce=n"
        body = json.dumps({"encrypt": garbage})
    elif case == "missing_params":
        url = url.split("?")[0]
    elif case == "too_big":
        body = json.dumps({"encrypt": "A" * (pair.settings.server.max_body_bytes + 10)})
    async with aiohttp.ClientSession() as http, http.post(url, data=body) as resp:
        assert 400 <= resp.status < 500
    assert await count(pair.settings.database.url, InboundMessage) == 0
    assert await count(pair.settings.database.url, Visit) == 0


async def test_app_callback_with_wrong_corp_id_is_refused(pair):
    s = pair.settings
    crypto = CallbackCrypto(s.wecom.token, s.wecom.encoding_aes_key, "wwsomeoneelse")
    xml = (
        "<xml><ToUserName>wwsomeoneelse</ToUserName><FromUserName>zhangwei</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>今天走访了方奶奶</Content><MsgId>42</MsgId><AgentID>1</AgentID></xml>"
    )
    ts = str(int(time.time()))
    enc, sig = crypto.encrypt(xml, "n", ts)
    body = f"<xml><ToUserName>x</ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt><AgentID>1</AgentID></xml>"
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{pair.bot_url}/wecom/app?msg_signature={sig}&timestamp={ts}&nonce=n", data=body) as resp,
    ):
        assert resp.status == 403
    assert await count(pair.settings.database.url, InboundMessage) == 0


async def test_app_callback_xml_bomb_is_refused(pair):
    s = pair.settings
    ts = str(int(time.time()))
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        "<xml><Encrypt>&b;</Encrypt></xml>"
    )
    from bot.wecom.crypto import sign

    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{pair.bot_url}/wecom/app?msg_signature={sign(s.wecom.token, ts, 'n', 'x')}&timestamp={ts}&nonce=n",
            data=bomb,
        ) as resp,
    ):
        assert resp.status == 400
    assert await count(pair.settings.database.url, InboundMessage) == 0


async def test_url_verification_both_modes(pair):
    assert await pair.emulator.verify_url("aibot")
    assert await pair.emulator.verify_url("app")


async def test_external_group_message_never_reaches_the_bot(pair):
    r = await pair.emulator.say("wmh011x7Qe", "wrQYm04hh01", "今天张伟来我家坐了坐")
    assert not r.delivered
    assert await count(pair.settings.database.url, InboundMessage) == 0


async def test_other_http_methods_are_refused(pair):
    async with aiohttp.ClientSession() as http:
        for method in ("PUT", "DELETE", "PATCH"):
            async with http.request(method, f"{pair.bot_url}/wecom/aibot") as resp:
                assert resp.status == 405
