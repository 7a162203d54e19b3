"""The year-end list: members whose points for the year are below the threshold, privately to the branch heads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.policy import options_from
from jobs.context import JobContext, md, send_private
from jobs.points import rules_from
from storage import points, policy, rhythm
from storage.models import Branch, Member


def year_period(fire_local: dt.datetime) -> str:
    return str(fire_local.year)


def year_end_text(branch: Branch, year: int, threshold: int, rows: list[tuple[Member, int]], as_of: dt.date) -> str:
    if not rows:
        return (
            f"**{branch.name} {year}年党员积分**（截至{md(as_of)}，仅您可见）\n"
            f"没有积分低于 {threshold} 分的党员（免联户党员不计）。"
        )
    lines = [f"**{branch.name} {year}年积分低于 {threshold} 分的党员**（截至{md(as_of)}，仅您可见）"]
    lines += [f"- {m.name}：{total} 分" for m, total in rows]
    lines.append("按支部的积分制管理办法，年终低于该分数的党员需启动警示帮扶；请结合支部评分和实际情况研究。")
    return "\n".join(lines)


async def run_year_end(jc: JobContext) -> dict[str, Any]:
    s, b = jc.session, jc.branch
    year = int(jc.period)
    # post what happened up to today first, so the list is current
    await points.sync_points(s, b.id, rules=rules_from(jc.settings), today=jc.today, since=dt.date(year, 1, 1))
    threshold = jc.settings.points.year_end_threshold
    rows = await points.below_threshold(s, b.id, year, threshold)
    # issue 17: once the branch has entered 村党组织评分 for the year, the list is by the combined score
    points_rows = rows
    rows = await policy.year_end_below(
        s, b.id, year, threshold, options_from(jc.settings), as_of=jc.today, fallback=rows
    )
    text = year_end_text(b, year, threshold, rows, jc.today)
    if rows is not points_rows:
        text += "\n（按村党组织评分和联系户评分合成的年度综合分，明细见“考评表”：lianhu export assessment）"
    sent = 0
    for sec in await rhythm.secretaries(s, b.id):
        sent += await send_private(jc, sec, text, f"year_end:{b.id}:{year}:m{sec.id}")
    return {"below": [m.code for m, _ in rows], "secretaries": sent}
