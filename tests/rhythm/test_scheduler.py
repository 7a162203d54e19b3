"""The scheduler: the 主题党日 summary appears exactly once per month — across a restart, with two app instances
and with two scheduler objects racing on one database — and a period missed while down is caught up once."""

from __future__ import annotations

import asyncio
import datetime as dt

from aiohttp import web
from sqlalchemy import func, select

from bot.app import create_app
from bot.keys import RUNTIME_KEY
from bot.scheduler import SCHEDULER_KEY, Scheduler
from storage.models import JobRun, OutboundMessage
from tests.conftest import make_settings
from tests.rhythm.conftest import BRANCH_CHAT, Clock, Db, at


def group_out(pair, msgtype: str | None = None) -> list:
    return [
        e
        for e in pair.emulator.timeline(BRANCH_CHAT)
        if e.direction == "out" and (msgtype is None or e.msgtype == msgtype)
    ]


async def summary_rows(db: Db) -> int:
    async with db.sm() as s:
        return int(
            await s.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(OutboundMessage.idempotency_key.like("summary:%"))
            )
        )


async def job_runs(db: Db, job_prefix: str) -> list[tuple[str, str, str]]:
    async with db.sm() as s:
        return [
            tuple(r)
            for r in (
                await s.execute(
                    select(JobRun.job, JobRun.period, JobRun.status)
                    .where(JobRun.job.like(job_prefix + "%"))
                    .order_by(JobRun.period)
                )
            ).all()
        ]


async def test_summary_once_across_restart_and_second_instance(pair, db: Db):
    await db.visit("M04", "H011", dt.date(2026, 11, 3))
    await db.visit("M04", "H011", dt.date(2026, 11, 20))  # same household twice: 2 visits, 1 household
    await db.visit("M01", "H001", dt.date(2026, 11, 4))
    await db.visit("M01", "H002", dt.date(2026, 10, 30))  # October: not in November's figures
    app = pair.runners[1].app
    clock = Clock(at(2026, 12, 5, 9, 30))
    app[RUNTIME_KEY].clock = clock
    sched = app[SCHEDULER_KEY]

    outcomes = await sched.tick()
    assert [(o.period, o.status) for o in outcomes if o.job.startswith("summary:")] == [("2026-11", "ran")]
    md = group_out(pair, "markdown")
    assert len(md) == 1 and len(group_out(pair, "image")) == 1
    text = md[0].content
    assert "2026年11月" in text and "联系户 2/60 户" in text
    assert "- 张伟：1/6 户，2 次" in text and "- 陈建国：1/5 户，1 次" in text
    assert "空巢老人" not in text and "王根发" not in text  # no types, no households in the group
    private = [e.content for e in pair.emulator.timeline("app:zhangwei") if e.direction == "out"]
    assert len(private) == 1 and "未走访（5 户）" in private[0] and "王根发" not in private[0]

    # later ticks the same month: nothing new
    clock.set(at(2026, 12, 5, 11))
    assert not [o for o in await sched.tick() if o.status == "ran" and o.job.startswith("summary:")]

    # "restart": the old instance is gone (its lease lapses), a new app on the same database takes over
    await pair.runners[1].cleanup()
    pair.runners.pop()
    clock.set(at(2026, 12, 6, 9))
    app2 = create_app(pair.settings, clock=clock)
    runner = web.AppRunner(app2)
    await runner.setup()
    pair.runners.append(runner)
    outcomes = await app2[SCHEDULER_KEY].tick()
    assert outcomes, "the new instance holds the lease and looks at due jobs"
    assert not [o for o in outcomes if o.job.startswith("summary:")]
    assert len(group_out(pair, "markdown")) == 1 and len(group_out(pair, "image")) == 1
    assert await job_runs(db, "summary:") == [("summary:1", "2026-11", "done")]

    # next month: exactly one more
    clock.set(at(2027, 1, 5, 9, 1))
    await app2[SCHEDULER_KEY].tick()
    assert len(group_out(pair, "image")) == 2
    assert [p for _, p, _ in await job_runs(db, "summary:")] == ["2026-11", "2026-12"]


async def test_two_app_instances_tick_together_one_posts(pair, db: Db):
    clock = Clock(at(2026, 12, 5, 9, 5))
    app1 = pair.runners[1].app
    app1[RUNTIME_KEY].clock = clock
    app2 = create_app(pair.settings, clock=clock)
    runner = web.AppRunner(app2)
    await runner.setup()
    pair.runners.append(runner)
    a, b = await asyncio.gather(app1[SCHEDULER_KEY].tick(), app2[SCHEDULER_KEY].tick())
    assert bool(a) != bool(b), "exactly one instance holds the lease"
    assert len(group_out(pair, "image")) == 1 and len(group_out(pair, "markdown")) == 1


async def test_jobrun_unique_is_the_final_guard_without_lease(seeded_url: str):
    db = Db(seeded_url)
    try:
        settings = make_settings(seeded_url)
        clock = Clock(at(2026, 12, 5, 9, 5))
        scheds = [Scheduler(settings, db.sm, clock=clock, use_lease=False) for _ in range(4)]
        results = await asyncio.gather(*(s.tick() for s in scheds))
        ran = [o for r in results for o in r if o.job.startswith("summary:") and o.status == "ran"]
        assert len(ran) == 1
        assert await job_runs(db, "summary:") == [("summary:1", "2026-11", "done")]
        group_rows = await summary_rows(db)
        # one more racing round changes nothing
        await asyncio.gather(*(s.tick() for s in scheds))
        assert await summary_rows(db) == group_rows
    finally:
        await db.close()


async def test_lease_one_holder_until_it_lapses(seeded_url: str):
    db = Db(seeded_url)
    try:
        settings = make_settings(seeded_url)
        clock = Clock(at(2026, 11, 10, 12))
        a = Scheduler(settings, db.sm, clock=clock, instance="a")
        b = Scheduler(settings, db.sm, clock=clock, instance="b")
        assert await a.acquire_lease() and not await b.acquire_lease()
        assert await a.acquire_lease()  # renewal
        clock.set(clock.now + dt.timedelta(seconds=settings.schedule.lease_seconds + 1))
        assert await b.acquire_lease() and not await a.acquire_lease()
        await b.release_lease()
        assert await a.acquire_lease()
    finally:
        await db.close()


async def test_missed_period_caught_up_once_and_old_ones_skipped(seeded_url: str):
    db = Db(seeded_url)
    try:
        settings = make_settings(seeded_url)
        # down over the theme day (Dec 5th); back on the 8th: the summary is made up, once
        clock = Clock(at(2026, 12, 8, 14))
        s = Scheduler(settings, db.sm, clock=clock)
        ran = [o for o in await s.tick() if o.job.startswith("summary:")]
        assert [(o.period, o.status) for o in ran] == [("2026-11", "ran")]
        clock.set(at(2026, 12, 8, 15))
        assert not [o for o in await s.tick() if o.job.startswith("summary:")]
        # back only on the 20th: too late (catch_up_days = 7) for December's summary of November
        s2 = Scheduler(settings, db.sm, clock=Clock(at(2027, 1, 20, 10)), instance="late")
        outcomes = await s2.tick()
        assert not [o for o in outcomes if o.job.startswith("summary:")]
        assert [p for _, p, _ in await job_runs(db, "summary:")] == ["2026-11"]
    finally:
        await db.close()


async def test_failed_job_retried_then_done(seeded_url: str, monkeypatch):
    db = Db(seeded_url)
    try:
        settings = make_settings(seeded_url)
        clock = Clock(at(2026, 12, 5, 9, 5))
        s = Scheduler(settings, db.sm, clock=clock)
        calls = {"n": 0}
        from bot import scheduler
        from jobs import summary as rhythm

        real = rhythm.run_summary

        async def flaky(jc):
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("database hiccup")
            return await real(jc)

        monkeypatch.setitem(
            scheduler.JOBS,
            "summary",
            scheduler.JOBS["summary"].__class__(**{**scheduler.JOBS["summary"].__dict__, "run": flaky}),
        )
        first = [o for o in await s.tick() if o.job.startswith("summary:")]
        assert [o.status for o in first] == ["failed"]
        assert await summary_rows(db) == 0  # nothing half-sent: the messages rolled back with the job
        clock.set(at(2026, 12, 5, 9, 6))
        second = [o for o in await s.tick() if o.job.startswith("summary:")]
        assert [o.status for o in second] == ["ran"]
        assert await job_runs(db, "summary:") == [("summary:1", "2026-11", "done")]
        assert await summary_rows(db) > 0
    finally:
        await db.close()
