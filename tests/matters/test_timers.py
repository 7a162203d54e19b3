"""Time limits with a controllable clock: 24 h to a first response, the day-before reminder, 回访 the day after
办结 — each said once, privately, to the right person."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.scheduler import Scheduler
from storage import matters as mt
from storage.models import Branch, Household, Matter, Member
from tests.conftest import make_settings
from tests.matters.helpers import Db

NOW = dt.datetime(2026, 11, 26, 2, 5, tzinfo=dt.UTC)  # 10:05 in Shanghai


@pytest.fixture
async def db(seeded_url):
    d = Db(seeded_url)
    yield d
    await d.close()


async def _matter(
    db: Db, *, state: str, created: dt.datetime, due: dt.date | None = None, closed: dt.datetime | None = None
) -> int:
    async with db.sm() as s, s.begin():
        h = (await s.execute(select(Household).where(Household.code == "H011"))).scalar_one()
        wangli = (await s.execute(select(Member).where(Member.code == "M05"))).scalar_one()
        m = await mt.create(
            s,
            branch_id=h.branch_id,
            kind="request",
            summary="门口路灯坏了",
            reporter="wmh011x7Qe",
            household_id=h.id,
            member_id=wangli.id,
            now=created,
        )
        m.state, m.state_type, m.due_date, m.closed_at = state, mt.STATES[state], due, closed
        m.assignee_id = wangli.id if state != "已登记" else None
        return m.id


async def _run(db: Db, seeded_url: str, now: dt.datetime):
    s = Scheduler(make_settings(seeded_url), db.sm, clock=lambda: now)
    async with db.sm() as sess:
        branch = (await sess.execute(select(Branch))).scalar_one()
    local = now.astimezone(s.tz)
    return await s.run_job("matter_timers", branch, local.strftime("%Y-%m-%dT%H"), now=now)


async def test_first_response_reminder_goes_to_the_secretary_once(db, seeded_url):
    await _matter(db, state="已登记", created=NOW - dt.timedelta(hours=25))
    await _matter(db, state="已登记", created=NOW - dt.timedelta(hours=2))  # not late yet
    out = await _run(db, seeded_url, NOW)
    assert out.detail["respond"] == 1
    (text,) = await db.outbox_to("chenjianguo")
    assert "诉求1" in text and "诉求2" not in text
    await _run(db, seeded_url, NOW + dt.timedelta(hours=1))  # the next hour: same late item, no repeat
    assert len(await db.outbox_to("chenjianguo")) == 1


async def test_assignee_is_reminded_the_day_before(db, seeded_url):
    today = NOW.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    await _matter(db, state="承办中", created=NOW - dt.timedelta(days=3), due=today + dt.timedelta(days=1))
    await _matter(db, state="承办中", created=NOW - dt.timedelta(days=3), due=today + dt.timedelta(days=4))
    out = await _run(db, seeded_url, NOW)
    assert out.detail["due_soon"] == 1
    (text,) = await db.outbox_to("wangli")
    assert text.startswith("诉求1 将于")


async def test_follow_up_asks_the_household_once_the_day_after_closing(db, seeded_url):
    mid = await _matter(db, state="已办结", created=NOW - dt.timedelta(days=5), closed=NOW - dt.timedelta(hours=30))
    await _matter(db, state="已办结", created=NOW - dt.timedelta(days=5), closed=NOW - dt.timedelta(hours=3))
    out = await _run(db, seeded_url, NOW)
    assert out.detail["followup"] == 1
    # no 微信客服 conversation with this household: their member passes it on
    (text,) = await db.outbox_to("zhangwei")
    assert text.startswith("请转告王根发家：您反映的 诉求1") and "满意" in text
    async with db.sm() as s:
        assert (await s.get(Matter, mid)).rating_asked_at is not None
    await _run(db, seeded_url, NOW + dt.timedelta(hours=1))
    assert len(await db.outbox_to("zhangwei")) == 1
