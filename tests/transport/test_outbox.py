"""The outbox worker against a misbehaving emulator: exactly once, in order per chat, nothing lost when a
worker dies, dead letters listed for the secretary."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.keys import RUNTIME_KEY
from bot.outbox import OutboxWorker
from storage import outbox
from storage.db import make_engine, make_sessionmaker
from storage.models import OutboundMessage
from tests.transport.conftest import eventually

USERS = ["zhangwei", "wangli", "chenjianguo"]
WEBHOOK = "demo-branch-key"
BRANCH = "wrQYbranch0001"


async def _enqueue(url: str, items: list[tuple[str, str, str]]) -> None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            for channel, target, content in items:
                outbox.enqueue(s, channel=channel, target=target, content=content, key=f"t:{channel}:{content}")
    finally:
        await engine.dispose()


async def _rows(url: str) -> list[OutboundMessage]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return list(await s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))
    finally:
        await engine.dispose()


def _out(pair, chat: str) -> list[str]:
    return [e.content for e in pair.emulator.timeline(chat) if e.direction == "out"]


async def test_thirty_percent_failures_every_message_once_in_order_per_chat(tpair):
    emu, url = tpair.emulator, tpair.settings.database.url
    mixed = (-1, 45009, 45033, 503, 40014)  # 40014 = token refused: the client refreshes and retries once
    emu.faults.fail_rate("message/send", 0.3, codes=mixed, seed=11)
    emu.faults.fail_rate("webhook/send", 0.3, codes=mixed, seed=12)
    items = [("app", u, f"{u}-第{i}条") for i in range(10) for u in USERS]
    items += [("webhook", WEBHOOK, f"群消息{i}") for i in range(12)]
    await _enqueue(url, items)
    tpair.runners[1].app[RUNTIME_KEY].outbox.wake()

    async def all_sent():
        return all(r.status == "sent" for r in await _rows(url))

    await eventually(all_sent, within=30)
    for u in USERS:
        assert _out(tpair, f"app:{u}") == [f"{u}-第{i}条" for i in range(10)]
    assert _out(tpair, BRANCH) == [f"群消息{i}" for i in range(12)]
    rows = await _rows(url)
    assert len(emu.faults.injected) >= 10  # the faults really happened
    assert any(r.attempts > 1 for r in rows) and all(r.sent_at is not None for r in rows)


async def test_killed_worker_resumes_without_loss_or_duplicates(tpair):
    url = tpair.settings.database.url
    app_worker = tpair.runners[1].app[RUNTIME_KEY].outbox
    await app_worker.stop()  # this test plays the workers itself
    await _enqueue(url, [("app", "zhangwei", f"通知{i}") for i in range(6)])
    sm_engine = make_engine(url)
    sm = make_sessionmaker(sm_engine)
    try:
        a = OutboxWorker(tpair.settings.outbox.model_copy(update={"lease_seconds": 0.5}), sm, app_worker.client)
        real_send = a.senders["app"]
        stuck = asyncio.Event()

        async def dies_on_third(row):
            if row.content == "通知2":
                stuck.set()
                await asyncio.Event().wait()  # the process dies while sending this one
            await real_send(row)

        a.senders["app"] = dies_on_third
        task = asyncio.create_task(a.run_once())
        await asyncio.wait_for(stuck.wait(), 5)
        task.cancel()  # killed: no chance to finish the row
        await asyncio.gather(task, return_exceptions=True)
        assert _out(tpair, "app:zhangwei") == ["通知0", "通知1"]
        assert [r.status for r in await _rows(url)][:3] == ["sent", "sent", "sending"]

        b = OutboxWorker(tpair.settings.outbox, sm, app_worker.client)
        assert await b.run_once() == 0  # the lease still holds: nothing overtakes 通知2
        assert _out(tpair, "app:zhangwei") == ["通知0", "通知1"]
        await asyncio.sleep(0.6)
        assert await b.run_once() == 4
        assert _out(tpair, "app:zhangwei") == [f"通知{i}" for i in range(6)]
        c = OutboxWorker(tpair.settings.outbox, sm, app_worker.client)  # a restart sends nothing again
        assert await c.run_once() == 0
        assert _out(tpair, "app:zhangwei") == [f"通知{i}" for i in range(6)]
        assert all(r.status == "sent" for r in await _rows(url))
    finally:
        await sm_engine.dispose()


async def test_webhook_stays_within_twenty_a_minute_without_wasting_calls(tpair):
    url = tpair.settings.database.url
    await tpair.runners[1].app[RUNTIME_KEY].outbox.stop()
    await _enqueue(url, [("webhook", WEBHOOK, f"汇总{i}") for i in range(25)])
    engine = make_engine(url)
    try:
        w = OutboxWorker(tpair.settings.outbox, make_sessionmaker(engine), tpair.runners[1].app[RUNTIME_KEY].client)
        assert await w.run_once() == 20
        assert await w.run_once() == 0  # the window is full: wait, do not hammer WeCom into 45009
    finally:
        await engine.dispose()
    assert tpair.emulator.stats["webhook/send"] == 20
    assert _out(tpair, BRANCH) == [f"汇总{i}" for i in range(20)]
    assert [r.status for r in await _rows(url)].count("pending") == 5


async def test_permanent_error_is_a_dead_letter_listed_by_the_cli(tpair, monkeypatch, capsys):
    url = tpair.settings.database.url
    await _enqueue(url, [("app", "nosuchuser", "发给不存在的人"), ("app", "zhangwei", "正常消息")])
    tpair.runners[1].app[RUNTIME_KEY].outbox.wake()

    async def settled():
        return all(r.status in ("sent", "dead") for r in await _rows(url))

    await eventually(settled)
    rows = {r.content: r for r in await _rows(url)}
    assert rows["发给不存在的人"].status == "dead" and "81013" in rows["发给不存在的人"].error
    assert rows["发给不存在的人"].attempts == 1  # permanent: not retried
    assert rows["正常消息"].status == "sent"

    from bot.cli import main

    monkeypatch.setenv("LIANHU_DATABASE_URL", url)
    assert await asyncio.to_thread(main, ["outbox"]) == 0
    out = capsys.readouterr().out
    assert "发给不存在的人" in out and "nosuchuser" in out and "正常消息" not in out
    dead_id = rows["发给不存在的人"].id
    assert await asyncio.to_thread(main, ["outbox", "retry", str(dead_id)]) == 0
    assert "已放回发件箱" in capsys.readouterr().out
    await eventually(settled)
    assert {r.id: r.status for r in await _rows(url)}[dead_id] == "dead"  # still no such user: dead again


async def test_the_same_answer_twice_reaches_the_member_twice(tpair):
    """A member who asks the same thing twice gets the same answer twice: only a resend of one row asks WeCom to
    drop a duplicate (a first send never does, or WeCom's duplicate check would swallow the second answer)."""
    url = tpair.settings.database.url
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            for n in range(2):
                outbox.enqueue(s, channel="app", target="zhangwei", content="本月您的联系户都走访到了", key=f"same:{n}")
    finally:
        await engine.dispose()
    tpair.runners[1].app[RUNTIME_KEY].outbox.wake()

    async def both():
        return len(_out(tpair, "app:zhangwei")) == 2

    await eventually(both)
    assert tpair.emulator.stats["message/send:duplicate_dropped"] == 0
