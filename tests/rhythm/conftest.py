"""Helpers for the rhythm tests: a settable clock, the sample village with links dating from 2020, and
direct writes of visits, matters and 八必访 tasks (the rhythm reads those tables, whoever wrote them)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from storage.db import make_engine, make_sessionmaker
from storage.models import Branch, Household, Link, Matter, MatterEvent, Member, MustVisitTask, Visit

TZ = ZoneInfo("Asia/Shanghai")
BRANCH_CHAT = "wrQYbranch0001"


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> dt.datetime:
    """A Shanghai wall-clock moment, as UTC."""
    return dt.datetime(y, m, d, hh, mm, tzinfo=TZ).astimezone(dt.UTC)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, now: dt.datetime) -> None:
        self.now = now


class Db:
    """Short-lived sessions on one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sm = make_sessionmaker(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()

    async def branch(self) -> Branch:
        async with self.sm() as s:
            return (await s.execute(select(Branch).order_by(Branch.id).limit(1))).scalar_one()

    async def ids(self) -> tuple[dict[str, int], dict[str, int]]:
        async with self.sm() as s:
            members = {m.code: m.id for m in await s.scalars(select(Member))}
            households = {h.code: h.id for h in await s.scalars(select(Household))}
        return members, households

    async def backdate_links(self) -> None:
        async with self.sm() as s, s.begin():
            await s.execute(update(Link).values(valid_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))

    async def visit(self, member: str, household: str, day: dt.date) -> int:
        m, h = await self.ids()
        b = await self.branch()
        async with self.sm() as s, s.begin():
            v = Visit(
                branch_id=b.id,
                member_id=m[member],
                household_id=h[household],
                visit_date=day,
                recorded_by="test",
                created_at=at(day.year, day.month, day.day, 20),
            )
            s.add(v)
            await s.flush()
            return v.id

    async def visit_all_of(self, member: str, day: dt.date) -> list[str]:
        """Visit every household currently linked to `member`; returns their codes."""
        m, _ = await self.ids()
        async with self.sm() as s:
            codes = list(
                await s.scalars(
                    select(Household.code)
                    .join(Link, Link.household_id == Household.id)
                    .where(Link.member_id == m[member], Link.valid_to.is_(None))
                )
            )
        for c in codes:
            await self.visit(member, c, day)
        return codes

    async def matter(
        self,
        *,
        kind: str = "request",
        number: int,
        household: str | None = None,
        member: str | None = None,
        assignee: str | None = None,
        state: str = "办理中",
        state_type: str = "open",
        due: dt.date | None = None,
        created: dt.datetime,
        closed: dt.datetime | None = None,
        rating: str | None = None,
        summary: str = "路灯坏了",
        sensitive: bool = False,
    ) -> int:
        m, h = await self.ids()
        b = await self.branch()
        async with self.sm() as s, s.begin():
            row = Matter(
                branch_id=b.id,
                kind=kind,
                number=number,
                household_id=h.get(household or ""),
                member_id=m.get(member or ""),
                reporter="test",
                summary=summary,
                state=state,
                state_type=state_type,
                assignee_id=m.get(assignee or ""),
                due_date=due,
                created_at=created,
                updated_at=created,
                closed_at=closed,
                rating=rating,
                sensitive=sensitive,
            )
            s.add(row)
            await s.flush()
            s.add(
                MatterEvent(
                    matter_id=row.id, action="登记", from_state=None, to_state="已登记", actor="test", at=created
                )
            )
            return row.id

    async def event(
        self, matter_id: int, action: str, to_state: str, when: dt.datetime, note: str = "", actor: str = "test"
    ) -> int:
        async with self.sm() as s, s.begin():
            e = MatterEvent(
                matter_id=matter_id, action=action, from_state=None, to_state=to_state, actor=actor, note=note, at=when
            )
            s.add(e)
            await s.flush()
            return e.id

    async def task(
        self,
        household: str,
        member: str,
        created: dt.datetime,
        *,
        closed_by_visit: int | None = None,
        closed: dt.datetime | None = None,
    ) -> int:
        m, h = await self.ids()
        b = await self.branch()
        async with self.sm() as s, s.begin():
            t = MustVisitTask(
                branch_id=b.id,
                household_id=h[household],
                member_id=m[member],
                trigger="illness",
                created_at=created,
                closed_at=closed,
                closed_by_visit_id=closed_by_visit,
            )
            s.add(t)
            await s.flush()
            return t.id


@pytest.fixture
async def db(seeded_url: str):
    d = Db(seeded_url)
    await d.backdate_links()
    try:
        yield d
    finally:
        await d.close()
