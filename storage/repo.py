"""Queries the handlers need. Plain async functions over a session; no transport, no business wording."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nlp import roster as nlp_roster
from storage.models import Branch, ChatGroup, Household, InboundMessage, Link, LinkChange, Member, Visit


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """'2026-11' → (2026-11-01, 2026-12-01): half-open."""
    y, m = (int(x) for x in month.split("-"))
    start = dt.date(y, m, 1)
    end = dt.date(y + (m == 12), m % 12 + 1, 1)
    return start, end


# The per-message lookups are built once, with bound parameters: building a statement and its cache key costs
# ~150 µs of CPU each time, more than SQLite takes to run it (bench/bench_callback.py, docs/scale.md §2).
_MEMBER_BY_USERID = select(Member).where(Member.userid == bindparam("userid"), Member.active)
_HOUSEHOLD_BY_EXTERNAL = select(Household).where(Household.external_userid == bindparam("ext"), Household.active)
_GROUP_BY_CHAT_ID = select(ChatGroup).where(ChatGroup.chat_id == bindparam("chat_id"))
_HOUSEHOLDS_BY_CODES = select(Household).where(
    Household.branch_id == bindparam("branch_id"), Household.code.in_(bindparam("codes", expanding=True))
)
_CURRENT_MEMBER_OF = (
    select(Member)
    .join(Link, Link.member_id == Member.id)
    .where(Link.household_id == bindparam("household_id"), Link.valid_to.is_(None))
)
_VISIT_EXISTS = select(
    exists().where(Visit.household_id == bindparam("household_id"), Visit.visit_date == bindparam("day"))
)


async def member_by_userid(s: AsyncSession, userid: str) -> Member | None:
    return (await s.execute(_MEMBER_BY_USERID, {"userid": userid})).scalar_one_or_none()


async def household_by_external(s: AsyncSession, external_userid: str) -> Household | None:
    return (await s.execute(_HOUSEHOLD_BY_EXTERNAL, {"ext": external_userid})).scalar_one_or_none()


async def group_by_chat_id(s: AsyncSession, chat_id: str) -> ChatGroup | None:
    return (await s.execute(_GROUP_BY_CHAT_ID, {"chat_id": chat_id})).scalar_one_or_none()


async def households_by_codes(s: AsyncSession, branch_id: int, codes: list[str]) -> dict[str, Household]:
    if not codes:
        return {}
    rows = await s.scalars(_HOUSEHOLDS_BY_CODES, {"branch_id": branch_id, "codes": list(codes)})
    return {h.code: h for h in rows}


async def current_member_of(s: AsyncSession, household_id: int) -> Member | None:
    return (await s.execute(_CURRENT_MEMBER_OF, {"household_id": household_id})).scalar_one_or_none()


async def households_of_member(s: AsyncSession, member_id: int) -> list[Household]:
    return list(
        await s.scalars(
            select(Household)
            .join(Link, Link.household_id == Household.id)
            .where(Link.member_id == member_id, Link.valid_to.is_(None), Household.active)
            .order_by(Household.code)
        )
    )


async def visit_exists(s: AsyncSession, household_id: int, day: dt.date) -> bool:
    return bool(await s.scalar(_VISIT_EXISTS, {"household_id": household_id, "day": day}))


async def add_visit(
    s: AsyncSession,
    *,
    branch_id: int,
    member_id: int,
    household_id: int,
    day: dt.date,
    inbound_id: int | None,
    recorded_by: str,
) -> Visit:
    v = Visit(
        branch_id=branch_id,
        member_id=member_id,
        household_id=household_id,
        visit_date=day,
        inbound_id=inbound_id,
        recorded_by=recorded_by,
    )
    s.add(v)
    await s.flush()
    return v


@dataclass(frozen=True)
class Unvisited:
    member: Member
    household: Household


async def unvisited(
    s: AsyncSession,
    branch_id: int,
    month: str,
    *,
    member_id: int | None = None,
    member_ids: list[int] | None = None,
) -> list[Unvisited]:
    """Households with a current link to a non-exempt member and no visit in the month, by member then code."""
    start, end = month_bounds(month)
    visited = exists().where(
        and_(Visit.household_id == Household.id, Visit.visit_date >= start, Visit.visit_date < end)
    )
    q = (
        select(Member, Household)
        .join(Link, Link.member_id == Member.id)
        .join(Household, Household.id == Link.household_id)
        .where(
            Link.branch_id == branch_id,
            Member.branch_id == branch_id,  # lets PostgreSQL use the branch index instead of hashing all members
            Household.branch_id == branch_id,
            Link.valid_to.is_(None),
            Household.active,
            Member.active,
            Member.status != "免联户",
            ~visited,
        )
        .order_by(Member.code, Household.code)
    )
    if member_id is not None:
        q = q.where(Member.id == member_id)
    if member_ids is not None:
        q = q.where(Member.id.in_(member_ids))
    return [Unvisited(m, h) for m, h in (await s.execute(q)).all()]


async def led_member_ids(s: AsyncSession, leader_id: int) -> list[int]:
    return list(await s.scalars(select(Member.id).where(Member.leader_id == leader_id, Member.active)))


async def nlp_roster_for_branch(s: AsyncSession, branch_id: int) -> nlp_roster.Roster:
    members = list(await s.scalars(select(Member).where(Member.branch_id == branch_id, Member.active)))
    code_of = {m.id: m.code for m in members}
    links = dict(
        (
            await s.execute(
                select(Link.household_id, Link.member_id).where(Link.branch_id == branch_id, Link.valid_to.is_(None))
            )
        ).all()
    )
    households = list(await s.scalars(select(Household).where(Household.branch_id == branch_id, Household.active)))

    def split(v: str) -> tuple[str, ...]:
        return tuple(x for x in v.split(";") if x)

    return nlp_roster.Roster(
        members=tuple(
            nlp_roster.Member(
                id=m.code,
                name=m.name,
                userid=m.userid or "",
                gender=m.gender,
                birth_year=m.birth_year,
                roles=split(m.roles),
                status=m.status,
            )
            for m in members
        ),
        households=tuple(
            nlp_roster.Household(
                id=h.code,
                head_name=h.head_name,
                gender=h.gender,
                birth_year=h.birth_year,
                address=h.address,
                member_id=code_of.get(links.get(h.id, -1)),
                key_types=split(h.key_types),
                aliases=split(h.aliases),
                external_userid=h.external_userid,
            )
            for h in households
        ),
    )


async def branch_by_id(s: AsyncSession, branch_id: int) -> Branch | None:
    return await s.get(Branch, branch_id)


async def last_visits(s: AsyncSession, household_ids: list[int]) -> dict[int, dt.date]:
    if not household_ids:
        return {}
    rows = await s.execute(
        select(Visit.household_id, func.max(Visit.visit_date))
        .where(Visit.household_id.in_(household_ids))
        .group_by(Visit.household_id)
    )
    return dict(rows.all())


@dataclass(frozen=True)
class KeyCoverage:
    member: Member
    household: Household
    visits: int


def _scoped_links(branch_id: int, member_ids: list[int] | None):
    q = (
        select(Member, Household)
        .join(Link, Link.member_id == Member.id)
        .join(Household, Household.id == Link.household_id)
        .where(
            Link.branch_id == branch_id,
            Member.branch_id == branch_id,
            Household.branch_id == branch_id,
            Link.valid_to.is_(None),
            Household.active,
            Member.active,
            Member.status != "免联户",
        )
    )
    if member_ids is not None:
        q = q.where(Member.id.in_(member_ids))
    return q


async def key_household_coverage(
    s: AsyncSession, branch_id: int, month: str, *, member_ids: list[int] | None = None
) -> list[KeyCoverage]:
    start, end = month_bounds(month)
    visits = (
        select(func.count(Visit.id))
        .where(Visit.household_id == Household.id, Visit.visit_date >= start, Visit.visit_date < end)
        .correlate(Household)
        .scalar_subquery()
    )
    q = _scoped_links(branch_id, member_ids).add_columns(visits).where(Household.key_types != "")
    rows = (await s.execute(q.order_by(Member.code, Household.code))).all()
    return [KeyCoverage(m, h, int(n)) for m, h, n in rows]


async def active_members(s: AsyncSession, branch_id: int) -> list[Member]:
    """The branch's active members, by id (stable order for notices)."""
    return list(await s.scalars(select(Member).where(Member.branch_id == branch_id, Member.active).order_by(Member.id)))


async def members_named(s: AsyncSession, branch_id: int, name: str) -> list[Member]:
    """The branch's active members with this name (several when 重名)."""
    return list(
        await s.scalars(
            select(Member).where(Member.branch_id == branch_id, Member.active, Member.name == name).order_by(Member.id)
        )
    )


async def member_by_code(s: AsyncSession, branch_id: int, code: str) -> Member | None:
    """The member with this 党员编号 in the branch (a query that names a member: parse key `member`)."""
    return (
        await s.execute(select(Member).where(Member.branch_id == branch_id, Member.code == code))
    ).scalar_one_or_none()


async def member_by_name(s: AsyncSession, branch_id: int, name: str) -> Member | None:
    """The one active member of the branch with this name; None when there is none or several (重名)."""
    rows = await members_named(s, branch_id, name)
    return rows[0] if len(rows) == 1 else None


async def current_link(s: AsyncSession, household_id: int) -> Link | None:
    return (
        await s.execute(select(Link).where(Link.household_id == household_id, Link.valid_to.is_(None)))
    ).scalar_one_or_none()


async def households_with_member(s: AsyncSession, branch_id: int) -> list[tuple[Household, int | None]]:
    """Every active household of the branch with its linked member's id (None: nobody links it), by code."""
    rows = await s.execute(
        select(Household, Link.member_id)
        .outerjoin(Link, (Link.household_id == Household.id) & Link.valid_to.is_(None))
        .where(Household.branch_id == branch_id, Household.active)
        .order_by(Household.code)
    )
    return [(h, mid) for h, mid in rows.all()]


async def last_kf_message(s: AsyncSession, external_userid: str) -> tuple[dt.datetime, dict] | None:
    """When a resident last wrote to 微信客服, and that message's details (which 客服 account)."""
    row = (
        await s.execute(
            select(InboundMessage.sent_at, InboundMessage.meta)
            .where(InboundMessage.channel == "kf", InboundMessage.sender == external_userid)
            .order_by(InboundMessage.sent_at.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1] or {}) if row is not None else None


async def household_by_name(s: AsyncSession, branch_id: int, head_name: str) -> Household | None:
    """The one active household of the branch whose head has this name; None when none or several."""
    rows = list(
        await s.scalars(
            select(Household).where(
                Household.branch_id == branch_id, Household.active, Household.head_name == head_name
            )
        )
    )
    return rows[0] if len(rows) == 1 else None


async def link_change_by_number(s: AsyncSession, branch_id: int, number: int) -> LinkChange | None:
    return (
        await s.execute(select(LinkChange).where(LinkChange.branch_id == branch_id, LinkChange.number == number))
    ).scalar_one_or_none()
