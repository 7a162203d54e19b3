"""Corrections of visit records said in chat ("撤销", "刚才那条不是走访", "记错了，不是王大伯是王大妈").

A record is never changed silently: each undo or move writes an AuditEvent (who, when, what it was, the words
that asked for it), a 八必访 task the visit had closed opens again, and 积分 already posted for a visit that no
longer stands is taken back by a new ledger entry (the ledger is never edited)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent, Household, MustVisitTask, PointsEntry, Visit, VisitDuty

RECENT = dt.timedelta(days=7)  # how far back "刚才那条" reaches: the sender's last report within a week


@dataclass
class Corrected:
    visit_date: dt.date
    before: Household
    after: Household | None  # None: undone


async def last_report(s: AsyncSession, member_id: int, now: dt.datetime) -> list[tuple[Visit, Household]]:
    """The visits the member's most recent report made (one message may name several households)."""
    latest = await s.scalar(
        select(Visit.inbound_id)
        .where(Visit.member_id == member_id, Visit.created_at >= now - RECENT, Visit.inbound_id.is_not(None))
        .order_by(Visit.created_at.desc(), Visit.id.desc())
        .limit(1)
    )
    if latest is None:
        return []
    rows = await s.execute(
        select(Visit, Household)
        .join(Household, Household.id == Visit.household_id)
        .where(Visit.inbound_id == latest, Visit.member_id == member_id)
        .order_by(Visit.id)
    )
    return [(v, h) for v, h in rows.all()]


async def undo_visit(s: AsyncSession, v: Visit, h: Household, *, actor: str, at: dt.datetime, words: str) -> None:
    await s.execute(
        update(MustVisitTask)
        .where(MustVisitTask.closed_by_visit_id == v.id)
        .values(closed_at=None, closed_by_visit_id=None)
        .execution_options(synchronize_session=False)
    )
    await s.execute(delete(VisitDuty).where(VisitDuty.visit_id == v.id))
    month = f"{v.visit_date.year:04d}-{v.visit_date.month:02d}"
    first = v.visit_date.replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    still = await s.scalar(
        select(func.count())
        .select_from(Visit)
        .where(Visit.household_id == h.id, Visit.id != v.id, Visit.visit_date >= first, Visit.visit_date < after)
    )
    posted = await s.scalar(select(PointsEntry).where(PointsEntry.cause_key == f"visit:{h.id}:{month}"))
    if posted is not None and not still:  # the household's only visit that month: its points go too
        s.add(
            PointsEntry(
                branch_id=posted.branch_id,
                member_id=posted.member_id,
                rule=f"{posted.rule}_undone",
                points=-posted.points,
                cause=f"撤销：{posted.cause}"[:200],
                cause_key=f"visit-undone:{v.id}",
                at=at,
            )
        )
    s.add(
        AuditEvent(
            branch_id=v.branch_id,
            actor=actor,
            action="撤销走访",
            subject=h.code,
            detail={"visit_date": v.visit_date.isoformat(), "inbound_id": v.inbound_id, "words": words[:200]},
            at=at,
        )
    )
    await s.delete(v)


async def move_visit(
    s: AsyncSession, v: Visit, before: Household, after: Household, *, actor: str, at: dt.datetime, words: str
) -> None:
    v.household_id = after.id
    s.add(
        AuditEvent(
            branch_id=v.branch_id,
            actor=actor,
            action="更正走访",
            subject=f"{before.code}→{after.code}",
            detail={"visit_date": v.visit_date.isoformat(), "inbound_id": v.inbound_id, "words": words[:200]},
            at=at,
        )
    )
