"""Roster imports refuse what they cannot take (issue 15, finding 4): a zip bomb and a giant cell are refused
after reading little, naming the limit; every column's length is checked with sheet, row and column; circular
中心户 links are refused with the cycle named; the import's statement count does not grow with the roster."""

from __future__ import annotations

import dataclasses
import shutil
import time
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import event, func, insert, select

from storage import roster_sync, xlsx_read
from storage.db import make_engine, make_sessionmaker
from storage.models import AuditEvent, Branch, Household, Link
from storage.roster_file import RosterError, load_roster
from storage.roster_sync import import_roster
from tests.conftest import DEMO_ROSTER

ROW = (
    '<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>H{r:07d}</t></is></c>'
    '<c r="B{r}" t="inlineStr"><is><t>王秀英</t></is></c></row>'
)


def bomb(dst: Path, megabytes: int) -> Path:
    """The sample roster with its 联系户 sheet replaced by `megabytes` of rows that deflate ~300:1."""
    with zipfile.ZipFile(DEMO_ROSTER) as src, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        sheets = [n for n in src.namelist() if n.startswith("xl/worksheets/sheet")]
        target = sorted(sheets)[1]  # sheet2.xml = 联系户
        for info in src.infolist():
            if info.filename != target:
                out.writestr(info, src.read(info.filename))
        with out.open(target, "w") as f:
            f.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            block = "".join(ROW.format(r=2) for _ in range(2000)).encode()  # identical rows: the bomb's trick
            for _ in range(megabytes * 1024 * 1024 // len(block)):
                f.write(block)
            f.write(b"</sheetData></worksheet>")
    return dst


def refused(path: Path) -> tuple[str, float, int]:
    """(error text, seconds, peak traced bytes) of loading `path`, which must be refused."""
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(RosterError) as err:
            load_roster(path)
    finally:
        seconds = time.monotonic() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return str(err.value), seconds, peak


def test_zip_bomb_is_refused_from_the_zip_directory(tmp_path):
    path = bomb(tmp_path / "bomb.xlsx", 300)
    assert path.stat().st_size < 3 * 1024 * 1024  # a small file…
    text, seconds, peak = refused(path)
    assert "压缩比" in text and "上限 100:1" in text, text  # …refused by its ratio, the limit named
    assert peak < 20 * 1024 * 1024, f"{peak} bytes traced"  # nothing inflated
    assert seconds < 10  # generous: main read it for minutes


def test_unpacked_size_limit_named(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_read, "MAX_UNPACKED_BYTES", 1024)
    text, _, _ = refused(shutil.copy(DEMO_ROSTER, tmp_path / "r.xlsx"))
    assert "超过上限 0 MB" in text or "超过上限" in text, text


def test_row_limit_stops_reading_and_names_sheet_and_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_read, "MAX_ROWS", 40)  # the sample village has 60 households
    text, _, _ = refused(shutil.copy(DEMO_ROSTER, tmp_path / "r.xlsx"))
    assert text.startswith("联系户 第41行") and "超过 40 行的上限" in text, text


def edit(dst: Path, changes: dict[tuple[str, str], object]) -> Path:
    wb = openpyxl.load_workbook(DEMO_ROSTER)
    for (sheet, cell), value in changes.items():
        wb[sheet][cell] = value
    wb.save(dst)
    return dst


def giant(dst: Path, chars: int) -> Path:
    """The sample roster with a `chars`-long 姓名 in 党员!B3 (past Excel's own 32 767, as a crafted file can be)."""
    marked = edit(dst.with_suffix(".marked.xlsx"), {("党员", "B3"): "GIANTCELL"})
    with zipfile.ZipFile(marked) as src, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if b"GIANTCELL" in data:  # stored, not deflated: a cell, not a compression ratio, is what is refused
                out.writestr(info.filename, data.replace(b"GIANTCELL", ("王" * chars).encode()), zipfile.ZIP_STORED)
            else:
                out.writestr(info, data)
    return dst


def test_giant_cell_is_refused_while_reading_with_its_place(tmp_path):
    path = giant(tmp_path / "giant.xlsx", 2_000_000)
    text, seconds, peak = refused(path)
    assert text == "党员 第3行：B列单元格有 2000000 个字符，超过上限 2000 个字符，拒绝读取", text
    assert peak < 30 * 1024 * 1024, f"{peak} bytes traced"  # the cell itself was never collected
    assert seconds < 10


@pytest.mark.parametrize(
    ("sheet", "cell", "value", "expected"),
    [
        ("党员", "B3", "王" * 51, "党员 第3行 B列（姓名）：有 51 个字符，超过这一列的上限 50 个字符"),
        ("党员", "J4", "备" * 201, "党员 第4行 J列（备注）：有 201 个字符，超过这一列的上限 200 个字符"),
        ("联系户", "E2", "路" * 201, "联系户 第2行 E列（地址）：有 201 个字符，超过这一列的上限 200 个字符"),
        ("联系户", "A5", "H" * 21, "联系户 第5行 A列（户编号）：有 21 个字符，超过这一列的上限 20 个字符"),
        ("群聊", "B2", "群" * 101, "群聊 第2行 B列（群名称）：有 101 个字符，超过这一列的上限 100 个字符"),
        ("组织", "A2", "支" * 101, "组织 第2行 A列（党组织）：有 101 个字符，超过这一列的上限 100 个字符"),
    ],
)
def test_every_column_length_is_checked(tmp_path, sheet, cell, value, expected):
    with pytest.raises(RosterError) as err:
        load_roster(edit(tmp_path / "long.xlsx", {(sheet, cell): value}))
    assert expected in str(err.value).splitlines()


def test_circular_leader_links_are_refused_with_the_cycle_named(tmp_path):
    # M02 and M03 are 中心户 in the sample village; M04 becomes one for the 3-cycle
    two = edit(tmp_path / "two.xlsx", {("党员", "I3"): "M03", ("党员", "I4"): "M02"})
    with pytest.raises(RosterError) as err:
        load_roster(two)
    assert "党员 第3行 I列（中心户编号）：中心户关系成环：M02 → M03 → M02" in str(err.value).splitlines()

    three = edit(
        tmp_path / "three.xlsx",
        {("党员", "G5"): "党员;中心户", ("党员", "I3"): "M03", ("党员", "I4"): "M04", ("党员", "I5"): "M02"},
    )
    with pytest.raises(RosterError) as err:
        load_roster(three)
    lines = str(err.value).splitlines()
    assert "党员 第3行 I列（中心户编号）：中心户关系成环：M02 → M03 → M04 → M02" in lines
    assert sum("成环" in line for line in lines) == 1  # one cycle, reported once


async def _statements(url: str, path: Path) -> int:
    engine = make_engine(url)
    n = 0

    def count(*_a) -> None:
        nonlocal n
        n += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            await import_roster(s, load_roster(path))
    finally:
        await engine.dispose()
    return n


def grown(dst: Path, extra: int) -> Path:
    """The sample roster with `extra` more households, each linked to an existing member."""
    wb = openpyxl.load_workbook(DEMO_ROSTER)
    ws = wb["联系户"]
    members = [r[0].value for r in wb["党员"].iter_rows(min_row=2) if r[0].value]
    for i in range(extra):
        ws.append([f"X{i:05d}", f"新户{i}", "男", 1960, "", "", members[i % len(members)]])
    wb.save(dst)
    return dst


async def test_statements_do_not_grow_with_the_roster(db_factory, tmp_path):
    small = await _statements(await db_factory.new("migrated"), DEMO_ROSTER)
    large = await _statements(await db_factory.new("migrated"), grown(tmp_path / "big.xlsx", 3000))
    # bulk statements in chunks of 5000: 60 households or 3060 take the same number of round trips
    assert large == small, (small, large)


async def test_new_branch_goes_in_short_chunks_and_a_failure_leaves_nothing(db_factory, tmp_path, monkeypatch):
    monkeypatch.setattr(roster_sync, "CHUNK", 500)
    rf = load_roster(grown(tmp_path / "big.xlsx", 3000))  # 3 060 households
    url = await db_factory.new("migrated")
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    commits = 0
    others = 0

    async def between(s) -> None:
        nonlocal commits, others
        await s.commit()
        commits += 1
        # the write lock is free between two chunks: another writer (a message) gets in at once
        async with sm() as other, other.begin():
            await other.execute(insert(AuditEvent).values(actor="bot", action="message", subject=str(commits)))
        others += 1

    try:
        async with sm() as s:
            report = await import_roster(s, rf, commit=lambda: between(s))
            await s.commit()
        assert report.households == 3060
        assert commits >= 3060 // 500 * 3  # households, links and their audit rows, each chunk on its own
        assert others == commits

        # the same roster as a second branch, failing part-way: nothing of it stays
        rf2 = load_roster(grown(tmp_path / "big2.xlsx", 3000), branch_name="第二村")
        rf2.branch_name = "第二村"
        rf2.members = [dataclasses.replace(m, userid=f"x{m.userid}" if m.userid else None) for m in rf2.members]
        rf2.households = [dataclasses.replace(h, external_userid=None) for h in rf2.households]
        rf2.groups = []
        calls = 0

        async def failing(s) -> None:
            nonlocal calls
            calls += 1
            if calls == 5:
                raise OSError("disk full")
            await s.commit()

        async with sm() as s:
            with pytest.raises(OSError):
                await import_roster(s, rf2, commit=lambda: failing(s))
        async with sm() as s:
            assert await s.scalar(select(func.count()).select_from(Branch)) == 1
            assert await s.scalar(select(func.count()).select_from(Household)) == 3060
            assert await s.scalar(select(func.count()).select_from(Link)) == 3060
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("chars", "expected"),
    [
        (3000, "v_members.csv 第3行：B列单元格有 3000 个字符，超过上限 2000 个字符"),
        (2_000_000, "v_members.csv 第3行：有超过 2000 个字符的单元格"),
    ],
)
def test_csv_roster_has_the_same_cell_limit(tmp_path, chars, expected):
    from storage.roster_file import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS

    members = [
        ",".join(MEMBER_COLUMNS),
        "M01,陈建国,,男,1968,,书记,在村,,",
        f"M02,{'王' * chars},,男,1970,,党员,在村,,",
    ]
    (tmp_path / "v_members.csv").write_text("\n".join(members) + "\n", encoding="utf-8")
    (tmp_path / "v_households.csv").write_text(",".join(HOUSEHOLD_COLUMNS) + "\n", encoding="utf-8")
    with pytest.raises(RosterError) as err:
        load_roster(tmp_path / "v_members.csv", branch_name="前洋村")
    assert str(err.value).startswith(expected), str(err.value)
