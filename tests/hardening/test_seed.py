"""`lianhu seed`: deterministic from the seed, plausible shape, and a second run adds rather than collides."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.cli import build_parser
from devtools import seed
from storage.db import make_engine
from storage.models import Branch, ChatGroup, Household, Link, Matter, Member, Visit

TODAY = dt.date(2026, 11, 26)


async def _seed_and_dump(url: str, *, branches: int, s: int) -> tuple[seed.SeedReport, list]:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            report = await seed.seed(conn, branches=branches, seed=s, today=TODAY)
        async with engine.connect() as conn:
            dump = [
                tuple(r)
                for r in (
                    await conn.execute(
                        select(Household.code, Household.head_name, Household.key_types, Member.name, Member.roles)
                        .join(Link, Link.household_id == Household.id)
                        .join(Member, Member.id == Link.member_id)
                        .order_by(Household.id)
                    )
                ).all()
            ]
            dump.append(int(await conn.scalar(select(func.count()).select_from(Visit))))
    finally:
        await engine.dispose()
    return report, dump


async def test_same_seed_same_county_and_plausible_shape(db_factory):
    a, b = await db_factory.new("migrated"), await db_factory.new("migrated")
    ra, da = await _seed_and_dump(a, branches=3, s=42)
    rb, db = await _seed_and_dump(b, branches=3, s=42)
    assert da == db and ra.lines()[0] == rb.lines()[0]
    assert 90 <= ra.members <= 240 and 5 * ra.members * 0.8 <= ra.households <= 20 * ra.members
    engine = make_engine(a)
    try:
        async with engine.connect() as conn:
            secretaries = await conn.scalar(select(func.count()).where(Member.roles == "书记"))
            key_share = (await conn.scalar(select(func.count()).where(Household.key_types != ""))) / ra.households
            level1 = await conn.scalar(
                select(func.count()).where(ChatGroup.level == 1, ChatGroup.internal, ChatGroup.webhook_key.is_not(None))
            )
            states = set(await conn.scalars(select(Matter.state).distinct()))
            last_visit = await conn.scalar(select(func.max(Visit.visit_date)))
    finally:
        await engine.dispose()
    assert secretaries == 3 and level1 == 3
    assert 0.12 < float(key_share) < 0.3
    assert "已评价" in states and last_visit <= TODAY

    # a second run with another seed adds branches with fresh ids and userids
    r2, _ = await _seed_and_dump(a, branches=2, s=7)
    engine = make_engine(a)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(Branch)) == 5
            assert await conn.scalar(select(func.count()).select_from(Member)) == ra.members + r2.members
    finally:
        await engine.dispose()


def test_cli_has_seed_command():
    args = build_parser().parse_args(["seed", "--scale", "county", "--seed", "3"])
    assert args.scale == "county" and args.seed == 3 and args.func.__name__ == "cmd_seed"
