"""The unit of work a chat capability uses: repositories for what it reads and writes, inside one transaction.

Handlers never build SQL: they ask `ctx.uow` (`ctx.uow.households.by_codes(...)`, `ctx.uow.tasks.open_for(...)`).
`SqlUnitOfWork` wraps the message's session; the runtime commits it (group commit, bot/intake.py), so everything a
message did is written together or not at all. `tests/fakes.py` has an in-memory one with the same methods, so a
capability's rules can be tested without a database or sockets (tests/capabilities/).

Every handler uses it (tests/unit/test_layering.py says none touches the session). The fake covers what
tests/capabilities/ exercises; the SQL-aggregate reports, points and policy scores are tested end to end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Exists, bindparam, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.policy import PolicyOptions
from domain.roles import branch_heads
from storage import attention, corrections, matters, outbox, points, policy, repo, rhythm
from storage.models import (
    AttentionItem,
    AuditEvent,
    Branch,
    ConversationState,
    Household,
    Link,
    LinkChange,
    Matter,
    MatterEvent,
    Member,
    MemberOpinion,
    MustVisitTask,
    PointsEntry,
    Visit,
)
from storage.policy import YearScore

# --- what the capabilities ask for -------------------------------------------------------------------------------


class Members(Protocol):
    async def get(self, member_id: int) -> Member | None: ...
    async def heads(self, branch_id: int) -> list[Member]: ...
    async def active(self, branch_id: int) -> list[Member]: ...
    async def by_name(self, branch_id: int, name: str) -> Member | None: ...
    async def by_userid(self, userid: str) -> Member | None: ...
    async def named(self, branch_id: int, name: str) -> list[Member]: ...
    async def by_code(self, branch_id: int, code: str) -> Member | None: ...
    async def led_by(self, leader_id: int) -> list[int]: ...


class Households(Protocol):
    async def get(self, household_id: int) -> Household | None: ...
    async def by_codes(self, branch_id: int, codes: Sequence[str]) -> dict[str, Household]: ...
    async def by_name(self, branch_id: int, head_name: str) -> Household | None: ...
    async def linked_member(self, household_id: int) -> Member | None: ...
    async def with_member(self, branch_id: int) -> list[tuple[Household, int | None]]: ...
    async def of_member(self, member_id: int) -> list[Household]: ...
    async def last_visits(self, household_ids: list[int]) -> dict[int, dt.date]: ...


class Matters(Protocol):
    """诉求 and 心愿: numbered per branch and kind; every change is a row of their history (matter_event)."""

    async def create(
        self,
        *,
        branch_id: int,
        kind: str,
        summary: str,
        reporter: str,
        household_id: int | None,
        member_id: int | None,
        category: str,
        sensitive: bool,
        source_inbound_id: int | None,
        source_chat: str,
        now: dt.datetime,
    ) -> Matter: ...
    async def transition(
        self, m: Matter, action: str, actor: str, note: str = "", *, now: dt.datetime, to_state: str | None = None
    ) -> MatterEvent: ...
    def add_event(self, event: MatterEvent) -> None: ...
    async def by_ref(self, branch_id: int, kind: str, number: int) -> Matter | None: ...
    async def open_for_household(self, household_id: int, kind: str | None = None) -> list[Matter]: ...
    async def awaiting_rating(self, household_id: int) -> list[Matter]: ...
    async def of_household(self, branch_id: int, household_id: int) -> list[Matter]: ...
    async def wishes_to_claim(self, branch_id: int) -> list[Matter]: ...
    async def overdue(self, branch_id: int, today: dt.date) -> list[Matter]: ...
    async def counts_by_state(self, branch_id: int) -> list[matters.StateCount]: ...
    async def unfinished_for_member(
        self, branch_id: int, member_id: int, userid: str, household_ids: list[int]
    ) -> list[Matter]: ...


class Links(Protocol):
    """联户关系: a link is closed, never overwritten; a change is asked for (调整N) and decided by the branch."""

    async def current(self, household_id: int) -> Link | None: ...
    def add(self, link: Link) -> None: ...
    async def next_change_number(self, branch_id: int) -> int: ...
    def add_change(self, change: LinkChange) -> None: ...
    async def change(self, branch_id: int, number: int) -> LinkChange | None: ...


class Audit(Protocol):
    def add(self, event: AuditEvent) -> None: ...


class Visits(Protocol):
    async def exists(self, household_id: int, day: dt.date) -> bool: ...
    async def add(
        self, *, branch_id: int, member_id: int, household_id: int, day: dt.date, inbound_id: int | None, by: str
    ) -> Visit: ...
    def add_duties(self, visit: Visit, duties: Sequence[str]) -> None: ...
    async def last_report(self, member_id: int, now: dt.datetime) -> list[tuple[Visit, Household]]: ...
    async def move(
        self, v: Visit, before: Household, after: Household, *, actor: str, at: dt.datetime, words: str
    ) -> None: ...
    async def undo(self, v: Visit, h: Household, *, actor: str, at: dt.datetime, words: str) -> None: ...


class Tasks(Protocol):
    """八必访 tasks: opened by a message that reveals a situation, closed by the household's next visit."""

    async def open_for(self, household_id: int) -> list[MustVisitTask]: ...
    async def open_with(self, household_id: int, trigger: str) -> MustVisitTask | None: ...
    async def add(self, task: MustVisitTask) -> MustVisitTask: ...
    async def open_in_branch(
        self, branch_id: int, member_ids: Sequence[int] | None
    ) -> list[tuple[MustVisitTask, Household]]: ...


class Questions(Protocol):
    """The one question the bot has open with a person in a chat (python-telegram-bot's conversation state)."""

    async def get(self, chat_key: str, userid: str) -> ConversationState | None: ...
    def put(self, state: ConversationState) -> None: ...
    async def clear(self, chat_key: str, userid: str) -> None: ...


class Opinions(Protocol):
    """The linked member's view on a request that needs the branch's 把关 (policy article 8)."""

    async def latest(self, matter_id: int) -> MemberOpinion | None: ...
    async def ask(self, matter: Matter, member: Member, now: dt.datetime) -> bool: ...
    async def give(
        self, matter: Matter, member: Member, opinion: str, reason: str, *, actor: str, now: dt.datetime
    ) -> None: ...
    async def branch_decided(self, matter: Matter) -> bool: ...
    def nominate(
        self,
        by: Member,
        kind: str,
        nominee: str,
        nominee_member: Member | None,
        reason: str,
        *,
        actor: str,
        now: dt.datetime,
    ) -> None: ...


class Policy(Protocol):
    """先锋承诺 and the branch's 考评 scores (policy articles 7–9)."""

    async def pledges(self, branch_id: int) -> dict[int, str]: ...
    async def set_pledge(self, member: Member, text: str, *, actor: str, now: dt.datetime) -> str | None: ...
    async def set_assessment(
        self, member: Member, period: str, score: float, *, actor: str, now: dt.datetime
    ) -> float | None: ...
    async def year_scores(
        self, branch_id: int, year: int, options: PolicyOptions, *, as_of: dt.date
    ) -> list[YearScore]: ...


class Points(Protocol):
    async def total(self, member_id: int, start: dt.datetime, end: dt.datetime) -> int: ...
    async def entries(
        self, member_id: int, start: dt.datetime, end: dt.datetime, *, limit: int
    ) -> list[PointsEntry]: ...
    async def ranking(self, branch_id: int, start: dt.datetime, end: dt.datetime) -> list[tuple[Member, int]]: ...


class Attention(Protocol):
    """A resident's words that made no record but may need someone: the member's private daily list."""

    def add(
        self,
        *,
        branch_id: int,
        member_id: int | None,
        household_id: int | None,
        inbound_id: int | None,
        text: str,
        said_at: dt.datetime,
    ) -> None: ...
    async def by_number(self, member: Member, number: int) -> tuple[AttentionItem, Household | None] | None: ...


class Reports(Protocol):
    """What the questions in chat read: 未走访户, 重点户, 本月汇总 (the month's rules are domain/report.py's)."""

    async def unvisited(self, branch_id: int, month: str, *, member_ids: list[int] | None) -> list[repo.Unvisited]: ...
    async def key_household_coverage(
        self, branch_id: int, month: str, *, member_ids: list[int] | None
    ) -> list[repo.KeyCoverage]: ...
    async def month(self, branch: Branch, month: str, *, today: dt.date) -> rhythm.MonthReport: ...


class Notices(Protocol):
    def tell(
        self, member: Member | None, text: str, *, key: str | None = None, branch_id: int | None = None
    ) -> bool: ...
    async def tell_household(
        self, household: Household | None, text: str, *, now: dt.datetime, key: str | None = None
    ) -> str: ...


class UnitOfWork(Protocol):
    members: Members
    households: Households
    links: Links
    audit: Audit
    matters: Matters
    opinions: Opinions
    policy: Policy
    points: Points
    attention: Attention
    reports: Reports
    visits: Visits
    tasks: Tasks
    questions: Questions
    notices: Notices


# --- on the database ---------------------------------------------------------------------------------------------


def open_state_exists() -> Exists:
    """EXISTS (a question open for :chat_key, :userid): the runtime reads it with the branch, in one statement."""
    return exists().where(
        ConversationState.chat_key == bindparam("chat_key"), ConversationState.userid == bindparam("userid")
    )


# built once with bound parameters: building a statement costs more than SQLite takes to run it (docs/scale.md §2)
_QUESTION = select(ConversationState).where(
    ConversationState.chat_key == bindparam("chat_key"), ConversationState.userid == bindparam("userid")
)
_CLEAR_QUESTION = delete(ConversationState).where(
    ConversationState.chat_key == bindparam("chat_key"), ConversationState.userid == bindparam("userid")
)
_OPEN_TASKS = select(MustVisitTask).where(
    MustVisitTask.household_id == bindparam("household_id"), MustVisitTask.closed_at.is_(None)
)


class _SqlMembers:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def get(self, member_id: int) -> Member | None:
        return await self.s.get(Member, member_id)

    async def heads(self, branch_id: int) -> list[Member]:
        return branch_heads(await repo.active_members(self.s, branch_id))

    async def active(self, branch_id: int) -> list[Member]:
        return await repo.active_members(self.s, branch_id)

    async def by_name(self, branch_id: int, name: str) -> Member | None:
        return await repo.member_by_name(self.s, branch_id, name)

    async def by_userid(self, userid: str) -> Member | None:
        return await repo.member_by_userid(self.s, userid)

    async def named(self, branch_id: int, name: str) -> list[Member]:
        return await repo.members_named(self.s, branch_id, name)

    async def by_code(self, branch_id: int, code: str) -> Member | None:
        return await repo.member_by_code(self.s, branch_id, code)

    async def led_by(self, leader_id: int) -> list[int]:
        return await repo.led_member_ids(self.s, leader_id)


class _SqlHouseholds:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def get(self, household_id: int) -> Household | None:
        return await self.s.get(Household, household_id)

    async def by_codes(self, branch_id: int, codes: Sequence[str]) -> dict[str, Household]:
        return await repo.households_by_codes(self.s, branch_id, list(codes))

    async def by_name(self, branch_id: int, head_name: str) -> Household | None:
        return await repo.household_by_name(self.s, branch_id, head_name)

    async def linked_member(self, household_id: int) -> Member | None:
        return await repo.current_member_of(self.s, household_id)

    async def with_member(self, branch_id: int) -> list[tuple[Household, int | None]]:
        return await repo.households_with_member(self.s, branch_id)

    async def of_member(self, member_id: int) -> list[Household]:
        return await repo.households_of_member(self.s, member_id)

    async def last_visits(self, household_ids: list[int]) -> dict[int, dt.date]:
        return await repo.last_visits(self.s, household_ids)


class _SqlMatters:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def create(self, **kw: Any) -> Matter:
        return await matters.create(self.s, **kw)

    async def transition(
        self, m: Matter, action: str, actor: str, note: str = "", *, now: dt.datetime, to_state: str | None = None
    ) -> MatterEvent:
        return await matters.transition(self.s, m, action, actor, note, now=now, to_state=to_state)

    def add_event(self, event: MatterEvent) -> None:
        self.s.add(event)

    async def by_ref(self, branch_id: int, kind: str, number: int) -> Matter | None:
        return await matters.by_ref(self.s, branch_id, kind, number)

    async def open_for_household(self, household_id: int, kind: str | None = None) -> list[Matter]:
        return await matters.open_for_household(self.s, household_id, kind)

    async def awaiting_rating(self, household_id: int) -> list[Matter]:
        return await matters.awaiting_rating(self.s, household_id)

    async def of_household(self, branch_id: int, household_id: int) -> list[Matter]:
        return await matters.of_household(self.s, branch_id, household_id)

    async def wishes_to_claim(self, branch_id: int) -> list[Matter]:
        return await matters.wishes_to_claim(self.s, branch_id)

    async def overdue(self, branch_id: int, today: dt.date) -> list[Matter]:
        return await matters.overdue(self.s, branch_id, today)

    async def counts_by_state(self, branch_id: int) -> list[matters.StateCount]:
        return await matters.counts_by_state(self.s, branch_id)

    async def unfinished_for_member(
        self, branch_id: int, member_id: int, userid: str, household_ids: list[int]
    ) -> list[Matter]:
        return await matters.unfinished_for_member(self.s, branch_id, member_id, userid, household_ids)


class _SqlLinks:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def current(self, household_id: int) -> Link | None:
        return await repo.current_link(self.s, household_id)

    def add(self, link: Link) -> None:
        self.s.add(link)

    async def next_change_number(self, branch_id: int) -> int:
        return await matters.next_number(self.s, branch_id, "link")

    def add_change(self, change: LinkChange) -> None:
        self.s.add(change)

    async def change(self, branch_id: int, number: int) -> LinkChange | None:
        return await repo.link_change_by_number(self.s, branch_id, number)


class _SqlAudit:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    def add(self, event: AuditEvent) -> None:
        self.s.add(event)


class _SqlVisits:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def exists(self, household_id: int, day: dt.date) -> bool:
        return await repo.visit_exists(self.s, household_id, day)

    async def add(
        self, *, branch_id: int, member_id: int, household_id: int, day: dt.date, inbound_id: int | None, by: str
    ) -> Visit:
        return await repo.add_visit(
            self.s,
            branch_id=branch_id,
            member_id=member_id,
            household_id=household_id,
            day=day,
            inbound_id=inbound_id,
            recorded_by=by,
        )

    def add_duties(self, visit: Visit, duties: Sequence[str]) -> None:
        policy.add_visit_duties(self.s, visit, duties)

    async def last_report(self, member_id: int, now: dt.datetime) -> list[tuple[Visit, Household]]:
        return await corrections.last_report(self.s, member_id, now)

    async def move(
        self, v: Visit, before: Household, after: Household, *, actor: str, at: dt.datetime, words: str
    ) -> None:
        await corrections.move_visit(self.s, v, before, after, actor=actor, at=at, words=words)

    async def undo(self, v: Visit, h: Household, *, actor: str, at: dt.datetime, words: str) -> None:
        await corrections.undo_visit(self.s, v, h, actor=actor, at=at, words=words)


class _SqlTasks:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def open_for(self, household_id: int) -> list[MustVisitTask]:
        return list(await self.s.scalars(_OPEN_TASKS, {"household_id": household_id}))

    async def open_with(self, household_id: int, trigger: str) -> MustVisitTask | None:
        return next((t for t in await self.open_for(household_id) if t.trigger == trigger), None)

    async def add(self, task: MustVisitTask) -> MustVisitTask:
        self.s.add(task)
        await self.s.flush()  # its id keys the notices
        return task

    async def open_in_branch(
        self, branch_id: int, member_ids: Sequence[int] | None
    ) -> list[tuple[MustVisitTask, Household]]:
        q = (
            select(MustVisitTask, Household)
            .join(Household, Household.id == MustVisitTask.household_id)
            .where(MustVisitTask.branch_id == branch_id, MustVisitTask.closed_at.is_(None))
        )
        if member_ids is not None:
            q = q.where(MustVisitTask.member_id.in_(list(member_ids)))
        return [(t, h) for t, h in (await self.s.execute(q.order_by(MustVisitTask.id))).all()]


class _SqlQuestions:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def get(self, chat_key: str, userid: str) -> ConversationState | None:
        return (await self.s.execute(_QUESTION, {"chat_key": chat_key, "userid": userid})).scalar_one_or_none()

    def put(self, state: ConversationState) -> None:
        self.s.add(state)

    async def clear(self, chat_key: str, userid: str) -> None:
        await self.s.execute(_CLEAR_QUESTION, {"chat_key": chat_key, "userid": userid})


class _SqlOpinions:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def latest(self, matter_id: int) -> MemberOpinion | None:
        return await policy.opinion_of(self.s, matter_id)

    async def ask(self, matter: Matter, member: Member, now: dt.datetime) -> bool:
        """Note that the member's view was asked; False when it was asked before (ask once)."""
        return await policy.ask_opinion(self.s, matter, member, now) is not None

    async def give(
        self, matter: Matter, member: Member, opinion: str, reason: str, *, actor: str, now: dt.datetime
    ) -> None:
        await policy.give_opinion(self.s, matter, member, opinion, reason, actor=actor, now=now)

    async def branch_decided(self, matter: Matter) -> bool:
        return await policy.branch_decided(self.s, matter)

    def nominate(
        self,
        by: Member,
        kind: str,
        nominee: str,
        nominee_member: Member | None,
        reason: str,
        *,
        actor: str,
        now: dt.datetime,
    ) -> None:
        policy.add_nomination(self.s, by, kind, nominee, nominee_member, reason, actor=actor, now=now)


class _SqlPolicy:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def pledges(self, branch_id: int) -> dict[int, str]:
        return await policy.current_pledges(self.s, branch_id)

    async def set_pledge(self, member: Member, text: str, *, actor: str, now: dt.datetime) -> str | None:
        return await policy.set_pledge(self.s, member, text, actor=actor, now=now)

    async def set_assessment(
        self, member: Member, period: str, score: float, *, actor: str, now: dt.datetime
    ) -> float | None:
        return await policy.set_assessment(self.s, member, period, score, actor=actor, now=now)

    async def year_scores(
        self, branch_id: int, year: int, options: PolicyOptions, *, as_of: dt.date
    ) -> list[YearScore]:
        return await policy.year_scores(self.s, branch_id, year, options, as_of=as_of)


class _SqlPoints:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def total(self, member_id: int, start: dt.datetime, end: dt.datetime) -> int:
        return await points.member_total(self.s, member_id, start, end)

    async def entries(self, member_id: int, start: dt.datetime, end: dt.datetime, *, limit: int) -> list[PointsEntry]:
        return await points.member_entries(self.s, member_id, start, end, limit=limit)

    async def ranking(self, branch_id: int, start: dt.datetime, end: dt.datetime) -> list[tuple[Member, int]]:
        return await points.ranking(self.s, branch_id, start, end)


class _SqlAttention:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    def add(
        self,
        *,
        branch_id: int,
        member_id: int | None,
        household_id: int | None,
        inbound_id: int | None,
        text: str,
        said_at: dt.datetime,
    ) -> None:
        attention.add_item(
            self.s,
            branch_id=branch_id,
            member_id=member_id,
            household_id=household_id,
            inbound_id=inbound_id,
            text=text,
            said_at=said_at,
        )

    async def by_number(self, member: Member, number: int) -> tuple[AttentionItem, Household | None] | None:
        return await attention.by_number(self.s, member, number)


class _SqlReports:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def unvisited(self, branch_id: int, month: str, *, member_ids: list[int] | None) -> list[repo.Unvisited]:
        return await repo.unvisited(self.s, branch_id, month, member_ids=member_ids)

    async def key_household_coverage(self, branch_id: int, month: str, *, member_ids: list[int] | None) -> list[Any]:
        return await repo.key_household_coverage(self.s, branch_id, month, member_ids=member_ids)

    async def month(self, branch: Branch, month: str, *, today: dt.date) -> rhythm.MonthReport:
        return await rhythm.month_report(self.s, branch, month, today=today)


class _SqlNotices:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    def tell(self, member: Member | None, text: str, *, key: str | None = None, branch_id: int | None = None) -> bool:
        return outbox.tell_member(self.s, member, text, key=key, branch_id=branch_id)

    async def tell_household(
        self, household: Household | None, text: str, *, now: dt.datetime, key: str | None = None
    ) -> str:
        return await outbox.tell_household(self.s, household, text, now=now, key=key)


class SqlUnitOfWork:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.members = _SqlMembers(session)
        self.households = _SqlHouseholds(session)
        self.links = _SqlLinks(session)
        self.matters = _SqlMatters(session)
        self.opinions = _SqlOpinions(session)
        self.policy = _SqlPolicy(session)
        self.points = _SqlPoints(session)
        self.attention = _SqlAttention(session)
        self.reports = _SqlReports(session)
        self.audit = _SqlAudit(session)
        self.visits = _SqlVisits(session)
        self.tasks = _SqlTasks(session)
        self.questions = _SqlQuestions(session)
        self.notices = _SqlNotices(session)
