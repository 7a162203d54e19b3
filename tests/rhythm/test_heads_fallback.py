"""Jobs that tell "the 书记" reach the 委员 of a branch that has none (domain/roles.py `branch_heads`): before, the
24-hour first-response reminder (bot/matter_timers.py) asked handlers/notices.py, which knew only 书记, and went
to nobody."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from bot.scheduler import Scheduler
from storage import matters as mt
from storage.models import Household, Member, OutboundMessage
from tests.conftest import make_settings
from tests.rhythm.conftest import Db

NOW = dt.datetime(2026, 11, 26, 2, 5, tzinfo=dt.UTC)  # 10:05 in Shanghai


async def test_first_response_reminder_reaches_the_committee_without_a_secretary(seeded_url):
    db = Db(seeded_url)
    try:
        async with db.sm() as s, s.begin():
            await s.execute(update(Member).where(Member.roles.contains("书记")).values(roles="党员"))
            committee = [m.userid for m in await s.scalars(select(Member).where(Member.roles.contains("委员")))]
            h = (await s.execute(select(Household).where(Household.code == "H011"))).scalar_one()
            await mt.create(
                s,
                branch_id=h.branch_id,
                kind="request",
                summary="门口路灯坏了",
                reporter="wmh011x7Qe",
                household_id=h.id,
                member_id=None,
                now=NOW - dt.timedelta(hours=25),
            )
        assert committee and all(committee)
        sched = Scheduler(make_settings(seeded_url), db.sm, clock=lambda: NOW)
        branch = await db.branch()
        out = await sched.run_job("matter_timers", branch, "2026-11-26T10", now=NOW)
        assert out.status == "ran" and out.detail["respond"] == len(committee)
        async with db.sm() as s:
            told = set(
                await s.scalars(
                    select(OutboundMessage.target).where(OutboundMessage.idempotency_key.like("timer:respond:%"))
                )
            )
        assert told == set(committee)
    finally:
        await db.close()
