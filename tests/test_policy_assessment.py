"""考评 (issue 17 item 4): the secretary's 村党组织评分 in chat or by an xlsx sheet, combined with the households'
ratings by the configured weights; the year-end list uses the combined score; the 锋领 / 示范网格 candidates are
the secretary's alone."""

from __future__ import annotations

import asyncio
import datetime as dt

import openpyxl
import pytest
from sqlalchemy import select

from bot.cli import main
from bot.scheduler import Scheduler
from domain import policy as rules
from domain.policy import PolicyOptions
from handlers.context import TZ
from storage import policy
from storage.export import export
from storage.models import Assessment, AuditEvent, Member, OutboundMessage
from tests.conftest import make_settings
from tests.matters.helpers import AT, BRANCH, bot_replies
from tests.matters.helpers import Db as MDb
from tests.rhythm.conftest import Clock, Db, at


@pytest.fixture
async def db(seeded_url: str):
    """The sample village with links dating from 2020 (as tests/rhythm)."""
    d = Db(seeded_url)
    await d.backdate_links()
    try:
        yield d
    finally:
        await d.close()


@pytest.mark.parametrize(
    ("text", "period"),
    [("2026Q4", "2026Q4"), ("2026q1", "2026Q1"), ("2026年第四季度", "2026Q4"), ("2026", "2026"), ("2026年", "2026")],
)
def test_periods(text, period):
    assert rules.parse_period(text) == period


@pytest.mark.parametrize("text", ["2026Q5", "Q4", "去年", "2026-12"])
def test_not_periods(text):
    assert rules.parse_period(text) is None


def test_combined_score_weights_the_parts_present():
    w = {"branch": 0.7, "households": 0.3}
    assert rules.combined({"branch": 50, "households": 100}, w) == 65.0
    assert rules.combined({"branch": 50, "households": None}, w) == 50.0  # no ratings: the branch's score alone
    assert rules.combined({"branch": None, "households": 100}, w) is None  # never judged on ratings alone
    assert rules.branch_year_score({"2026Q3": 40, "2026Q4": 50}, 2026) == 45
    assert rules.branch_year_score({"2026Q3": 40, "2026": 90}, 2026) == 90  # the year entry wins
    assert rules.households_score(["满意", "基本满意", "不满意"]) == 60
    with pytest.raises(ValueError):
        rules.check_weights({"branch": 0.5, "points": 0.5})


async def test_secretary_scores_in_chat_privately(pair):
    year = dt.datetime.now(TZ).year
    await pair.emulator.say("chenjianguo", "bot", f"评分 张伟 {year}Q4 85")
    said = [e.content for e in pair.emulator.timeline("single:chenjianguo") if e.direction == "out"][-1]
    assert said == f"已录入 张伟 {year}年第四季度 村党组织评分 85 分。"
    await pair.emulator.say("chenjianguo", BRANCH, AT + f"评分 张伟 {year}Q4 88")
    assert bot_replies(pair, BRANCH)[-1] == "评分已录入，详情已私信您。"  # a member's score is not for the group
    await pair.emulator.say("zhangwei", BRANCH, AT + f"评分 王丽 {year} 99")
    assert "由支部书记或委员录入" in bot_replies(pair, BRANCH)[-1]
    for bad, why in (
        (f"评分 张伟 {year}Q5 80", "不是考评期间"),
        (f"评分 张伟 {year} 120", "0–100"),
        (f"评分 张三 {year} 80", "没有这名党员"),
    ):
        await pair.emulator.say("chenjianguo", BRANCH, AT + bad)
        assert why in bot_replies(pair, BRANCH)[-1]
    db = MDb(pair.settings.database.url)
    async with db.sm() as s:
        rows = [(a.period, a.score) for a in await s.scalars(select(Assessment))]
        trail = [a.detail for a in await s.scalars(select(AuditEvent).where(AuditEvent.action == "村党组织评分"))]
        group_msgs = list(await s.scalars(select(OutboundMessage.content).where(OutboundMessage.target == BRANCH)))
    await db.close()
    assert rows == [(f"{year}Q4", 88.0)]
    assert trail[-1]["原评分"] == 85.0 and trail[-1]["评分"] == 88.0
    assert not any("88" in t for t in group_msgs)

    await pair.emulator.say("chenjianguo", BRANCH, AT + "锋领候选")
    assert bot_replies(pair, BRANCH)[-1] == "锋领候选名单已私信发给您。"
    db = MDb(pair.settings.database.url)
    private = (await db.outbox_to("chenjianguo"))[-1]
    await db.close()
    assert "锋领党员候选" in private and "仅您可见" in private and "已有年度综合分 1/13 人" in private
    await pair.emulator.say("zhangwei", BRANCH, AT + "锋领候选")
    assert "只给支部书记、委员看" in bot_replies(pair, BRANCH)[-1]


async def _scores(db: Db, entries: dict[str, dict[str, float]]) -> None:
    async with db.sm() as s, s.begin():
        members = {m.code: m for m in await s.scalars(select(Member))}
        for code, by_period in entries.items():
            for period, score in by_period.items():
                await policy.set_assessment(s, members[code], period, score, actor="test", now=at(2026, 12, 1))


async def _rated(db: Db, number: int, household: str, member: str, rating: str) -> None:
    mid = await db.matter(number=number, household=household, member=member, created=at(2026, 6, 1), rating=rating)
    await db.event(mid, "评价", "已评价", at(2026, 6, 5), note=rating)


async def test_year_end_list_uses_the_combined_score(db: Db):
    settings = make_settings(db.url)
    clock = Clock(at(2026, 12, 20, 9, 1))
    await _rated(db, 1, "H011", "M04", "满意")
    await _scores(db, {"M04": {"2026": 50}, "M05": {"2026Q3": 40, "2026Q4": 50}, "M01": {"2026": 95}})
    [o] = [o for o in await Scheduler(settings, db.sm, clock=clock).tick() if o.job.startswith("year_end:")]
    # 张伟 0.7×50 + 0.3×100 = 65 (his household's 满意 lifts him over 60); 王丽 45 from her quarters; the rest
    # have no branch score and no combined score, so the points list no longer decides
    assert o.detail["below"] == ["M05"]
    async with db.sm() as s:
        text = (
            await s.scalars(select(OutboundMessage.content).where(OutboundMessage.idempotency_key.like("year_end:%")))
        ).one()
    assert "王丽：45 分" in text and "张伟" not in text and "年度综合分" in text


async def test_year_end_list_falls_back_to_points_without_assessments(db: Db):
    settings = make_settings(db.url)
    settings.points.year_end_threshold = 5
    clock = Clock(at(2026, 12, 20, 9, 1))
    [o] = [o for o in await Scheduler(settings, db.sm, clock=clock).tick() if o.job.startswith("year_end:")]
    assert len(o.detail["below"]) == 13  # everyone not exempt has 0 points: the old list, unchanged


async def test_candidates_and_the_assessment_sheet(db: Db, tmp_path):
    await _rated(db, 1, "H011", "M04", "满意")
    await _scores(db, {"M04": {"2026": 80}, "M05": {"2026": 70}, "M06": {"2026": 90}})
    for month in range(1, 13):
        await db.visit_all_of("M04", dt.date(2026, month, 10))
        await db.visit_all_of("M05", dt.date(2026, month, 10))
    options = PolicyOptions(candidate_min_coverage=0.8)
    async with db.sm() as s:
        rows = await policy.year_scores(s, (await db.branch()).id, 2026, options, as_of=dt.date(2026, 12, 31))
        branch = await db.branch()
        path = await export(s, "assessment", branch, "2026-12", tmp_path / "a.xlsx", options=options)
        cand = await export(s, "candidates", branch, "2026-12", tmp_path / "c.xlsx", options=options)
    members, grids = policy.candidates(rows, options)
    # 周志强 has the best branch score but visited nobody: not a 锋领 candidate
    assert [(r.member.code, r.combined, r.coverage) for r in members] == [("M04", 86.0, 1.0), ("M05", 70.0, 1.0)]
    assert [g.grid for g in grids] == ["第二网格", "第一网格"]
    sheet = {r[0]: r for r in openpyxl.load_workbook(path)["考评表"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert sheet["M04"][7:12] == (80, 80, 100, 1, 86)
    assert sheet["M06"][11] == 90 and sheet["M07"][11] is None
    names = [
        r[1]
        for r in openpyxl.load_workbook(cand)["锋领党员候选"].iter_rows(min_row=2, values_only=True)
        if isinstance(r[0], int)
    ]
    assert names == ["张伟", "王丽"]


def _sheet(path, rows) -> str:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "考评"
    ws.append(["党员编号", "姓名", "期间", "村党组织评分"])
    for r in rows:
        ws.append(r)
    wb.save(path)
    return str(path)


async def test_sheet_import_is_all_or_nothing_with_errors_named(db: Db, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LIANHU_DATABASE_URL", db.url)
    bad = _sheet(
        tmp_path / "bad.xlsx", [["M04", "张伟", "2026Q4", 85], ["M05", "王丽", "2026Q5", 80], ["M06", "", "2026", "优"]]
    )
    assert await asyncio.to_thread(main, ["assessment", "import", bad]) == 1
    err = capsys.readouterr().err
    assert "考评 第3行 C列（期间）" in err and "考评 第4行 D列（村党组织评分）：“优”不是分数" in err
    unknown = _sheet(tmp_path / "unknown.xlsx", [["M04", "张伟", "2026Q4", 85], ["M99", "谁", "2026", 80]])
    assert await asyncio.to_thread(main, ["assessment", "import", unknown]) == 1
    assert "考评 第3行 A列（党员编号）：本支部没有党员编号 M99" in capsys.readouterr().err
    async with db.sm() as s:
        assert (await s.scalars(select(Assessment))).first() is None  # nothing half-written
    good = _sheet(tmp_path / "good.xlsx", [["M04", "张伟", "2026Q4", 85], ["M05", "王丽", "2026年", 72.5]])
    assert await asyncio.to_thread(main, ["assessment", "import", good]) == 0
    async with db.sm() as s:
        assert sorted((a.period, a.score) for a in await s.scalars(select(Assessment))) == [
            ("2026", 72.5),
            ("2026Q4", 85.0),
        ]
