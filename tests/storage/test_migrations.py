"""Every alembic revision goes up, down and up again (the "stairway"), and head matches the models."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage import migrate
from storage.db import make_engine
from storage.models import Base

REVISIONS = migrate.revisions()


@pytest.mark.parametrize("revision", REVISIONS, ids=[r.revision for r in REVISIONS])
async def test_stairway(db_factory, revision):
    url = await db_factory.new("blank")
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, migrate.upgrade, url, revision.revision)
    await loop.run_in_executor(None, migrate.downgrade, url, revision.down_revision or "base")
    await loop.run_in_executor(None, migrate.upgrade, url, revision.revision)


async def test_downgrade_to_base_leaves_no_tables(db_factory):
    url = await db_factory.new("blank")
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, migrate.upgrade, url)
    await loop.run_in_executor(None, migrate.downgrade, url, "base")
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()
    assert set(tables) <= {"alembic_version"}


async def test_head_matches_models(migrated_url):
    engine = make_engine(migrated_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert diff == []
