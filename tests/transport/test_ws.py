"""The 智能机器人 long connection: same handlers as callback mode, answers under the same req_id, proactive
aibot_send_msg through the outbox, reconnect after a drop, and a second connection kicks the first."""

from __future__ import annotations

import asyncio
import datetime as dt

from aiohttp import web
from sqlalchemy import select

from bot.app import create_app
from bot.keys import RUNTIME_KEY
from handlers.context import TZ
from storage import outbox
from storage.db import make_engine, make_sessionmaker
from storage.models import Household, InboundMessage, OutboundMessage, Visit
from tests.transport.conftest import eventually

BRANCH = "wrQYbranch0001"
AT = "@联户小助手 "


def _ws(s):
    s.aibot.mode = "websocket"
    s.aibot.ping_seconds = 0.1
    s.aibot.reconnect_min_seconds = 0.02
    s.aibot.reconnect_max_seconds = 0.1


async def _q(url: str, stmt):
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return (await s.execute(stmt)).all()
    finally:
        await engine.dispose()


async def _visits(url: str, code: str):
    return await _q(
        url, select(Visit.visit_date).join(Household, Household.id == Visit.household_id).where(Household.code == code)
    )


async def test_group_and_single_chat_over_the_long_connection(make_pair):
    pair = await make_pair(_ws)
    emu, url = pair.emulator, pair.settings.database.url
    await eventually(lambda: emu.ws_connected)
    r = await emu.say("zhangwei", BRANCH, AT + "今天走访了严德富")
    assert r.delivered and r.stream_finished
    assert r.replies and r.replies[0].channel == "ws_respond" and r.replies[0].content.startswith("已记录：")
    today = dt.datetime.now(TZ).date()
    assert await _visits(url, "H013") == [(today,)]
    rows = await _q(url, select(InboundMessage.channel, InboundMessage.chat_id, InboundMessage.text))
    assert rows == [("ws", BRANCH, "今天走访了严德富")]  # mention stripped, as in callback mode
    r = await emu.say("chenjianguo", "bot", "本月未走访户")
    assert r.replies and "户" in r.replies[0].content
    await eventually(lambda: emu.stats["ws:ping"] >= 1)  # heartbeats flow
    assert emu.stats["callback:aibot"] == 0  # nothing went through the HTTP callback


async def test_survives_a_dropped_connection(make_pair):
    pair = await make_pair(_ws)
    emu, url = pair.emulator, pair.settings.database.url
    await eventually(lambda: emu.ws_connected)
    await emu.drop_ws()
    assert not emu.ws_connected
    r = await emu.say("zhangwei", BRANCH, AT + "今天走访了蒋立新")  # waits for the bot to come back
    assert r.delivered and r.replies and r.replies[0].content.startswith("已记录：")
    assert emu.stats["ws:aibot_subscribe"] == 2
    assert len(await _visits(url, "H015")) == 1


async def test_proactive_post_goes_out_with_aibot_send_msg(make_pair):
    pair = await make_pair(_ws)
    emu, url = pair.emulator, pair.settings.database.url
    await eventually(lambda: emu.ws_connected)
    await emu.say("zhangwei", BRANCH, AT + "帮助")  # the chat has talked to the bot: it may post there
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            outbox.enqueue(s, channel="aibot", target=BRANCH, content="**本月走访汇总**", key="sum:1")
            outbox.enqueue(s, channel="aibot", target="wrQYneverTalked", content="没人说过话的群", key="sum:2")
    finally:
        await engine.dispose()
    pair.runners[1].app[RUNTIME_KEY].outbox.wake()

    async def settled():
        rows = await _q(url, select(OutboundMessage.status).where(OutboundMessage.channel == "aibot"))
        return all(r[0] in ("sent", "dead") for r in rows)

    await eventually(settled)
    posted = [e for e in emu.timeline(BRANCH) if e.channel == "aibot_send_msg"]
    assert [e.content for e in posted] == ["**本月走访汇总**"]
    dead = await _q(url, select(OutboundMessage.error).where(OutboundMessage.status == "dead"))
    assert len(dead) == 1 and "846609" in dead[0][0]


async def test_second_connection_kicks_the_first_which_stays_down(make_pair):
    pair = await make_pair(_ws)
    emu = pair.emulator
    await eventually(lambda: emu.ws_connected)
    second = web.AppRunner(create_app(pair.settings))
    await second.setup()
    pair.runners.append(second)
    await eventually(lambda: emu.stats["ws:kicked"] == 1)
    await asyncio.sleep(0.3)  # the kicked one does not fight back
    assert emu.stats["ws:aibot_subscribe"] == 2 and emu.ws_connected
    r = await emu.say("zhangwei", BRANCH, AT + "今天走访了严德富")
    assert r.replies and r.replies[0].content.startswith("已记录：")


async def test_a_long_connection_message_is_on_disk_before_it_is_handled(make_pair, tmp_path):
    """Nothing redelivers a pushed message: while the database is held it must already be in the intake journal,
    and it is stored (once) when the database is free again."""
    from tests.test_acks_durable import write_lock_held

    path = tmp_path / "intake.journal"

    def tweak(s):
        _ws(s)
        s.intake.journal = str(path)

    pair = await make_pair(tweak)
    emu, url = pair.emulator, pair.settings.database.url
    await eventually(lambda: emu.ws_connected)
    async with write_lock_held(url):
        said = asyncio.ensure_future(emu.say("zhangwei", BRANCH, AT + "今天走访了严德富"))
        await eventually(lambda: path.exists() and "今天走访了严德富" in path.read_text(encoding="utf-8"))
        assert not said.done()  # still waiting for the database
    r = await said
    assert r.replies and r.replies[0].content.startswith("已记录：")
    rows = await _q(url, select(InboundMessage.channel, InboundMessage.text))
    assert rows == [("ws", "今天走访了严德富")]
    await eventually(lambda: '"done"' in path.read_text(encoding="utf-8"))
