"""Roster import: all-or-nothing with errors naming sheet/row/column; re-import updates in place with link
history; export → import is a fixed point; a second branch leaves the first untouched."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from storage.db import make_engine, make_sessionmaker
from storage.models import AuditEvent, Branch, Household, Link, Member
from storage.roster_file import RosterError, load_roster, write_roster_xlsx
from storage.roster_sync import export_roster, import_roster
from tests.conftest import DEMO_ROSTER, SHARED

LIANHU = [sys.executable, "-m", "bot.cli"]


def edit(src: Path, dst: Path, sheet: str, cell: str, value) -> Path:
    wb = openpyxl.load_workbook(src)
    wb[sheet][cell] = value
    wb.save(dst)
    return dst


async def _import(url: str, path: Path, **kw):
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            return await import_roster(s, load_roster(path, **kw))
    finally:
        await engine.dispose()


async def _scalar(url: str, q):
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return await s.scalar(q)
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("sheet", "cell", "value", "expected"),
    [
        ("联系户", "G12", "M99", "联系户 第12行 G列（联系党员编号）：未知的党员编号 M99"),
        ("联系户", "A3", "H001", "联系户 第3行 A列（户编号）：户编号“H001”重复"),
        ("党员", "G5", "队长", "党员 第5行 G列（角色）：“队长”不是可用的值"),
        ("党员", "E2", "一九六八", "党员 第2行 E列（出生年份）：“一九六八”不是年份"),
        ("党员", "I5", "M04", "党员 第5行 I列（中心户编号）：M04 张伟 不是中心户"),
        ("联系户", "H2", "低保", "联系户 第2行 H列（重点户类型）：“低保”不是可用的值"),
        ("群聊", "C2", "三级", "群聊 第2行 C列（层级）：“三级”不是可用的值"),
        ("联系户", "B7", None, "联系户 第7行 B列（户主姓名）：不能为空"),
    ],
)
async def test_bad_row_names_sheet_row_column_and_writes_nothing(migrated_url, tmp_path, sheet, cell, value, expected):
    bad = edit(DEMO_ROSTER, tmp_path / "bad.xlsx", sheet, cell, value)
    with pytest.raises(RosterError) as err:
        await _import(migrated_url, bad)
    assert any(str(p).startswith(expected) for p in err.value.problems), str(err.value)
    assert await _scalar(migrated_url, select(func.count()).select_from(Branch)) == 0


def test_cli_import_error_exit_code_and_message(tmp_path, migrated_url):
    bad = edit(DEMO_ROSTER, tmp_path / "bad.xlsx", "联系户", "G12", "M99")
    p = subprocess.run(
        [*LIANHU, "roster", "import", str(bad)],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "LIANHU_DATABASE_URL": migrated_url},
    )
    assert p.returncode == 1
    assert "什么都没有导入" in p.stderr and "第12行 G列（联系党员编号）" in p.stderr


async def test_import_then_export_round_trip(migrated_url, tmp_path):
    report = await _import(migrated_url, DEMO_ROSTER)
    assert report.created and report.members == 14 and report.households == 60 and report.groups == 14
    assert any("M13 潘晓东：联系 3 户" in w for w in report.warnings)
    engine = make_engine(migrated_url)
    async with make_sessionmaker(engine)() as s:
        rf = await export_roster(s, report.branch_id)
    await engine.dispose()
    out = tmp_path / "out.xlsx"
    write_roster_xlsx(rf, out)
    original, again = load_roster(DEMO_ROSTER), load_roster(out)
    strip = lambda rows: [r.__class__(0, *list(r.__dict__.values())[1:]) for r in rows]  # noqa: E731
    assert strip(again.members) == strip(original.members)
    assert strip(again.households) == strip(original.households)
    assert strip(again.groups) == strip(original.groups)
    assert (again.branch_name, again.theme_day) == (original.branch_name, original.theme_day)
    # the sheets are the same cell for cell
    a, b = openpyxl.load_workbook(DEMO_ROSTER), openpyxl.load_workbook(out)
    for name in ("党员", "联系户", "群聊", "组织"):
        assert [list(r) for r in a[name].iter_rows(values_only=True)] == [
            list(r) for r in b[name].iter_rows(values_only=True)
        ]


async def test_reimport_moves_a_link_and_keeps_history(migrated_url, tmp_path):
    await _import(migrated_url, DEMO_ROSTER)
    moved = edit(DEMO_ROSTER, tmp_path / "moved.xlsx", "联系户", "G12", "M05")  # H011 from 张伟 to 王丽
    report = await _import(migrated_url, moved)
    assert report.links_changed == ["H011 王根发：张伟 → 王丽"]
    engine = make_engine(migrated_url)
    async with make_sessionmaker(engine)() as s:
        rows = (
            await s.execute(
                select(Member.code, Link.valid_to)
                .join(Link, Link.member_id == Member.id)
                .join(Household, Household.id == Link.household_id)
                .where(Household.code == "H011")
                .order_by(Link.id)
            )
        ).all()
        audits = await s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "link_change", AuditEvent.subject == "H011")
        )
    await engine.dispose()
    assert [r[0] for r in rows] == ["M04", "M05"]
    assert rows[0][1] is not None and rows[1][1] is None
    assert audits == 2  # the first link at import, then the move
    assert await _scalar(migrated_url, select(func.count()).select_from(Household)) == 60


async def test_second_branch_leaves_the_first_untouched(migrated_url, tmp_path):
    await _import(migrated_url, DEMO_ROSTER)
    # A second branch from the CSV set, with its ids renamed so they do not collide.
    src = SHARED / "fixtures"
    if not src.exists():
        pytest.skip("../shared/fixtures not present")
    d = tmp_path / "csv"
    d.mkdir()
    for kind in ("members", "households", "groups"):
        with (src / f"roster_{kind}.csv").open(encoding="utf-8") as f:
            rows = list(csv.reader(f))
        for row in rows[1:]:
            if kind == "members":
                row[2] += "2"  # 企业微信账号 are corp-wide
            elif kind == "households":
                row[9] = row[9].replace("wmh", "wmx")
            else:
                row[0] = row[0].replace("wrQY", "wrXX")
                row[5] = ""
        with (d / f"other_{kind}.csv").open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
    report = await _import(migrated_url, d / "other_members.csv", branch_name="青溪镇后塘村党支部")
    assert report.created
    assert await _scalar(migrated_url, select(func.count()).select_from(Branch)) == 2
    assert await _scalar(migrated_url, select(func.count()).select_from(Household)) == 120
    first = await _scalar(migrated_url, select(Branch.id).where(Branch.name == "宁海县青溪镇前洋村党总支"))
    assert (
        await _scalar(
            migrated_url, select(func.count()).select_from(Link).where(Link.branch_id == first, Link.valid_to.is_(None))
        )
        == 60
    )


async def test_same_userid_in_another_branch_is_a_roster_error(migrated_url, tmp_path):
    await _import(migrated_url, DEMO_ROSTER)
    other = edit(DEMO_ROSTER, tmp_path / "other.xlsx", "组织", "A2", "另一个支部")
    with pytest.raises(RosterError) as err:
        await _import(migrated_url, other)
    assert "企业微信账号 chenjianguo 已属于 宁海县青溪镇前洋村党总支" in str(err.value)
    assert await _scalar(migrated_url, select(func.count()).select_from(Branch)) == 1
