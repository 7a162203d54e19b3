"""主题党日 summary speed: one branch and 360 branches, on synthetic villages in a temp SQLite database.

Each synthetic branch: 14 members (one exempt), 60 households (a third key households), current links, ~45 visits
in the month, 8 requests and 3 wishes with events, 4 八必访 tasks, a 一级 group with a webhook. Rows go in with
bulk inserts. Timed: the figures (month_report) + the group text + every member's part, with and without the
chart, and the whole job as the scheduler runs it (outbox rows written, JobRun done).

With --history-months N each branch also gets N earlier months of closed, rated matters, 八必访 and visits (the
branch that has run a while: month_report must cost what the month holds, not what the years hold).

Run: .venv/bin/python bench/bench_summary.py [--branches 360] [--charts 20] [--history-months 36]
Prints figures; it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import event, func, insert, select  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.scheduler import Scheduler  # noqa: E402
from jobs import charts  # noqa: E402
from jobs import summary as jobs  # noqa: E402
from storage import migrate, rhythm  # noqa: E402
from storage.db import make_engine, make_sessionmaker  # noqa: E402
from storage.models import (  # noqa: E402
    Base,
    Branch,
    ChatGroup,
    Household,
    Link,
    Matter,
    MatterEvent,
    Member,
    MustVisitTask,
    Visit,
)

MONTH = "2026-11"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "建国海峰秀兰伟丽志强敏国平小军建华芳根土晓东雅婷德富彩娥美娟春燕阿土金水桂香永康"
KEYS = ["困难家庭", "危重病人", "空巢老人", "留守儿童"]
UTC = dt.UTC


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))


async def build(url: str, n_branches: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    t0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
    async with sm() as s, s.begin():
        await s.execute(
            insert(Branch),
            [
                {"id": b, "name": f"合成村{b:03d}党支部", "theme_day": 5, "roster_version": 1, "created_at": t0}
                for b in range(1, n_branches + 1)
            ],
        )
        members, households, links, groups, visits, matters, events, tasks = [], [], [], [], [], [], [], []
        mid = hid = lid = vid = matid = 0
        for b in range(1, n_branches + 1):
            groups.append(
                {
                    "branch_id": b,
                    "chat_id": f"wrSYN{b:05d}",
                    "name": f"合成村{b:03d}党员群",
                    "level": 1,
                    "internal": True,
                    "webhook_key": f"syn-key-{b}",
                }
            )
            first_mid = mid + 1
            for i in range(14):
                mid += 1
                roles = "书记" if i == 0 else ("委员;中心户" if i < 3 else "党员")
                members.append(
                    {
                        "id": mid,
                        "branch_id": b,
                        "code": f"M{i + 1:02d}",
                        "name": name(rng),
                        "userid": f"u{b}x{i}",
                        "roles": roles,
                        "status": "免联户" if i == 13 else "在村",
                        "active": True,
                        "gender": "",
                        "note": "",
                    }
                )
            for j in range(60):
                hid += 1
                households.append(
                    {
                        "id": hid,
                        "branch_id": b,
                        "code": f"H{j + 1:03d}",
                        "head_name": name(rng),
                        "address": f"合成村{j // 10 + 1}组{j % 10 + 1}号",
                        "key_types": rng.choice(KEYS) if j % 3 == 0 else "",
                        "active": True,
                        "gender": "",
                        "aliases": "",
                    }
                )
                lid += 1
                owner = first_mid + j % 13
                links.append(
                    {
                        "id": lid,
                        "branch_id": b,
                        "member_id": owner,
                        "household_id": hid,
                        "valid_from": t0,
                        "reason": "",
                        "changed_by": "bench",
                    }
                )
                if rng.random() < 0.75:
                    for _ in range(rng.choice((1, 1, 2))):
                        vid += 1
                        day = dt.date(2026, 11, rng.randint(1, 30))
                        visits.append(
                            {
                                "id": vid,
                                "branch_id": b,
                                "member_id": owner,
                                "household_id": hid,
                                "visit_date": day,
                                "recorded_by": "bench",
                                "created_at": dt.datetime.combine(day, dt.time(12), UTC),
                            }
                        )
            for k in range(11):
                matid += 1
                created = dt.datetime(2026, 11, rng.randint(1, 28), 9, tzinfo=UTC)
                closed = created + dt.timedelta(days=rng.randint(1, 9)) if rng.random() < 0.6 else None
                matters.append(
                    {
                        "id": matid,
                        "branch_id": b,
                        "kind": "wish" if k >= 8 else "request",
                        "number": k + 1,
                        "household_id": hid - rng.randint(0, 59),
                        "member_id": first_mid,
                        "reporter": "bench",
                        "summary": "路灯坏了，麻烦修一下",
                        "state": "已办结" if closed else "办理中",
                        "state_type": "fixed" if closed else "open",
                        "assignee_id": first_mid + rng.randint(0, 12),
                        "due_date": (created + dt.timedelta(days=5)).date(),
                        "created_at": created,
                        "updated_at": created,
                        "closed_at": closed,
                        "rating": rng.choice(("满意", "基本满意", None)),
                        "sensitive": False,
                        "category": "",
                        "escalated_to": "",
                        "source_chat": "",
                    }
                )
                events.append(
                    {
                        "matter_id": matid,
                        "action": "登记",
                        "to_state": "已登记",
                        "actor": "bench",
                        "note": "",
                        "at": created,
                    }
                )
                if closed:
                    events.append(
                        {
                            "matter_id": matid,
                            "action": "评价",
                            "to_state": "已评价",
                            "actor": "bench",
                            "note": "满意",
                            "at": closed,
                        }
                    )
            for _ in range(4):
                raised = dt.datetime(2026, 11, rng.randint(1, 28), tzinfo=UTC)
                tasks.append(
                    {
                        "branch_id": b,
                        "household_id": hid - rng.randint(0, 59),
                        "member_id": first_mid,
                        "trigger": "illness",
                        "created_at": raised,
                    }
                )
        for model, rows in (
            (Member, members),
            (Household, households),
            (Link, links),
            (ChatGroup, groups),
            (Visit, visits),
            (Matter, matters),
            (MatterEvent, events),
            (MustVisitTask, tasks),
        ):
            for i in range(0, len(rows), 5000):
                await s.execute(insert(model), rows[i : i + 5000])
    await engine.dispose()


async def add_history(url: str, months: int, seed: int = 3) -> int:
    """`months` months before MONTH, per branch: 11 matters (closed, rated, 2 events each), 4 八必访, 45 visits."""
    rng = random.Random(seed)
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    async with sm() as s:
        households: dict[int, list[int]] = {}
        for b, h in (await s.execute(select(Household.branch_id, Household.id))).all():
            households.setdefault(b, []).append(h)
        members: dict[int, list[int]] = {}
        for b, m in (await s.execute(select(Member.branch_id, Member.id))).all():
            members.setdefault(b, []).append(m)
        matid = int(await s.scalar(select(func.max(Matter.id))) or 0)
    matters, events, tasks, visits = [], [], [], []
    first = dt.date(2026, 11, 1)
    for b, hs in households.items():
        number = 1000
        for k in range(1, months + 1):
            y, m = divmod(first.year * 12 + first.month - 1 - k, 12)
            base = dt.datetime(y, m + 1, 1, 2, tzinfo=UTC)
            for _ in range(11):
                matid += 1
                number += 1
                created = base + dt.timedelta(hours=rng.randint(0, 27 * 24))
                closed = created + dt.timedelta(days=rng.randint(1, 20))
                matters.append(
                    {
                        "id": matid,
                        "branch_id": b,
                        "kind": rng.choice(("request", "request", "wish")),
                        "number": number,
                        "household_id": rng.choice(hs),
                        "member_id": rng.choice(members[b]),
                        "reporter": "bench",
                        "summary": "旧事",
                        "state": "已评价",
                        "state_type": "fixed",
                        "assignee_id": rng.choice(members[b]),
                        "due_date": (created + dt.timedelta(days=15)).date(),
                        "created_at": created,
                        "updated_at": closed,
                        "closed_at": closed,
                        "rating": "满意",
                        "sensitive": False,
                        "category": "",
                        "escalated_to": "",
                        "source_chat": "",
                    }
                )
                events.append(
                    {
                        "matter_id": matid,
                        "action": "登记",
                        "to_state": "已登记",
                        "actor": "bench",
                        "note": "",
                        "at": created,
                    }
                )
                events.append(
                    {
                        "matter_id": matid,
                        "action": "评价",
                        "to_state": "已评价",
                        "actor": "bench",
                        "note": "满意",
                        "at": closed,
                    }
                )
            for _ in range(4):
                raised = base + dt.timedelta(hours=rng.randint(0, 27 * 24))
                tasks.append(
                    {
                        "branch_id": b,
                        "household_id": rng.choice(hs),
                        "member_id": None,
                        "trigger": "illness",
                        "created_at": raised,
                        "closed_at": raised + dt.timedelta(days=2),
                    }
                )
            for _ in range(45):
                day = (base + dt.timedelta(days=rng.randint(0, 27))).date()
                visits.append(
                    {
                        "branch_id": b,
                        "member_id": rng.choice(members[b]),
                        "household_id": rng.choice(hs),
                        "visit_date": day,
                        "recorded_by": "bench",
                        "created_at": dt.datetime.combine(day, dt.time(12), UTC),
                    }
                )
    async with sm() as s, s.begin():
        for model, rows in ((Matter, matters), (MatterEvent, events), (MustVisitTask, tasks), (Visit, visits)):
            for i in range(0, len(rows), 5000):
                await s.execute(insert(model), rows[i : i + 5000])
    await engine.dispose()
    return len(matters) + len(events) + len(tasks) + len(visits)


async def bench(url: str, n_charts: int) -> None:
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    today = dt.date(2026, 12, 5)
    async with sm() as s:
        branches = list(await s.scalars(select(Branch).order_by(Branch.id)))

    loaded: list[int] = []
    objects = [0]

    def count_load(target, context) -> None:
        objects[0] += 1

    event.listen(Base, "load", count_load, propagate=True)  # ORM rows materialised: a figure load cannot blur

    async def texts(b: Branch) -> rhythm.MonthReport:
        async with sm() as s:
            before = objects[0]
            r = await rhythm.month_report(s, b, MONTH, today=today)
            loaded.append(objects[0] - before)
        jobs.group_summary_text(r)
        for mm in r.members:
            jobs.member_part_text(r, mm, today)
        return r

    await texts(branches[0])  # warm-up (imports, first queries)
    t = time.perf_counter()
    r1 = await texts(branches[0])
    one = time.perf_counter() - t
    charts.summary_chart(r1)  # warm the font cache
    t = time.perf_counter()
    png = charts.summary_chart(r1)
    chart_one = time.perf_counter() - t
    print(f"1 branch: month_report materialises {loaded[-1]} ORM objects")
    print(f"1 branch: figures + texts {one * 1000:.1f} ms; chart {chart_one * 1000:.0f} ms ({len(png) // 1024} KiB)")

    t = time.perf_counter()
    reports = [await texts(b) for b in branches]
    allb = time.perf_counter() - t
    print(f"{len(branches)} branches: figures + texts {allb:.2f} s ({allb / len(branches) * 1000:.1f} ms/branch)")
    n = min(n_charts, len(reports))
    t = time.perf_counter()
    for r in reports[:n]:
        charts.summary_chart(r)
    per_chart = (time.perf_counter() - t) / max(1, n)
    print(
        f"charts: {per_chart * 1000:.0f} ms each (measured on {n}); all {len(branches)} ≈ "
        f"{per_chart * len(branches):.1f} s"
    )

    settings = Settings()
    settings.database.url = url
    sched = Scheduler(settings, sm, clock=lambda: dt.datetime(2026, 12, 5, 1, 5, tzinfo=UTC))
    t = time.perf_counter()
    o = await sched.run_job("summary", branches[0], MONTH)
    job_one = time.perf_counter() - t
    assert o.status == "ran", o
    t = time.perf_counter()
    for b in branches[1:]:
        await sched.run_job("summary", b, MONTH)
    job_all = time.perf_counter() - t + job_one
    print(
        f"whole summary job (figures, chart, outbox rows, JobRun): 1 branch {job_one * 1000:.0f} ms; "
        f"{len(branches)} branches {job_all:.1f} s"
    )
    await engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--branches", type=int, default=360)
    ap.add_argument("--charts", type=int, default=20, help="charts rendered for the per-chart figure")
    ap.add_argument("--history-months", type=int, default=0, help="earlier months of records per branch")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        t = time.perf_counter()
        asyncio.run(build(url, args.branches))
        print(
            f"built {args.branches} synthetic branches in {time.perf_counter() - t:.1f} s "
            f"({args.branches * 60} households)"
        )
        if args.history_months:
            t = time.perf_counter()
            rows = asyncio.run(add_history(url, args.history_months))
            print(f"added {args.history_months} months of history: {rows} rows in {time.perf_counter() - t:.1f} s")
        asyncio.run(bench(url, args.charts))


if __name__ == "__main__":
    main()
