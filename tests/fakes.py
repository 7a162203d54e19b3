"""An in-memory unit of work with the methods of storage/uow.py, and a way to build a handler's context on it.

Rows are the ORM classes themselves, never attached to a session. What the fake stores is what a capability
wrote; what it was told to send (`sent`) is what the outbox would hold after commit. The matter state machine and
its history rows are storage/matters.py's own functions, not copies.

It holds what the capabilities tested in tests/capabilities/ use: members, households, links, visits, 八必访, the
questions asked back, matters, the 把关 gate and notices. Points, pledges, 考评, corrections of a visit, the daily list
and the month's reports have no in-memory version (their rules live in SQL aggregates and are tested end to end,
tests/rhythm, tests/test_policy_*.py, tests/matters); a handler that reaches them here fails with AttributeError.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from domain.roles import branch_heads
from domain.time import TZ
from handlers.context import ChatInfo, Context, Inbound, Options, Sender
from nlp.parser import Parser
from storage import matters as storage_matters
from storage.models import (
    AuditEvent,
    Branch,
    ChatGroup,
    ConversationState,
    Household,
    Link,
    LinkChange,
    Matter,
    MatterEvent,
    Member,
    MemberOpinion,
    MustVisitTask,
    Visit,
)
from storage.roster_file import RosterFile


@dataclass
class Told:
    userid: str
    text: str
    key: str | None


class FakeUnitOfWork:
    def __init__(self, roster: RosterFile, branch_id: int = 1) -> None:
        self.branch = Branch(id=branch_id, name=roster.branch_name or "前洋村党总支")
        ids = itertools.count(1)
        self.member_rows = {
            m.code: Member(
                id=next(ids),
                branch_id=branch_id,
                code=m.code,
                name=m.name,
                userid=m.userid,
                roles=";".join(m.roles),
                status=m.status,
                active=True,
            )
            for m in roster.members
        }
        for m in roster.members:  # 中心户
            if m.leader_code in self.member_rows:
                self.member_rows[m.code].leader_id = self.member_rows[m.leader_code].id
        self.household_rows = {
            h.code: Household(
                id=next(ids),
                branch_id=branch_id,
                code=h.code,
                head_name=h.head_name,
                address=h.address,
                key_types=";".join(h.key_types),
                aliases=";".join(h.aliases),
                external_userid=h.external_userid,
                active=True,
            )
            for h in roster.households
        }
        self.link_rows = [
            Link(
                id=next(ids),
                branch_id=branch_id,
                member_id=self.member_rows[h.member_code].id,
                household_id=self.household_rows[h.code].id,
                valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                valid_to=None,
            )
            for h in roster.households
            if h.member_code in self.member_rows
        ]
        self.change_rows: list[LinkChange] = []
        self.matter_rows: list[Matter] = []
        self.event_rows: list[MatterEvent] = []
        self.opinion_rows: list[MemberOpinion] = []
        self.audit_rows: list[AuditEvent] = []
        self.visit_rows: list[Visit] = []
        self.duty_rows: list[tuple[int, str]] = []
        self.task_rows: list[MustVisitTask] = []
        self.question_rows: dict[tuple[str, str], ConversationState] = {}
        self.sent: list[Told] = []
        self._ids = ids
        self.members = _Members(self)
        self.households = _Households(self)
        self.links = _Links(self)
        self.audit = _Audit(self)
        self.matters = _Matters(self)
        self.opinions = _Opinions(self)
        self.visits = _Visits(self)
        self.tasks = _Tasks(self)
        self.questions = _Questions(self)
        self.notices = _Notices(self)

    def next_id(self) -> int:
        return next(self._ids)

    def member(self, userid: str) -> Member:
        return next(m for m in self.member_rows.values() if m.userid == userid)

    def current_links(self) -> dict[int, int]:
        """household id -> member id, for the links in force."""
        return {k.household_id: k.member_id for k in self.link_rows if k.valid_to is None}

    def unlink(self, household_code: str) -> None:
        hid = self.household_rows[household_code].id
        for k in self.link_rows:
            if k.household_id == hid and k.valid_to is None:
                k.valid_to = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)


class _Members:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    async def get(self, member_id: int) -> Member | None:
        return next((m for m in self.uow.member_rows.values() if m.id == member_id), None)

    async def heads(self, branch_id: int) -> list[Member]:
        return branch_heads(await self.active(branch_id))

    async def active(self, branch_id: int) -> list[Member]:
        rows = sorted(self.uow.member_rows.values(), key=lambda m: m.id)
        return [m for m in rows if m.branch_id == branch_id and m.active]

    async def by_name(self, branch_id: int, name: str) -> Member | None:
        rows = [m for m in await self.active(branch_id) if m.name == name]
        return rows[0] if len(rows) == 1 else None

    async def by_userid(self, userid: str) -> Member | None:
        return next((m for m in self.uow.member_rows.values() if m.userid == userid and m.active), None)

    async def named(self, branch_id: int, name: str) -> list[Member]:
        return [m for m in await self.active(branch_id) if m.name == name]

    async def by_code(self, branch_id: int, code: str) -> Member | None:
        m = self.uow.member_rows.get(code)
        return m if m is not None and m.branch_id == branch_id else None

    async def led_by(self, leader_id: int) -> list[int]:
        return [m.id for m in self.uow.member_rows.values() if m.leader_id == leader_id and m.active]


class _Households:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    async def get(self, household_id: int) -> Household | None:
        return next((h for h in self.uow.household_rows.values() if h.id == household_id), None)

    async def by_codes(self, branch_id: int, codes: Sequence[str]) -> dict[str, Household]:
        rows = self.uow.household_rows
        return {c: rows[c] for c in codes if c in rows and rows[c].branch_id == branch_id}

    async def by_name(self, branch_id: int, head_name: str) -> Household | None:
        rows = [h for h in self.uow.household_rows.values() if h.branch_id == branch_id and h.head_name == head_name]
        return rows[0] if len(rows) == 1 else None

    async def linked_member(self, household_id: int) -> Member | None:
        mid = self.uow.current_links().get(household_id)
        return await self.uow.members.get(mid) if mid is not None else None

    async def with_member(self, branch_id: int) -> list[tuple[Household, int | None]]:
        links = self.uow.current_links()
        rows = sorted((h for h in self.uow.household_rows.values() if h.branch_id == branch_id), key=lambda h: h.code)
        return [(h, links.get(h.id)) for h in rows]

    async def of_member(self, member_id: int) -> list[Household]:
        return [h for h, mid in await self.with_member(self.uow.branch.id) if mid == member_id]

    async def last_visits(self, household_ids: list[int]) -> dict[int, dt.date]:
        last: dict[int, dt.date] = {}
        for v in self.uow.visit_rows:
            if v.household_id in household_ids and v.visit_date > last.get(v.household_id, dt.date.min):
                last[v.household_id] = v.visit_date
        return last


class _Matters:
    """The state machine and the history rows are storage/matters.py's own (move, new_matter, registered)."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.numbers: collections.Counter[str] = collections.Counter()

    async def create(self, **kw) -> Matter:
        self.numbers[kw["kind"]] += 1
        m = storage_matters.new_matter(number=self.numbers[kw["kind"]], **kw)
        m.id = self.uow.next_id()
        self.uow.matter_rows.append(m)
        self.add_event(storage_matters.registered(m))
        return m

    async def transition(self, m, action, actor, note="", *, now, to_state=None) -> MatterEvent:
        event = storage_matters.move(m, action, actor, note, now=now, to_state=to_state)
        self.add_event(event)
        return event

    def add_event(self, event: MatterEvent) -> None:
        event.id = self.uow.next_id()
        self.uow.event_rows.append(event)

    def _rows(self, **eq) -> list[Matter]:
        return [m for m in self.uow.matter_rows if all(getattr(m, k) == v for k, v in eq.items())]

    async def by_ref(self, branch_id: int, kind: str, number: int) -> Matter | None:
        return next(iter(self._rows(branch_id=branch_id, kind=kind, number=number)), None)

    async def open_for_household(self, household_id: int, kind: str | None = None) -> list[Matter]:
        rows = self._rows(household_id=household_id, state_type="open")
        return [m for m in rows if kind is None or m.kind == kind]

    async def awaiting_rating(self, household_id: int) -> list[Matter]:
        return self._rows(household_id=household_id, state="已办结")

    async def of_household(self, branch_id: int, household_id: int) -> list[Matter]:
        return self._rows(branch_id=branch_id, household_id=household_id)

    async def wishes_to_claim(self, branch_id: int) -> list[Matter]:
        rows = self._rows(branch_id=branch_id, kind="wish")
        return sorted((m for m in rows if m.state in storage_matters.OPEN_BEFORE_WORK), key=lambda m: m.number)

    async def overdue(self, branch_id: int, today: dt.date) -> list[Matter]:
        rows = self._rows(branch_id=branch_id, state_type="open")
        return [m for m in rows if m.due_date is not None and m.due_date < today]

    async def counts_by_state(self, branch_id: int) -> list[storage_matters.StateCount]:
        groups: dict[tuple[str, str], list[Matter]] = {}
        for m in self._rows(branch_id=branch_id, state_type="open"):
            groups.setdefault((m.kind, m.state), []).append(m)
        return [
            storage_matters.StateCount(k, s, len(ms), min(m.created_at for m in ms))
            for (k, s), ms in sorted(groups.items())
        ]

    async def unfinished_for_member(
        self, branch_id: int, member_id: int, userid: str, household_ids: list[int]
    ) -> list[Matter]:
        return [
            m
            for m in self._rows(branch_id=branch_id)
            if m.state_type != "closed"
            and (m.household_id in household_ids or m.assignee_id == member_id or m.reporter == userid)
        ]


class _Links:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.counter = 0

    async def current(self, household_id: int) -> Link | None:
        return next((k for k in self.uow.link_rows if k.household_id == household_id and k.valid_to is None), None)

    def add(self, link: Link) -> None:
        link.id = self.uow.next_id()
        self.uow.link_rows.append(link)

    async def next_change_number(self, branch_id: int) -> int:
        self.counter += 1
        return self.counter

    def add_change(self, change: LinkChange) -> None:
        change.id = self.uow.next_id()
        change.state = change.state or "待审批"
        self.uow.change_rows.append(change)

    async def change(self, branch_id: int, number: int) -> LinkChange | None:
        return next((c for c in self.uow.change_rows if c.branch_id == branch_id and c.number == number), None)


class _Audit:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    def add(self, event: AuditEvent) -> None:
        self.uow.audit_rows.append(event)


class _Visits:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    async def exists(self, household_id: int, day: dt.date) -> bool:
        return any(v.household_id == household_id and v.visit_date == day for v in self.uow.visit_rows)

    async def add(
        self, *, branch_id: int, member_id: int, household_id: int, day: dt.date, inbound_id: int | None, by: str
    ) -> Visit:
        v = Visit(
            id=self.uow.next_id(),
            branch_id=branch_id,
            member_id=member_id,
            household_id=household_id,
            visit_date=day,
            inbound_id=inbound_id,
            recorded_by=by,
        )
        self.uow.visit_rows.append(v)
        return v

    def add_duties(self, visit: Visit, duties: Sequence[str]) -> None:
        self.uow.duty_rows += [(visit.id, d) for d in dict.fromkeys(duties)]


class _Tasks:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    async def open_for(self, household_id: int) -> list[MustVisitTask]:
        return [t for t in self.uow.task_rows if t.household_id == household_id and t.closed_at is None]

    async def open_with(self, household_id: int, trigger: str) -> MustVisitTask | None:
        return next((t for t in await self.open_for(household_id) if t.trigger == trigger), None)

    async def add(self, task: MustVisitTask) -> MustVisitTask:
        task.id = self.uow.next_id()
        self.uow.task_rows.append(task)
        return task

    async def open_in_branch(
        self, branch_id: int, member_ids: Sequence[int] | None
    ) -> list[tuple[MustVisitTask, Household]]:
        by_id = {h.id: h for h in self.uow.household_rows.values()}
        return [
            (t, by_id[t.household_id])
            for t in self.uow.task_rows
            if t.branch_id == branch_id and t.closed_at is None and (member_ids is None or t.member_id in member_ids)
        ]


class _Opinions:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    async def latest(self, matter_id: int) -> MemberOpinion | None:
        return next((o for o in reversed(self.uow.opinion_rows) if o.matter_id == matter_id), None)

    async def ask(self, matter: Matter, member: Member, now: dt.datetime) -> bool:
        if any(o.matter_id == matter.id and o.member_id == member.id for o in self.uow.opinion_rows):
            return False
        row = MemberOpinion(
            id=self.uow.next_id(), branch_id=matter.branch_id, matter_id=matter.id, member_id=member.id, asked_at=now
        )
        self.uow.opinion_rows.append(row)
        return True


class _Questions:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    async def get(self, chat_key: str, userid: str) -> ConversationState | None:
        return self.uow.question_rows.get((chat_key, userid))

    def put(self, state: ConversationState) -> None:
        self.uow.question_rows[(state.chat_key, state.userid)] = state

    async def clear(self, chat_key: str, userid: str) -> None:
        self.uow.question_rows.pop((chat_key, userid), None)


class _Notices:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    def tell(self, member: Member | None, text: str, *, key: str | None = None, branch_id: int | None = None) -> bool:
        if member is None or not member.userid:
            return False
        if key is not None and any(t.key == key for t in self.uow.sent):
            return True  # the outbox drops a known key at flush: once only
        self.uow.sent.append(Told(member.userid, text, key))
        return True

    async def tell_household(
        self, household: Household | None, text: str, *, now: dt.datetime, key: str | None = None
    ) -> str:
        """No 微信客服 window in the fake: a household hears through its member, as after 48 h of silence."""
        if household is None:
            return "none"
        member = await self.uow.households.linked_member(household.id)
        told = self.tell(member, f"请转告{household.head_name}家：{text}", key=key and f"{key}:via-member")
        return "member" if told else "none"


def fake_context(
    uow: FakeUnitOfWork,
    parser: Parser,
    sender: str,
    text: str,
    *,
    at: dt.datetime,
    group: ChatGroup | None = None,
    options: Options | None = None,
) -> Context:
    """A context as the runtime builds it (bot/intake.py), for a sender of the fake's roster."""
    member = next((m for m in uow.member_rows.values() if m.userid == sender), None)
    household = next((h for h in uow.household_rows.values() if h.external_userid == sender), None)
    kind = "member" if member else "resident" if household else "unknown"
    who = Sender(
        sender,
        kind,
        member=member,
        household=household,
        branch_id=uow.branch.id,
        roles=member.role_set if member else frozenset(),
    )
    msg = Inbound(
        channel="aibot" if group is None or group.internal else "archive",
        msg_id=f"m{uow.next_id()}",
        sender=sender,
        chat_id=group.chat_id if group is not None else "",
        chat_type="group" if group is not None else "single",
        text=text,
        sent_at=at.astimezone(TZ),
    )
    return Context(
        msg, who, ChatInfo(msg.chat_key, msg.chat_type, group), None, uow.branch, parser, options=options, uow=uow
    )  # type: ignore[arg-type]
