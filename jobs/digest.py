"""The Tuesday digest (周二联合办公): what came in this week, what is open by age, what is due or overdue, wishes to
publish and open 八必访 — privately to the branch heads with names, to the 一级 group as counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jobs.context import STATE_ORDER, JobContext, hh_label, level1_group, md, post_group, send_private
from storage import rhythm
from storage.models import Branch, Matter


def digest_period(fire_local: dt.datetime) -> str:
    y, w, _ = fire_local.date().isocalendar()
    return f"{y}-W{w:02d}"


def _state_lines(d: rhythm.Digest) -> list[str]:
    out = []
    for kind, label in (("request", "诉求"), ("wish", "心愿")):
        states = {st: n for (k, st), n in d.new_by_state.items() if k == kind}
        if states:
            order = sorted(states, key=lambda st: (STATE_ORDER.index(st) if st in STATE_ORDER else 99, st))
            out.append(f"- 新{label} {sum(states.values())} 件：" + "，".join(f"{st} {states[st]}" for st in order))
    return out


def digest_group_text(branch: Branch, d: rhythm.Digest) -> str:
    lines = [f"**{branch.name} 周二联合办公 · {md(d.today)}**", "本周新登记："]
    lines += _state_lines(d) or ["- 无"]
    if d.open_by_age:
        lines.append(
            "在办事项（按已过天数）："
            + "，".join(f"{label} {d.open_by_age[label]} 件" for _, label in rhythm.AGE_BUCKETS if d.open_by_age[label])
        )
    lines.append(f"7 天内到期 {len(d.due_soon)} 件，已超期 {len(d.overdue)} 件；八必访待上门 {len(d.tasks_open)} 户。")
    public = [w for w in d.wishes_to_publish if not w.sensitive]
    if public:
        lines.append("**待认领的微心愿**（愿意帮忙的同志回复“认领心愿N”）：")
        lines += [f"- {rhythm.matter_ref(w)}：{w.summary[:60]}" for w in public]
    return "\n".join(lines)


def digest_private_text(branch: Branch, d: rhythm.Digest) -> str:
    name = {m.id: m.name for m in d.members.values()}
    lines = [f"**{branch.name} 周二联合办公摘要 · {md(d.today)}**（仅您可见）", "本周新登记："]
    lines += _state_lines(d) or ["- 无"]
    if d.open_by_age:
        lines.append(
            "在办事项："
            + "，".join(f"{label} {d.open_by_age[label]} 件" for _, label in rhythm.AGE_BUCKETS if d.open_by_age[label])
        )

    def item(m: Matter) -> str:
        who = name.get(m.assignee_id or 0, "未派单")
        return (
            f"- {rhythm.matter_ref(m)}：{m.summary[:40]}（{m.state}，{who}，期限 {md(m.due_date)}）"
            if m.due_date
            else f"- {rhythm.matter_ref(m)}：{m.summary[:40]}（{m.state}，{who}）"
        )

    if d.overdue:
        lines.append(f"**已超期（{len(d.overdue)} 件）**")
        lines += [item(m) for m in d.overdue]
    if d.due_soon:
        lines.append(f"7 天内到期（{len(d.due_soon)} 件）：")
        lines += [item(m) for m in d.due_soon]
    if d.wishes_to_publish:
        lines.append(f"待发布认领的心愿（{len(d.wishes_to_publish)} 个）：")
        lines += [
            f"- {rhythm.matter_ref(w)}：{w.summary[:40]}" + ("（敏感，不在群里发布）" if w.sensitive else "")
            for w in d.wishes_to_publish
        ]
    if d.tasks_open:
        lines.append(f"八必访待上门（{len(d.tasks_open)} 户）：")
        for t, h, m in d.tasks_open:
            lines.append(f"- {hh_label(h)}：{m.name if m else '无联系党员'}，{md(rhythm.local_date(t.created_at))}起")
    return "\n".join(lines)


async def run_digest(jc: JobContext) -> dict[str, Any]:
    s, b = jc.session, jc.branch
    d = await rhythm.digest(s, b.id, jc.today)
    detail: dict[str, Any] = {"empty": d.empty, "secretaries": 0, "group_parts": 0}
    if d.empty:
        return detail  # nothing new, nothing open: no message at all
    to = set(jc.settings.schedule.digest_to)
    if "secretary" in to:
        text = digest_private_text(b, d)
        for sec in await rhythm.secretaries(s, b.id):
            if await send_private(jc, sec, text, f"digest:{b.id}:{jc.period}:m{sec.id}"):
                detail["secretaries"] += 1
    if "group" in to and (group := await level1_group(s, b.id)) is not None:
        detail["group_parts"] = await post_group(jc, group, digest_group_text(b, d), f"digest:{b.id}:{jc.period}")
    return detail
