"""Acknowledged means durable (issue 15, finding 1): the bot answers 200 to 智能机器人 callbacks while a long write
holds the database, is killed with SIGKILL, and after a restart every acknowledged message is stored exactly once
and its answer queued for the sender privately.

The long write is the worst case of a roster import: a transaction the test opens and keeps holding the write
lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an exclusive lock on the messages table) until after the kill, so not
a single message can reach the database before the process dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.journal import IntakeJournal, _record
from bot.wecom.crypto import CallbackCrypto
from handlers.context import Inbound
from storage.db import make_engine, make_sessionmaker
from storage.models import InboundMessage, OutboundMessage
from tests.hardening._common import aibot_request, bot_settings, visit_payload
from tests.hardening._proc import BotProcess, free_port, write_config

N = 20
USER = "zhangwei"  # a member of the sample village


@contextlib.asynccontextmanager
async def write_lock_held(url: str) -> AsyncIterator[None]:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        conn = sqlite3.connect(u.database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")  # the one writer slot, as a long import's transaction takes it
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    import asyncpg

    pg = await asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username, database=u.database)
    tx = pg.transaction()
    await tx.start()
    await pg.execute("LOCK TABLE inbound_message IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        await tx.rollback()
        await pg.close()


async def stored(url: str, msgids: set[str]) -> tuple[dict[str, int], int]:
    """(msg_id → rows, private answers queued for the replayed ones)."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            rows = dict(
                (
                    await s.execute(
                        select(InboundMessage.msg_id, func.count())
                        .where(InboundMessage.channel == "aibot", InboundMessage.msg_id.in_(msgids))
                        .group_by(InboundMessage.msg_id)
                    )
                ).all()
            )
            answers = await s.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(OutboundMessage.channel == "app", OutboundMessage.idempotency_key.like("replay:aibot:%"))
            )
    finally:
        await engine.dispose()
    return rows, int(answers or 0)


async def test_sigkill_while_the_database_is_held_loses_no_acknowledged_message(
    seeded_url, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    s = bot_settings(seeded_url)
    port = free_port()
    monkeypatch.setenv("LIANHU_SERVER_REPLY_BUDGET_SECONDS", "0.2")  # the placeholder answer, not the full one
    monkeypatch.setenv("LIANHU_INTAKE_JOURNAL", str(tmp_path / "intake.journal"))
    bot = BotProcess(write_config(s, tmp_path / "bot.toml", port), port, tmp_path / "bot.log")
    crypto = CallbackCrypto(s.aibot.token, s.aibot.encoding_aes_key, "")
    msgids = {f"CAIQdurable{i:02d}" for i in range(N)}

    async def post(http: aiohttp.ClientSession, msgid: str) -> tuple[int, dict]:
        path, body = aibot_request(s, visit_payload(msgid, "@联户小助手 今天走访了方奶奶", USER), nonce=msgid)
        async with http.post(bot.url + path, data=body) as r:
            raw = await r.read()
            if r.status != 200:
                return r.status, {}
            env = json.loads(raw)
            return 200, json.loads(crypto.decrypt(env["msgsignature"], env["timestamp"], env["nonce"], env["encrypt"]))

    try:
        await bot.start()
        async with write_lock_held(seeded_url):
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
                answers = await asyncio.gather(*(post(http, m) for m in sorted(msgids)))
            assert [st for st, _ in answers] == [200] * N
            # every one got the "收到，正在处理……" placeholder: acknowledged, not yet handled
            assert all(a["stream"]["finish"] is False for _, a in answers)
            bot.kill()  # SIGKILL: no shutdown, nothing flushed by the bot
            assert bot.proc is not None and bot.proc.returncode == -9
        rows, _ = await stored(seeded_url, msgids)
        assert rows == {}, "the held lock let messages through: the test proves nothing"

        await bot.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while True:  # poll the database until the replay has stored them all (or the deadline says it did not)
            rows, replies = await stored(seeded_url, msgids)
            if len(rows) == N and replies == N:
                break
            assert loop.time() < deadline, f"after restart: {len(rows)}/{N} stored, {replies} answered"
            await asyncio.sleep(0.2)
    finally:
        bot.stop()
    assert set(rows) == msgids
    assert set(rows.values()) == {1}, "a message stored twice"
    assert replies == N


async def test_journal_keeps_what_is_unfinished_through_rewrites_and_a_torn_last_line(tmp_path):
    path = tmp_path / "intake.journal"
    journal = IntakeJournal(path, max_bytes=1000)  # small: rewritten below
    now = dt.datetime.now(dt.UTC)
    msgs = [Inbound("aibot", f"m{i}", USER, "", "single", f"今天走访了方奶奶 {i}", now) for i in range(8)]
    for m in msgs:
        await journal.append(m)
    for m in msgs[:6]:
        journal.done(m)
    await journal.append(msgs[7])  # a retry of one still open: recorded once
    await journal.close()
    written = sum(len(_record(m)) for m in [*msgs, msgs[7]])
    assert path.stat().st_size < written / 2  # rewritten to what is still open
    with path.open("ab") as f:
        f.write(b'{"in": {"channel": "aibot", "msg_id": "torn"')  # the crash came mid-write: never acknowledged
    again = IntakeJournal(path)
    assert [m.msg_id for m in again.unfinished()] == ["m6", "m7"]
    assert again.unfinished()[0] == msgs[6]  # every field back as it came in
    await again.close()


async def test_two_instances_on_one_database_never_share_a_journal(tmp_path):
    """Two `lianhu serve` with one config get the same journal path; each must hold its own file, and a restart
    takes the first free one (replaying what a dead instance left there)."""
    path = tmp_path / "intake.journal"
    now = dt.datetime.now(dt.UTC)
    first = IntakeJournal(path)
    second = IntakeJournal(path)
    assert first.path == path and second.path == tmp_path / "intake.journal.2"
    await first.append(Inbound("aibot", "a1", USER, "", "single", "今天走访了方奶奶", now))
    await second.append(Inbound("aibot", "b1", USER, "", "single", "今天走访了严德富", now))
    await first.close()  # closed with a1 unfinished: it stays for whoever takes this file next
    third = IntakeJournal(path)
    assert third.path == path and [m.msg_id for m in third.unfinished()] == ["a1"]
    await second.close()
    await third.close()
