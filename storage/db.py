"""Engine and session factory. SQLite gets WAL, foreign keys, inline calls and asyncio lock waits
(storage/sqlite_inline.py); PostgreSQL is used as is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from storage import outbox, sqlite_inline


class LianhuSession(Session):
    """The sync session under every AsyncSession here: an outbox row whose idempotency key is already stored is
    dropped at flush instead of failing the transaction (storage/outbox.py drop_known_keys)."""


event.listen(LianhuSession, "before_flush", outbox.drop_known_keys)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def ensure_sqlite_dir(url: str) -> None:
    """SQLite creates the file but not its folder (the default lives in ./var)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        ensure_sqlite_dir(url)
        # sqlite3 runs on the loop thread and waits for locks with asyncio (storage/sqlite_inline.py), so its own
        # busy handler is off; the arguments are the ones the dialect would have given aiosqlite.
        args: dict[str, Any] = {}
        engine = create_async_engine(url, echo=echo, async_creator=sqlite_inline.creator(args))
        cargs, cparams = engine.sync_engine.dialect.create_connect_args(engine.sync_engine.url)
        args.update(cparams, database=cargs[0], timeout=0)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=0")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=LianhuSession)
