"""Figures for the branch's rhythm: the monthly 主题党日 pack, the Tuesday digest and who needs a reminder.

Plain queries returning dataclasses; the wording lives with the jobs (jobs/) and the workbooks
(storage/export.py). Times in the database are UTC; days and months are Asia/Shanghai ones.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

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

TZ = ZoneInfo("Asia/Shanghai")
EXEMPT = "免联户"
SECRETARY_ROLE = "书记"
RATINGS = ("满意", "基本满意", "不满意")


# --- time helpers -------------------------------------------------------------------------------------------
def aware(ts: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back naive; everything we write is UTC."""
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=dt.UTC)


def local_date(ts: dt.datetime, tz: ZoneInfo = TZ) -> dt.date:
    return aware(ts).astimezone(tz).date()


def day_start(d: dt.date, tz: ZoneInfo = TZ) -> dt.datetime:
    """Local midnight of `d`, in UTC (how timestamps are compared in queries)."""
    return dt.datetime.combine(d, dt.time(), tz).astimezone(dt.UTC)


def month_of(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def previous_month(month: str) -> str:
    start, _ = repo.month_bounds(month)
    return month_of(start - dt.timedelta(days=1))


def rating_of(event: MatterEvent, matter: Matter) -> str | None:
    """The rating an 评价 event gave: from its note or state if written there, else the matter's current one."""
    for text in (event.note or "", event.to_state or ""):
        for r in ("不满意", "基本满意", "满意"):  # longest first: 满意 is inside the other two
            if r in text:
                return r
    return matter.rating if matter.rating in RATINGS else None


# --- who is who -------------------------------------------------------------------------------------------
async def branch_members(s: AsyncSession, branch_id: int) -> list[Member]:
    return list(
        await s.scalars(select(Member).where(Member.branch_id == branch_id, Member.active).order_by(Member.code))
    )


async def secretaries(s: AsyncSession, branch_id: int) -> list[Member]:
    """The 书记; a branch without one gets its 委员 (someone must see the digest and overdue items)."""
    members = await branch_members(s, branch_id)
    found = [m for m in members if SECRETARY_ROLE in m.role_set and m.userid]
    return found or [m for m in members if "委员" in m.role_set and m.userid]


async def links_for_month(s: AsyncSession, branch_id: int, month: str) -> dict[int, int]:
    """household_id → member_id responsible in `month`: the latest link overlapping the month. A household
    whose first link came after the month (roster imported later) counts with its current link, so the first
    summary after a deployment is not empty."""
    start, end = (day_start(d) for d in repo.month_bounds(month))
    rows = (
        await s.execute(
            select(Link.household_id, Link.member_id, Link.valid_from, Link.valid_to)
            .where(Link.branch_id == branch_id)
            .order_by(Link.valid_from, Link.id)
        )
    ).all()
    overlap: dict[int, int] = {}
    current: dict[int, int] = {}
    first_from: dict[int, dt.datetime] = {}
    for hid, mid, vfrom, vto in rows:
        vfrom = aware(vfrom)
        first_from.setdefault(hid, vfrom)
        if vto is None:
            current[hid] = mid
        if vfrom < end and (vto is None or aware(vto) > start):
            overlap[hid] = mid  # ordered by valid_from: the last one wins
    for hid, mid in current.items():
        if hid not in overlap and first_from[hid] >= end:
            overlap[hid] = mid
    return overlap


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
        base = self.closed + self.open_at_end
        return self.closed / base if base else None

    @property
    def satisfaction(self) -> float | None:
        n = sum(self.ratings.values())
        return (self.ratings["满意"] + self.ratings["基本满意"]) / n if n else None

    @property
    def median_close_days(self) -> float | None:
        return statistics.median(self.close_days) if self.close_days else None


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


async def month_report(s: AsyncSession, branch: Branch, month: str, *, today: dt.date) -> MonthReport:
    """Everything the 主题党日 pack says about `month`, plus what is open on `today` for each member's part."""
    start_d, end_d = repo.month_bounds(month)
    start, end = day_start(start_d), day_start(end_d)
    members = await branch_members(s, branch.id)
    by_id = {m.id: MemberMonth(m) for m in members}

    link_of = await links_for_month(s, branch.id, month)
    households = {
        h.id: h for h in await s.scalars(select(Household).where(Household.branch_id == branch.id, Household.active))
    }
    for hid, mid in sorted(link_of.items(), key=lambda kv: households[kv[0]].code if kv[0] in households else ""):
        mm = by_id.get(mid)
        if mm is not None and hid in households and mm.member.status != EXEMPT:
            mm.households.append(households[hid])

    visited_households: set[int] = set()
    for hid, mid in (
        await s.execute(
            select(Visit.household_id, Visit.member_id).where(
                Visit.branch_id == branch.id, Visit.visit_date >= start_d, Visit.visit_date < end_d
            )
        )
    ).all():
        visited_households.add(hid)
        if mid in by_id:
            by_id[mid].visits += 1
    for mm in by_id.values():
        # a household counts as visited whoever went (a 中心户 standing in for a member still covers it)
        mm.visited_ids = {h.id for h in mm.households if h.id in visited_households}

    matters = list(await s.scalars(select(Matter).where(Matter.branch_id == branch.id)))
    req, wish_m, wish = MatterStats(), MatterStats(), WishStats()
    for m in matters:
        st = req if m.kind == "request" else wish_m
        created, closed_at = aware(m.created_at), aware(m.closed_at) if m.closed_at else None
        if start <= created < end:
            st.new += 1
            if m.kind == "wish":
                wish.collected += 1
        if closed_at is not None and start <= closed_at < end:
            st.closed += 1
            st.close_days.append((closed_at - created).total_seconds() / 86400)
            if m.kind == "wish":
                wish.fulfilled += 1
        if created < end and (closed_at is None or closed_at >= end):
            st.open_at_end += 1
        if m.due_date is not None and m.due_date < end_d and created < end:
            late = closed_at is None or local_date(closed_at) > m.due_date
            if late and (closed_at is None or closed_at >= start):
                st.overdue += 1
    events = (
        await s.execute(
            select(MatterEvent, Matter)
            .join(Matter, Matter.id == MatterEvent.matter_id)
            .where(
                Matter.branch_id == branch.id,
                MatterEvent.at >= start,
                MatterEvent.at < end,
                MatterEvent.action.in_(("评价", "认领")),
            )
        )
    ).all()
    for ev, m in events:
        st = req if m.kind == "request" else wish_m
        if ev.action == "评价" and (r := rating_of(ev, m)):
            st.ratings[r] += 1
        elif ev.action == "认领" and m.kind == "wish":
            wish.claimed += 1

    tasks = TaskStats()
    open_tasks: dict[int, list[OpenTask]] = defaultdict(list)
    for t in await s.scalars(select(MustVisitTask).where(MustVisitTask.branch_id == branch.id)):
        created, closed_at = aware(t.created_at), aware(t.closed_at) if t.closed_at else None
        if start <= created < end:
            tasks.raised += 1
        if closed_at is not None and start <= closed_at < end:
            tasks.visited += 1
            tasks.days_to_visit.append(max(0.0, (closed_at - created).total_seconds() / 86400))
        if closed_at is None:
            tasks.open_now += 1
            owner = t.member_id or link_of.get(t.household_id)
            if owner is not None and t.household_id in households:
                open_tasks[owner].append(OpenTask(t, households[t.household_id]))

    open_matters: dict[int, list[Matter]] = defaultdict(list)
    for m in sorted(matters, key=lambda m: (m.kind, m.number)):
        owner = m.assignee_id or m.member_id
        if m.state_type == "open" and owner is not None:
            open_matters[owner].append(m)

    points = dict(
        (
            await s.execute(
                select(PointsEntry.member_id, func.sum(PointsEntry.points))
                .where(PointsEntry.branch_id == branch.id, PointsEntry.at >= start, PointsEntry.at < end)
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
    )


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
    tasks = []
    for t, h in task_rows:
        owner = t.member_id
        if owner is None:
            cur = await repo.current_member_of(s, h.id)
            owner = cur.id if cur else None
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
    "month_of",
    "month_report",
    "overdue_matters",
    "previous_month",
    "secretaries",
    "unvisited_by_member",
]
