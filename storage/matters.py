"""The life of a matter (诉求 / 心愿): states as label + type, allowed moves, reference numbers, the event table.

Policy article 6 (问事 → 提事 → 议事 → 办事 → 评事). Rules: domain/matters.py; who may: domain/commands.py.
Every change goes through `transition`, which checks the move and writes a MatterEvent with who, when and a note.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.matters import (
    KIND_LABEL,
    LABEL_KIND,
    MOVES,
    OPEN_BEFORE_WORK,
    RATINGS,
    STATES,
    MoveRefused,
    add_working_days,
    ref_of,
    target_of,
)
from storage.models import Counter, Matter, MatterEvent, utcnow

# The rules live in domain/matters.py; these names stay importable from here for older callers.
__all__ = [
    "KIND_LABEL",
    "LABEL_KIND",
    "MOVES",
    "OPEN_BEFORE_WORK",
    "RATINGS",
    "STATES",
    "MoveRefused",
    "add_working_days",
]


def ref(m: Matter) -> str:
    return ref_of(m.kind, m.number)


async def next_number(session: AsyncSession, branch_id: int, kind: str) -> int:
    """N counts up within a branch and never repeats. One upsert: it takes the row lock (PostgreSQL) or the write
    lock (SQLite), and two first numbers raced by two instances cannot both insert the counter row."""
    dialect = session.get_bind().dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(Counter)
    stmt = (
        ins.values(branch_id=branch_id, kind=kind, value=1)
        .on_conflict_do_update(index_elements=[Counter.branch_id, Counter.kind], set_={"value": Counter.value + 1})
        .returning(Counter.value)
    )
    return int((await session.execute(stmt)).scalar_one())


async def create(
    session: AsyncSession,
    *,
    branch_id: int,
    kind: str,
    summary: str,
    reporter: str,
    household_id: int | None,
    member_id: int | None,
    category: str = "",
    sensitive: bool = False,
    source_inbound_id: int | None = None,
    source_chat: str = "",
    now: dt.datetime | None = None,
) -> Matter:
    now = now or utcnow()
    m = new_matter(
        branch_id=branch_id,
        kind=kind,
        number=await next_number(session, branch_id, kind),
        summary=summary,
        reporter=reporter,
        household_id=household_id,
        member_id=member_id,
        category=category,
        sensitive=sensitive,
        source_inbound_id=source_inbound_id,
        source_chat=source_chat,
        now=now,
    )
    session.add(m)
    await session.flush()
    session.add(registered(m))
    return m


def new_matter(
    *,
    branch_id: int,
    kind: str,
    number: int,
    summary: str,
    reporter: str,
    household_id: int | None,
    member_id: int | None,
    category: str,
    sensitive: bool,
    source_inbound_id: int | None,
    source_chat: str,
    now: dt.datetime,
) -> Matter:
    return Matter(
        branch_id=branch_id,
        kind=kind,
        number=number,
        category=category,
        household_id=household_id,
        member_id=member_id,
        reporter=reporter,
        summary=summary[:500],
        sensitive=sensitive,
        state="已登记",
        state_type="open",
        source_inbound_id=source_inbound_id,
        source_chat=source_chat,
        created_at=now,
        updated_at=now,
    )


def registered(m: Matter) -> MatterEvent:
    """The first row of a matter's history (the matter has its id)."""
    return MatterEvent(
        matter_id=m.id, action="登记", from_state=None, to_state="已登记", actor=m.reporter, note="", at=m.created_at
    )


async def transition(
    session: AsyncSession,
    m: Matter,
    action: str,
    actor: str,
    note: str = "",
    *,
    now: dt.datetime | None = None,
    to_state: str | None = None,
) -> MatterEvent:
    """Apply one action; return its event (flushed, so it has an id). Raises MoveRefused when not allowed."""
    event = move(m, action, actor, note, now=now or utcnow(), to_state=to_state)
    session.add(event)
    await session.flush()
    return event


def move(
    m: Matter, action: str, actor: str, note: str, *, now: dt.datetime, to_state: str | None = None
) -> MatterEvent:
    """The state machine on one matter: its new state and the event row that says so (not yet stored)."""
    target = target_of(action, m.state)
    if target is None:
        raise MoveRefused(f"{ref(m)} 现在是“{m.state}”，不能{action}。")
    if action == "重开":
        m.rating_asked_at = None  # the next 办结 gets its own 回访
    target = to_state or target
    before = m.state
    m.state, m.state_type, m.updated_at = target, STATES[target], now
    if m.state_type == "closed" or (m.state_type == "fixed" and before != target and target == "已办结"):
        m.closed_at = now
    if m.state_type == "open":
        m.closed_at = None
    return MatterEvent(
        matter_id=m.id, action=action, from_state=before, to_state=target, actor=actor, note=note[:500], at=now
    )


async def by_ref(session: AsyncSession, branch_id: int, kind: str, number: int) -> Matter | None:
    return (
        await session.execute(
            select(Matter).where(Matter.branch_id == branch_id, Matter.kind == kind, Matter.number == number)
        )
    ).scalar_one_or_none()


async def wishes_to_claim(session: AsyncSession, branch_id: int) -> list[Matter]:
    """心愿清单: the branch's wishes nobody has taken up yet."""
    return list(
        await session.scalars(
            select(Matter)
            .where(Matter.branch_id == branch_id, Matter.kind == "wish", Matter.state.in_(OPEN_BEFORE_WORK))
            .order_by(Matter.number)
        )
    )


async def of_household(session: AsyncSession, branch_id: int, household_id: int) -> list[Matter]:
    return list(
        await session.scalars(
            select(Matter).where(Matter.branch_id == branch_id, Matter.household_id == household_id).order_by(Matter.id)
        )
    )


async def overdue(session: AsyncSession, branch_id: int, today: dt.date) -> list[Matter]:
    return list(
        await session.scalars(
            select(Matter).where(
                Matter.branch_id == branch_id,
                Matter.state_type == "open",
                Matter.due_date.is_not(None),
                Matter.due_date < today,
            )
        )
    )


async def unfinished_for_member(
    session: AsyncSession, branch_id: int, member_id: int, userid: str, household_ids: list[int]
) -> list[Matter]:
    """What a member still has on hand: their households' matters, those assigned to them, those they reported."""
    return list(
        await session.scalars(
            select(Matter)
            .where(Matter.branch_id == branch_id, Matter.state_type != "closed")
            .where(
                Matter.household_id.in_(household_ids) | (Matter.assignee_id == member_id) | (Matter.reporter == userid)
            )
            .order_by(Matter.id)
        )
    )


async def open_for_household(session: AsyncSession, household_id: int, kind: str | None = None) -> list[Matter]:
    q = select(Matter).where(Matter.household_id == household_id, Matter.state_type == "open")
    if kind:
        q = q.where(Matter.kind == kind)
    return list(await session.scalars(q.order_by(Matter.id)))


async def awaiting_rating(session: AsyncSession, household_id: int) -> list[Matter]:
    return list(
        await session.scalars(
            select(Matter).where(Matter.household_id == household_id, Matter.state == "已办结").order_by(Matter.id)
        )
    )


@dataclass(frozen=True)
class StateCount:
    kind: str
    state: str
    count: int
    oldest: dt.datetime | None


async def counts_by_state(session: AsyncSession, branch_id: int, state_type: str = "open") -> list[StateCount]:
    rows = await session.execute(
        select(Matter.kind, Matter.state, func.count(), func.min(Matter.created_at))
        .where(Matter.branch_id == branch_id, Matter.state_type == state_type)
        .group_by(Matter.kind, Matter.state)
        .order_by(Matter.kind, Matter.state)
    )
    return [StateCount(k, s, int(c), o) for k, s, c, o in rows]


async def events_of(session: AsyncSession, matter_id: int) -> list[MatterEvent]:
    return list(
        await session.scalars(select(MatterEvent).where(MatterEvent.matter_id == matter_id).order_by(MatterEvent.id))
    )
