"""`lianhu export`: every workbook opens with openpyxl, has Chinese headers, real dates and the right rows; the
亮相公示 sheet carries nothing that may not be public."""

from __future__ import annotations

import asyncio
import datetime as dt

import openpyxl
import pytest

from bot.cli import main
from storage import points
from tests.rhythm.conftest import Db, at


@pytest.fixture
async def story(db: Db):
    await db.visit("M04", "H011", dt.date(2026, 11, 3))
    await db.visit("M04", "H012", dt.date(2026, 11, 4))
    await db.visit("M01", "H001", dt.date(2026, 10, 28))  # October
    m = await db.matter(
        number=1,
        household="H011",
        member="M04",
        assignee="M04",
        state="已办结",
        state_type="fixed",
        created=at(2026, 11, 3, 10),
        closed=at(2026, 11, 6, 16),
        due=dt.date(2026, 11, 8),
        summary="路灯坏了",
    )
    await db.event(m, "派", "已派单", at(2026, 11, 3, 11), actor="chenjianguo")
    await db.event(m, "办结", "已办结", at(2026, 11, 6, 16), actor="zhangwei")
    await db.matter(
        kind="wish",
        number=1,
        household="H012",
        member="M04",
        created=at(2026, 11, 5),
        state="已登记",
        summary="想学用智能手机",
    )
    b = await db.branch()
    async with db.sm() as s, s.begin():
        await points.sync_points(s, b.id, rules=points.PointsRules(), today=dt.date(2026, 12, 1))
    return db


async def run_export(tmp_path, url: str, kind: str, monkeypatch) -> openpyxl.Workbook:
    """The real command line, in a thread (it runs its own event loop)."""
    monkeypatch.setenv("LIANHU_DATABASE_URL", url)
    out = tmp_path / f"{kind}.xlsx"
    assert await asyncio.to_thread(main, ["export", kind, "--month", "2026-11", "-o", str(out)]) == 0
    return openpyxl.load_workbook(out)


def rows(ws) -> list[tuple]:
    return [r for r in ws.iter_rows(min_row=2, values_only=True) if any(v is not None for v in r)]


async def test_visits_ledger(story: Db, tmp_path, monkeypatch):
    wb = await run_export(tmp_path, story.url, "visits", monkeypatch)
    ws = wb["走访台账"]
    assert [c.value for c in ws[1]][:5] == ["走访日期", "党员编号", "党员", "户编号", "户主"]
    data = rows(ws)
    assert [(r[0].date(), r[3], r[7]) for r in data] == [
        (dt.date(2026, 11, 3), "H011", None),
        (dt.date(2026, 11, 4), "H012", "是"),
    ]
    assert isinstance(data[0][0], dt.datetime)  # a real date cell, not text
    assert ws.column_dimensions["F"].width >= 20
    assert "空巢老人" not in str(data)
    assert len(rows(wb["未走访户"])) == 58


async def test_matters_ledger_with_history(story: Db, tmp_path, monkeypatch):
    wb = await run_export(tmp_path, story.url, "诉求心愿台账", monkeypatch)
    data = rows(wb["诉求心愿"])
    assert [r[0] for r in data] == ["诉求1", "心愿1"]
    req = data[0]
    assert req[8] == dt.datetime(2026, 11, 8) and req[10] == dt.datetime(2026, 11, 6, 16, 0)  # local time
    assert "已派单（陈建国）" in req[13] and "已办结（张伟）" in req[13]
    events = rows(wb["状态记录"])
    assert [e[2] for e in events if e[0] == "诉求1"] == ["登记", "派", "办结"]


async def test_pledge_sheet_is_public_safe(story: Db, tmp_path, monkeypatch):
    wb = await run_export(tmp_path, story.url, "pledge", monkeypatch)
    ws = wb["亮相公示"]
    headers = [c.value for c in ws[1]]
    assert headers == ["党员", "职务/身份", "网格", "先锋承诺", "联系户数", "联系户"]
    data = [r for r in rows(ws) if r[1] is not None]
    names = [r[0] for r in data]
    assert "叶根土" not in names and len(names) == 13  # exempt member not on the board
    zw = next(r for r in data if r[0] == "张伟")
    assert zw[4] == 6 and "王根发" in zw[5]
    flat = str([list(r) for r in ws.iter_rows(values_only=True)])
    for secret in ("空巢老人", "困难家庭", "危重病人", "留守儿童", "三组", "wm"):
        assert secret not in flat


async def test_points_sheet(story: Db, tmp_path, monkeypatch):
    wb = await run_export(tmp_path, story.url, "points", monkeypatch)
    data = {r[0]: r for r in rows(wb["积分表"])}
    assert data["M04"][3:5] == (1, 2)  # 走访 1, 走访重点户 2
    assert data["M04"][-2] == 3 and data["M04"][-1] == 3
    assert data["M01"][-2] == 0 and data["M01"][-1] == 2  # October's key visit: only in the year total
    detail = rows(wb["积分明细"])
    assert len(detail) == 2 and isinstance(detail[0][0], dt.datetime)


async def test_monthly_summary_workbook(story: Db, tmp_path, monkeypatch):
    wb = await run_export(tmp_path, story.url, "summary", monkeypatch)
    assert wb.sheetnames == ["概况", "党员走访", "未走访户", "诉求心愿"]
    overview = {r[0]: r[1] for r in wb["概况"].iter_rows(min_row=3, values_only=True)}
    assert overview["已走访户"] == 2 and overview["联系户（应走访）"] == 60 and overview["诉求新登记"] == 1
    cov = next(r for r in wb["概况"].iter_rows(min_row=3) if r[0].value == "走访覆盖率")[1]
    assert cov.number_format == "0%" and abs(cov.value - 2 / 60) < 1e-9
    assert len(rows(wb["未走访户"])) == 58


def test_unknown_kind_is_refused(capsys):
    assert main(["export", "工资表", "--month", "2026-11"]) == 2
    assert "不认识的台账类型" in capsys.readouterr().err
