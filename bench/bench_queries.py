"""Queries at county scale: 本月未走访户 (one branch, a township), 重点户 coverage, a resident's request status.

Run: .venv/bin/python bench/bench_queries.py --db sqlite|postgresql [--url URL] [--runs 30] [--explain]
Without --url it seeds a synthetic county (`lianhu seed --scale county`, ~1–2 min) into a temporary database
and drops it afterwards; with --url it uses an already seeded one. Prints timings (median / p95 of warm runs)
and, with --explain, the query plans (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import and_, case, exists, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage import migrate, repo, seed
from storage.db import make_engine, make_sessionmaker
from storage.models import Branch, Household, Link, Matter, MatterEvent, Member, Visit

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def unvisited_stmt(branch_ids: list[int], month: str):
    """repo.unvisited's statement, for EXPLAIN (one branch) and its township form (many branches)."""
    start, end = repo.month_bounds(month)
    visited = exists().where(
        and_(Visit.household_id == Household.id, Visit.visit_date >= start, Visit.visit_date < end)
    )
    return (
        select(Member, Household)
        .join(Link, Link.member_id == Member.id)
        .join(Household, Household.id == Link.household_id)
        .where(
            Link.branch_id.in_(branch_ids),
            Member.branch_id.in_(branch_ids),
            Household.branch_id.in_(branch_ids),
            Link.valid_to.is_(None),
            Household.active,
            Member.active,
            Member.status != "免联户",
            ~visited,
        )
        .order_by(Member.code, Household.code)
    )


def township_counts_stmt(branch_ids: list[int], month: str):
    """A township's dashboard: per branch, linked households and how many are still unvisited this month."""
    start, end = repo.month_bounds(month)
    visited = exists().where(
        and_(Visit.household_id == Link.household_id, Visit.visit_date >= start, Visit.visit_date < end)
    )
    return (
        select(Link.branch_id, func.count().label("linked"), func.sum(case((~visited, 1), else_=0)).label("unvisited"))
        .join(Member, Member.id == Link.member_id)
        .where(
            Link.branch_id.in_(branch_ids),
            Member.branch_id.in_(branch_ids),
            Link.valid_to.is_(None),
            Member.active,
            Member.status != "免联户",
        )
        .group_by(Link.branch_id)
    )


def key_coverage_stmt(branch_ids: list[int], month: str):
    """重点户 coverage: key households with a current link, and how many were visited this month."""
    start, end = repo.month_bounds(month)
    visited = exists().where(
        and_(Visit.household_id == Household.id, Visit.visit_date >= start, Visit.visit_date < end)
    )
    return (
        select(Household.branch_id, func.count().label("key"), func.sum(case((visited, 1), else_=0)).label("visited"))
        .join(Link, and_(Link.household_id == Household.id, Link.valid_to.is_(None)))
        .where(
            Household.branch_id.in_(branch_ids),
            Link.branch_id.in_(branch_ids),
            Household.active,
            Household.key_types != "",
        )
        .group_by(Household.branch_id)
    )


def resident_matters_stmt(external_userid: str):
    """What a resident sees when asking 我的诉求怎么样了: their matters, newest first, with the last event."""
    last_event = (
        select(MatterEvent.action, MatterEvent.at)
        .where(MatterEvent.matter_id == Matter.id)
        .order_by(MatterEvent.at.desc(), MatterEvent.id.desc())
        .limit(1)
        .lateral("last_event")
    )
    return (
        select(
            Matter.kind,
            Matter.number,
            Matter.summary,
            Matter.state,
            Matter.rating,
            last_event.c.action,
            last_event.c.at,
        )
        .join(Household, Household.id == Matter.household_id)
        .outerjoin(last_event, text("true"))
        .where(Household.external_userid == external_userid, Household.active)
        .order_by(Matter.created_at.desc())
        .limit(10)
    )


def resident_matters_stmt_sqlite(external_userid: str):
    """SQLite has no LATERAL: the last event by a correlated subquery."""
    last_action = (
        select(MatterEvent.action)
        .where(MatterEvent.matter_id == Matter.id)
        .order_by(MatterEvent.at.desc(), MatterEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(Matter.kind, Matter.number, Matter.summary, Matter.state, Matter.rating, last_action)
        .join(Household, Household.id == Matter.household_id)
        .where(Household.external_userid == external_userid, Household.active)
        .order_by(Matter.created_at.desc())
        .limit(10)
    )


async def timed(fn, runs: int) -> tuple[float, float, int]:
    await fn()  # warm the caches once
    samples, n = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        n = await fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)], n


async def explain(session: AsyncSession, stmt, dialect: str) -> str:
    sql = str(stmt.compile(dialect=session.bind.dialect, compile_kwargs={"literal_binds": True}))
    prefix = (
        "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    )
    rows = (await session.execute(text(prefix + sql))).all()
    if dialect == "postgresql":
        return "\n".join(r[0] for r in rows)
    return "\n".join(f"{'  ' * 0}{r[-1]}" for r in rows)


async def run(url: str, runs: int, show_plans: bool) -> None:
    dialect = make_url(url).get_backend_name()
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    month = dt.date.today().strftime("%Y-%m")
    async with sm() as s:
        sizes = {
            name: await s.scalar(select(func.count()).select_from(m))
            for name, m in (
                ("branches", Branch),
                ("members", Member),
                ("households", Household),
                ("visits", Visit),
                ("matters", Matter),
            )
        }
        print("database:", make_url(url).render_as_string(hide_password=True), sizes)
        branches = list((await s.execute(select(Branch.id, Branch.name).order_by(Branch.id))).all())
        # a median-sized branch, and the first township's ~20 branches
        per_branch = dict(
            (
                await s.execute(
                    select(Link.branch_id, func.count()).where(Link.valid_to.is_(None)).group_by(Link.branch_id)
                )
            ).all()
        )
        ordered = sorted(per_branch, key=per_branch.get)
        branch_id = ordered[len(ordered) // 2]
        town = seed.township_of(branches[0].name)
        town_ids = [b.id for b in branches if seed.township_of(b.name) == town] or [b.id for b in branches[:20]]
        resident = await s.scalar(
            select(Household.external_userid)
            .join(Matter, Matter.household_id == Household.id)
            .where(Household.external_userid.is_not(None))
            .order_by(Matter.id)
            .limit(1)
        )

    resident_stmt = (resident_matters_stmt if dialect == "postgresql" else resident_matters_stmt_sqlite)(resident)
    cases = [
        (
            f"本月未走访户 one branch ({per_branch[branch_id]} linked households), repo.unvisited",
            lambda s: repo.unvisited(s, branch_id, month),
            unvisited_stmt([branch_id], month),
        ),
        (
            f"本月未走访户 one township ({len(town_ids)} branches, {sum(per_branch.get(i, 0) for i in town_ids)} "
            "households), counts per branch",
            lambda s: _all(s, township_counts_stmt(town_ids, month)),
            township_counts_stmt(town_ids, month),
        ),
        (
            f"本月未走访户 one township, full list ({len(town_ids)} branches)",
            lambda s: _all(s, unvisited_stmt(town_ids, month)),
            unvisited_stmt(town_ids, month),
        ),
        (
            "重点户 coverage, one branch",
            lambda s: _all(s, key_coverage_stmt([branch_id], month)),
            key_coverage_stmt([branch_id], month),
        ),
        (
            "重点户 coverage, one township",
            lambda s: _all(s, key_coverage_stmt(town_ids, month)),
            key_coverage_stmt(town_ids, month),
        ),
        ("a resident's request status (by external userid)", lambda s: _all(s, resident_stmt), resident_stmt),
    ]
    print(f"{'query':<80} {'median ms':>10} {'p95 ms':>8} {'rows':>6}")
    async with sm() as s:
        for label, fn, stmt in cases:
            med, p95, n = await timed(lambda fn=fn: _len(fn(s)), runs)
            print(f"{label:<80} {med:>10.2f} {p95:>8.2f} {n:>6}")
            if show_plans:
                print("  plan:\n    " + (await explain(s, stmt, dialect)).replace("\n", "\n    "))
    await engine.dispose()


async def _all(s: AsyncSession, stmt) -> list:
    return list((await s.execute(stmt)).all())


async def _len(coro) -> int:
    return len(await coro)


async def seeded_temp(kind: str) -> tuple[str, object]:
    """Seed a county into a temporary database; returns (url, cleanup coroutine factory)."""
    if kind == "sqlite":
        tmp = tempfile.mkdtemp(prefix="lianhu-bench-")
        url = f"sqlite+aiosqlite:///{tmp}/county.db"

        async def drop() -> None:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    else:
        import asyncpg

        name = f"lianhu_bench_{uuid.uuid4().hex[:8]}"
        admin = make_url(PG_ADMIN)
        conn = await asyncpg.connect(host=admin.host, port=admin.port, user=admin.username, database=admin.database)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = admin.set(database=name).render_as_string(hide_password=False)

        async def drop() -> None:
            c = await asyncpg.connect(host=admin.host, port=admin.port, user=admin.username, database=admin.database)
            await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await c.close()

    await asyncio.get_running_loop().run_in_executor(None, migrate.upgrade, url)
    engine = make_engine(url)
    async with engine.begin() as conn:
        report = await seed.seed(conn, branches=seed.SCALES["county"], seed=1)
    async with engine.begin() as conn:
        await seed.analyze(conn)
    await engine.dispose()
    print("seeded:", " / ".join(report.lines()))
    return url, drop


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--url", help="an already seeded database (skips seeding)")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--explain", action="store_true", help="print the query plans")
    args = ap.parse_args()
    drop = None
    url = args.url
    if not url:
        url, drop = await seeded_temp(args.db)
    try:
        await run(url, args.runs, args.explain)
    finally:
        if drop is not None:
            await drop()


if __name__ == "__main__":
    asyncio.run(main())
