"""微信客服: a resident's 1:1 message comes as a kf_msg_or_event callback, is pulled with kf/sync_msg and
answered with kf/send_msg — only within 48 hours of the resident's last message, at most 5 replies each time."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.keys import RUNTIME_KEY
from storage import outbox
from storage.db import make_engine, make_sessionmaker
from storage.models import FeedCursor, InboundMessage, OutboundMessage
from tests.transport.conftest import eventually

RESIDENT = "wmh006x7Qe"
KEY = f"kf:{RESIDENT}"


async def _q(url: str, stmt):
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return (await s.execute(stmt)).all()
    finally:
        await engine.dispose()


async def _enqueue_kf(pair, texts: list[str]) -> None:
    engine = make_engine(pair.settings.database.url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            for t in texts:
                outbox.enqueue(
                    s,
                    channel="kf",
                    target=RESIDENT,
                    content=t,
                    msgtype="text",
                    key=f"kf-test:{t}",
                    payload={"open_kfid": pair.emulator.settings.kf_open_kfid},
                )
    finally:
        await engine.dispose()
    pair.runners[1].app[RUNTIME_KEY].outbox.wake()


def _replies(pair) -> list[str]:
    return [e.content for e in pair.emulator.timeline(KEY) if e.direction == "out"]


async def _settled(url: str) -> bool:
    rows = await _q(url, select(OutboundMessage.status).where(OutboundMessage.channel == "kf"))
    return bool(rows) and all(r[0] in ("sent", "dead", "rerouted") for r in rows)


async def test_resident_kf_message_is_pulled_handled_once_and_answered(tpair):
    url = tpair.settings.database.url
    r = await tpair.emulator.say(RESIDENT, "kf", "微心愿：想要一个老年手机")
    assert r.ok and r.statuses == [200]
    await eventually(lambda: _replies(tpair))
    rows = await _q(
        url, select(InboundMessage.channel, InboundMessage.msg_id, InboundMessage.sender, InboundMessage.chat_type)
    )
    assert rows == [("kf", r.msgid, RESIDENT, "single")]
    assert "心愿" in _replies(tpair)[0]
    cursor = await _q(url, select(FeedCursor.value).where(FeedCursor.name.like("kf:cursor:%")))
    assert cursor == [("1",)]
    # a second event (WeCom re-notifies) pulls from the stored cursor: nothing handled twice
    await tpair.emulator.say(RESIDENT, "kf", "谢谢")
    await eventually(lambda: len(_replies(tpair)) >= 2)
    assert len(await _q(url, select(InboundMessage.id))) == 2
    assert tpair.emulator.stats["kf/sync_msg"] >= 2


async def test_at_most_five_replies_per_resident_message(tpair):
    url = tpair.settings.database.url
    await tpair.emulator.say(RESIDENT, "kf", "在吗")
    await eventually(lambda: _settled(url))
    already = len(_replies(tpair))  # the bot's own answer counts towards the five
    await _enqueue_kf(tpair, [f"通知{i}" for i in range(6)])
    await eventually(lambda: _settled(url))
    assert len(_replies(tpair)) == 5
    assert _replies(tpair)[already:] == [f"通知{i}" for i in range(5 - already)]
    # what may not go out on 微信客服 is not lost: the resident's linked member (王海峰) is asked to pass it on
    over = await _q(
        url, select(OutboundMessage.content, OutboundMessage.error).where(OutboundMessage.status == "rerouted")
    )
    assert len(over) == 1 + already and all("5 条" in e for _, e in over)
    passed_on = await _q(
        url,
        select(OutboundMessage.content).where(
            OutboundMessage.channel == "app", OutboundMessage.target == "wanghaifeng"
        ),
    )
    assert sorted(c for (c,) in passed_on) == sorted(f"请转告王秀英家：{c}" for c, _ in over)
    assert await _q(url, select(OutboundMessage.id).where(OutboundMessage.status == "dead")) == []
    # the resident writes again: a new window opens
    await tpair.emulator.say(RESIDENT, "kf", "好的")
    await eventually(lambda: len(_replies(tpair)) >= 6)


async def test_no_reply_after_48_hours(tpair):
    url = tpair.settings.database.url
    await tpair.emulator.say(RESIDENT, "kf", "在吗")
    await eventually(lambda: _settled(url))
    before = len(_replies(tpair))
    worker = tpair.runners[1].app[RUNTIME_KEY].outbox
    worker.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=49)
    await _enqueue_kf(tpair, ["迟到的回复"])
    await eventually(lambda: _settled(url))
    assert len(_replies(tpair)) == before
    late = await _q(
        url, select(OutboundMessage.status, OutboundMessage.error).where(OutboundMessage.content == "迟到的回复")
    )
    assert late[0][0] == "rerouted" and "48 小时" in late[0][1]
    passed_on = await _q(url, select(OutboundMessage.content).where(OutboundMessage.target == "wanghaifeng"))
    assert ("请转告王秀英家：迟到的回复",) in passed_on


async def test_emulator_enforces_the_window_itself(tpair):
    """Even a bot that ignores the rule cannot break it: the emulated kf/send_msg refuses."""
    client = tpair.runners[1].app[RUNTIME_KEY].client
    import pytest

    from bot.wecom.errors import WeComApiError

    body = {
        "touser": RESIDENT,
        "open_kfid": tpair.emulator.settings.kf_open_kfid,
        "msgtype": "text",
        "text": {"content": "没人问就发"},
    }
    with pytest.raises(WeComApiError) as err:
        await client.call("kf/send_msg", body)
    assert err.value.errcode == 95018
