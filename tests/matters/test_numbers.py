"""Reference numbers count up per branch and kind, never repeat, even when the first ones are raced."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from storage import matters as mt
from storage.db import make_engine, make_sessionmaker
from storage.models import Branch


async def test_numbers_are_unique_under_concurrency(seeded_url):
    engine = make_engine(seeded_url)
    sm = make_sessionmaker(engine)
    async with sm() as s:
        branch_id = (await s.execute(select(Branch.id))).scalar_one()

    async def take(kind: str) -> int:
        for _ in range(20):  # SQLite may answer "locked" to a racing writer: retry like a caller would
            try:
                async with sm() as s, s.begin():
                    return await mt.next_number(s, branch_id, kind)
            except OperationalError:  # "database is locked" only; a duplicate counter row must not happen
                await asyncio.sleep(0.01)
        raise AssertionError("no number")

    got = await asyncio.gather(*(take("request") for _ in range(12)), *(take("wish") for _ in range(5)))
    await engine.dispose()
    assert sorted(got[:12]) == list(range(1, 13))
    assert sorted(got[12:]) == list(range(1, 6))
