"""SQLite for the event loop: aiosqlite's interface, sqlite3 called inline, lock waits done with asyncio.

aiosqlite runs every sqlite3 call on a thread of its own, and SQLAlchemy's adapter makes four calls per statement
(cursor, execute, fetchall, close): four queue hand-overs and GIL ping-pongs, which on the message path cost
several times what SQLite took to run the statement (in-process bench: 440 msg/s through the thread, 825 inline).
Statements here are short indexed reads and writes of a village's rows, so they run on the loop thread directly.

The one thing a thread was good for is waiting on a lock another connection holds: sqlite3's busy handler sleeps,
and inline that would freeze the loop, the very loop that has to finish the transaction holding the lock. So the
connection has busy_timeout 0, and a statement that finds the database locked is retried after an asyncio sleep
(backing off, up to the same 5 s deadline a busy timeout would give). Retrying is safe: a statement refused with
SQLITE_BUSY did nothing, and a refused COMMIT leaves the transaction open to be committed again.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Generator, Sequence
from typing import Any

import aiosqlite

BUSY_DEADLINE_SECONDS = 5.0
_BUSY, _LOCKED = 5, 6  # primary result codes (extended ones, e.g. SQLITE_BUSY_RECOVERY, share the low byte)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # not from the engine itself
        return False
    return code & 0xFF in (_BUSY, _LOCKED)


def _run(conn: sqlite3.Connection, sql: str, params: Any, many: bool) -> tuple[Any, int, int | None, list[Any]]:
    """One statement, start to finish: execute, fetch every row, close."""
    cur = conn.cursor()
    try:
        if many:
            cur.executemany(sql, params)
        else:
            cur.execute(sql, params)
        desc = cur.description
        rows = cur.fetchall() if desc else []
        return desc, cur.rowcount, cur.lastrowid, rows
    finally:
        cur.close()


class _Inline:
    """Stands in for aiosqlite's queue to its thread: whatever is put is run at once, here."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class _Cursor:
    """What SQLAlchemy's adapter needs of an aiosqlite cursor; the rows are fetched on execute."""

    def __init__(self, conn: InlineConnection) -> None:
        self._conn = conn
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1
        self._rows: deque[Any] = deque()

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._rows.clear()

    async def _go(self, sql: str, params: Any, many: bool) -> _Cursor:
        conn = self._conn
        self.description, self.rowcount, self.lastrowid, rows = await conn._execute(_run, conn._conn, sql, params, many)
        self._rows = deque(rows)
        return self

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _Cursor:
        return await self._go(sql, () if parameters is None else parameters, False)

    async def executemany(self, sql: str, seq_of_parameters: Any) -> _Cursor:
        return await self._go(sql, seq_of_parameters, True)

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        n = min(size or self.arraysize, len(self._rows))
        return [self._rows.popleft() for _ in range(n)]

    async def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()

    async def setinputsizes(self, *sizes: Any) -> None:
        return None


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite.Connection that never starts its thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, 64)
        self._tx = _Inline()  # type: ignore[assignment]  # connect/close/stop and SQLAlchemy's isolation setter

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()

    def cursor(self) -> _Cursor:  # type: ignore[override]  # SQLAlchemy awaits cursor.__aenter__()
        return _Cursor(self)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        deadline: float | None = None
        delay = 0.001
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + BUSY_DEADLINE_SECONDS
                if now >= deadline:
                    raise
            await asyncio.sleep(delay)  # let the holder (often a coroutine of this very loop) finish
            delay = min(delay * 2, 0.05)


def creator(kwargs: dict[str, Any]) -> Callable[[], InlineConnection]:
    """An `async_creator` for create_async_engine, calling sqlite3.connect(**kwargs) (read when connecting)."""

    def connect() -> InlineConnection:
        return InlineConnection(lambda: sqlite3.connect(**kwargs))

    return connect
