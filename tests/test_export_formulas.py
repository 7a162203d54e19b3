"""Every exported cell from people's text is data (issue 15, finding 2): names from the roster and chat messages
that start like a formula come out of every ledger and the roster file as inert text, and phone numbers in them
masked. Each workbook is opened with openpyxl (formulas kept, not evaluated) and searched cell by cell."""

from __future__ import annotations

import datetime as dt

import openpyxl
from sqlalchemy import select, update

from handlers.context import TZ
from storage.export import KINDS, export
from storage.models import Branch, Household, Member
from storage.roster_file import load_roster, write_roster_xlsx
from storage.roster_sync import export_roster
from storage.sheet_safety import TRIGGERS, neutralise, unquote
from tests.matters.helpers import AT, BRANCH, Db, resident_says

HOSTILE_HEADS = {
    "H013": '=HYPERLINK("http://x","点我")',
    "H014": "@SUM(1+1)",
}
HOSTILE_MEMBER = ("M06", "+cmd|' /C calc'!A0")
MOBILE_FORMS = ("13812345678", "１３８１２３４５６７８", "138.1234.5678", "138－1234－5678")


def test_neutralise_table():
    for raw, safe in [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("＝1+1", "'＝1+1"),
        ("王大妈", "王大妈"),
        ("a=1", "a=1"),
        ("", ""),
        (-5, -5),
        (None, None),
    ]:
        assert neutralise(raw) == safe
        if isinstance(raw, str):
            assert unquote(safe) == raw  # the roster import reads back what the export wrote


async def test_no_export_carries_a_formula(pair, tmp_path):
    db = Db(pair.settings.database.url)
    async with db.sm() as s, s.begin():
        for code, head in HOSTILE_HEADS.items():
            await s.execute(update(Household).where(Household.code == code).values(head_name=head))
        await s.execute(update(Member).where(Member.code == HOSTILE_MEMBER[0]).values(name=HOSTILE_MEMBER[1]))
        await s.execute(update(Branch).values(roster_version=Branch.roster_version + 1))  # drop cached rows
    # chat text starting like a formula, with a phone number in several forms
    for n, form in enumerate(MOBILE_FORMS):
        await resident_says(pair, f"wmh00{n + 1}x7Qe", f'=HYPERLINK("http://x","点我") 路灯坏了 电话{form}')
    await pair.emulator.say("chenjianguo", BRANCH, AT + "受理 诉求1")
    await pair.emulator.say("zhangwei", BRANCH, AT + '调整联户 H011 王丽 =HYPERLINK("http://x")')
    await pair.emulator.say("chenjianguo", BRANCH, AT + "同意 调整1")

    month = dt.datetime.now(TZ).strftime("%Y-%m")
    paths = []
    async with db.sm() as s:
        branch = (await s.execute(select(Branch))).scalar_one()
        for kind in KINDS:
            paths.append(await export(s, kind, branch, month, tmp_path / f"{kind}.xlsx"))
        rf = await export_roster(s, branch.id)
    await db.close()
    write_roster_xlsx(rf, tmp_path / "roster.xlsx")
    paths.append(tmp_path / "roster.xlsx")

    texts: list[str] = []
    for path in paths:
        wb = openpyxl.load_workbook(path)  # formulas kept as formulas: data_type "f"
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    where = f"{path.name} {ws.title}!{cell.coordinate}"
                    assert cell.data_type != "f", f"formula in {where}: {cell.value!r}"
                    if isinstance(cell.value, str):
                        assert not cell.value.startswith(TRIGGERS), f"live text in {where}: {cell.value!r}"
                        texts.append(cell.value)
    joined = "\n".join(texts)
    # the hostile text is there, as text: the test exercised what it claims
    assert '\'=HYPERLINK("http://x","点我")' in joined
    assert "'@SUM(1+1)" in joined and "'+cmd|' /C calc'!A0" in joined
    for form in MOBILE_FORMS:
        assert form not in joined, f"unmasked {form}"
    assert "138****5678" in joined

    # the roster file is read back unchanged: the apostrophe is ours and the import removes it
    back = load_roster(tmp_path / "roster.xlsx")
    heads = {h.code: h.head_name for h in back.households}
    assert {code: heads[code] for code in HOSTILE_HEADS} == HOSTILE_HEADS
    assert {m.code: m.name for m in back.members}[HOSTILE_MEMBER[0]] == HOSTILE_MEMBER[1]
