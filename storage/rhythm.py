"""Figures for the branch's rhythm: the monthly 主题党日 pack, the Tuesday digest and who needs a reminder.

Plain queries returning dataclasses; the wording lives with the jobs (jobs/) and the workbooks
(storage/export.py). Times in the database are UTC; days and months are Asia/Shanghai ones.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain import report as report_rules
from domain.roles import EXEMPT, SECRETARY, branch_heads
from domain.time import TZ, aware, day_start, local_date, month_bounds, month_of, previous_month
from storage import repo
from storage.models import (
    Branch,
    Household,
    Link,
    Matter,
    MatterEvent,
    Member,
    MustVisitTask,
    PointsEntry,
    Visit,
)

# one place for the time rules and the roles (domain/); re-exported because callers import them from here
RATINGS = report_rules.RATINGS
SECRETARY_ROLE = SECRETARY


def rating_of(event: MatterEvent, matter: Matter) -> str | None:
    """The rating an 评价 event gave (domain/report.py decides how it is read)."""
    return report_rules.rating_of(event.note, event.to_state, matter.rating)


# --- who is who -------------------------------------------------------------------------------------------
async def branch_members(s: AsyncSession, branch_id: int) -> list[Member]:
    return list(
        await s.scalars(select(Member).where(Member.branch_id == branch_id, Member.active).order_by(Member.code))
    )


async def secretaries(s: AsyncSession, branch_id: int) -> list[Member]:
    """The 书记; a branch without one gets its 委员 (domain/roles.py: someone must always be told)."""
    return branch_heads(await branch_members(s, branch_id))


def month_span(month: str) -> report_rules.Month:
    start_d, end_d = month_bounds(month)
    return report_rules.Month(day_start(start_d), day_start(end_d), start_d, end_d)


async def links_for_month(s: AsyncSession, branch_id: int, month: str) -> dict[int, int]:
    """household_id → member_id responsible in `month` (the rule: domain/report.py `responsible`). Every link of
    the branch is read, four columns each: a link's history is a few rows per household, not activity."""
    rows = (
        await s.execute(
            select(Link.household_id, Link.member_id, Link.valid_from, Link.valid_to)
            .where(Link.branch_id == branch_id)
            .order_by(Link.valid_from, Link.id)
        )
    ).all()
    return report_rules.responsible((report_rules.LinkSpan(*r) for r in rows), month_span(month))


# --- the monthly 主题党日 pack --------------------------------------------------------------------------------
@dataclass
class MemberMonth:
    member: Member
    households: list[Household] = field(default_factory=list)  # due this month (non-exempt members only)
    visited_ids: set[int] = field(default_factory=set)
    visits: int = 0  # visit records made by this member (household-days)

    @property
    def unvisited(self) -> list[Household]:
        left = [h for h in self.households if h.id not in self.visited_ids]
        return sorted(left, key=lambda h: (not h.key_type_set, h.code))  # key households first

    @property
    def key_due(self) -> int:
        return sum(1 for h in self.households if h.key_type_set)

    @property
    def key_visited(self) -> int:
        return sum(1 for h in self.households if h.key_type_set and h.id in self.visited_ids)


@dataclass
class MatterStats:
    new: int = 0
    closed: int = 0  # closed (办结/归档) in the month
    open_at_end: int = 0
    overdue: int = 0  # past due while open at some point in the month
    ratings: Counter[str] = field(default_factory=Counter)
    close_days: list[float] = field(default_factory=list)

    @property
    def close_rate(self) -> float | None:
        return report_rules.close_rate(self.closed, self.open_at_end)

    @property
    def satisfaction(self) -> float | None:
        return report_rules.satisfaction(self.ratings)

    @property
    def median_close_days(self) -> float | None:
        return report_rules.median(self.close_days)


@dataclass
class WishStats:
    collected: int = 0
    claimed: int = 0
    fulfilled: int = 0


@dataclass
class TaskStats:
    raised: int = 0
    visited: int = 0
    open_now: int = 0
    days_to_visit: list[float] = field(default_factory=list)

    @property
    def avg_days(self) -> float | None:
        return sum(self.days_to_visit) / len(self.days_to_visit) if self.days_to_visit else None


@dataclass
class OpenTask:
    task: MustVisitTask
    household: Household


@dataclass
class MonthReport:
    branch: Branch
    month: str
    today: dt.date
    members: list[MemberMonth]
    requests: MatterStats
    wishes: WishStats
    wish_stats_matters: MatterStats
    tasks: TaskStats
    points_total: int
    points_by_member: dict[int, int]
    open_tasks: dict[int, list[OpenTask]]  # member_id → open 八必访 now
    open_matters: dict[int, list[Matter]]  # assignee member_id → open items now
    duty_counts: dict[int, Counter[str]] = field(default_factory=dict)  # member_id → 五联到户 done (issue 17)

    @property
    def households_due(self) -> int:
        return sum(len(m.households) for m in self.members)

    @property
    def households_visited(self) -> int:
        return sum(len(m.visited_ids & {h.id for h in m.households}) for m in self.members)

    @property
    def key_due(self) -> int:
        return sum(m.key_due for m in self.members)

    @property
    def key_visited(self) -> int:
        return sum(m.key_visited for m in self.members)

    @property
    def ratings(self) -> Counter[str]:
        """Every rating given in the month, 诉求 and 心愿 together (what "群众评价" means wherever it is shown)."""
        return self.requests.ratings + self.wish_stats_matters.ratings


def _in(col, month: report_rules.Month):
    return and_(col >= month.start, col < month.end)


def _count(cond):
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


async def month_report(s: AsyncSession, branch: Branch, month: str, *, today: dt.date) -> MonthReport:
    """Everything the 主题党日 pack says about `month`, plus what is open on `today` for each member's part.

    Counts are SQL aggregates; rows are read only where they are shown (a member's households, what is open now)
    or where a rule needs them one by one (ratings in the month, matters closed in it, overdue candidates), so the
    cost follows the month's activity and the branch's size, not the branch's history. The rules of what counts
    are domain/report.py's; tests/rhythm/test_month_report.py recounts a realistic month from the stored records.
    """
    span = month_span(month)
    bid = branch.id
    members = await branch_members(s, bid)
    by_id = {m.id: MemberMonth(m) for m in members}

    link_of = await links_for_month(s, bid, month)
    households = {
        h.id: h for h in await s.scalars(select(Household).where(Household.branch_id == bid, Household.active))
    }
    for hid, mid in sorted(link_of.items(), key=lambda kv: households[kv[0]].code if kv[0] in households else ""):
        mm = by_id.get(mid)
        if mm is not None and hid in households and report_rules.owes_visits(mm.member.status):
            mm.households.append(households[hid])

    in_month = (Visit.branch_id == bid, Visit.visit_date >= span.start_d, Visit.visit_date < span.end_d)
    for mid, n in (
        await s.execute(select(Visit.member_id, func.count()).where(*in_month).group_by(Visit.member_id))
    ).all():
        if mid in by_id:
            by_id[mid].visits = int(n)
    visited = set(await s.scalars(select(Visit.household_id).where(*in_month).distinct()))
    for mm in by_id.values():
        mm.visited_ids = {h.id for h in mm.households if report_rules.covered(h.id, visited)}

    # 诉求 and 心愿: counts by kind
    req, wish_m, wish = MatterStats(), MatterStats(), WishStats()
    stats = {"request": req, "wish": wish_m}
    open_end = and_(Matter.created_at < span.end, or_(Matter.closed_at.is_(None), Matter.closed_at >= span.end))
    for kind, new, closed, still_open in (
        await s.execute(
            select(
                Matter.kind,
                _count(_in(Matter.created_at, span)),
                _count(_in(Matter.closed_at, span)),
                _count(open_end),
            )
            .where(Matter.branch_id == bid)
            .group_by(Matter.kind)
        )
    ).all():
        st = stats.get(kind, wish_m)
        st.new, st.closed, st.open_at_end = int(new), int(closed), int(still_open)
    wish.collected, wish.fulfilled = wish_m.new, wish_m.closed
    for kind, created, closed in (
        await s.execute(
            select(Matter.kind, Matter.created_at, Matter.closed_at).where(
                Matter.branch_id == bid, _in(Matter.closed_at, span)
            )
        )
    ).all():
        stats.get(kind, wish_m).close_days.append(report_rules.close_days(created, closed))
    # overdue: the database narrows (due before the month ended, open or closed since it began), the rule decides
    for kind, created, closed, due in (
        await s.execute(
            select(Matter.kind, Matter.created_at, Matter.closed_at, Matter.due_date).where(
                Matter.branch_id == bid,
                Matter.due_date.is_not(None),
                Matter.due_date < span.end_d,
                Matter.created_at < span.end,
                or_(Matter.closed_at.is_(None), Matter.closed_at >= span.start),
            )
        )
    ).all():
        if report_rules.overdue_in(created, closed, due, span):
            stats.get(kind, wish_m).overdue += 1
    for kind, action, note, to_state, current in (
        await s.execute(
            select(Matter.kind, MatterEvent.action, MatterEvent.note, MatterEvent.to_state, Matter.rating)
            .join(Matter, Matter.id == MatterEvent.matter_id)
            .where(Matter.branch_id == bid, _in(MatterEvent.at, span), MatterEvent.action.in_(("评价", "认领")))
        )
    ).all():
        if action == "评价" and (r := report_rules.rating_of(note, to_state, current)):
            stats.get(kind, wish_m).ratings[r] += 1
        elif action == "认领" and kind == "wish":
            wish.claimed += 1

    # 八必访
    tasks = TaskStats()
    tasks.raised = int(
        await s.scalar(select(func.count()).where(MustVisitTask.branch_id == bid, _in(MustVisitTask.created_at, span)))
        or 0
    )
    for created, closed in (
        await s.execute(
            select(MustVisitTask.created_at, MustVisitTask.closed_at).where(
                MustVisitTask.branch_id == bid, _in(MustVisitTask.closed_at, span)
            )
        )
    ).all():
        tasks.visited += 1
        tasks.days_to_visit.append(report_rules.days_to_visit(created, closed))
    open_tasks: dict[int, list[OpenTask]] = defaultdict(list)
    for t in await s.scalars(
        select(MustVisitTask).where(MustVisitTask.branch_id == bid, MustVisitTask.closed_at.is_(None))
    ):
        tasks.open_now += 1
        owner = t.member_id or link_of.get(t.household_id)
        if owner is not None and t.household_id in households:
            open_tasks[owner].append(OpenTask(t, households[t.household_id]))

    open_matters: dict[int, list[Matter]] = defaultdict(list)
    for m in await s.scalars(
        select(Matter).where(Matter.branch_id == bid, Matter.state_type == "open").order_by(Matter.kind, Matter.number)
    ):
        owner = m.assignee_id or m.member_id
        if owner is not None:
            open_matters[owner].append(m)

    points = dict(
        (
            await s.execute(
                select(PointsEntry.member_id, func.sum(PointsEntry.points))
                .where(PointsEntry.branch_id == bid, _in(PointsEntry.at, span))
                .group_by(PointsEntry.member_id)
            )
        ).all()
    )
    return MonthReport(
        branch=branch,
        month=month,
        today=today,
        members=list(by_id.values()),
        requests=req,
        wishes=wish,
        wish_stats_matters=wish_m,
        tasks=tasks,
        points_total=int(sum(points.values())),
        points_by_member={k: int(v) for k, v in points.items()},
        open_tasks=dict(open_tasks),
        open_matters=dict(open_matters),
        duty_counts=await _duty_counts(s, branch.id, span.start_d, span.end_d),
    )


async def _duty_counts(s: AsyncSession, branch_id: int, start: dt.date, end: dt.date) -> dict[int, Counter[str]]:
    from storage import policy  # storage/policy.py builds on this module

    return await policy.duty_counts(s, branch_id, start, end)


# --- the Tuesday digest -----------------------------------------------------------------------------------
AGE_BUCKETS = ((3, "3天内"), (7, "4–7天"), (30, "8–30天"), (10**6, "30天以上"))


@dataclass
class Digest:
    today: dt.date
    new_by_state: Counter[tuple[str, str]]  # (kind, state) of items registered in the last 7 days
    open_by_age: Counter[str]
    due_soon: list[Matter]  # open, due within the next 7 days
    overdue: list[Matter]  # open, past due
    wishes_to_publish: list[Matter]  # open wishes nobody has taken yet
    tasks_open: list[tuple[MustVisitTask, Household, Member | None]]
    members: dict[int, Member]

    @property
    def empty(self) -> bool:
        return not (
            self.new_by_state
            or self.open_by_age
            or self.due_soon
            or self.overdue
            or self.wishes_to_publish
            or self.tasks_open
        )


def age_bucket(days: int) -> str:
    for limit, label in AGE_BUCKETS:
        if days <= limit:
            return label
    return AGE_BUCKETS[-1][1]


async def digest(s: AsyncSession, branch_id: int, today: dt.date) -> Digest:
    week_ago = day_start(today - dt.timedelta(days=7))
    members = {m.id: m for m in await branch_members(s, branch_id)}
    matters = list(
        await s.scalars(
            select(Matter)
            .where(Matter.branch_id == branch_id, or_(Matter.state_type == "open", Matter.created_at >= week_ago))
            .order_by(Matter.kind, Matter.number)
        )
    )
    new_by_state: Counter[tuple[str, str]] = Counter()
    open_by_age: Counter[str] = Counter()
    due_soon, overdue, wishes = [], [], []
    for m in matters:
        if aware(m.created_at) >= week_ago:
            new_by_state[(m.kind, m.state)] += 1
        if m.state_type != "open":
            continue
        open_by_age[age_bucket((today - local_date(m.created_at)).days)] += 1
        if m.due_date is not None:
            if m.due_date < today:
                overdue.append(m)
            elif m.due_date <= today + dt.timedelta(days=7):
                due_soon.append(m)
        if m.kind == "wish" and m.assignee_id is None:
            wishes.append(m)
    task_rows = (
        await s.execute(
            select(MustVisitTask, Household)
            .join(Household, Household.id == MustVisitTask.household_id)
            .where(MustVisitTask.branch_id == branch_id, MustVisitTask.closed_at.is_(None))
            .order_by(MustVisitTask.created_at)
        )
    ).all()
    # a task without its own member belongs to the household's current member: one query for all of them
    unowned = {h.id for t, h in task_rows if t.member_id is None}
    current = (
        dict(
            (
                await s.execute(
                    select(Link.household_id, Link.member_id).where(
                        Link.household_id.in_(unowned), Link.valid_to.is_(None)
                    )
                )
            ).all()
        )
        if unowned
        else {}
    )
    tasks = []
    for t, h in task_rows:
        owner = t.member_id or current.get(h.id)
        tasks.append((t, h, members.get(owner) if owner else None))
    return Digest(today, new_by_state, open_by_age, due_soon, overdue, wishes, tasks, members)


# --- reminders --------------------------------------------------------------------------------------------
async def unvisited_by_member(s: AsyncSession, branch_id: int, month: str) -> list[tuple[Member, list[Household]]]:
    """Members who still have households to visit this month (current links), key households first."""
    rows = await repo.unvisited(s, branch_id, month)
    grouped: dict[int, tuple[Member, list[Household]]] = {}
    for r in rows:
        grouped.setdefault(r.member.id, (r.member, []))[1].append(r.household)
    out = []
    for member, hs in grouped.values():
        out.append((member, sorted(hs, key=lambda h: (not h.key_type_set, h.code))))
    return out


async def overdue_matters(s: AsyncSession, branch_id: int, today: dt.date) -> list[Matter]:
    return list(
        await s.scalars(
            select(Matter)
            .where(
                Matter.branch_id == branch_id,
                Matter.state_type == "open",
                Matter.due_date.is_not(None),
                Matter.due_date < today,
            )
            .order_by(Matter.due_date, Matter.kind, Matter.number)
        )
    )


async def households_by_id(s: AsyncSession, ids: set[int]) -> dict[int, Household]:
    if not ids:
        return {}
    return {h.id: h for h in await s.scalars(select(Household).where(Household.id.in_(ids)))}


async def branches(s: AsyncSession, name: str | None = None) -> list[Branch]:
    q = select(Branch).order_by(Branch.id)
    if name:
        q = q.where(Branch.name == name)
    return list(await s.scalars(q))


def matter_ref(m: Matter) -> str:
    return f"{'诉求' if m.kind == 'request' else '心愿'}{m.number}"


__all__ = [
    "EXEMPT",
    "RATINGS",
    "TZ",
    "Digest",
    "MatterStats",
    "MemberMonth",
    "MonthReport",
    "TaskStats",
    "WishStats",
    "aware",
    "branches",
    "day_start",
    "digest",
    "links_for_month",
    "local_date",
    "matter_ref",
    "month_bounds",
    "month_of",
    "month_report",
    "overdue_matters",
    "previous_month",
    "rating_of",
    "secretaries",
    "unvisited_by_member",
]
