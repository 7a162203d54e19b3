"""积分 follow the rules, never count twice, and the year-end list is right; members ask in chat."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.scheduler import Scheduler
from jobs.points import rules_from
from storage import points
from storage.models import OutboundMessage, PointsEntry
from tests.conftest import make_settings
from tests.rhythm.conftest import Clock, Db, at

RULES = points.PointsRules()  # visit 1, key 2, 满意 +2, 基本满意 0, 不满意 −2, 八必访 ≤3 days +2, overdue −2


async def ledger(db: Db) -> dict[str, int]:
    m, _ = await db.ids()
    code = {v: k for k, v in m.items()}
    async with db.sm() as s:
        rows = (
            await s.execute(select(PointsEntry.member_id, func.sum(PointsEntry.points)).group_by(PointsEntry.member_id))
        ).all()
    return {code[mid]: int(total) for mid, total in rows}


async def sync(db: Db, today: dt.date, since: dt.date | None = None) -> int:
    b = await db.branch()
    async with db.sm() as s, s.begin():
        return await points.sync_points(s, b.id, rules=RULES, today=today, since=since)


async def setup_story(db: Db) -> None:
    # 张伟 (M04): H011 twice in Nov (counts once), H011 again in Dec (counts), key household H015? see below
    await db.visit("M04", "H011", dt.date(2026, 11, 3))
    await db.visit("M04", "H011", dt.date(2026, 11, 9))
    await db.visit("M04", "H011", dt.date(2026, 12, 1))
    # 陈建国 (M01): key household H001 (空巢老人) +2, ordinary H002 +1
    await db.visit("M01", "H001", dt.date(2026, 11, 4))
    await db.visit("M01", "H002", dt.date(2026, 11, 4))
    # 八必访 for H001: raised Nov 3, visited Nov 4 (timely, +2); H003 raised Nov 1, visited Nov 10 (late, 0)
    v1 = await db.visit("M01", "H003", dt.date(2026, 11, 10))  # key household (困难家庭): +2 as a visit
    async with db.sm() as s:
        from storage.models import Visit

        v0 = await s.scalar(select(Visit.id).where(Visit.visit_date == dt.date(2026, 11, 4)).order_by(Visit.id))
    await db.task("H001", "M01", at(2026, 11, 3, 15), closed_by_visit=v0, closed=at(2026, 11, 4, 20))
    await db.task("H003", "M01", at(2026, 11, 1, 15), closed_by_visit=v1, closed=at(2026, 11, 10, 20))
    # ratings: 张伟's item rated 满意 (+2); 王丽's rated 不满意 (−2) then 满意 after rework (+2)
    m1 = await db.matter(
        number=1,
        household="H011",
        member="M04",
        assignee="M04",
        state="已评价",
        state_type="closed",
        created=at(2026, 11, 3),
        closed=at(2026, 11, 6),
        rating="满意",
    )
    await db.event(m1, "评价", "已评价", at(2026, 11, 7), note="满意")
    m2 = await db.matter(
        number=2,
        household="H020",
        member="M05",
        assignee="M05",
        state="已评价",
        state_type="closed",
        created=at(2026, 11, 3),
        closed=at(2026, 11, 20),
        rating="满意",
    )
    await db.event(m2, "评价", "办理中", at(2026, 11, 8), note="不满意，路面没修平")
    await db.event(m2, "评价", "已评价", at(2026, 11, 21), note="满意")
    # overdue: 周志强's item due Nov 10, still open (−2); one closed on time (nothing)
    await db.matter(
        number=3, household="H030", member="M06", assignee="M06", due=dt.date(2026, 11, 10), created=at(2026, 11, 1)
    )
    await db.matter(
        number=4,
        household="H031",
        member="M06",
        assignee="M06",
        due=dt.date(2026, 11, 10),
        created=at(2026, 11, 1),
        state="已办结",
        state_type="fixed",
        closed=at(2026, 11, 9),
    )


async def test_rules_and_no_double_counting(db: Db):
    await setup_story(db)
    added = await sync(db, dt.date(2026, 12, 2))
    totals = await ledger(db)
    assert totals["M04"] == 1 + 1 + 2  # Nov H011, Dec H011, 满意
    assert totals["M01"] == 2 + 1 + 2 + 2  # key H001, H002, key H003, timely 八必访 (H003's was late)
    assert totals["M05"] == -2 + 2
    assert totals["M06"] == -2
    assert added == 10
    # again, and over an overlapping window: nothing new
    assert await sync(db, dt.date(2026, 12, 2)) == 0
    assert await sync(db, dt.date(2026, 12, 3), since=dt.date(2026, 11, 15)) == 0
    assert await ledger(db) == totals
    # a visit recorded late (after the fact) for last month is picked up by a windowed run
    await db.visit("M05", "H021", dt.date(2026, 11, 28))
    assert await sync(db, dt.date(2026, 12, 4), since=dt.date(2026, 11, 1)) == 1
    assert (await ledger(db))["M05"] == 1


async def test_overdue_counts_from_the_day_after_the_due_date(db: Db):
    await db.matter(
        number=1, household="H030", member="M06", assignee="M06", due=dt.date(2026, 11, 10), created=at(2026, 11, 1)
    )
    await sync(db, dt.date(2026, 11, 10))
    assert "M06" not in await ledger(db)
    await sync(db, dt.date(2026, 11, 11))
    assert (await ledger(db))["M06"] == -2


async def test_year_end_list_goes_to_the_secretary_in_december(db: Db):
    await setup_story(db)
    settings = make_settings(db.url)
    settings.points.year_end_threshold = 5
    clock = Clock(at(2026, 11, 20, 9, 30))
    s = Scheduler(settings, db.sm, clock=clock)
    assert not [o for o in await s.tick() if o.job.startswith("year_end:")]  # not in November
    clock.set(at(2026, 12, 20, 9, 1))
    [o] = [o for o in await s.tick() if o.job.startswith("year_end:")]
    assert o.status == "ran" and o.period == "2026"
    # threshold 5: M01 has 7 and is off the list; exempt M12 is never on it; everyone else is below
    assert "M01" not in o.detail["below"] and "M12" not in o.detail["below"]
    assert o.detail["below"][:3] == ["M06", "M02", "M03"]  # lowest first (−2), then the zeros by code
    assert len(o.detail["below"]) == 12
    async with db.sm() as ss:
        rows = list(await ss.scalars(select(OutboundMessage).where(OutboundMessage.idempotency_key.like("year_end:%"))))
    assert [r.target for r in rows] == ["chenjianguo"] and rows[0].channel == "app"
    assert "周志强：-2 分" in rows[0].content and "陈建国" not in rows[0].content
    assert rules_from(settings) == RULES


async def test_points_job_scans_since_last_run(db: Db):
    settings = make_settings(db.url)
    clock = Clock(at(2026, 11, 5, 1, 31))
    s = Scheduler(settings, db.sm, clock=clock)
    await db.visit("M04", "H011", dt.date(2026, 11, 3))
    [o] = [o for o in await s.tick() if o.job.startswith("points:")]
    assert o.detail["added"] == 1 and o.detail["since"] is None
    clock.set(at(2026, 11, 6, 1, 31))
    await db.visit("M04", "H012", dt.date(2026, 11, 5))
    [o] = [o for o in await s.tick() if o.job.startswith("points:")]
    assert o.detail["added"] == 1 and o.detail["since"] == "2026-09-26"
    assert (await ledger(db))["M04"] == 1 + 2  # H012 is a key household
