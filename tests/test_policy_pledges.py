"""先锋承诺 (issue 17 item 2): set and changed in chat through real callbacks (history kept, who and when), carried
by the roster's optional 先锋承诺 column, shown by `lianhu export pledge` (亮相公示)."""

from __future__ import annotations

import asyncio
import datetime as dt

import openpyxl
import pytest
from sqlalchemy import select

from bot.cli import main
from handlers.context import TZ
from storage.db import make_engine, make_sessionmaker
from storage.models import AuditEvent, Branch, Member, Pledge
from storage.roster_file import RosterError, load_roster
from storage.roster_sync import import_roster
from tests.conftest import DEMO_ROSTER
from tests.matters.helpers import AT, BRANCH, Db, bot_replies, resident_says


async def export_pledge(tmp_path, url: str, monkeypatch) -> dict[str, tuple]:
    """The real command line, in a thread (it runs its own event loop): 党员 → row of 亮相公示."""
    monkeypatch.setenv("LIANHU_DATABASE_URL", url)
    out = tmp_path / "pledge.xlsx"
    month = dt.datetime.now(TZ).strftime("%Y-%m")
    assert await asyncio.to_thread(main, ["export", "pledge", "--month", month, "-o", str(out)]) == 0
    ws = openpyxl.load_workbook(out)["亮相公示"]
    assert [c.value for c in ws[1]][3] == "先锋承诺"
    return {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] and r[1]}


async def test_pledge_set_and_changed_in_chat_is_kept_and_exported(pair, tmp_path, monkeypatch):
    await pair.emulator.say("zhangwei", BRANCH, AT + "承诺 每月为重点户代办一件实事")
    assert bot_replies(pair, BRANCH)[-1].startswith("已记录您的先锋承诺：每月为重点户代办一件实事")
    url = pair.settings.database.url
    rows = await export_pledge(tmp_path, url, monkeypatch)
    assert rows["张伟"][3] == "每月为重点户代办一件实事"
    assert rows["王丽"][3] is None  # no pledge, nothing invented

    await pair.emulator.say("zhangwei", "bot", "我的承诺是每周到方奶奶家看一次，电话13812345678")
    said = [e.content for e in pair.emulator.timeline("single:zhangwei") if e.direction == "out"][-1]
    assert said.startswith("已更新您的先锋承诺：每周到方奶奶家看一次") and "原承诺：每月为重点户代办一件实事" in said
    assert "13812345678" not in said  # a phone number in a public pledge is masked
    await pair.emulator.say("zhangwei", BRANCH, AT + "我的承诺")
    assert bot_replies(pair, BRANCH)[-1].startswith("您的先锋承诺：每周到方奶奶家看一次")

    db = Db(url)
    async with db.sm() as s:
        history = list(await s.scalars(select(Pledge).order_by(Pledge.id)))
        audits = list(await s.scalars(select(AuditEvent).where(AuditEvent.action == "先锋承诺")))
    await db.close()
    assert [(p.text[:6], p.valid_to is None, p.set_by) for p in history] == [
        ("每月为重点户", False, "zhangwei"),
        ("每周到方奶奶", True, "zhangwei"),
    ]
    assert len(audits) == 2 and audits[1].detail["原承诺"] == "每月为重点户代办一件实事"
    rows = await export_pledge(tmp_path, url, monkeypatch)
    assert rows["张伟"][3].startswith("每周到方奶奶家看一次")


async def test_only_members_pledge_and_too_long_is_refused(pair):
    assert (await resident_says(pair, "wmh011x7Qe", "承诺 天天来")).startswith("先锋承诺只由本支部党员本人填写")
    await pair.emulator.say("wangli", BRANCH, AT + "承诺 " + "为群众办实事" * 40)
    assert "太长" in bot_replies(pair, BRANCH)[-1]
    db = Db(pair.settings.database.url)
    assert await db.scalar(select(Pledge.id)) is None
    await db.close()


def _with_pledges(dst, values: dict[str, str]):
    wb = openpyxl.load_workbook(DEMO_ROSTER)
    ws = wb["党员"]
    col = ws.max_column + 1
    ws.cell(row=1, column=col, value="先锋承诺")
    for r in range(2, ws.max_row + 1):
        code = ws.cell(row=r, column=1).value
        if code in values:
            ws.cell(row=r, column=col, value=values[code])
    wb.save(dst)
    return dst


async def _import(url, path):
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            await import_roster(s, load_roster(path), actor="secretary-file")
        async with make_sessionmaker(engine)() as s:
            rows = await s.execute(
                select(Member.code, Pledge.text, Pledge.source)
                .join(Pledge, Pledge.member_id == Member.id)
                .where(Pledge.valid_to.is_(None))
            )
            return {c: (t, src) for c, t, src in rows.all()}
    finally:
        await engine.dispose()


async def test_roster_column_carries_the_pledge_and_an_empty_cell_keeps_it(seeded_url, tmp_path):
    path = _with_pledges(tmp_path / "r.xlsx", {"M04": "每月为重点户代办一件实事", "M05": "有事找我，马上就到"})
    assert await _import(seeded_url, path) == {
        "M04": ("每月为重点户代办一件实事", "roster"),
        "M05": ("有事找我，马上就到", "roster"),
    }
    # the plain roster (no column) and an empty cell change nothing; a new text replaces the old one
    assert len(await _import(seeded_url, DEMO_ROSTER)) == 2
    path = _with_pledges(tmp_path / "r2.xlsx", {"M04": "每周走访重点户"})
    assert (await _import(seeded_url, path))["M04"] == ("每周走访重点户", "roster")


def test_roster_pledge_too_long_names_sheet_row_column(tmp_path):
    path = _with_pledges(tmp_path / "r.xlsx", {"M04": "长" * 201})
    with pytest.raises(RosterError) as e:
        load_roster(path)
    assert str(e.value) == "党员 第5行 K列（先锋承诺）：先锋承诺太长（201 字，最多 200 字）"


async def test_roster_export_carries_the_pledges_and_reimports_unchanged(seeded_url, tmp_path):
    from storage.roster_file import write_roster_xlsx
    from storage.roster_sync import export_roster

    path = _with_pledges(tmp_path / "r.xlsx", {"M04": "每月为重点户代办一件实事"})
    await _import(seeded_url, path)
    engine = make_engine(seeded_url)
    try:
        async with make_sessionmaker(engine)() as s:
            rf = await export_roster(s, (await s.scalars(select(Branch.id))).one())
    finally:
        await engine.dispose()
    out = tmp_path / "out.xlsx"
    write_roster_xlsx(rf, out)
    ws = openpyxl.load_workbook(out)["党员"]
    assert ws.cell(row=1, column=11).value == "先锋承诺"
    assert load_roster(out).members[3].pledge == "每月为重点户代办一件实事"
    engine = make_engine(seeded_url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            await import_roster(s, load_roster(out))
        async with make_sessionmaker(engine)() as s:
            n = len(list(await s.scalars(select(Pledge))))
    finally:
        await engine.dispose()
    assert n == 1  # the same text again: no new row, no audit noise
