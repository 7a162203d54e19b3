"""The retention purge is a long write: it runs in short transactions of its own (issue 15: long writes must not
hold the write lock while callbacks wait), and through the scheduler it still records what it did."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event, func, insert, select

from bot.scheduler import Scheduler
from storage.db import make_engine, make_sessionmaker
from storage.models import Branch, InboundMessage
from storage.retention import purge_old_texts
from tests.conftest import make_settings

NOW = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)


async def _messages(sm, n: int, received_at: dt.datetime, prefix: str) -> None:
    rows = [
        {
            "channel": "aibot",
            "msg_id": f"{prefix}{i}",
            "sender": "zhangwei",
            "chat_type": "single",
            "text": f"第{i}条 电话13812345678",
            "reply": "收到",
            "sent_at": received_at,
            "received_at": received_at,
            "status": "done",
            "meta": {},
        }
        for i in range(n)
    ]
    async with sm() as s, s.begin():
        await s.execute(insert(InboundMessage), rows)


async def test_purge_runs_in_short_transactions_and_keeps_recent_text(seeded_url):
    engine = make_engine(seeded_url)
    sm = make_sessionmaker(engine)
    commits = []
    event.listen(engine.sync_engine, "commit", lambda conn: commits.append(1))
    try:
        await _messages(sm, 1_234, NOW - dt.timedelta(days=400), "old")
        await _messages(sm, 7, NOW - dt.timedelta(days=1), "new")
        commits.clear()
        rows, transactions = await purge_old_texts(sm, NOW - dt.timedelta(days=180), limit=500)
        assert (rows, transactions) == (1_234, 3)  # 500 + 500 + 234: each chunk committed on its own
        assert len(commits) == 3
        async with sm() as s:
            left = await s.scalar(
                select(func.count()).select_from(InboundMessage).where(InboundMessage.text.is_not(None))
            )
            replies = await s.scalar(
                select(func.count()).select_from(InboundMessage).where(InboundMessage.reply.is_not(None))
            )
        assert left == 7 and replies == 7  # only the recent ones keep text and reply
        assert await purge_old_texts(sm, NOW - dt.timedelta(days=180)) == (0, 1)  # idempotent
    finally:
        await engine.dispose()


async def test_the_scheduled_job_purges_before_its_own_transaction(seeded_url):
    settings = make_settings(seeded_url)
    engine = make_engine(seeded_url)
    sm = make_sessionmaker(engine)
    try:
        await _messages(sm, 620, NOW - dt.timedelta(days=settings.privacy.retention_days + 5), "old")
        async with sm() as s:
            branch = await s.scalar(select(Branch).limit(1))
        outcome = await Scheduler(settings, sm, clock=lambda: NOW).run_job("retention", branch, "2026-11-26")
        assert outcome.status == "ran", outcome
        assert outcome.detail["purged"] == 620 and outcome.detail["transactions"] == 2
        async with sm() as s:
            assert await s.scalar(select(func.count()).where(InboundMessage.text.is_not(None))) == 0
    finally:
        await engine.dispose()
