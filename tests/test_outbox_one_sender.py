"""A job run by hand beside a running server leaves the sending to the server's worker: two senders on one
database could both send a row when one stalls past its lease (the summary went out 4× that way)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt

from sqlalchemy import delete, func, select

from bot.cli_jobs import _run
from bot.outbox import OutboxWorker
from storage import outbox as store
from storage.db import make_engine, make_sessionmaker
from storage.models import Lease, OutboundMessage
from tests.conftest import make_settings


def _args() -> argparse.Namespace:
    return argparse.Namespace(name="summary", period="2026-11", branch=None, force=False, no_send=False, config=None)


async def test_hand_run_job_leaves_sending_to_a_live_worker(seeded_url, capsys):
    settings = make_settings(seeded_url)
    # credentials set, pointing at a closed port: if the CLI tried to send, its rows would show attempts
    settings.wecom.corp_id, settings.wecom.secret = "wwtest", "secret"
    settings.wecom.api_base = settings.webhook.base_url = "http://127.0.0.1:9"
    engine = make_engine(seeded_url)
    sm = make_sessionmaker(engine)
    worker = OutboxWorker(settings.outbox, sm, None, instance="serve-1")
    try:
        await worker.beat()  # what a running server's worker does every round
        async with sm() as s:
            assert await store.live_sender(s, dt.datetime.now(dt.UTC)) == "serve-1"
        assert await _run(settings, _args()) == 0
        assert "正在运行的机器人会发送" in capsys.readouterr().out
        async with sm() as s:
            queued = await s.scalar(select(func.count()).select_from(OutboundMessage))
            tried = await s.scalar(
                select(func.count()).select_from(OutboundMessage).where(OutboundMessage.attempts > 0)
            )
        assert queued > 0 and tried == 0  # written, and nobody but the worker will send them
    finally:
        await engine.dispose()


async def test_the_lease_ends_with_the_worker(seeded_url):
    settings = make_settings(seeded_url)
    engine = make_engine(seeded_url)
    sm = make_sessionmaker(engine)
    worker = OutboxWorker(settings.outbox, sm, None, instance="serve-2")
    try:
        worker.start()
        await worker.beat()
        async with sm() as s:
            assert await store.live_sender(s, dt.datetime.now(dt.UTC)) == "serve-2"
        await worker.stop()
        async with sm() as s:
            assert await store.live_sender(s, dt.datetime.now(dt.UTC)) is None
        # nobody sending: a hand-run job may send itself again (the old behaviour)
        async with sm() as s:
            assert await store.live_sender(s, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)) is None
    finally:
        await engine.dispose()


async def test_two_first_beats_at_once_do_not_collide(seeded_url):
    # the worker's first round and a second instance both find no lease row; on PostgreSQL both used to INSERT and
    # one failed on the primary key (the server's start-up then crashed)
    engine = make_engine(seeded_url)
    sm = make_sessionmaker(engine)
    now = dt.datetime.now(dt.UTC)

    took: list[bool] = []

    async def beat(holder: str) -> None:
        async with sm() as s, s.begin():
            took.append(await store.acquire_sender(s, holder, now, now + dt.timedelta(minutes=1)))

    try:
        for _ in range(5):
            async with sm() as s, s.begin():
                await s.execute(delete(Lease))
            await asyncio.gather(*(beat(f"serve-{i}") for i in range(4)))
            async with sm() as s:
                assert await store.live_sender(s, now) in {f"serve-{i}" for i in range(4)}
            assert sum(took) == 1  # exactly one of them sends
            took.clear()
    finally:
        await engine.dispose()


async def test_a_second_server_stands_by_until_the_senders_lease_lapses(seeded_url):
    # two `lianhu serve` on one database: only the lease holder sends; the other takes over once the holder
    # stops renewing (kill -9), and not before
    settings = make_settings(seeded_url)
    settings.outbox.sender_lease_seconds = 30
    engine = make_engine(seeded_url)
    sm = make_sessionmaker(engine)
    now = [dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)]
    a = OutboxWorker(settings.outbox, sm, None, instance="serve-a", clock=lambda: now[0])
    b = OutboxWorker(settings.outbox, sm, None, instance="serve-b", clock=lambda: now[0])
    try:
        assert await a.beat() is True
        assert await b.beat() is False and await b.run_once() == 0
        now[0] += dt.timedelta(seconds=20)
        assert await a.beat() is True  # renewed
        now[0] += dt.timedelta(seconds=25)
        assert await b.beat() is False  # 25 s after the renewal: a's lease still runs
        now[0] += dt.timedelta(seconds=10)
        assert await b.beat() is True  # a went quiet for 35 s: b sends from now on
        assert await a.beat() is False  # and a, were it only stalled, now stands by
        await b.drop()
        assert await a.beat() is True  # a clean stop hands over at once
    finally:
        await engine.dispose()
