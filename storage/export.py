"""Ledgers out as xlsx (`lianhu export`): 走访台账, 诉求/心愿台账, 亮相公示, 积分表 and the monthly summary.

Headers in Chinese, column widths set, dates as real Excel dates (local time, Asia/Shanghai). What is public
stays public-safe: the 亮相公示 sheet (door plaques, notice board) lists household heads only — no key-household
types, no phones, no addresses; the internal ledgers mark a key household as 是 without its type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.duties import DEFAULT as DUTIES
from domain.privacy import mask
from storage import points, policy, repo, rhythm
from storage.models import AuditEvent, Branch, Grid, Household, Link, Matter, MatterEvent, Member, PointsEntry, Visit
from storage.sheet_safety import neutralise, neutralise_workbook

KINDS: dict[str, str] = {
    "visits": "走访台账",
    "matters": "诉求心愿台账",
    "pledge": "亮相公示",
    "points": "积分表",
    "summary": "月度汇总",
    "escalated": "上报清单",
    "audit": "变更记录",
}
ALIASES = {v: k for k, v in KINDS.items()} | {
    "诉求台账": "matters",
    "心愿台账": "matters",
    "积分": "points",
    "走访": "visits",
    "亮相": "pledge",
    "汇总": "summary",
    "上报": "escalated",
    "审计": "audit",
}
DATE_FMT = "yyyy-mm-dd"
DATETIME_FMT = "yyyy-mm-dd hh:mm"
HEADER_FILL = PatternFill("solid", fgColor="FDE9E7")


@dataclass(frozen=True)
class Col:
    title: str
    width: float
    fmt: str | None = None


def _local(ts: dt.datetime | None) -> dt.datetime | None:
    """Excel has no time zones: write local wall time."""
    if ts is None:
        return None
    return rhythm.aware(ts).astimezone(rhythm.TZ).replace(tzinfo=None, microsecond=0)


def _sheet(wb: Workbook, title: str, cols: Sequence[Col], rows: Iterable[Sequence[Any]], *, first: bool = False):
    ws = wb.active if first else wb.create_sheet()
    assert ws is not None
    ws.title = title
    ws.append([c.title for c in cols])
    for i, c in enumerate(cols, 1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        ws.column_dimensions[get_column_letter(i)].width = c.width
    for row in rows:
        ws.append([neutralise(v) for v in row])
        r = ws.max_row
        for i, c in enumerate(cols, 1):
            cell = ws.cell(row=r, column=i)
            if c.fmt:
                cell.number_format = c.fmt
            if c.width >= 30:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    return ws


def _yes(flag: bool) -> str:
    return "是" if flag else ""


async def _grid_names(s: AsyncSession, branch_id: int) -> dict[int, str]:
    return {g.id: g.name for g in await s.scalars(select(Grid).where(Grid.branch_id == branch_id))}


# --- 走访台账 -----------------------------------------------------------------------------------------------
async def visits_workbook(s: AsyncSession, branch: Branch, month: str) -> Workbook:
    start, end = repo.month_bounds(month)
    grids = await _grid_names(s, branch.id)
    rows = (
        await s.execute(
            select(Visit, Member, Household)
            .join(Member, Member.id == Visit.member_id)
            .join(Household, Household.id == Visit.household_id)
            .where(Visit.branch_id == branch.id, Visit.visit_date >= start, Visit.visit_date < end)
            .order_by(Visit.visit_date, Member.code, Household.code)
        )
    ).all()
    duties = await policy.duties_by_visit(s, [v.id for v, _, _ in rows])  # 五联到户 (storage/policy.py)
    wb = Workbook()
    _sheet(
        wb,
        "走访台账",
        [
            Col("走访日期", 12, DATE_FMT),
            Col("党员编号", 10),
            Col("党员", 10),
            Col("户编号", 10),
            Col("户主", 10),
            Col("地址", 22),
            Col("网格", 10),
            Col("重点户", 8),
            Col("记录人", 14),
            Col("登记时间", 18, DATETIME_FMT),
            Col("联户内容", 24),
        ],
        (
            [
                v.visit_date,
                m.code,
                m.name,
                h.code,
                h.head_name,
                h.address,
                grids.get(h.grid_id or 0, ""),
                _yes(bool(h.key_type_set)),
                v.recorded_by,
                _local(v.created_at),
                "、".join(duties.get(v.id, [])),
            ]
            for v, m, h in rows
        ),
        first=True,
    )
    unvisited = await repo.unvisited(s, branch.id, month)
    _sheet(
        wb,
        "未走访户",
        [Col("党员编号", 10), Col("党员", 10), Col("户编号", 10), Col("户主", 10), Col("地址", 22), Col("重点户", 8)],
        (
            [
                u.member.code,
                u.member.name,
                u.household.code,
                u.household.head_name,
                u.household.address,
                _yes(bool(u.household.key_type_set)),
            ]
            for u in unvisited
        ),
    )
    return wb


# --- 诉求/心愿台账 ----------------------------------------------------------------------------------------------
async def matters_workbook(s: AsyncSession, branch: Branch, month: str) -> Workbook:
    start_d, end_d = repo.month_bounds(month)
    start, end = rhythm.day_start(start_d), rhythm.day_start(end_d)
    touched = select(MatterEvent.matter_id).where(MatterEvent.at >= start, MatterEvent.at < end)
    matters = list(
        await s.scalars(
            select(Matter)
            .where(
                Matter.branch_id == branch.id,
                Matter.created_at < end,
                or_(
                    Matter.created_at >= start,
                    Matter.id.in_(touched),
                    Matter.closed_at.is_(None),
                    Matter.closed_at >= start,
                ),
            )
            .order_by(Matter.kind, Matter.number)
        )
    )
    ids = [m.id for m in matters]
    events = list(
        await s.scalars(
            select(MatterEvent).where(MatterEvent.matter_id.in_(ids or [0])).order_by(MatterEvent.at, MatterEvent.id)
        )
    )
    members = {m.id: m for m in await s.scalars(select(Member).where(Member.branch_id == branch.id))}
    by_userid = {m.userid: m.name for m in members.values() if m.userid}
    hh = await rhythm.households_by_id(s, {m.household_id for m in matters if m.household_id})
    history: dict[int, list[str]] = {}
    for e in events:
        t = _local(e.at)
        assert t is not None
        history.setdefault(e.matter_id, []).append(
            f"{t:%m-%d %H:%M} {e.action}：{e.from_state or '—'}→{e.to_state}（{by_userid.get(e.actor, e.actor)}）"
        )

    def name(mid: int | None) -> str:
        return members[mid].name if mid in members else ""

    def overdue(m: Matter) -> bool:
        if m.due_date is None:
            return False
        done = rhythm.local_date(m.closed_at) if m.closed_at else None
        return (done or end_d - dt.timedelta(days=1)) > m.due_date

    wb = Workbook()
    _sheet(
        wb,
        "诉求心愿",
        [
            Col("编号", 9),
            Col("类型", 6),
            Col("类别", 10),
            Col("户主", 10),
            Col("联系党员", 10),
            Col("内容", 36),
            Col("状态", 8),
            Col("承办人", 10),
            Col("办理期限", 12, DATE_FMT),
            Col("登记时间", 17, DATETIME_FMT),
            Col("办结时间", 17, DATETIME_FMT),
            Col("群众评价", 9),
            Col("超期", 6),
            Col("状态记录", 48),
        ],
        (
            [
                rhythm.matter_ref(m),
                "诉求" if m.kind == "request" else "心愿",
                m.category,
                hh[m.household_id].head_name if m.household_id in hh else "",
                name(m.member_id),
                m.summary,
                m.state,
                name(m.assignee_id),
                m.due_date,
                _local(m.created_at),
                _local(m.closed_at),
                m.rating or "",
                _yes(overdue(m)),
                "\n".join(history.get(m.id, [])),
            ]
            for m in matters
        ),
        first=True,
    )
    ref = {m.id: rhythm.matter_ref(m) for m in matters}
    _sheet(
        wb,
        "状态记录",
        [
            Col("编号", 9),
            Col("时间", 17, DATETIME_FMT),
            Col("动作", 8),
            Col("原状态", 9),
            Col("新状态", 9),
            Col("操作人", 12),
            Col("备注", 40),
        ],
        (
            [
                ref[e.matter_id],
                _local(e.at),
                e.action,
                e.from_state or "",
                e.to_state,
                by_userid.get(e.actor, e.actor),
                e.note,
            ]
            for e in events
        ),
    )
    return wb


# --- 亮相公示 -------------------------------------------------------------------------------------------------
async def pledge_workbook(s: AsyncSession, branch: Branch, month: str) -> Workbook:
    """For door plaques and the notice board: who links whom. Household heads' names only."""
    grids = await _grid_names(s, branch.id)
    members = [m for m in await rhythm.branch_members(s, branch.id) if m.status != rhythm.EXEMPT]
    linked: dict[int, list[Household]] = {}
    for mid, h in (
        await s.execute(
            select(Link.member_id, Household)
            .join(Household, Household.id == Link.household_id)
            .where(Link.branch_id == branch.id, Link.valid_to.is_(None), Household.active)
            .order_by(Household.code)
        )
    ).all():
        linked.setdefault(mid, []).append(h)
    public_roles = ("书记", "委员", "中心户", "网格员")
    pledges = await policy.current_pledges(s, branch.id)  # 先锋承诺, as the member last said it
    wb = Workbook()
    _sheet(
        wb,
        "亮相公示",
        [
            Col("党员", 10),
            Col("职务/身份", 14),
            Col("网格", 10),
            Col("先锋承诺", 36),
            Col("联系户数", 9),
            Col("联系户", 48),
        ],
        (
            [
                m.name,
                "、".join(r for r in m.roles.split(";") if r in public_roles) or "党员",
                grids.get(m.grid_id or 0, ""),
                pledges.get(m.id, ""),
                len(linked.get(m.id, [])),
                "、".join(h.head_name for h in linked.get(m.id, [])),
            ]
            for m in members
        ),
        first=True,
    )
    ws = wb["亮相公示"]
    ws.append([])
    ws.append([f"{branch.name} 党员联户亮相公示（{month}），先锋承诺由党员本人填写，欢迎群众监督。"])
    return wb


# --- 积分表 -------------------------------------------------------------------------------------------------
RULE_COLUMNS = ("visit", "key_visit", "rating", "must_visit", "overdue")


async def points_workbook(s: AsyncSession, branch: Branch, month: str) -> Workbook:
    start_d, end_d = repo.month_bounds(month)
    start, end = rhythm.day_start(start_d), rhythm.day_start(end_d)
    y0, _ = points.year_bounds(start_d.year)
    by_rule = await points.totals_by_rule(s, branch.id, start, end)
    ytd = dict((m.id, t) for m, t in await points.ranking(s, branch.id, y0, end, include_exempt=True))
    members = await rhythm.branch_members(s, branch.id)
    wb = Workbook()
    cols = [Col("党员编号", 10), Col("党员", 10), Col("状态", 8)]
    cols += [Col(points.RULE_LABELS[r], 12) for r in RULE_COLUMNS]
    cols += [Col("本月合计", 10), Col(f"{start_d.year}年累计", 12)]
    _sheet(
        wb,
        "积分表",
        cols,
        (
            [
                m.code,
                m.name,
                m.status,
                *[by_rule.get(m.id, {}).get(r, 0) for r in RULE_COLUMNS],
                sum(by_rule.get(m.id, {}).values()),
                ytd.get(m.id, 0),
            ]
            for m in members
        ),
        first=True,
    )
    names = {m.id: m.name for m in members}
    entries = await s.scalars(
        select(PointsEntry)
        .where(PointsEntry.branch_id == branch.id, PointsEntry.at >= start, PointsEntry.at < end)
        .order_by(PointsEntry.at, PointsEntry.id)
    )
    _sheet(
        wb,
        "积分明细",
        [Col("日期", 12, DATE_FMT), Col("党员", 10), Col("规则", 14), Col("分值", 8), Col("原因", 40)],
        (
            [
                rhythm.local_date(e.at),
                names.get(e.member_id, ""),
                points.RULE_LABELS.get(e.rule, e.rule),
                e.points,
                e.cause,
            ]
            for e in entries
        ),
    )
    return wb


# --- 月度汇总 -----------------------------------------------------------------------------------------------
async def summary_workbook(s: AsyncSession, branch: Branch, month: str, *, today: dt.date | None = None) -> Workbook:
    r = await rhythm.month_report(s, branch, month, today=today or dt.date.today())
    req, wm, w, t = r.requests, r.wish_stats_matters, r.wishes, r.tasks

    def ratio(a: int, b: int) -> float | None:
        return a / b if b else None

    wb = Workbook()
    ratings = req.ratings + wm.ratings
    n_rated = sum(ratings.values())
    overview = [
        ("联系户（应走访）", r.households_due, None),
        ("已走访户", r.households_visited, None),
        ("走访覆盖率", ratio(r.households_visited, r.households_due), "0%"),
        ("重点户", r.key_due, None),
        ("重点户已走访", r.key_visited, None),
        ("重点户覆盖率", ratio(r.key_visited, r.key_due), "0%"),
        ("八必访新触发", t.raised, None),
        ("八必访已上门", t.visited, None),
        ("八必访平均上门天数", round(t.avg_days, 1) if t.avg_days is not None else None, None),
        ("诉求新登记", req.new, None),
        ("诉求办结", req.closed, None),
        ("诉求月底在办", req.open_at_end, None),
        ("诉求超期", req.overdue, None),
        ("诉求办结率", req.close_rate, "0%"),
        (
            "诉求办结用时中位数（天）",
            round(req.median_close_days, 1) if req.median_close_days is not None else None,
            None,
        ),
        ("心愿新收集", w.collected, None),
        ("心愿认领", w.claimed, None),
        ("心愿实现", w.fulfilled, None),
        ("群众评价件数", n_rated, None),
        ("满意率", ratio(ratings["满意"] + ratings["基本满意"], n_rated), "0%"),
        ("本月积分变动合计", r.points_total, None),
    ]
    ws = _sheet(wb, "概况", [Col("指标", 26), Col("数值", 12)], ((k, v) for k, v, _ in overview), first=True)
    for i, (_, _, fmt) in enumerate(overview, 2):
        if fmt:
            ws.cell(row=i, column=2).number_format = fmt
    ws.insert_rows(1)
    ws["A1"] = f"{branch.name} {month} 党员联户月度汇总"
    ws["A1"].font = Font(bold=True, size=13)
    ws.freeze_panes = "A3"
    duty_names = [*DUTIES.names, *sorted({n for c in r.duty_counts.values() for n in c} - set(DUTIES.names))]
    _sheet(
        wb,
        "党员走访",
        [
            Col("党员编号", 10),
            Col("党员", 10),
            Col("状态", 8),
            Col("联系户", 8),
            Col("已走访户", 9),
            Col("走访次数", 9),
            Col("重点户", 8),
            Col("重点户已走访", 12),
            Col("覆盖率", 9, "0%"),
            Col("本月积分", 9),
            *[Col(n, 9) for n in duty_names],  # 五联到户: visits that did each duty (issue 17)
        ],
        (
            [
                mm.member.code,
                mm.member.name,
                mm.member.status,
                len(mm.households),
                len(mm.visited_ids),
                mm.visits,
                mm.key_due,
                mm.key_visited,
                ratio(len(mm.visited_ids), len(mm.households)),
                r.points_by_member.get(mm.member.id, 0),
                *[r.duty_counts.get(mm.member.id, {}).get(n, 0) for n in duty_names],
            ]
            for mm in r.members
        ),
    )
    _sheet(
        wb,
        "未走访户",
        [Col("党员", 10), Col("户编号", 10), Col("户主", 10), Col("重点户", 8)],
        ([mm.member.name, h.code, h.head_name, _yes(bool(h.key_type_set))] for mm in r.members for h in mm.unvisited),
    )
    _sheet(
        wb,
        "诉求心愿",
        [
            Col("类型", 8),
            Col("新登记", 8),
            Col("办结", 8),
            Col("月底在办", 9),
            Col("超期", 8),
            Col("满意", 8),
            Col("基本满意", 9),
            Col("不满意", 8),
        ],
        [
            (
                label,
                st.new,
                st.closed,
                st.open_at_end,
                st.overdue,
                st.ratings["满意"],
                st.ratings["基本满意"],
                st.ratings["不满意"],
            )
            for label, st in (("诉求", req), ("心愿", wm))
        ],
    )
    return wb


# --- 上报清单: what the village passes up to the township's 四个平台 / 12345 ----------------------------------------
async def escalated_workbook(s: AsyncSession, branch: Branch, month: str) -> Workbook:
    """Every matter escalated and not yet closed, plus those escalated in the month (whatever their state)."""
    start_d, end_d = repo.month_bounds(month)
    start, end = rhythm.day_start(start_d), rhythm.day_start(end_d)
    up = list(await s.scalars(select(MatterEvent).where(MatterEvent.action == "上报").order_by(MatterEvent.at)))
    ids = {e.matter_id for e in up if start <= rhythm.aware(e.at) < end}
    matters = list(
        await s.scalars(
            select(Matter)
            .where(Matter.branch_id == branch.id, or_(Matter.state == "已上报", Matter.id.in_(ids or [0])))
            .order_by(Matter.number)
        )
    )
    when = {e.matter_id: e for e in up}
    people = list(await s.scalars(select(Member).where(Member.branch_id == branch.id)))
    members = {m.id: m.name for m in people}
    names = {m.userid: m.name for m in people if m.userid}
    hh = await rhythm.households_by_id(s, {m.household_id for m in matters if m.household_id})
    wb = Workbook()
    _sheet(
        wb,
        "上报清单",
        [
            Col("编号", 9),
            Col("类别", 10),
            Col("户主", 10),
            Col("地址", 18),
            Col("内容", 40),
            Col("上报去向", 14),
            Col("上报时间", 17, DATETIME_FMT),
            Col("上报人", 10),
            Col("联系党员", 10),
            Col("现在状态", 9),
        ],
        (
            [
                rhythm.matter_ref(m),
                m.category,
                hh[m.household_id].head_name if m.household_id in hh else "",
                hh[m.household_id].address if m.household_id in hh else "",
                m.summary,
                m.escalated_to,
                _local(when[m.id].at) if m.id in when else None,
                names.get(when[m.id].actor, when[m.id].actor) if m.id in when else "",
                members.get(m.member_id or 0, ""),
                m.state,
            ]
            for m in matters
        ),
        first=True,
    )
    return wb


# --- 变更记录: the audit trail of the month (matters, links, imports) --------------------------------------
async def audit_workbook(s: AsyncSession, branch: Branch, month: str) -> Workbook:
    start_d, end_d = repo.month_bounds(month)
    start, end = rhythm.day_start(start_d), rhythm.day_start(end_d)
    by_userid = {
        m.userid: m.name for m in await s.scalars(select(Member).where(Member.branch_id == branch.id)) if m.userid
    }
    events = (
        await s.execute(
            select(MatterEvent, Matter)
            .join(Matter, Matter.id == MatterEvent.matter_id)
            .where(Matter.branch_id == branch.id, MatterEvent.at >= start, MatterEvent.at < end)
            .order_by(MatterEvent.at, MatterEvent.id)
        )
    ).all()
    audits = list(
        await s.scalars(
            select(AuditEvent)
            .where(AuditEvent.branch_id == branch.id, AuditEvent.at >= start, AuditEvent.at < end)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )
    rows = [
        (
            _local(e.at),
            rhythm.matter_ref(m),
            e.action,
            f"{e.from_state or '—'}→{e.to_state}",
            by_userid.get(e.actor, e.actor),
            e.note,
        )
        for e, m in events
    ]
    rows += [
        (
            _local(a.at),
            a.subject,
            a.action,
            "",
            by_userid.get(a.actor, a.actor),
            "；".join(f"{k}={v}" for k, v in (a.detail or {}).items()),
        )
        for a in audits
    ]
    rows.sort(key=lambda r: r[0] or dt.datetime.min)
    wb = Workbook()
    _sheet(
        wb,
        "变更记录",
        [
            Col("时间", 17, DATETIME_FMT),
            Col("对象", 12),
            Col("动作", 12),
            Col("状态变化", 14),
            Col("操作人", 12),
            Col("说明", 44),
        ],
        rows,
        first=True,
    )
    return wb


BUILDERS = {
    "visits": visits_workbook,
    "matters": matters_workbook,
    "pledge": pledge_workbook,
    "points": points_workbook,
    "summary": summary_workbook,
    "escalated": escalated_workbook,
    "audit": audit_workbook,
}


def kind_of(name: str) -> str | None:
    return name if name in KINDS else ALIASES.get(name)


async def export(s: AsyncSession, kind: str, branch: Branch, month: str, path: str | Path, **options: Any) -> Path:
    """`options` go to the builder (the policy sheets take the branch's PolicyOptions as `options=`)."""
    wb = await BUILDERS[kind](s, branch, month, **options)
    # whatever a builder wrote: people's text as inert strings, phone and ID numbers masked
    neutralise_workbook(wb, mask)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


# policy articles 3, 8, 9 (issue 17): 责任清单, 意见推荐, 考评表, 锋领候选 — built in storage/export_policy.py
from storage import export_policy  # noqa: E402  (it uses the helpers above)

KINDS.update(export_policy.KINDS)
ALIASES.update(export_policy.ALIASES)
BUILDERS.update(export_policy.BUILDERS)
