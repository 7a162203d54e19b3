"""What the branch's rhythm says: the 主题党日 summary, the Tuesday digest, reminders, points and the year-end
list. Each job reads the database, writes outbox rows (with idempotency keys) in its own transaction and
returns a small detail dict for the JobRun row; the scheduler (bot/scheduler.py) decides when.

Privacy and the 2024 减负 rules shape the wording: the group sees counts, never key-household types or household
names; reminders and lists of people go privately, and only to people who have something to do.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings, policy_options
from domain.duties import count_line as duty_line
from handlers import common
from storage import matters, outbox, points, policy, rhythm
from storage.models import Branch, ChatGroup, Household, JobRun, Matter, Member, OutboundMessage

MARKDOWN_MAX = 4096  # webhook markdown content, bytes (wecom-platform.md §3)
STATE_ORDER = tuple(matters.STATES)  # display order of states = the lifecycle order in storage/matters.py


@dataclass
class JobContext:
    session: AsyncSession
    settings: Settings
    branch: Branch
    period: str
    now: dt.datetime  # aware

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.schedule.timezone)

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.tz).date()


# --- small helpers ------------------------------------------------------------------------------------------
def nbytes(s: str) -> int:
    return len(s.encode("utf-8"))


def split_markdown(text: str, limit: int = MARKDOWN_MAX) -> list[str]:
    """Cut at line ends into parts of at most `limit` UTF-8 bytes; a part notes it continues."""
    room = limit - nbytes("\n（续）") - 16
    parts: list[str] = []
    cur: list[str] = []
    size = 0
    for line in text.split("\n"):
        while nbytes(line) > room:  # one very long line: cut on a character boundary
            cut = line.encode("utf-8")[:room].decode("utf-8", errors="ignore")
            if cur:
                parts.append("\n".join(cur))
                cur, size = [], 0
            parts.append(cut)
            line = line[len(cut) :]
        extra = nbytes(line) + (1 if cur else 0)
        if cur and size + extra > room:
            parts.append("\n".join(cur))
            cur, size = [], 0
            extra = nbytes(line)
        cur.append(line)
        size += extra
    if cur:
        parts.append("\n".join(cur))
    if len(parts) > 1:
        parts = [p + f"\n（{i}/{len(parts)}）" for i, p in enumerate(parts, 1)]
    return parts


def pct(a: int, b: int) -> str:
    return f"{round(100 * a / b)}%" if b else "—"


def month_label(month: str) -> str:
    y, m = month.split("-")
    return f"{y}年{int(m)}月"


md = common.md  # one way to write a date and a household, in chat and in jobs alike
hh_label = common.household_label


async def key_taken(s: AsyncSession, key: str) -> bool:
    return bool(await s.scalar(select(OutboundMessage.id).where(OutboundMessage.idempotency_key == key).limit(1)))


async def send_private(jc: JobContext, member: Member, text: str, key: str) -> bool:
    """Queue a private message once per key (the JobRun row already keeps a job from running twice; this
    guards a job that is re-run by hand for the same period)."""
    if not member.userid or await key_taken(jc.session, key):
        return False
    row = outbox.enqueue(jc.session, channel="app", target=member.userid, content=text, key=key, branch_id=jc.branch.id)
    row.created_at = jc.now
    return True


async def post_group(jc: JobContext, group: ChatGroup, text: str, key: str) -> int:
    """Post markdown into the 一级 group, split to WeCom's size limit. Returns parts queued."""
    n = 0
    for i, part in enumerate(split_markdown(text), 1):
        k = f"{key}:p{i}"
        if await key_taken(jc.session, f"{k}:webhook") or await key_taken(jc.session, f"{k}:aibot"):
            continue
        for row in await outbox.enqueue_group_post(jc.session, group, part, key=k, branch_id=jc.branch.id):
            row.created_at = jc.now
        n += 1
    return n


async def level1_group(s: AsyncSession, branch_id: int) -> ChatGroup | None:
    return (
        await s.execute(
            select(ChatGroup)
            .where(ChatGroup.branch_id == branch_id, ChatGroup.level == 1, ChatGroup.internal)
            .order_by(ChatGroup.webhook_key.is_(None), ChatGroup.id)
            .limit(1)
        )
    ).scalar_one_or_none()


async def last_sent_at(s: AsyncSession, prefix: str) -> dt.datetime | None:
    row = (
        await s.execute(
            select(OutboundMessage.created_at)
            .where(OutboundMessage.idempotency_key.like(prefix + "%"))
            .order_by(OutboundMessage.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return rhythm.aware(row) if row is not None else None


# --- 主题党日 summary -------------------------------------------------------------------------------------------
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
    from bot import charts

    s, b, month = jc.session, jc.branch, jc.period
    report = await rhythm.month_report(s, b, month, today=jc.today)
    detail: dict[str, Any] = {"month": month, "group_parts": 0, "image": False, "members": 0}
    group = await level1_group(s, b.id)
    if group is not None:
        detail["group_parts"] = await post_group(jc, group, group_summary_text(report), f"summary:{b.id}:{month}")
        key = f"summary:{b.id}:{month}:chart"
        if group.webhook_key and not await key_taken(s, key):
            # tens of ms of CPU (bot/charts.py): off the event loop all the same
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


# --- Tuesday digest ---------------------------------------------------------------------------------------------
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


# --- reminders --------------------------------------------------------------------------------------------------
def day_period(fire_local: dt.datetime) -> str:
    return fire_local.date().isoformat()


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


# --- points -----------------------------------------------------------------------------------------------------
def rules_from(settings: Settings) -> points.PointsRules:
    """The configured values of every rule PointsRules knows (the settings also hold non-rule keys)."""
    p = settings.points
    return points.PointsRules(**{f.name: getattr(p, f.name) for f in dataclasses.fields(points.PointsRules)})


async def run_points(jc: JobContext) -> dict[str, Any]:
    """Scan what happened since shortly before the last run (late-recorded visits included); the first run
    scans everything. cause_key makes the overlap harmless."""
    last = await jc.session.scalar(
        select(JobRun.period)
        .where(JobRun.job == f"points:{jc.branch.id}", JobRun.status == "done")
        .order_by(JobRun.period.desc())
        .limit(1)
    )
    since = dt.date.fromisoformat(last) - dt.timedelta(days=40) if last else None
    added = await points.sync_points(
        jc.session, jc.branch.id, rules=rules_from(jc.settings), today=jc.today, since=since
    )
    return {"added": added, "since": since.isoformat() if since else None}


# --- year end ---------------------------------------------------------------------------------------------------
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
    options = policy_options(jc.settings)
    points_rows = rows
    rows = await policy.year_end_below(s, b.id, year, threshold, options, as_of=jc.today, fallback=rows)
    text = year_end_text(b, year, threshold, rows, jc.today)
    if rows is not points_rows:
        text += "\n（按村党组织评分和联系户评分合成的年度综合分，明细见“考评表”：lianhu export assessment）"
    sent = 0
    for sec in await rhythm.secretaries(s, b.id):
        sent += await send_private(jc, sec, text, f"year_end:{b.id}:{year}:m{sec.id}")
    return {"below": [m.code for m, _ in rows], "secretaries": sent}
