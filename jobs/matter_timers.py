"""Time limits of 诉求/心愿 (commands.md): first response within 24 h of 已登记, a reminder to the assignee the day
before the due date, and 回访 — asking the household for a rating — the day after 办结. (Overdue items are in
the reminders job.) Each notice has its own idempotency key, so an hourly job never repeats one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from domain.time import aware
from jobs.context import JobContext, key_taken, send_private
from storage import matters as mt
from storage.models import Household, Matter, Member
from storage.outbox import tell_household
from storage.rhythm import secretaries  # the 书记, or the 委员 when there is none (domain/roles.py)


def hour_period(fire_local: dt.datetime) -> str:
    return fire_local.strftime("%Y-%m-%dT%H")


async def run_matter_timers(jc: JobContext) -> dict[str, Any]:
    cfg = jc.settings.matters
    s, b = jc.session, jc.branch
    out = {"respond": 0, "due_soon": 0, "followup": 0}
    rows = list(await s.scalars(select(Matter).where(Matter.branch_id == b.id, Matter.state_type != "closed")))

    late = [
        m for m in rows if m.state == "已登记" and jc.now - aware(m.created_at) >= dt.timedelta(hours=cfg.respond_hours)
    ]
    if late:
        text = (
            f"以下事项登记已超过 {cfg.respond_hours} 小时还没有受理：\n"
            + "\n".join(f"- {mt.ref(m)}：{m.summary[:30]}" for m in late)
            + "\n受理请回复“受理 诉求N”。"
        )
        key = "timer:respond:" + ",".join(str(m.id) for m in late)
        for sec in await secretaries(s, b.id):
            out["respond"] += await send_private(jc, sec, text, f"{key}:{sec.id}")

    soon = jc.today + dt.timedelta(days=cfg.remind_before_days)
    for m in rows:
        if m.state == "承办中" and m.due_date == soon and m.assignee_id:
            who = await s.get(Member, m.assignee_id)
            if who is not None:
                text = (
                    f"{mt.ref(m)} 将于 {m.due_date.month}月{m.due_date.day}日到期：{m.summary[:40]}。"
                    f"办好后回复“办结 {mt.ref(m)} 结果”。"
                )
                out["due_soon"] += await send_private(jc, who, text, f"timer:due:{m.id}:{m.due_date.isoformat()}")

    for m in rows:
        if m.state != "已办结" or m.rating_asked_at is not None or m.closed_at is None:
            continue
        if jc.now - aware(m.closed_at) < dt.timedelta(days=cfg.followup_days):
            continue
        key = f"timer:followup:{m.id}:{aware(m.closed_at).isoformat()}"
        if await key_taken(s, key) or await key_taken(s, f"{key}:via-member"):
            continue
        household = await s.get(Household, m.household_id) if m.household_id else None
        text = f"您反映的 {mt.ref(m)}（{m.summary[:30]}）已经办结。办得怎么样？请回复 满意 / 基本满意 / 不满意。"
        if household is None:
            reporter = (await s.execute(select(Member).where(Member.userid == m.reporter))).scalar_one_or_none()
            if reporter is None or not await send_private(jc, reporter, text, key):
                continue
        elif await tell_household(s, household, text, now=jc.now, key=key) == "none":
            continue
        m.rating_asked_at = jc.now  # asked once; a later 不满意 → 重开 → 办结 asks again (new closed_at)
        out["followup"] += 1
    return out
