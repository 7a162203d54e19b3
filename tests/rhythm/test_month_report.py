"""month_report (SQL aggregates) against an independent recount from the stored records, after a realistic month.

The month is built at random (fixed seed) on the sample village: visits by the linked member and by stand-ins,
before, inside and after November; a household handed to another member mid-month; an exempt member; 诉求 and
心愿 registered, closed, overdue and open across the month's edges, rated (by the resident, relayed as 代评, with
不满意 reopening), claimed; 八必访 tasks; points. The recount below reads every row back and applies the rules as
docs/rhythm.md states them, written out here on purpose (not domain/report.py), so both must agree.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict

from sqlalchemy import select, update

from storage import rhythm
from storage.models import Household, Link, Matter, MatterEvent, Member, MustVisitTask, PointsEntry, Visit
from tests.rhythm.conftest import TZ, at

MONTH = "2026-11"
START, END = at(2026, 11, 1, 0, 0), at(2026, 12, 1, 0, 0)
TODAY = dt.date(2026, 12, 5)


def utc(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def day_in(rng: random.Random, month: int) -> dt.date:
    return dt.date(2026, month, rng.randint(1, 30 if month == 11 else 28))


def moment(rng: random.Random) -> dt.datetime:
    """Anywhere from mid-October to mid-December, edges of November included on purpose."""
    edge = rng.random()
    if edge < 0.1:
        return at(2026, 11, 1, 0, rng.randint(0, 30))  # the first local half hour of November
    if edge < 0.2:
        return at(2026, 10, 31, 23, rng.randint(30, 59))  # still October in Shanghai (15:xx UTC)
    if edge < 0.25:
        return at(2026, 11, 30, 23, rng.randint(30, 59))
    return at(2026, 10, 15) + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 60))


async def build_month(db, rng: random.Random) -> None:
    m_ids, h_ids = await db.ids()
    b = await db.branch()
    members, households = sorted(m_ids.values()), sorted(h_ids.values())
    async with db.sm() as s, s.begin():
        # one member excused from linking, one household handed over on 15 November
        exempt = members[3]
        await s.execute(update(Member).where(Member.id == exempt).values(status="免联户"))
        moved = (await s.execute(select(Link).where(Link.valid_to.is_(None)).order_by(Link.id).limit(1))).scalar_one()
        moved.valid_to = at(2026, 11, 15)
        new_owner = next(m for m in members if m not in (moved.member_id, exempt))
        s.add(Link(branch_id=b.id, member_id=new_owner, household_id=moved.household_id, valid_from=at(2026, 11, 15)))
        current = {
            hid: mid
            for hid, mid in (await s.execute(select(Link.household_id, Link.member_id).where(Link.valid_to.is_(None))))
        }

        for _ in range(140):
            hid = rng.choice(households)
            mid = current.get(hid) if rng.random() < 0.8 else rng.choice(members)  # a stand-in now and then
            if mid is None:
                continue
            d = day_in(rng, rng.choice((10, 11, 11, 11, 12)))
            s.add(Visit(branch_id=b.id, member_id=mid, household_id=hid, visit_date=d, recorded_by="test"))

        numbers: Counter[str] = Counter()
        for _ in range(40):
            kind = "wish" if rng.random() < 0.35 else "request"
            numbers[kind] += 1
            created = moment(rng)
            closed = created + dt.timedelta(hours=rng.randint(1, 40 * 24)) if rng.random() < 0.55 else None
            due = (created + dt.timedelta(days=rng.randint(1, 30))).date() if rng.random() < 0.7 else None
            state, state_type = ("已办结", "fixed") if closed else ("承办中", "open")
            rating = None
            m = Matter(
                branch_id=b.id,
                kind=kind,
                number=numbers[kind],
                household_id=rng.choice(households),
                member_id=rng.choice(members),
                reporter="test",
                summary="路灯坏了",
                state=state,
                state_type=state_type,
                assignee_id=rng.choice(members) if rng.random() < 0.7 else None,
                due_date=due,
                created_at=created,
                updated_at=created,
                closed_at=closed,
            )
            s.add(m)
            await s.flush()
            s.add(MatterEvent(matter_id=m.id, action="登记", to_state="已登记", actor="test", at=created))
            if kind == "wish" and rng.random() < 0.6:
                s.add(MatterEvent(matter_id=m.id, action="认领", to_state="承办中", actor="test", at=moment(rng)))
            if closed is not None and rng.random() < 0.8:
                rating = rng.choice(("满意", "满意", "基本满意", "不满意"))
                note = rating if rng.random() < 0.7 else f"代评（联系党员转达）：{rating}"
                when = closed + dt.timedelta(hours=rng.randint(1, 72))
                s.add(MatterEvent(matter_id=m.id, action="评价", to_state="已评价", actor="r", note=note, at=when))
                if rating == "不满意":  # reopened: open again, no longer closed
                    s.add(MatterEvent(matter_id=m.id, action="重开", to_state="承办中", actor="r", at=when))
                    m.state, m.state_type, m.closed_at = "承办中", "open", None
                else:
                    m.state = "已评价"
                m.rating = rating

        # the edges chance may miss: closed late on its due day's last hour, and one local day after it
        for n, (closed, due) in enumerate(
            ((at(2026, 11, 10, 23, 30), dt.date(2026, 11, 10)), (at(2026, 11, 11, 0, 30), dt.date(2026, 11, 10)))
        ):
            created = at(2026, 11, 2)
            m = Matter(
                branch_id=b.id,
                kind="request",
                number=100 + n,
                reporter="test",
                summary="edge",
                state="已办结",
                state_type="fixed",
                due_date=due,
                created_at=created,
                updated_at=created,
                closed_at=closed,
            )
            s.add(m)

        for _ in range(12):
            created = moment(rng)
            closed = created + dt.timedelta(days=rng.randint(0, 9)) if rng.random() < 0.6 else None
            s.add(
                MustVisitTask(
                    branch_id=b.id,
                    household_id=rng.choice(households),
                    member_id=rng.choice(members) if rng.random() < 0.5 else None,
                    trigger="illness",
                    created_at=created,
                    closed_at=closed,
                )
            )
        for n in range(30):
            s.add(
                PointsEntry(
                    branch_id=b.id,
                    member_id=rng.choice(members),
                    rule="visit",
                    points=rng.choice((1, 2, -2)),
                    cause="test",
                    cause_key=f"test:{n}",
                    at=moment(rng),
                )
            )


async def recount(db) -> dict:
    """Every figure of the report, from all rows read back, by the rules as documented."""
    b = await db.branch()
    async with db.sm() as s:
        members = {m.id: m for m in await s.scalars(select(Member).where(Member.branch_id == b.id, Member.active))}
        households = {h.id: h for h in await s.scalars(select(Household).where(Household.active))}
        links = (await s.execute(select(Link).order_by(Link.valid_from, Link.id))).scalars().all()
        visits = (await s.execute(select(Visit))).scalars().all()
        matters = {m.id: m for m in await s.scalars(select(Matter))}
        events = (await s.execute(select(MatterEvent))).scalars().all()
        tasks = (await s.execute(select(MustVisitTask))).scalars().all()
        points = (await s.execute(select(PointsEntry))).scalars().all()

    def in_month(t: dt.datetime | None) -> bool:
        return t is not None and START <= utc(t) < END

    # who answers for a household in November: the latest link overlapping it; else (first linked after
    # November) the current one
    owner: dict[int, int] = {}
    for hid in households:
        own = [ln for ln in links if ln.household_id == hid]
        overlapping = [
            ln for ln in own if utc(ln.valid_from) < END and (ln.valid_to is None or utc(ln.valid_to) > START)
        ]
        if overlapping:
            owner[hid] = overlapping[-1].member_id
        elif own and utc(own[0].valid_from) >= END and own[-1].valid_to is None:
            owner[hid] = own[-1].member_id
    due = defaultdict(set)
    for hid, mid in owner.items():
        if mid in members and members[mid].status != "免联户":
            due[mid].add(hid)
    nov = [v for v in visits if dt.date(2026, 11, 1) <= v.visit_date < dt.date(2026, 12, 1)]
    seen = {v.household_id for v in nov}

    out: dict = {
        "due": {mid: hs for mid, hs in due.items() if hs},
        "visited": {mid: hs & seen for mid, hs in due.items() if hs & seen},
        "visits": dict(Counter(v.member_id for v in nov if v.member_id in members)),
    }
    for kind in ("request", "wish"):
        ms = [m for m in matters.values() if m.kind == kind]
        late = 0
        for m in ms:
            if m.due_date is None or m.due_date >= dt.date(2026, 12, 1) or utc(m.created_at) >= END:
                continue
            if m.closed_at is None:
                late += 1
            elif utc(m.closed_at) >= START and utc(m.closed_at).astimezone(TZ).date() > m.due_date:
                late += 1
        ratings: Counter[str] = Counter()
        for e in events:
            m = matters[e.matter_id]
            if m.kind == kind and e.action == "评价" and in_month(e.at):
                word = next(w for w in ("不满意", "基本满意", "满意") if w in e.note)
                ratings[word] += 1
        out[kind] = {
            "new": sum(in_month(m.created_at) for m in ms),
            "closed": sum(in_month(m.closed_at) for m in ms),
            "open_at_end": sum(
                utc(m.created_at) < END and (m.closed_at is None or utc(m.closed_at) >= END) for m in ms
            ),
            "overdue": late,
            "ratings": +ratings,
            "close_days": sorted(
                round((utc(m.closed_at) - utc(m.created_at)).total_seconds() / 86400, 6)
                for m in ms
                if in_month(m.closed_at)
            ),
        }
    out["claimed"] = sum(
        1 for e in events if e.action == "认领" and in_month(e.at) and matters[e.matter_id].kind == "wish"
    )
    out["tasks"] = {
        "raised": sum(in_month(t.created_at) for t in tasks),
        "visited": sum(in_month(t.closed_at) for t in tasks),
        "open_now": sum(t.closed_at is None for t in tasks),
    }
    out["open_tasks"] = defaultdict(set)
    for t in tasks:
        who = t.member_id or owner.get(t.household_id)
        if t.closed_at is None and who is not None:
            out["open_tasks"][who].add(t.id)
    out["open_matters"] = defaultdict(set)
    for m in matters.values():
        if m.state_type == "open" and (m.assignee_id or m.member_id):
            out["open_matters"][m.assignee_id or m.member_id].add(m.id)
    by_member: Counter[int] = Counter()
    for p in points:
        if in_month(p.at):
            by_member[p.member_id] += p.points
    out["points"] = dict(by_member)
    return out


def figures(r: rhythm.MonthReport) -> dict:
    def stats(st: rhythm.MatterStats) -> dict:
        return {
            "new": st.new,
            "closed": st.closed,
            "open_at_end": st.open_at_end,
            "overdue": st.overdue,
            "ratings": +st.ratings,
            "close_days": sorted(round(d, 6) for d in st.close_days),
        }

    return {
        "due": {mm.member.id: {h.id for h in mm.households} for mm in r.members if mm.households},
        "visited": {mm.member.id: set(mm.visited_ids) for mm in r.members if mm.visited_ids},
        "visits": {mm.member.id: mm.visits for mm in r.members if mm.visits},
        "request": stats(r.requests),
        "wish": stats(r.wish_stats_matters),
        "claimed": r.wishes.claimed,
        "tasks": {"raised": r.tasks.raised, "visited": r.tasks.visited, "open_now": r.tasks.open_now},
        "open_tasks": {mid: {ot.task.id for ot in ts} for mid, ts in r.open_tasks.items()},
        "open_matters": {mid: {m.id for m in ms} for mid, ms in r.open_matters.items()},
        "points": {mid: p for mid, p in r.points_by_member.items() if p},
    }


async def test_month_report_equals_a_recount_of_a_realistic_month(db):
    await build_month(db, random.Random(11))
    b = await db.branch()
    async with db.sm() as s:
        r = await rhythm.month_report(s, b, MONTH, today=TODAY)
    expected = await recount(db)
    got = figures(r)
    expected["points"] = {k: v for k, v in expected["points"].items() if v}
    expected["open_tasks"] = dict(expected["open_tasks"])
    expected["open_matters"] = dict(expected["open_matters"])
    for key in expected:
        assert got[key] == expected[key], key
    # the wish figures the texts show are the same counts, and the month is not trivially empty
    assert (r.wishes.collected, r.wishes.fulfilled) == (expected["wish"]["new"], expected["wish"]["closed"])
    assert r.ratings == expected["request"]["ratings"] + expected["wish"]["ratings"]
    assert sum(r.ratings.values()) >= 5 and expected["request"]["overdue"] and expected["visited"]
    assert r.households_due == sum(len(v) for v in expected["due"].values())
    assert r.households_visited == sum(len(v) for v in expected["visited"].values())


async def test_digest_gives_an_unowned_task_to_the_households_current_member(db):
    b = await db.branch()
    async with db.sm() as s, s.begin():
        link = (await s.execute(select(Link).where(Link.valid_to.is_(None)).order_by(Link.id).limit(1))).scalar_one()
        s.add(
            MustVisitTask(
                branch_id=b.id,
                household_id=link.household_id,
                member_id=None,
                trigger="illness",
                created_at=at(2026, 12, 1),
            )
        )
    async with db.sm() as s:
        d = await rhythm.digest(s, b.id, TODAY)
    assert [(h.id, m.id if m else None) for _, h, m in d.tasks_open] == [(link.household_id, link.member_id)]
