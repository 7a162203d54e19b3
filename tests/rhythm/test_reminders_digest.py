"""Reminders go privately, only to people with something to do, not more often than configured; the digest goes
to the secretary in full and to the group without sensitive detail."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.scheduler import Scheduler
from storage.models import OutboundMessage
from tests.conftest import make_settings
from tests.rhythm.conftest import Clock, Db, at

SECRETARY = "chenjianguo"


async def outbox(db: Db, prefix: str) -> list[OutboundMessage]:
    async with db.sm() as s:
        return list(
            await s.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.idempotency_key.like(prefix + "%"))
                .order_by(OutboundMessage.id)
            )
        )


async def run(db: Db, job: str, when: dt.datetime, period: str | None = None, **settings_kw):
    settings = make_settings(db.url)
    for k, v in settings_kw.items():
        setattr(settings.schedule, k, v)
    s = Scheduler(settings, db.sm, clock=Clock(when))
    local = when.astimezone(s.tz)
    from bot.scheduler import period_now

    return await s.run_job(job, await db.branch(), period or period_now(job, local))


async def test_unvisited_reminders_only_to_members_with_households_left(db: Db):
    await db.visit_all_of("M01", dt.date(2026, 11, 2))  # 陈建国 is done
    await db.visit("M04", "H011", dt.date(2026, 11, 3))  # 张伟 has 5 left
    o = await run(db, "reminders", at(2026, 11, 21))
    assert o.status == "ran"
    rows = await outbox(db, "remind:unvisited:")
    targets = {r.target for r in rows}
    assert all(r.channel == "app" for r in rows)  # privately, never the group
    assert SECRETARY not in targets and "zhangwei" in targets
    assert "yegentu" not in targets  # 免联户
    assert len(targets) == 12  # 14 members − the one who is done − the exempt one
    zw = next(r for r in rows if r.target == "zhangwei").content
    assert "还有 5 户" in zw and "王根发" not in zw
    first_line_key = zw.split("\n")[1]
    assert "重点户" in first_line_key  # key households come first


async def test_no_unvisited_reminder_before_the_day_nor_twice_within_the_interval(db: Db):
    assert (await run(db, "reminders", at(2026, 11, 10))).status == "ran"
    assert await outbox(db, "remind:unvisited:") == []
    await run(db, "reminders", at(2026, 11, 20))
    n = len(await outbox(db, "remind:unvisited:"))
    assert n == 13
    await run(db, "reminders", at(2026, 11, 22))  # two days later: too soon
    assert len(await outbox(db, "remind:unvisited:")) == n
    await db.visit_all_of("M04", dt.date(2026, 11, 23))
    await run(db, "reminders", at(2026, 11, 27))  # a week later: again, but not to 张伟 who is done now
    later = (await outbox(db, "remind:unvisited:"))[n:]
    assert len(later) == 12 and "zhangwei" not in {r.target for r in later}


async def test_overdue_items_remind_assignee_and_secretary_only(db: Db):
    await db.visit_all_of("M05", dt.date(2026, 11, 2))
    await db.matter(
        number=1, household="H011", member="M04", assignee="M04", due=dt.date(2026, 11, 8), created=at(2026, 11, 1)
    )
    await db.matter(
        number=2, household="H012", member="M04", assignee="M05", due=dt.date(2026, 11, 30), created=at(2026, 11, 1)
    )  # not yet due
    await db.matter(
        number=3,
        household="H013",
        member="M04",
        assignee="M05",
        due=dt.date(2026, 11, 5),
        created=at(2026, 11, 1),
        state="已办结",
        state_type="fixed",
        closed=at(2026, 11, 4),
    )
    await run(db, "reminders", at(2026, 11, 12))  # before remind_from_day: only the overdue part
    rows = await outbox(db, "remind:overdue")
    assert sorted(r.target for r in rows) == [SECRETARY, "zhangwei"]
    assert all(r.channel == "app" for r in rows)
    mine = next(r for r in rows if r.target == "zhangwei").content
    assert "诉求1" in mine and "诉求2" not in mine and "诉求3" not in mine and "已超 4 天" in mine
    await run(db, "reminders", at(2026, 11, 13))
    assert len(await outbox(db, "remind:overdue")) == 2  # not again the next day


async def test_digest_secretary_full_group_without_sensitive_detail(db: Db):
    await db.matter(
        number=1,
        household="H011",
        member="M04",
        assignee="M04",
        due=dt.date(2026, 11, 28),
        created=at(2026, 11, 19),
        summary="路灯坏了",
    )
    await db.matter(
        number=2,
        household="H001",
        member="M01",
        due=dt.date(2026, 11, 10),
        created=at(2026, 11, 2),
        summary="住院后需要陪护",
        sensitive=True,
    )
    await db.matter(
        kind="wish",
        number=1,
        household="H003",
        member="M01",
        created=at(2026, 11, 20),
        state="已登记",
        summary="想要一把轮椅",
        sensitive=True,
    )
    await db.matter(
        kind="wish",
        number=2,
        household="H004",
        member="M01",
        created=at(2026, 11, 20),
        state="已登记",
        summary="孩子想借几本课外书",
    )
    o = await run(db, "digest", at(2026, 11, 24, 8))  # a Tuesday
    assert o.status == "ran" and o.period == "2026-W48"
    sec = await outbox(db, "digest:")
    private = [r for r in sec if r.channel == "app"]
    group = [r for r in sec if r.channel == "webhook"]
    assert [r.target for r in private] == [SECRETARY] and len(group) == 1
    p = private[0].content
    assert "诉求2" in p and "已超期" in p and "诉求1" in p and "轮椅" in p
    g = group[0].content
    assert "轮椅" not in g and "陪护" not in g and "路灯" not in g  # counts only, sensitive wishes unpublished
    assert "心愿2：孩子想借几本课外书" in g and "7 天内到期 1 件，已超期 1 件" in g


async def test_empty_digest_sends_nothing(db: Db):
    o = await run(db, "digest", at(2026, 11, 24, 8))
    assert o.status == "ran" and o.detail["empty"] is True
    assert await outbox(db, "digest:") == []
