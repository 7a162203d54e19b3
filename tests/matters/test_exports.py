"""The township's 上报清单 and the secretary's audit trail (变更记录) open in Excel and hold the right rows."""

from __future__ import annotations

import datetime as dt

import openpyxl
from sqlalchemy import select

from handlers.context import TZ
from storage.export import export
from storage.models import Branch
from tests.matters.helpers import AT, BRANCH, Db, resident_says


async def test_escalation_list_and_audit_trail(pair, tmp_path):
    await resident_says(pair, "wmh020x7Qe", "村后山塘的堤坝有裂缝，怕下雨出事")
    await resident_says(pair, "wmh011x7Qe", "门口路灯坏了")
    await pair.emulator.say("chenjianguo", BRANCH, AT + "上报 诉求1 镇四个平台")
    await pair.emulator.say("chenjianguo", BRANCH, AT + "受理 诉求2")
    await pair.emulator.say("zhangwei", BRANCH, AT + "调整联户 H011 王丽 搬家了")
    await pair.emulator.say("chenjianguo", BRANCH, AT + "同意 调整1")
    month = dt.datetime.now(TZ).strftime("%Y-%m")
    db = Db(pair.settings.database.url)
    async with db.sm() as s:
        branch = (await s.execute(select(Branch))).scalar_one()
        up = await export(s, "escalated", branch, month, tmp_path / "up.xlsx")
        audit = await export(s, "audit", branch, month, tmp_path / "audit.xlsx")
    await db.close()

    ws = openpyxl.load_workbook(up)["上报清单"]
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == 1
    ref, _category, head, _addr, summary, dest, when, who, member, state = rows[0]
    assert (ref, head, dest, who, member, state) == ("诉求1", "张美玲", "镇四个平台", "陈建国", "王丽", "已上报")
    assert "堤坝" in summary and isinstance(when, dt.datetime)

    ws = openpyxl.load_workbook(audit)["变更记录"]
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True)]
    actions = [(r[1], r[2], r[4]) for r in rows]
    assert ("诉求1", "上报", "陈建国") in actions and ("诉求2", "受理", "陈建国") in actions
    assert ("H011", "link_change", "陈建国") in actions
    assert all(isinstance(r[0], dt.datetime) for r in rows)
