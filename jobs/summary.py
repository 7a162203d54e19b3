"""The 主题党日 summary: on each branch's theme day of month M, the figures of month M-1 go to the 一级 group (counts
only, with a chart) and each member gets their own part privately (their unvisited households, open 八必访, open
items). The figures come from storage/rhythm.py (month_report); what counts is decided in domain/report.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from typing import Any

from domain.duties import count_line as duty_line
from jobs.context import (
    JobContext,
    hh_label,
    key_taken,
    level1_group,
    md,
    month_label,
    pct,
    post_group,
    send_private,
)
from storage import outbox, rhythm


def summary_period(fire_local: dt.datetime) -> str:
    """Posted on the theme day of month M, it covers month M-1; the period is the month covered."""
    return rhythm.previous_month(rhythm.month_of(fire_local.date()))


def group_summary_text(r: rhythm.MonthReport) -> str:
    req, wm, w, t = r.requests, r.wish_stats_matters, r.wishes, r.tasks
    lines = [
        f"**{r.branch.name} {month_label(r.month)}党员联户情况**（主题党日交流）",
        f"> 走访覆盖：联系户 {r.households_visited}/{r.households_due} 户"
        f"（{pct(r.households_visited, r.households_due)}），"
        f"重点户 {r.key_visited}/{r.key_due} 户（{pct(r.key_visited, r.key_due)}）",
        f"> 八必访：新触发 {t.raised} 件，已上门 {t.visited} 件"
        + (f"，平均 {t.avg_days:.1f} 天上门" if t.avg_days is not None else "")
        + f"，尚未上门 {t.open_now} 件",
        f"> 诉求：新登记 {req.new} 件，办结 {req.closed} 件，月底在办 {req.open_at_end} 件，超期 {req.overdue} 件"
        + (f"，办结率 {req.close_rate:.0%}" if req.close_rate is not None else ""),
        f"> 心愿：新收集 {w.collected} 个，认领 {w.claimed} 个，实现 {w.fulfilled} 个，超期 {wm.overdue} 个",
    ]
    if duties := duty_line(sum(r.duty_counts.values(), Counter())):  # 五联到户 (issue 17)
        lines.append(f"> 五联到户：{duties}")
    ratings = req.ratings + wm.ratings
    if sum(ratings.values()):
        n = sum(ratings.values())
        sat = (ratings["满意"] + ratings["基本满意"]) / n
        lines.append(
            f"> 群众评价 {n} 件：满意 {ratings['满意']}，基本满意 {ratings['基本满意']}，"
            f"不满意 {ratings['不满意']}（满意率 {sat:.0%}）"
        )
    if req.median_close_days is not None:
        lines.append(f"> 诉求办结用时中位数 {req.median_close_days:.1f} 天")
    if r.points_total:
        lines.append(f"> 本月积分变动合计 {r.points_total:+d} 分（明细各自查看：发“我的积分”）")
    lines.append("")
    lines.append("**各党员走访情况**（已走访户/联系户，走访次数）")
    for mm in r.members:
        if not mm.households and not mm.visits:
            continue
        due = len(mm.households)
        lines.append(f"- {mm.member.name}：{len(mm.visited_ids)}/{due} 户，{mm.visits} 次")
    exempt = [mm.member.name for mm in r.members if mm.member.status == rhythm.EXEMPT]
    if exempt:
        lines.append(f"- 免联户：{'、'.join(exempt)}")
    lines.append("")
    lines.append("各位的未走访户和待办事项已私信本人。")
    return "\n".join(lines)


def member_part_text(r: rhythm.MonthReport, mm: rhythm.MemberMonth, today: dt.date) -> str | None:
    """A member's own part of the summary: unvisited households, open 八必访, open items. None: nothing to say."""
    m = mm.member
    unvisited = mm.unvisited
    tasks = r.open_tasks.get(m.id, [])
    items = r.open_matters.get(m.id, [])
    if not (mm.households or tasks or items):
        return None
    lines = [f"**{m.name}同志，{month_label(r.month)}您的联户情况**"]
    if mm.households:
        lines.append(f"联系户 {len(mm.households)} 户，已走访 {len(mm.visited_ids)} 户，走访 {mm.visits} 次。")
    if duties := duty_line(r.duty_counts.get(m.id, Counter())):
        lines.append(f"五联到户：{duties}。")
    if unvisited:
        lines.append(f"{month_label(r.month)}未走访（{len(unvisited)} 户）：")
        for h in unvisited:
            kt = "、".join(sorted(h.key_type_set))
            lines.append(f"- {hh_label(h)}" + (f"【重点户：{kt}，每月至少走访一次】" if kt else ""))
    elif mm.households:
        lines.append("联系户都走访到了，谢谢！")
    if tasks:
        lines.append(f"八必访待上门（{len(tasks)} 户）：")
        for ot in tasks:
            lines.append(f"- {hh_label(ot.household)}，{md(rhythm.local_date(ot.task.created_at))}起")
    if items:
        lines.append(f"您负责的未办结事项（{len(items)} 件）：")
        for it in items:
            due = ""
            if it.due_date is not None:
                due = f"，{'已超期' if it.due_date < today else '期限'} {md(it.due_date)}"
            lines.append(f"- {rhythm.matter_ref(it)}：{it.summary[:40]}（{it.state}{due}）")
    return "\n".join(lines)


async def run_summary(jc: JobContext) -> dict[str, Any]:
    from jobs import charts  # matplotlib loads only when a summary is actually drawn, not at every start-up

    s, b, month = jc.session, jc.branch, jc.period
    report = await rhythm.month_report(s, b, month, today=jc.today)
    detail: dict[str, Any] = {"month": month, "group_parts": 0, "image": False, "members": 0}
    group = await level1_group(s, b.id)
    if group is not None:
        detail["group_parts"] = await post_group(jc, group, group_summary_text(report), f"summary:{b.id}:{month}")
        key = f"summary:{b.id}:{month}:chart"
        if group.webhook_key and not await key_taken(s, key):
            # tens of ms of CPU (jobs/charts.py): off the event loop all the same
            png = await asyncio.get_running_loop().run_in_executor(None, charts.summary_chart, report)
            row = outbox.enqueue(
                s,
                channel="webhook",
                target=group.webhook_key,
                msgtype="image",
                content=f"[图表] {b.name} {month_label(month)}党员联户情况",
                key=key,
                branch_id=b.id,
                payload=charts.image_payload(png),
            )
            row.created_at = jc.now
            detail["image"] = True
            detail["image_bytes"] = len(png)
    for mm in report.members:
        text = member_part_text(report, mm, jc.today)
        if text and await send_private(jc, mm.member, text, f"summary:{b.id}:{month}:m{mm.member.id}"):
            detail["members"] += 1
    detail["households_due"] = report.households_due
    detail["households_visited"] = report.households_visited
    return detail
