"""Daily reminders: a member's households not yet visited this month (from `remind_from_day` on, every
`remind_every_days`), and overdue items — to their owner and, as a list, to the branch heads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jobs.context import JobContext, hh_label, last_sent_at, md, send_private
from storage import rhythm
from storage.models import Household, Matter, Member


def unvisited_reminder_text(member: Member, households: list[Household], today: dt.date) -> str:
    key = [h for h in households if h.key_type_set]
    lines = [
        f"{member.name}同志，{today.month}月还有 {len(households)} 户没走访到"
        + (f"，其中重点户 {len(key)} 户（每月至少上门一次）" if key else "")
        + "："
    ]
    for h in households:
        kt = "、".join(sorted(h.key_type_set))
        lines.append(f"- {hh_label(h)}" + (f"【重点户：{kt}】" if kt else ""))
    lines.append("走访后发一句“今天走访了某某”即可记录；已经去过的，补一句“X日走访了某某”。")
    return "\n".join(lines)


def overdue_text(title: str, items: list[Matter], names: dict[int, str], today: dt.date) -> str:
    lines = [title]
    for m in items:
        assert m.due_date is not None
        who = names.get(m.assignee_id or m.member_id or 0, "未派单")
        lines.append(
            f"- {rhythm.matter_ref(m)}：{m.summary[:40]}（{m.state}，{who}，期限 {md(m.due_date)}，"
            f"已超 {(today - m.due_date).days} 天）"
        )
    return "\n".join(lines)


async def run_reminders(jc: JobContext) -> dict[str, Any]:
    s, b, today, cfg = jc.session, jc.branch, jc.today, jc.settings.schedule
    every = dt.timedelta(days=max(1, cfg.remind_every_days))
    detail: dict[str, Any] = {"unvisited": 0, "overdue": 0}

    async def recently(prefix: str) -> bool:
        last = await last_sent_at(s, prefix)
        return last is not None and jc.now - last < every - dt.timedelta(hours=1)

    if today.day >= cfg.remind_from_day:
        for member, households in await rhythm.unvisited_by_member(s, b.id, rhythm.month_of(today)):
            prefix = f"remind:unvisited:{member.id}:{rhythm.month_of(today)}:"
            if not households or await recently(prefix):
                continue
            if await send_private(
                jc, member, unvisited_reminder_text(member, households, today), prefix + today.isoformat()
            ):
                detail["unvisited"] += 1

    overdue = await rhythm.overdue_matters(s, b.id, today)
    if overdue:
        members = {m.id: m for m in await rhythm.branch_members(s, b.id)}
        names = {i: m.name for i, m in members.items()}
        secs = await rhythm.secretaries(s, b.id)
        by_owner: dict[int, list[Matter]] = {}
        for m in overdue:
            owner = m.assignee_id or m.member_id
            if owner is not None:
                by_owner.setdefault(owner, []).append(m)
        for owner_id, items in by_owner.items():
            owner = members.get(owner_id)
            if owner is None or owner in secs:
                continue  # the secretary's own items are in the branch list below
            prefix = f"remind:overdue:{owner_id}:"
            if await recently(prefix):
                continue
            text = (
                overdue_text(f"{owner.name}同志，您负责的 {len(items)} 件事项已超过办理期限：", items, names, today)
                + "\n办好后请回复“诉求N 已办结”；需要延期请和书记说明。"
            )
            if await send_private(jc, owner, text, prefix + today.isoformat()):
                detail["overdue"] += 1
        for sec in secs:
            prefix = f"remind:overdue-branch:{sec.id}:"
            if await recently(prefix):
                continue
            text = overdue_text(f"本支部有 {len(overdue)} 件事项超过办理期限：", overdue, names, today)
            if await send_private(jc, sec, text, prefix + today.isoformat()):
                detail["overdue"] += 1
    return detail
