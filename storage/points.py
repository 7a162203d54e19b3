"""积分: a ledger of entries, each with its cause and a unique cause_key; totals are always sums, never stored.

`sync_points` derives entries from what happened (visits, ratings, 八必访 visits, overdue items) and inserts only
the ones whose cause_key is new, so running it twice, or over an overlapping window, never counts twice.

Rules (values from config [points]):
  visit / key_visit   the first visit of a household in a month, to the member who made it (one per household
                      per month: visiting the same door daily earns nothing more — no 打卡 incentive)
  rating_*            a resident's 评价 of an item, to its assignee (or the household's member)
  must_visit_timely   a 八必访 task closed by a visit within must_visit_days of being raised
  overdue             an item past its due date while still open (or closed late), once per item
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.points import PointsRules
from domain.roles import EXEMPT
from domain.time import aware, day_start, local_date
from storage.models import Household, Matter, MatterEvent, Member, MustVisitTask, PointsEntry, Visit
from storage.rhythm import matter_ref, rating_of

RULE_LABELS = {
    "visit": "走访",
    "key_visit": "走访重点户",
    "rating": "群众评价",
    "must_visit": "八必访及时走访",
    "overdue": "事项超期",
}


@dataclass(frozen=True)
class Candidate:
    member_id: int
    rule: str
    points: int
    cause: str
    cause_key: str
    at: dt.datetime


async def _candidates(
    s: AsyncSession, branch_id: int, rules: PointsRules, today: dt.date, since: dt.date | None
) -> list[Candidate]:
    out: list[Candidate] = []
    # visits: first visit of each household in each month (months from `since`'s month on)
    vq = (
        select(Visit, Household)
        .join(Household, Household.id == Visit.household_id)
        .where(Visit.branch_id == branch_id, Visit.visit_date <= today)
        .order_by(Visit.visit_date, Visit.id)
    )
    if since is not None:
        vq = vq.where(Visit.visit_date >= since.replace(day=1))
    seen: set[tuple[int, str]] = set()
    for v, h in (await s.execute(vq)).all():
        month = f"{v.visit_date.year:04d}-{v.visit_date.month:02d}"
        if (h.id, month) in seen:
            continue
        seen.add((h.id, month))
        key = bool(h.key_type_set)
        rule, pts = ("key_visit", rules.key_visit) if key else ("visit", rules.visit)
        if pts:
            out.append(
                Candidate(
                    v.member_id,
                    rule,
                    pts,
                    f"{v.visit_date.month}月{v.visit_date.day}日走访{h.head_name}" + ("（重点户）" if key else ""),
                    f"visit:{h.id}:{month}",
                    day_start(v.visit_date),
                )
            )

    # ratings: each 评价 event counts once
    eq = (
        select(MatterEvent, Matter)
        .join(Matter, Matter.id == MatterEvent.matter_id)
        .where(Matter.branch_id == branch_id, MatterEvent.action == "评价")
    )
    if since is not None:
        eq = eq.where(MatterEvent.at >= day_start(since))
    for ev, m in (await s.execute(eq)).all():
        rating = rating_of(ev, m)
        owner = m.assignee_id or m.member_id
        if rating is None or owner is None or not rules.for_rating(rating):
            continue
        out.append(
            Candidate(
                owner,
                "rating",
                rules.for_rating(rating),
                f"{matter_ref(m)}群众评价“{rating}”",
                f"rating:{ev.id}",
                aware(ev.at),
            )
        )

    # 八必访 closed by a visit in time
    if rules.must_visit_timely:
        tq = (
            select(MustVisitTask, Visit, Household)
            .join(Visit, Visit.id == MustVisitTask.closed_by_visit_id)
            .join(Household, Household.id == MustVisitTask.household_id)
            .where(MustVisitTask.branch_id == branch_id)
        )
        if since is not None:
            tq = tq.where(Visit.visit_date >= since)
        for t, v, h in (await s.execute(tq)).all():
            if (v.visit_date - local_date(t.created_at)).days <= rules.must_visit_days:
                out.append(
                    Candidate(
                        v.member_id,
                        "must_visit",
                        rules.must_visit_timely,
                        f"{v.visit_date.month}月{v.visit_date.day}日及时走访{h.head_name}（八必访）",
                        f"must_visit:{t.id}",
                        day_start(v.visit_date),
                    )
                )

    # overdue items: once per item, dated the day after the due date
    if rules.overdue:
        for m in await s.scalars(
            select(Matter).where(
                Matter.branch_id == branch_id,
                Matter.due_date.is_not(None),
                Matter.due_date < today,
                Matter.state_type.in_(("open", "fixed", "closed")),
            )
        ):
            owner = m.assignee_id or m.member_id
            assert m.due_date is not None
            late = m.closed_at is None or local_date(m.closed_at) > m.due_date
            if owner is None or not late or (m.closed_at is None and m.state_type != "open"):
                continue
            due = f"{m.due_date.month}月{m.due_date.day}日"
            out.append(
                Candidate(
                    owner,
                    "overdue",
                    rules.overdue,
                    f"{matter_ref(m)}超过办理期限（{due}）",
                    f"overdue:{m.id}",
                    day_start(m.due_date + dt.timedelta(days=1)),
                )
            )
    return out


async def _existing(s: AsyncSession, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        found.update(await s.scalars(select(PointsEntry.cause_key).where(PointsEntry.cause_key.in_(keys[i : i + 500]))))
    return found


async def sync_points(
    s: AsyncSession, branch_id: int, *, rules: PointsRules, today: dt.date, since: dt.date | None = None
) -> int:
    """Add the entries that are due and not yet in the ledger; returns how many were added."""
    cands = await _candidates(s, branch_id, rules, today, since)
    have = await _existing(s, (c.cause_key for c in cands))
    added = 0
    for c in cands:
        if c.cause_key in have:
            continue
        have.add(c.cause_key)
        s.add(
            PointsEntry(
                branch_id=branch_id,
                member_id=c.member_id,
                rule=c.rule,
                points=c.points,
                cause=c.cause[:200],
                cause_key=c.cause_key,
                at=c.at,
            )
        )
        added += 1
    await s.flush()
    return added


# --- queries ----------------------------------------------------------------------------------------------
def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    return day_start(dt.date(year, 1, 1)), day_start(dt.date(year + 1, 1, 1))


async def member_total(s: AsyncSession, member_id: int, start: dt.datetime, end: dt.datetime) -> int:
    return int(
        await s.scalar(
            select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                PointsEntry.member_id == member_id, PointsEntry.at >= start, PointsEntry.at < end
            )
        )
        or 0
    )


async def member_entries(
    s: AsyncSession, member_id: int, start: dt.datetime, end: dt.datetime, limit: int | None = None
) -> list[PointsEntry]:
    q = (
        select(PointsEntry)
        .where(PointsEntry.member_id == member_id, PointsEntry.at >= start, PointsEntry.at < end)
        .order_by(PointsEntry.at.desc(), PointsEntry.id.desc())
    )
    if limit:
        q = q.limit(limit)
    return list(await s.scalars(q))


async def ranking(
    s: AsyncSession, branch_id: int, start: dt.datetime, end: dt.datetime, *, include_exempt: bool = False
) -> list[tuple[Member, int]]:
    """Every active member with their total (0 when they have no entries), highest first."""
    totals = dict(
        (
            await s.execute(
                select(PointsEntry.member_id, func.sum(PointsEntry.points))
                .where(PointsEntry.branch_id == branch_id, PointsEntry.at >= start, PointsEntry.at < end)
                .group_by(PointsEntry.member_id)
            )
        ).all()
    )
    members = list(await s.scalars(select(Member).where(Member.branch_id == branch_id, Member.active)))
    rows = [(m, int(totals.get(m.id, 0))) for m in members if include_exempt or m.status != EXEMPT]
    return sorted(rows, key=lambda r: (-r[1], r[0].code))


async def below_threshold(s: AsyncSession, branch_id: int, year: int, threshold: int) -> list[tuple[Member, int]]:
    """Members (not exempt) whose points for `year` are below the threshold, lowest first."""
    start, end = year_bounds(year)
    rows = [r for r in await ranking(s, branch_id, start, end) if r[1] < threshold]
    return sorted(rows, key=lambda r: (r[1], r[0].code))


async def totals_by_rule(
    s: AsyncSession, branch_id: int, start: dt.datetime, end: dt.datetime
) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for mid, rule, pts in (
        await s.execute(
            select(PointsEntry.member_id, PointsEntry.rule, func.sum(PointsEntry.points))
            .where(PointsEntry.branch_id == branch_id, PointsEntry.at >= start, PointsEntry.at < end)
            .group_by(PointsEntry.member_id, PointsEntry.rule)
        )
    ).all():
        out.setdefault(mid, {})[rule] = int(pts)
    return out
