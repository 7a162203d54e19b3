"""Policy sheets out and in (issue 17): the branch's 责任清单 for the 党务公开栏, 把关意见 and 推荐 for the 党员大会,
the 考评表, the 锋领党员 / 示范网格 candidates (secretary only), and the secretary's 考评 import sheet.

Registered into storage/export.py's KINDS/BUILDERS (so `lianhu export duties` etc. work); the helpers come from
there, imported when a builder runs so that either module may be imported first.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain import policy as rules
from domain.policy import PolicyOptions
from storage import policy, repo, rhythm
from storage.models import Assessment, Branch, Matter, Member, MemberOpinion, Nomination
from storage.roster_file import Problem, RosterError

KINDS: dict[str, str] = {
    "duties": "责任清单",
    "opinions": "意见推荐",
    "assessment": "考评表",
    "candidates": "锋领候选",
}
ALIASES = {v: k for k, v in KINDS.items()} | {"五联到户": "duties", "把关意见": "opinions", "推荐": "opinions"}


def _x():
    from storage import export

    return export


# --- 责任清单 (article 3: posted in the 党务公开栏 after the 党员大会) -------------------------------------------
async def duties_workbook(
    s: AsyncSession, branch: Branch, month: str, options: PolicyOptions | None = None
) -> Workbook:
    x = _x()
    catalog = (options or PolicyOptions()).catalog
    wb = Workbook()
    ws = x._sheet(
        wb,
        "责任清单",
        [x.Col("序号", 6), x.Col("类别", 8), x.Col("职责", 20), x.Col("内容", 60), x.Col("记录简称", 10)],
        (
            [i, "共性清单" if d.common else "个性清单", d.title, d.description, d.name]
            for i, d in enumerate(catalog.duties, 1)
        ),
        first=True,
    )
    ws.insert_rows(1)
    ws["A1"] = f"{branch.name} 党员联户责任清单（共性清单“五联到户”+ 个性清单）"
    ws.freeze_panes = "A3"
    return wb


# --- 把关意见 and 推荐 (article 8), for the 党员大会 -----------------------------------------------------------------
async def opinions_workbook(
    s: AsyncSession, branch: Branch, month: str, options: PolicyOptions | None = None
) -> Workbook:
    """Opinions asked or given in the month, and nominations made in it."""
    x = _x()
    start_d, end_d = repo.month_bounds(month)
    start, end = rhythm.day_start(start_d), rhythm.day_start(end_d)
    members = {m.id: m for m in await s.scalars(select(Member).where(Member.branch_id == branch.id))}
    rows = (
        await s.execute(
            select(MemberOpinion, Matter)
            .join(Matter, Matter.id == MemberOpinion.matter_id)
            .where(MemberOpinion.branch_id == branch.id)
            .order_by(Matter.number)
        )
    ).all()
    rows = [
        (o, m)
        for o, m in rows
        if start <= rhythm.aware(o.asked_at) < end or (o.given_at and start <= rhythm.aware(o.given_at) < end)
    ]
    hh = await rhythm.households_by_id(s, {m.household_id for _, m in rows if m.household_id})
    wb = Workbook()
    x._sheet(
        wb,
        "把关意见",
        [
            x.Col("编号", 9),
            x.Col("户主", 10),
            x.Col("事项", 40),
            x.Col("联系党员", 10),
            x.Col("征求时间", 17, x.DATETIME_FMT),
            x.Col("意见", 8),
            x.Col("理由", 36),
            x.Col("发表时间", 17, x.DATETIME_FMT),
            x.Col("事项状态", 9),
        ],
        (
            [
                rhythm.matter_ref(m),
                hh[m.household_id].head_name if m.household_id in hh else "",
                m.summary,
                members[o.member_id].name if o.member_id in members else "",
                x._local(o.asked_at),
                o.opinion or "未发表",
                o.reason,
                x._local(o.given_at),
                m.state,
            ]
            for o, m in rows
        ),
        first=True,
    )
    noms = await s.scalars(
        select(Nomination)
        .where(Nomination.branch_id == branch.id, Nomination.created_at >= start, Nomination.created_at < end)
        .order_by(Nomination.created_at, Nomination.id)
    )
    x._sheet(
        wb,
        "推荐",
        [
            x.Col("时间", 17, x.DATETIME_FMT),
            x.Col("推荐人", 10),
            x.Col("被推荐人", 10),
            x.Col("推荐为", 12),
            x.Col("是否本支部党员", 14),
            x.Col("理由", 44),
        ],
        (
            [
                x._local(n.created_at),
                members[n.nominated_by].name if n.nominated_by in members else "",
                n.nominee,
                n.kind,
                x._yes(n.nominee_member_id is not None),
                n.reason,
            ]
            for n in noms
        ),
    )
    return wb


# --- 考评表 (article 9) --------------------------------------------------------------------------------------------
def _year(month: str) -> int:
    return int(month[:4])


def _as_of(year: int) -> dt.date:
    today = dt.datetime.now(rhythm.TZ).date()
    return today if today.year == year else dt.date(year, 12, 31)


async def assessment_workbook(
    s: AsyncSession, branch: Branch, month: str, options: PolicyOptions | None = None
) -> Workbook:
    x = _x()
    options = options or PolicyOptions()
    year = _year(month)
    rows = await policy.year_scores(s, branch.id, year, options, as_of=_as_of(year))
    entered: dict[int, dict[str, float]] = defaultdict(dict)
    for a in await s.scalars(
        select(Assessment).where(Assessment.branch_id == branch.id, Assessment.period.like(f"{year}%"))
    ):
        entered[a.member_id][a.period] = a.score
    w = options.weights
    wb = Workbook()
    ws = x._sheet(
        wb,
        "考评表",
        [
            x.Col("党员编号", 10),
            x.Col("党员", 10),
            x.Col("网格", 10),
            *[x.Col(f"第{q}季度", 9) for q in "一二三四"],
            x.Col("全年评分", 9),
            x.Col("村党组织评分", 12),
            x.Col("联系户评分", 11),
            x.Col("评价件数", 9),
            x.Col("综合分", 9),
            x.Col("走访覆盖率", 11, "0%"),
            x.Col("年终预警", 9),
        ],
        (
            [
                r.member.code,
                r.member.name,
                r.grid,
                *[entered[r.member.id].get(f"{year}Q{q}") for q in range(1, 5)],
                entered[r.member.id].get(str(year)),
                _round(r.branch),
                _round(r.households),
                r.ratings,
                r.combined,
                r.coverage,
                x._yes(r.combined is not None and r.combined < options.year_end_threshold),
            ]
            for r in rows
        ),
        first=True,
    )
    ws.append([])
    ws.append(
        [
            f"综合分 = 村党组织评分×{w.get('branch', 0):g} + 联系户评分×{w.get('households', 0):g}（按权重加权平均；"
            "没有群众评价的只看村党组织评分；未录入村党组织评分的没有综合分）。"
            "村党组织评分：有全年评分用全年评分，否则取已录入季度的平均。"
        ]
    )
    return wb


def _round(v: float | None) -> float | None:
    return round(v, 1) if v is not None else None


# --- 锋领党员 / 示范网格 candidates: the secretary's, never for a group ------------------------------------------
async def candidates_workbook(
    s: AsyncSession, branch: Branch, month: str, options: PolicyOptions | None = None
) -> Workbook:
    x = _x()
    options = options or PolicyOptions()
    year = _year(month)
    rows = await policy.year_scores(s, branch.id, year, options, as_of=_as_of(year))
    members, grids = policy.candidates(rows, options)
    wb = Workbook()
    x._sheet(
        wb,
        "锋领党员候选",
        [x.Col("名次", 6), x.Col("党员", 10), x.Col("网格", 10), x.Col("综合分", 9), x.Col("走访覆盖率", 11, "0%")],
        ([i, r.member.name, r.grid, r.combined, r.coverage] for i, r in enumerate(members, 1)),
        first=True,
    )
    x._sheet(
        wb,
        "示范网格候选",
        [
            x.Col("名次", 6),
            x.Col("网格", 12),
            x.Col("党员数", 8),
            x.Col("平均综合分", 11),
            x.Col("走访覆盖率", 11, "0%"),
        ],
        ([i, g.grid, g.members, g.mean, g.coverage] for i, g in enumerate(grids, 1)),
    )
    ws = wb["锋领党员候选"]
    ws.append([])
    ws.append([f"{branch.name} {year}年 候选名单，仅供支部研究，不在群里公布。"])
    return wb


BUILDERS = {
    "duties": duties_workbook,
    "opinions": opinions_workbook,
    "assessment": assessment_workbook,
    "candidates": candidates_workbook,
}


# --- the secretary's 考评 sheet in ----------------------------------------------------------------------------
SHEET = "考评"
COLUMNS = ("党员编号", "期间", "村党组织评分")


@dataclass
class AssessmentSheet:
    title: str
    code_letter: str | None
    rows: list[tuple[int, str, str, float]]  # (spreadsheet row, 党员编号, period, score)


def read_assessment_sheet(path: str | Path) -> AssessmentSheet:
    """(row, 党员编号, period, score) from sheet 考评 (or the only sheet). Every problem is reported with its sheet,
    row and column, and nothing is returned unless all rows are good."""
    path = Path(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise RosterError([Problem(path.name, None, None, None, f"无法读取 Excel 文件：{exc}")]) from exc
    try:
        ws = wb[SHEET] if SHEET in wb.sheetnames else (wb.worksheets[0] if len(wb.worksheets) == 1 else None)
        if ws is None:
            raise RosterError([Problem(SHEET, None, None, None, "缺少这个工作表")])
        raw = [list(r) for r in ws.iter_rows(values_only=True)]
        title = ws.title
    finally:
        wb.close()
    header = [str(h).strip() if h is not None else "" for h in (raw[0] if raw else [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RosterError([Problem(title, 1, c, None, "缺少这一列") for c in missing])
    col = {c: header.index(c) for c in COLUMNS}
    letter = {c: get_column_letter(i + 1) for c, i in col.items()}
    problems: list[Problem] = []
    out: list[tuple[int, str, str, float]] = []
    seen: dict[tuple[str, str], int] = {}
    for n, values in enumerate(raw[1:], start=2):
        v: dict[str, Any] = {c: values[i] if i < len(values) else None for c, i in col.items()}
        if all(x is None or str(x).strip() == "" for x in v.values()):
            continue

        def bad(c: str, msg: str, n: int = n) -> None:
            problems.append(Problem(title, n, c, letter[c], msg))

        code = str(v["党员编号"]).strip() if v["党员编号"] is not None else ""
        if not code:
            bad("党员编号", "不能为空")
        period = rules.parse_period(str(v["期间"]).strip()) if v["期间"] is not None else None
        if period is None:
            bad("期间", f"“{v['期间'] if v['期间'] is not None else ''}”应写成 2026Q4（季度）或 2026（全年）")
        try:
            score = float(v["村党组织评分"])
            if not 0 <= score <= 100:
                bad("村党组织评分", f"{score:g} 不在 0–100 之间")
        except (TypeError, ValueError):
            bad("村党组织评分", f"“{v['村党组织评分'] if v['村党组织评分'] is not None else ''}”不是分数")
            score = 0.0
        if code and period:
            if (code, period) in seen:
                bad("党员编号", f"{code} 的 {period} 与第{seen[(code, period)]}行重复")
            seen[(code, period)] = n
            out.append((n, code, period, score))
    if problems:
        raise RosterError(problems)
    return AssessmentSheet(title, letter["党员编号"], out)


async def import_assessments(s: AsyncSession, branch: Branch, sheet: AssessmentSheet, *, actor: str) -> int:
    """Write the rows in the caller's transaction; an unknown 党员编号 fails the whole sheet."""
    members = {m.code: m for m in await s.scalars(select(Member).where(Member.branch_id == branch.id, Member.active))}
    unknown = [
        Problem(sheet.title, n, "党员编号", sheet.code_letter, f"本支部没有党员编号 {code}")
        for n, code, _, _ in sheet.rows
        if code not in members
    ]
    if unknown:
        raise RosterError(unknown)
    now = dt.datetime.now(dt.UTC)
    for _, code, period, score in sheet.rows:
        await policy.set_assessment(s, members[code], period, score, actor=actor, now=now)
    return len(sheet.rows)
