"""Household groups through the chat archive: the running bot reads the emulator's archive-SDK mode with the
bridge code (bot/archive_bridge/); a wish typed by a resident becomes a record exactly once, across restarts and
SDK errors."""

from __future__ import annotations

import json

from aiohttp import web
from sqlalchemy import func, select, update

from bot.app import create_app
from storage.db import make_engine, make_sessionmaker
from storage.models import FeedCursor, InboundMessage, Matter, MatterEvent
from tests.transport.conftest import eventually

HH = "wrQYm02hh01"  # 王海峰联户群 (external, 二级)
RESIDENT = "wmh006x7Qe"  # 王秀英家
MEMBER = "wanghaifeng"
WISH = "微心愿：想要一个老年手机"


def _archive(s):
    s.archive.poll_seconds = 0.03


async def _q(url: str, stmt):
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return (await s.execute(stmt)).all()
    finally:
        await engine.dispose()


async def _exec(url: str, stmt) -> None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            await s.execute(stmt)
    finally:
        await engine.dispose()


async def _cursor(url: str) -> int:
    rows = await _q(url, select(FeedCursor.value).where(FeedCursor.name == "archive:seq"))
    return int(rows[0][0]) if rows else 0


async def _count(url: str, model, *where) -> int:
    return (await _q(url, select(func.count()).select_from(model).where(*where)))[0][0]


async def _at_least(url: str, seq: int) -> bool:
    return await _cursor(url) >= seq


def _notes(pair) -> list[str]:
    return [e.content for e in pair.emulator.timeline(f"app:{MEMBER}") if e.direction == "out"]


async def _restart_bot(pair) -> web.AppRunner:
    """Stop the bot process and start a new one on the same database (same emulator)."""
    await pair.runners[1].cleanup()
    runner = web.AppRunner(create_app(pair.settings))
    await runner.setup()
    pair.runners[1] = runner
    return runner


async def test_wish_in_external_group_is_recorded_exactly_once_across_restart(make_pair):
    pair = await make_pair(_archive, archive=True)
    url = pair.settings.database.url
    said = await pair.emulator.say(RESIDENT, HH, WISH)
    assert not said.delivered  # no bot hears an external group: only the archive has it

    await eventually(lambda: _cursor(url))
    await eventually(lambda: len(_notes(pair)) >= 1)
    rows = await _q(
        url,
        select(
            InboundMessage.channel,
            InboundMessage.msg_id,
            InboundMessage.sender,
            InboundMessage.chat_id,
            InboundMessage.text,
        ),
    )
    assert rows == [("archive", said.msgid, RESIDENT, HH, WISH)]
    assert await _count(url, Matter) == 1
    assert await _cursor(url) == 1
    notes_before = _notes(pair)
    assert any("王海峰联户群" in n and WISH in n for n in notes_before)  # the member is told privately
    assert pair.emulator.timeline(HH)[-1].sender == RESIDENT  # the bot never spoke in the group

    await _restart_bot(pair)
    await pair.emulator.say(RESIDENT, HH, "谢谢书记")  # seq 2, after the restart
    await eventually(lambda: _count(url, InboundMessage, InboundMessage.text == "谢谢书记"))
    assert await _cursor(url) == 2
    assert await _count(url, InboundMessage) == 2 and await _count(url, Matter) == 1

    # the bridge replays from the start (e.g. a restored backup): nothing is recorded or told twice
    await _exec(url, update(FeedCursor).where(FeedCursor.name == "archive:seq").values(value="0"))
    await eventually(lambda: _at_least(url, 2))
    assert await _count(url, InboundMessage) == 2 and await _count(url, Matter) == 1
    assert len([n for n in _notes(pair) if WISH in n]) == len([n for n in notes_before if WISH in n])


async def test_sdk_errors_are_retried_never_skipped(make_pair):
    def quick_retries(s):
        _archive(s)
        s.archive.backoff_min_seconds, s.archive.backoff_max_seconds = 0.01, 0.05

    pair = await make_pair(quick_retries, archive=True)
    url = pair.settings.database.url
    pair.emulator.faults.fail_next("getchatdata", 10001, times=3)  # the network, as the SDK reports it
    pair.emulator.faults.http_status("getchatdata", 503, times=2)
    await pair.emulator.say(RESIDENT, HH, WISH)
    await pair.emulator.say("wmh007x7Qe", HH, "心愿：想给孙子买个书包")
    await eventually(lambda: _at_least(url, 2))
    texts = [r[0] for r in await _q(url, select(InboundMessage.text).order_by(InboundMessage.id))]
    assert texts == [WISH, "心愿：想给孙子买个书包"]  # strictly in seq order
    assert len(pair.emulator.faults.injected) == 5 and pair.emulator.stats["sdk_getchatdata"] >= 6


async def test_only_roster_groups_and_only_words_are_understood(make_pair):
    pair = await make_pair(_archive, archive=True)
    url = pair.settings.database.url
    emu = pair.emulator
    emu.post_media(RESIDENT, HH, "image", {"md5sum": "abc", "filesize": 1024})
    mixed = {
        "item": [
            {"type": "text", "content": json.dumps({"content": "微心愿：想要一副老花镜"})},
            {"type": "image", "content": json.dumps({"md5sum": "x"})},
        ]
    }
    emu.post_media(RESIDENT, HH, "mixed", mixed)
    # a 1:1 chat and a room the roster does not bind: moved past, ignored
    emu.archive.append(
        {
            "seq": len(emu.archive) + 1,
            "msg": {
                "msgid": "one2one",
                "action": "send",
                "from": RESIDENT,
                "tolist": [MEMBER],
                "roomid": "",
                "msgtime": 1764141600123,
                "msgtype": "text",
                "text": {"content": "微心愿：私聊"},
            },
        }
    )
    emu.archive.append(
        {
            "seq": len(emu.archive) + 1,
            "msg": {
                "msgid": "stranger",
                "action": "send",
                "from": RESIDENT,
                "roomid": "wrUnknownRoom",
                "msgtime": 1764141600123,
                "msgtype": "text",
                "text": {"content": "微心愿：别的群"},
            },
        }
    )
    await eventually(lambda: _at_least(url, 4))
    rows = await _q(url, select(InboundMessage.text, InboundMessage.chat_id).order_by(InboundMessage.id))
    # the picture is kept as a placeholder so the member sees something was sent; only the words make a wish
    assert rows == [("[图片]", HH), ("微心愿：想要一副老花镜\n[图片]", HH)]
    assert await _q(url, select(Matter.kind, Matter.summary)) == [("wish", "微心愿：想要一副老花镜 [图片]")]


async def test_recall_withdraws_a_fresh_matter_and_tells_the_member(make_pair):
    pair = await make_pair(_archive, archive=True)
    url = pair.settings.database.url
    said = await pair.emulator.say(RESIDENT, HH, WISH)
    await eventually(lambda: _count(url, Matter))
    pair.emulator.recall(RESIDENT, said.msgid)
    await eventually(lambda: _at_least(url, 2))
    state = await _q(url, select(Matter.state, Matter.state_type))
    assert state == [("已撤回", "closed")]
    events = await _q(
        url,
        select(
            MatterEvent.action, MatterEvent.from_state, MatterEvent.to_state, MatterEvent.actor, MatterEvent.note
        ).where(MatterEvent.action == "撤回"),
    )
    assert events == [("撤回", "已登记", "已撤回", RESIDENT, "居民撤回了消息")]
    await eventually(lambda: any("撤回" in n for n in _notes(pair)))
    assert any("已撤回" in n and "王秀英家" in n for n in _notes(pair))


async def test_recall_after_the_matter_moved_on_only_tells_the_member(make_pair):
    pair = await make_pair(_archive, archive=True)
    url = pair.settings.database.url
    said = await pair.emulator.say(RESIDENT, HH, WISH)
    await eventually(lambda: _count(url, Matter))
    await _exec(url, update(Matter).values(state="已受理"))
    pair.emulator.recall(RESIDENT, said.msgid)
    await eventually(lambda: _at_least(url, 2))
    assert await _q(url, select(Matter.state)) == [("已受理",)]
    assert await _count(url, MatterEvent, MatterEvent.action == "撤回") == 0
    await eventually(lambda: any("撤回了提出" in n for n in _notes(pair)))
