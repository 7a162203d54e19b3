"""SQLite runs on the loop thread; a lock held elsewhere is waited for with asyncio, never by blocking the loop."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage import sqlite_inline
from storage.db import make_engine
from tests import conftest

pytestmark = pytest.mark.skipif(conftest.test_db_kind() != "sqlite", reason="SQLite driver only")


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "inline.db"
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    con.commit()
    con.close()
    return path


async def test_statements_rows_and_executemany(db):
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    try:
        async with engine.begin() as conn:
            res = await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "甲"}, {"v": "乙"}, {"v": "丙"}])
            assert res.rowcount == 3
            res = await conn.execute(text("INSERT INTO t (v) VALUES ('丁') RETURNING id"))
            assert res.scalar_one() == 4
            assert (await conn.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all() == ["甲", "乙", "丙", "丁"]
        async with engine.connect() as conn:  # committed, seen by a new connection's transaction
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 4
    finally:
        await engine.dispose()


async def test_a_lock_held_by_another_process_is_waited_for_without_freezing_the_loop(db):
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    other.execute("INSERT INTO t (v) VALUES ('他')")
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def write() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES ('我')"))

    tick = asyncio.create_task(ticker())
    try:
        writing = asyncio.create_task(write())
        await asyncio.sleep(0.3)
        assert not writing.done()  # still waiting for the lock …
        assert ticks >= 10  # … while the loop kept running
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 2)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all() == ["他", "我"]
    finally:
        tick.cancel()
        other.close()
        await engine.dispose()


async def test_a_lock_never_released_fails_after_the_deadline(db, monkeypatch):
    monkeypatch.setattr(sqlite_inline, "BUSY_DEADLINE_SECONDS", 0.2)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    try:
        with pytest.raises(OperationalError, match="locked"):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (v) VALUES ('我')"))
    finally:
        other.execute("ROLLBACK")
        other.close()
        await engine.dispose()
