"""Repositories for policy articles 3, 7, 8, 9: visit duties, 先锋承诺, the linked member's opinion on a 把关 matter,
nominations, the branch's assessments and the combined year score.

Every change a person makes here also writes an AuditEvent (action in Chinese, since 变更记录 shows it as is), so
who changed what and when is in the same trail as links and matters.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain import policy as rules
from domain.policy import PolicyOptions
from storage import rhythm
from storage.models import (
    Assessment,
    AuditEvent,
    Grid,
    Matter,
    MatterEvent,
    Member,
    MemberOpinion,
    Nomination,
    Pledge,
    Visit,
    VisitDuty,
    utcnow,
)

PLEDGE_MAX = 200


def _audit(s: AsyncSession, branch_id: int, actor: str, action: str, subject: str, detail: dict, at: dt.datetime):
    s.add(AuditEvent(branch_id=branch_id, actor=actor, action=action, subject=subject[:80], detail=detail, at=at))


# --- 五联到户 ----------------------------------------------------------------------------------------------------
def add_visit_duties(s: AsyncSession, visit: Visit, names: Sequence[str]) -> None:
    """`visit` is flushed (repo.add_visit), so its id is known."""
    for name in dict.fromkeys(names):  # once each, in the order given
        s.add(VisitDuty(branch_id=visit.branch_id, visit_id=visit.id, duty=name))


async def duties_by_visit(s: AsyncSession, visit_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(visit_ids)
    out: dict[int, list[str]] = defaultdict(list)
    if not ids:
        return out
    for vid, duty in (
        await s.execute(
            select(VisitDuty.visit_id, VisitDuty.duty).where(VisitDuty.visit_id.in_(ids)).order_by(VisitDuty.id)
        )
    ).all():
        out[vid].append(duty)
    return out


async def duty_counts(s: AsyncSession, branch_id: int, start: dt.date, end: dt.date) -> dict[int, Counter[str]]:
    """member_id → {duty: visits that did it} for visits dated in [start, end)."""
    out: dict[int, Counter[str]] = defaultdict(Counter)
    for mid, duty in (
        await s.execute(
            select(Visit.member_id, VisitDuty.duty)
            .join(Visit, Visit.id == VisitDuty.visit_id)
            .where(Visit.branch_id == branch_id, Visit.visit_date >= start, Visit.visit_date < end)
        )
    ).all():
        out[mid][duty] += 1
    return dict(out)


# --- 先锋承诺 ----------------------------------------------------------------------------------------------------
async def current_pledges(s: AsyncSession, branch_id: int) -> dict[int, str]:
    rows = await s.scalars(select(Pledge).where(Pledge.branch_id == branch_id, Pledge.valid_to.is_(None)))
    return {p.member_id: p.text for p in rows}


async def set_pledge(
    s: AsyncSession, member: Member, text: str, *, actor: str, now: dt.datetime, source: str = "chat"
) -> str | None:
    """Record `text` as the member's pledge; the old one is closed, never overwritten. Returns the old text
    (None: there was none). Unchanged text writes nothing."""
    cur = (
        await s.execute(select(Pledge).where(Pledge.member_id == member.id, Pledge.valid_to.is_(None)))
    ).scalar_one_or_none()
    _replace_pledge(s, member, cur, text, actor=actor, now=now, source=source)
    return cur.text if cur is not None else None


def _replace_pledge(
    s: AsyncSession, member: Member, cur: Pledge | None, text: str, *, actor: str, now: dt.datetime, source: str
) -> bool:
    text = " ".join(text.split())[:PLEDGE_MAX]
    if cur is not None and cur.text == text:
        return False
    if cur is not None:
        cur.valid_to = now
    s.add(
        Pledge(branch_id=member.branch_id, member_id=member.id, text=text, source=source, set_by=actor, valid_from=now)
    )
    detail = {"党员": member.name, "新承诺": text}
    if cur is not None:
        detail["原承诺"] = cur.text
    _audit(s, member.branch_id, actor, "先锋承诺", member.code, detail, now)
    return True


async def apply_roster_pledges(
    s: AsyncSession, members: dict[str, Member], pledges: dict[str, str], *, actor: str, now: dt.datetime | None = None
) -> int:
    """The roster's 先锋承诺 column: a filled cell records that pledge (if different); an empty cell changes
    nothing, so a roster exported without the column never wipes what members said in chat. One query for the
    current pledges of everyone named (a county roster is thousands of rows)."""
    now = now or utcnow()
    wanted = {members[c]: t for c, t in pledges.items() if c in members and t.strip()}
    if not wanted:
        return 0
    ids = [m.id for m in wanted]
    current = {
        p.member_id: p
        for p in await s.scalars(select(Pledge).where(Pledge.member_id.in_(ids), Pledge.valid_to.is_(None)))
    }
    return sum(
        _replace_pledge(s, m, current.get(m.id), t, actor=actor, now=now, source="roster") for m, t in wanted.items()
    )


# --- 把关: the linked member's opinion ------------------------------------------------------------------------
async def ask_opinion(s: AsyncSession, matter: Matter, member: Member, now: dt.datetime) -> MemberOpinion | None:
    """Note that the member's view was asked; None if it was asked before (ask once)."""
    found = (
        await s.execute(
            select(MemberOpinion).where(MemberOpinion.matter_id == matter.id, MemberOpinion.member_id == member.id)
        )
    ).scalar_one_or_none()
    if found is not None:
        return None
    row = MemberOpinion(branch_id=matter.branch_id, matter_id=matter.id, member_id=member.id, asked_at=now)
    s.add(row)
    return row


async def opinion_of(s: AsyncSession, matter_id: int) -> MemberOpinion | None:
    return (
        await s.execute(
            select(MemberOpinion).where(MemberOpinion.matter_id == matter_id).order_by(MemberOpinion.id.desc())
        )
    ).scalar_one_or_none()


async def give_opinion(
    s: AsyncSession, matter: Matter, member: Member, opinion: str, reason: str, *, actor: str, now: dt.datetime
) -> MemberOpinion:
    row = (
        await s.execute(
            select(MemberOpinion).where(MemberOpinion.matter_id == matter.id, MemberOpinion.member_id == member.id)
        )
    ).scalar_one_or_none()
    if row is None:  # given before we asked (the member saw it in the ledger): fine, it is the same right
        row = MemberOpinion(branch_id=matter.branch_id, matter_id=matter.id, member_id=member.id, asked_at=now)
        s.add(row)
    detail = {"党员": member.name, "意见": opinion, "理由": reason}
    if row.opinion is not None:
        detail["原意见"] = f"{row.opinion}：{row.reason}" if row.reason else row.opinion
    row.opinion, row.reason, row.given_at = opinion, reason[:300], now
    _audit(s, matter.branch_id, actor, "联户党员意见", rhythm.matter_ref(matter), detail, now)
    return row


async def branch_decided(s: AsyncSession, matter: Matter) -> bool:
    """Has the branch decided (商议 onwards, or refused)? An opinion after that comes too late to count."""
    if matter.state not in ("已登记", "已受理"):
        return True
    return bool(
        await s.scalar(
            select(MatterEvent.id)
            .where(MatterEvent.matter_id == matter.id, MatterEvent.action.in_(("商议", "派", "认领", "不予受理")))
            .limit(1)
        )
    )


# --- 推荐 ---------------------------------------------------------------------------------------------------------
def add_nomination(
    s: AsyncSession,
    by: Member,
    kind: str,
    nominee: str,
    nominee_member: Member | None,
    reason: str,
    *,
    actor: str,
    now: dt.datetime,
) -> Nomination:
    row = Nomination(
        branch_id=by.branch_id,
        kind=kind,
        nominee=nominee[:50],
        nominee_member_id=nominee_member.id if nominee_member else None,
        nominated_by=by.id,
        reason=reason[:300],
        created_at=now,
    )
    s.add(row)
    _audit(s, by.branch_id, actor, "推荐", nominee, {"类别": kind, "推荐人": by.name, "理由": reason}, now)
    return row


# --- 考评 ---------------------------------------------------------------------------------------------------------
async def set_assessment(
    s: AsyncSession, member: Member, period: str, score: float, *, actor: str, now: dt.datetime
) -> float | None:
    """Enter (or change) the branch's score; returns the old score. Every entry is audited with the old value."""
    row = (
        await s.execute(select(Assessment).where(Assessment.member_id == member.id, Assessment.period == period))
    ).scalar_one_or_none()
    old = row.score if row is not None else None
    if row is None:
        row = Assessment(branch_id=member.branch_id, member_id=member.id, period=period)
        s.add(row)
    row.score, row.entered_by, row.entered_at = float(score), actor, now
    detail: dict = {"党员": member.name, "期间": rules.period_label(period), "评分": score}
    if old is not None:
        detail["原评分"] = old
    _audit(s, member.branch_id, actor, "村党组织评分", member.code, detail, now)
    return old


@dataclass
class YearScore:
    member: Member
    branch: float | None  # 村党组织评分 for the year
    households: float | None  # from the households' ratings
    ratings: int  # how many ratings made it
    combined: float | None
    coverage: float | None  # share of household-months visited so far this year
    grid: str = ""


async def _coverage(s: AsyncSession, branch_id: int, year: int, as_of: dt.date) -> dict[int, tuple[int, int]]:
    """member_id → (household-months visited, household-months due), January to the month of `as_of`."""
    last = 12 if as_of.year > year else as_of.month
    visited = {
        (hid, d.month)
        for hid, d in (
            await s.execute(
                select(Visit.household_id, Visit.visit_date).where(
                    Visit.branch_id == branch_id,
                    Visit.visit_date >= dt.date(year, 1, 1),
                    Visit.visit_date < dt.date(year + 1, 1, 1),
                )
            )
        ).all()
    }
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for month in range(1, last + 1):
        for hid, mid in (await rhythm.links_for_month(s, branch_id, f"{year}-{month:02d}")).items():
            out[mid][1] += 1
            out[mid][0] += (hid, month) in visited
    return {k: (v[0], v[1]) for k, v in out.items()}


async def year_scores(
    s: AsyncSession, branch_id: int, year: int, options: PolicyOptions, *, as_of: dt.date
) -> list[YearScore]:
    """Every active member who is not exempt, with the year's parts and combined score."""
    members = [m for m in await rhythm.branch_members(s, branch_id) if m.status != rhythm.EXEMPT]
    scores: dict[int, dict[str, float]] = defaultdict(dict)
    for a in await s.scalars(
        select(Assessment).where(Assessment.branch_id == branch_id, Assessment.period.like(f"{year}%"))
    ):
        scores[a.member_id][a.period] = a.score
    ratings: dict[int, list[str]] = defaultdict(list)
    y0, y1 = rhythm.day_start(dt.date(year, 1, 1)), rhythm.day_start(dt.date(year + 1, 1, 1))
    for ev, m in (
        await s.execute(
            select(MatterEvent, Matter)
            .join(Matter, Matter.id == MatterEvent.matter_id)
            .where(
                Matter.branch_id == branch_id, MatterEvent.action == "评价", MatterEvent.at >= y0, MatterEvent.at < y1
            )
        )
    ).all():
        r = rhythm.rating_of(ev, m)
        if r and m.member_id is not None:
            ratings[m.member_id].append(r)
    cover = await _coverage(s, branch_id, year, as_of)
    grids = {g.id: g.name for g in await s.scalars(select(Grid).where(Grid.branch_id == branch_id))}
    out = []
    for m in members:
        b = rules.branch_year_score(scores.get(m.id, {}), year)
        h = rules.households_score(ratings.get(m.id, []), options.rating_scores)
        done, due = cover.get(m.id, (0, 0))
        out.append(
            YearScore(
                member=m,
                branch=b,
                households=h,
                ratings=len(ratings.get(m.id, [])),
                combined=rules.combined({"branch": b, "households": h}, options.weights),
                coverage=done / due if due else None,
                grid=grids.get(m.grid_id or 0, ""),
            )
        )
    return out


async def year_end_below(
    s: AsyncSession,
    branch_id: int,
    year: int,
    threshold: int,
    options: PolicyOptions,
    *,
    as_of: dt.date,
    fallback: list[tuple[Member, int]],
) -> list[tuple[Member, int]]:
    """The year-end < threshold list by the combined score, once the branch has entered any assessment for the
    year; before that (or for a branch that does not assess) the points list it had, unchanged."""
    rows = await year_scores(s, branch_id, year, options, as_of=as_of)
    if not any(r.branch is not None for r in rows):
        return fallback
    below = [(r.member, round(r.combined)) for r in rows if r.combined is not None and r.combined < threshold]
    return sorted(below, key=lambda x: (x[1], x[0].code))


@dataclass
class GridScore:
    grid: str
    members: int
    mean: float
    coverage: float | None


def candidates(rows: list[YearScore], options: PolicyOptions) -> tuple[list[YearScore], list[GridScore]]:
    """锋领党员: top by combined score, then coverage, among those visiting at least `candidate_min_coverage`.
    示范网格: grids by their members' mean combined score, then their mean coverage."""
    scored = [r for r in rows if r.combined is not None]
    members = [r for r in scored if r.coverage is not None and r.coverage >= options.candidate_min_coverage]
    members.sort(key=lambda r: (-(r.combined or 0), -(r.coverage or 0), r.member.code))
    by_grid: dict[str, list[YearScore]] = defaultdict(list)
    for r in scored:
        if r.grid:
            by_grid[r.grid].append(r)
    grids = []
    for name, rs in by_grid.items():
        covs = [r.coverage for r in rs if r.coverage is not None]
        grids.append(
            GridScore(
                name,
                len(rs),
                round(sum(r.combined or 0 for r in rs) / len(rs), 1),
                sum(covs) / len(covs) if covs else None,
            )
        )
    grids.sort(key=lambda g: (-g.mean, -(g.coverage or 0), g.grid))
    return members[: options.candidates], grids[: options.candidates]
