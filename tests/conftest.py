"""Shared fixtures: a fresh database per test (SQLite by default, PostgreSQL when LIANHU_TEST_DATABASE_URL says
so), and the bot running against the WeCom emulator on real sockets.

Databases are cloned from a per-session template (a copied file for SQLite, CREATE DATABASE … TEMPLATE for
PostgreSQL), so each test starts migrated and, where it asks for it, with the sample village imported.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.config import Settings
from storage import migrate

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEMO_ROSTER = REPO / "devtools" / "demo_data" / "roster.xlsx"

PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def test_db_kind() -> str:
    url = os.environ.get("LIANHU_TEST_DATABASE_URL", "")
    return "postgresql" if url.startswith("postgresql") else "sqlite"


async def _pg_reachable(url: str) -> str | None:
    import asyncpg

    u = make_url(url)
    try:
        conn = await asyncio.wait_for(
            asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username, database=u.database), 5
        )
    except Exception as exc:
        return f"PostgreSQL at {u.host}:{u.port} is not reachable ({exc.__class__.__name__}: {exc})"
    await conn.close()
    return None


class DbFactory:
    """Makes databases: 'blank' (nothing), 'migrated' (schema), 'seeded' (schema + sample village)."""

    def __init__(self, kind: str, tmp: Path, pg_url: str | None) -> None:
        self.kind = kind
        self.tmp = tmp
        self.pg_url = pg_url
        self._templates: dict[str, str] = {}
        self._made: list[str] = []

    async def _admin(self):
        import asyncpg

        u = make_url(self.pg_url)
        return await asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username, database=u.database)

    def _pg_url_for(self, name: str) -> str:
        return make_url(self.pg_url).set(database=name).render_as_string(hide_password=False)

    async def _fresh(self) -> str:
        name = f"lianhu_t_{uuid.uuid4().hex[:12]}"
        if self.kind == "sqlite":
            return f"sqlite+aiosqlite:///{self.tmp / (name + '.db')}"
        conn = await self._admin()
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self._made.append(name)
        return self._pg_url_for(name)

    async def _template(self, level: str) -> str:
        if level in self._templates:
            return self._templates[level]
        url = await self._fresh()
        await asyncio.get_running_loop().run_in_executor(None, migrate.upgrade, url)
        if level == "seeded":
            from devtools.demo import import_file

            s = Settings()
            s.database.url = url
            await import_file(s, DEMO_ROSTER)
        self._templates[level] = url
        return url

    async def new(self, level: str = "migrated") -> str:
        if level == "blank":
            return await self._fresh()
        template = await self._template(level)
        name = f"lianhu_t_{uuid.uuid4().hex[:12]}"
        if self.kind == "sqlite":
            src = make_url(template).database
            dst = self.tmp / (name + ".db")
            shutil.copyfile(src, dst)
            return f"sqlite+aiosqlite:///{dst}"
        conn = await self._admin()
        try:
            tmpl = make_url(template).database
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{tmpl}"')
        finally:
            await conn.close()
        self._made.append(name)
        return self._pg_url_for(name)

    async def drop_all(self) -> None:
        if self.kind != "postgresql" or not self._made:
            return
        conn = await self._admin()
        try:
            for name in self._made:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture(scope="session")
def db_factory(tmp_path_factory: pytest.TempPathFactory):
    kind = test_db_kind()
    pg_url = os.environ.get("LIANHU_TEST_DATABASE_URL") if kind == "postgresql" else None
    if pg_url:
        reason = asyncio.run(_pg_reachable(pg_url))
        if reason:
            pytest.skip(f"LIANHU_TEST_DATABASE_URL is set but {reason}")
    factory = DbFactory(kind, tmp_path_factory.mktemp("db"), pg_url)
    yield factory
    asyncio.run(factory.drop_all())


@pytest.fixture
async def seeded_url(db_factory: DbFactory) -> str:
    return await db_factory.new("seeded")


@pytest.fixture
async def migrated_url(db_factory: DbFactory) -> str:
    return await db_factory.new("migrated")


def make_settings(url: str) -> Settings:
    s = Settings()
    s.database.url = url
    s.database.auto_migrate = False
    s.schedule.enabled = False  # no jobs firing on the wall clock mid-test; tests/rhythm drives the scheduler
    # tests type far faster than people: WeCom's 30 messages per member a minute would stall them (bot/outbox.py)
    s.outbox.per_chat_per_minute = 10_000
    return s


@pytest.fixture
async def pair(seeded_url: str):
    """The bot and the emulator on real sockets, wired together, sample village imported."""
    from devtools.demo import start_pair

    p = await start_pair(make_settings(seeded_url), DEMO_ROSTER, callback_timeout=5.0, import_roster_first=False)
    try:
        yield p
    finally:
        await p.close()
