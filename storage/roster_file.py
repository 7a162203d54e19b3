"""Reading and writing the branch roster file: the xlsx cadres keep (sheets 党员, 联系户, 群聊, 组织) or the CSV set.

Format: ../shared/fixtures/README.md. Reading validates everything and reports every problem with sheet, row,
column and what is wrong, before anything touches the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from nlp import roster as nlp_roster
from storage import xlsx_read
from storage.sheet_safety import neutralise_workbook, unquote
from storage.xlsx_read import XlsxLimit, read_xlsx

MEMBER_COLUMNS = ["党员编号", "姓名", "企业微信账号", "性别", "出生年份", "网格", "角色", "状态", "中心户编号", "备注"]
HOUSEHOLD_COLUMNS = [
    "户编号", "户主姓名", "性别", "出生年份", "地址", "网格", "联系党员编号", "重点户类型", "别称", "外部联系人ID",
]  # fmt: skip
GROUP_COLUMNS = ["群聊ID", "群名称", "层级", "党员编号", "内部群", "机器人Webhook"]
ORG_COLUMNS = ["党组织", "主题党日"]

SHEET_MEMBERS, SHEET_HOUSEHOLDS, SHEET_GROUPS, SHEET_ORG = "党员", "联系户", "群聊", "组织"

ROLES = ("书记", "委员", "中心户", "网格员", "党员")
STATUSES = ("在村", "外出", "流动", "免联户")
KEY_TYPES = ("困难家庭", "危重病人", "空巢老人", "留守儿童")
GENDERS = ("男", "女")
LEVELS = {"一级": 1, "二级": 2}
YES_NO = {"是": True, "否": False}


def _limits() -> dict[tuple[str, str], int]:
    """(sheet, column) → the most characters its database column holds: checked on read, named in the error."""
    from storage.models import Branch, ChatGroup, Grid, Household, Member

    def n(col: Any) -> int:
        return int(col.type.length)

    m, h, g = Member.__table__.c, Household.__table__.c, ChatGroup.__table__.c
    grid = n(Grid.__table__.c.name)
    return {
        ("党员", "党员编号"): n(m.code), ("党员", "姓名"): n(m.name), ("党员", "企业微信账号"): n(m.userid),
        ("党员", "性别"): n(m.gender), ("党员", "出生年份"): 10, ("党员", "网格"): grid, ("党员", "角色"): n(m.roles),
        ("党员", "状态"): n(m.status), ("党员", "中心户编号"): n(m.code), ("党员", "备注"): n(m.note),
        ("联系户", "户编号"): n(h.code), ("联系户", "户主姓名"): n(h.head_name), ("联系户", "性别"): n(h.gender),
        ("联系户", "出生年份"): 10, ("联系户", "地址"): n(h.address), ("联系户", "网格"): grid,
        ("联系户", "联系党员编号"): n(m.code), ("联系户", "重点户类型"): n(h.key_types),
        ("联系户", "别称"): n(h.aliases), ("联系户", "外部联系人ID"): n(h.external_userid),
        ("群聊", "群聊ID"): n(g.chat_id), ("群聊", "群名称"): n(g.name), ("群聊", "层级"): 10,
        ("群聊", "党员编号"): n(m.code), ("群聊", "内部群"): 10, ("群聊", "机器人Webhook"): n(g.webhook_key),
        ("组织", "党组织"): n(Branch.__table__.c.name), ("组织", "主题党日"): 20,
    }  # fmt: skip


COLUMN_LIMITS = _limits()

# The policy's ratios (article 2): a member links 5–20 households; a 中心户 leads 5–15 members.
LINKS_PER_MEMBER = (5, 20)
MEMBERS_PER_LEADER = (5, 15)


@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int | None
    column: str | None  # header name
    letter: str | None  # spreadsheet column letter
    message: str

    def __str__(self) -> str:
        where = self.sheet
        if self.row is not None:
            where += f" 第{self.row}行"
        if self.column:
            where += f" {self.letter}列（{self.column}）" if self.letter else f"（{self.column}）"
        return f"{where}：{self.message}"


class RosterError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class MemberRow:
    row: int
    code: str
    name: str
    userid: str | None
    gender: str
    birth_year: int | None
    grid: str
    roles: tuple[str, ...]
    status: str
    leader_code: str | None
    note: str
    pledge: str = ""  # optional column 先锋承诺 (issue 17); empty = leave the member's pledge as it is


@dataclass(frozen=True)
class HouseholdRow:
    row: int
    code: str
    head_name: str
    gender: str
    birth_year: int | None
    address: str
    grid: str
    member_code: str | None
    key_types: tuple[str, ...]
    aliases: tuple[str, ...]
    external_userid: str | None


@dataclass(frozen=True)
class GroupRow:
    row: int
    chat_id: str
    name: str
    level: int
    member_code: str | None
    internal: bool
    webhook_key: str | None


@dataclass
class RosterFile:
    branch_name: str | None
    theme_day: int | None
    members: list[MemberRow]
    households: list[HouseholdRow]
    groups: list[GroupRow]
    warnings: list[str] = field(default_factory=list)

    def to_nlp_roster(self) -> nlp_roster.Roster:
        return nlp_roster.Roster(
            members=tuple(
                nlp_roster.Member(
                    id=m.code,
                    name=m.name,
                    userid=m.userid or "",
                    gender=m.gender,
                    birth_year=m.birth_year,
                    roles=m.roles,
                    status=m.status,
                )
                for m in self.members
            ),
            households=tuple(
                nlp_roster.Household(
                    id=h.code,
                    head_name=h.head_name,
                    gender=h.gender,
                    birth_year=h.birth_year,
                    address=h.address,
                    grid=h.grid,
                    member_id=h.member_code,
                    key_types=h.key_types,
                    aliases=h.aliases,
                    external_userid=h.external_userid,
                )
                for h in self.households
            ),
        )


# ---------------------------------------------------------------------------------------------------------------
# raw tables


class _Vals:
    """One row's values by header, without a dict per row (a county roster has a quarter million rows)."""

    __slots__ = ("index", "values")

    def __init__(self, index: dict[str, int], values: list[Any]) -> None:
        self.index, self.values = index, values

    def get(self, column: str) -> Any:
        j = self.index.get(column)
        return self.values[j] if j is not None and j < len(self.values) else None


@dataclass
class _Table:
    sheet: str
    header: list[str]
    rows: list[tuple[int, _Vals]]  # (spreadsheet row number, values by header)

    def letter(self, column: str) -> str | None:
        return get_column_letter(self.header.index(column) + 1) if column in self.header else None


def _cell(v: Any) -> Any:
    if isinstance(v, str):
        v = unquote(v.strip())  # the apostrophe our own export put before formula-like text
        return v or None
    return v


def _table_from_rows(sheet: str, raw: list[list[Any]]) -> _Table:
    """Rows (the first one the header) into a table; `raw` is emptied as it goes, so only one copy is alive."""
    if not raw:
        return _Table(sheet, [], [])
    header = [str(_cell(h) or "") for h in raw[0]]
    index: dict[str, int] = {}
    for j, h in enumerate(header):
        if h and h not in index:
            index[h] = j
    rows = []
    for i in range(1, len(raw)):
        vals = [_cell(v) for v in raw[i]]
        raw[i] = []
        if all(v is None for v in vals):
            continue
        rows.append((i + 1, _Vals(index, vals)))
    raw.clear()
    return _Table(sheet, header, rows)


def _read_xlsx(path: Path) -> dict[str, _Table]:
    try:
        sheets = read_xlsx(path)
    except XlsxLimit as exc:
        where = f"{exc.column}列" if exc.column else ""
        raise RosterError([Problem(exc.sheet or path.name, exc.row, None, None, f"{where}{exc}")]) from exc
    except Exception as exc:  # not a zip, not an xlsx, broken XML
        raise RosterError([Problem(path.name, None, None, None, f"无法读取 Excel 文件：{exc}")]) from exc
    return {title: _table_from_rows(title, sheets[title]) for title in list(sheets)}


def _read_csv(path: Path) -> list[list[Any]]:
    """The same limits as an xlsx (storage/xlsx_read.py): file size, rows, characters per cell."""
    size = path.stat().st_size
    if size > xlsx_read.MAX_UNPACKED_BYTES:
        limit = xlsx_read.MAX_UNPACKED_BYTES // (1024 * 1024)
        raise RosterError(
            [Problem(path.name, None, None, None, f"文件 {size // (1024 * 1024)} MB，超过上限 {limit} MB")]
        )
    rows: list[list[Any]] = []
    n = 0
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            for n, row in enumerate(csv.reader(f), start=1):
                if n > xlsx_read.MAX_ROWS:
                    msg = f"超过 {xlsx_read.MAX_ROWS} 行的上限，拒绝读取"
                    raise RosterError([Problem(path.name, n, None, None, msg)])
                for j, cell in enumerate(row):
                    if len(cell) > xlsx_read.MAX_CELL_CHARS:
                        limit = xlsx_read.MAX_CELL_CHARS
                        msg = f"{get_column_letter(j + 1)}列单元格有 {len(cell)} 个字符，超过上限 {limit} 个字符"
                        raise RosterError([Problem(path.name, n, None, None, msg)])
                rows.append(row)
    except csv.Error as exc:  # e.g. a field past csv's own limit (131 072 characters)
        msg = f"有超过 {xlsx_read.MAX_CELL_CHARS} 个字符的单元格或格式错误，拒绝读取（{exc}）"
        raise RosterError([Problem(path.name, n + 1, None, None, msg)]) from exc
    except UnicodeDecodeError as exc:
        raise RosterError([Problem(path.name, None, None, None, "无法读取 CSV 文件：不是 UTF-8 编码")]) from exc
    return rows


def _csv_sibling(members_csv: Path, kind: str) -> Path:
    stem = members_csv.name
    if not stem.endswith("_members.csv"):
        raise RosterError([Problem(stem, None, None, None, "CSV 名册的文件名应为 *_members.csv")])
    return members_csv.with_name(stem[: -len("_members.csv")] + f"_{kind}.csv")


def _read_tables(path: Path) -> dict[str, _Table]:
    if not path.exists():
        raise RosterError([Problem(path.name, None, None, None, "文件不存在")])
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if path.suffix.lower() == ".csv":
        tables = {SHEET_MEMBERS: _table_from_rows(SHEET_MEMBERS, _read_csv(path))}
        hh = _csv_sibling(path, "households")
        if not hh.exists():
            raise RosterError([Problem(hh.name, None, None, None, "找不到对应的联系户 CSV")])
        tables[SHEET_HOUSEHOLDS] = _table_from_rows(SHEET_HOUSEHOLDS, _read_csv(hh))
        for kind, sheet in (("groups", SHEET_GROUPS), ("org", SHEET_ORG)):
            p = _csv_sibling(path, kind)
            if p.exists():
                tables[sheet] = _table_from_rows(sheet, _read_csv(p))
        return tables
    raise RosterError([Problem(path.name, None, None, None, "只支持 .xlsx 或 *_members.csv")])


# ---------------------------------------------------------------------------------------------------------------
# validation


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def bad(self, t: _Table, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(t.sheet, row, column, t.letter(column) if column else None, message))

    def columns(self, t: _Table, required: list[str]) -> bool:
        missing = [c for c in required if c not in t.header]
        for c in missing:
            self.problems.append(Problem(t.sheet, 1, c, None, "缺少这一列"))
        return not missing

    def text(self, t: _Table, row: int, vals: _Vals, column: str, required: bool = False) -> str | None:
        v = vals.get(column)
        if v is None:
            if required:
                self.bad(t, row, column, "不能为空")
            return None
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        v = str(v)
        limit = COLUMN_LIMITS.get((t.sheet, column))
        if limit is not None and len(v) > limit:
            self.bad(t, row, column, f"有 {len(v)} 个字符，超过这一列的上限 {limit} 个字符")
            return v[:limit]
        return v

    def year(self, t: _Table, row: int, vals: _Vals, column: str) -> int | None:
        v = vals.get(column)
        if v is None:
            return None
        try:
            y = int(float(v)) if not isinstance(v, int) else v
        except (TypeError, ValueError):
            self.bad(t, row, column, f"“{v}”不是年份")
            return None
        if not 1900 <= y <= dt.date.today().year:
            self.bad(t, row, column, f"年份 {y} 不合理")
            return None
        return y

    def choice(
        self, t: _Table, row: int, vals: _Vals, column: str, allowed: tuple[str, ...], required: bool = False
    ) -> str:
        v = self.text(t, row, vals, column, required)
        if v is None:
            return ""
        if v not in allowed:
            self.bad(t, row, column, f"“{v}”不是可用的值（可用：{'、'.join(allowed)}）")
        return v

    def multi(self, t: _Table, row: int, vals: _Vals, column: str, allowed: tuple[str, ...] | None) -> tuple[str, ...]:
        v = self.text(t, row, vals, column)
        if not v:
            return ()
        items = tuple(x.strip() for x in re.split(r"[;；,，、]", v) if x.strip())
        if allowed is not None:
            for x in items:
                if x not in allowed:
                    self.bad(t, row, column, f"“{x}”不是可用的值（可用：{'、'.join(allowed)}）")
        return items

    def unique(self, t: _Table, column: str, values: list[tuple[int, str | None]], what: str) -> None:
        counts = Counter(v for _, v in values if v)
        for row, v in values:
            if v and counts[v] > 1:
                self.bad(t, row, column, f"{what}“{v}”重复")


PLEDGE_COLUMN, PLEDGE_MAX = "先锋承诺", 200


def _pledge(ck: _Checker, t: _Table, row: int, vals: dict[str, Any]) -> str:
    text = " ".join((ck.text(t, row, vals, PLEDGE_COLUMN) or "").split())
    if len(text) > PLEDGE_MAX:
        ck.bad(t, row, PLEDGE_COLUMN, f"先锋承诺太长（{len(text)} 字，最多 {PLEDGE_MAX} 字）")
    return text


def _parse_theme_day(v: str | None) -> int | None:
    if not v:
        return None
    m = re.search(r"(\d{1,2})\s*[日号]", v)
    return int(m.group(1)) if m and 1 <= int(m.group(1)) <= 28 else None


def load_roster(path: str | Path, *, branch_name: str | None = None) -> RosterFile:
    """Read and validate a roster file; raise RosterError listing every problem."""
    path = Path(path)
    tables = _read_tables(path)
    ck = _Checker()

    for sheet in (SHEET_MEMBERS, SHEET_HOUSEHOLDS):
        if sheet not in tables:
            ck.problems.append(Problem(sheet, None, None, None, "缺少这个工作表"))
    if ck.problems:
        raise RosterError(ck.problems)

    tm, th = tables[SHEET_MEMBERS], tables[SHEET_HOUSEHOLDS]
    tg = tables.get(SHEET_GROUPS)
    to = tables.get(SHEET_ORG)
    ok = ck.columns(tm, MEMBER_COLUMNS) & ck.columns(th, HOUSEHOLD_COLUMNS)
    if tg is not None:
        ok &= ck.columns(tg, GROUP_COLUMNS)
    if to is not None:
        ok &= ck.columns(to, ORG_COLUMNS)
    if not ok:
        raise RosterError(ck.problems)

    # 组织
    theme_day = None
    if to is not None and to.rows:
        row, vals = to.rows[0]
        name = ck.text(to, row, vals, "党组织", required=True)
        branch_name = name or branch_name
        td = ck.text(to, row, vals, "主题党日")
        theme_day = _parse_theme_day(td)
        if td and theme_day is None:
            ck.bad(to, row, "主题党日", f"“{td}”应写成“每月N日”（N 为 1–28）")

    members: list[MemberRow] = []
    for row, v in tm.rows:
        code = ck.text(tm, row, v, "党员编号", required=True) or ""
        roles = ck.multi(tm, row, v, "角色", ROLES) or ("党员",)
        members.append(
            MemberRow(
                row=row,
                code=code,
                name=ck.text(tm, row, v, "姓名", required=True) or "",
                userid=ck.text(tm, row, v, "企业微信账号"),
                gender=ck.choice(tm, row, v, "性别", GENDERS),
                birth_year=ck.year(tm, row, v, "出生年份"),
                grid=ck.text(tm, row, v, "网格") or "",
                roles=roles,
                status=ck.choice(tm, row, v, "状态", STATUSES) or "在村",
                leader_code=ck.text(tm, row, v, "中心户编号"),
                note=ck.text(tm, row, v, "备注") or "",
                pledge=_pledge(ck, tm, row, v),
            )
        )
    ck.unique(tm, "党员编号", [(m.row, m.code) for m in members], "党员编号")
    ck.unique(tm, "企业微信账号", [(m.row, m.userid) for m in members], "企业微信账号")
    by_code = {m.code: m for m in members}
    for m in members:
        if m.leader_code:
            leader = by_code.get(m.leader_code)
            if leader is None:
                ck.bad(tm, m.row, "中心户编号", f"未知的党员编号 {m.leader_code}")
            elif "中心户" not in leader.roles:
                ck.bad(tm, m.row, "中心户编号", f"{m.leader_code} {leader.name} 不是中心户")
            elif m.leader_code == m.code:
                ck.bad(tm, m.row, "中心户编号", "不能是本人")
    for cycle in _leader_cycles(members):
        first = by_code[cycle[0]]
        ck.bad(tm, first.row, "中心户编号", f"中心户关系成环：{' → '.join([*cycle, cycle[0]])}")

    households: list[HouseholdRow] = []
    raw_rows, th.rows = th.rows, []
    for i, (row, v) in enumerate(raw_rows):
        raw_rows[i] = None  # type: ignore[call-overload]  # the raw row goes as its HouseholdRow comes
        member_code = ck.text(th, row, v, "联系党员编号")
        if member_code and member_code not in by_code:
            ck.bad(th, row, "联系党员编号", f"未知的党员编号 {member_code}")
        households.append(
            HouseholdRow(
                row=row,
                code=ck.text(th, row, v, "户编号", required=True) or "",
                head_name=ck.text(th, row, v, "户主姓名", required=True) or "",
                gender=ck.choice(th, row, v, "性别", GENDERS),
                birth_year=ck.year(th, row, v, "出生年份"),
                address=ck.text(th, row, v, "地址") or "",
                grid=ck.text(th, row, v, "网格") or "",
                member_code=member_code,
                key_types=ck.multi(th, row, v, "重点户类型", KEY_TYPES),
                aliases=ck.multi(th, row, v, "别称", None),
                external_userid=ck.text(th, row, v, "外部联系人ID"),
            )
        )
    ck.unique(th, "户编号", [(h.row, h.code) for h in households], "户编号")
    ck.unique(th, "外部联系人ID", [(h.row, h.external_userid) for h in households], "外部联系人ID")

    groups: list[GroupRow] = []
    if tg is not None:
        for row, v in tg.rows:
            level_text = ck.choice(tg, row, v, "层级", tuple(LEVELS), required=True)
            level = LEVELS.get(level_text, 0)
            member_code = ck.text(tg, row, v, "党员编号")
            if level == 2 and not member_code:
                ck.bad(tg, row, "党员编号", "二级群必须填联系党员编号")
            if member_code and member_code not in by_code:
                ck.bad(tg, row, "党员编号", f"未知的党员编号 {member_code}")
            internal_text = ck.choice(tg, row, v, "内部群", tuple(YES_NO)) or "否"
            groups.append(
                GroupRow(
                    row=row,
                    chat_id=ck.text(tg, row, v, "群聊ID", required=True) or "",
                    name=ck.text(tg, row, v, "群名称", required=True) or "",
                    level=level,
                    member_code=member_code,
                    internal=YES_NO.get(internal_text, False),
                    webhook_key=ck.text(tg, row, v, "机器人Webhook"),
                )
            )
        ck.unique(tg, "群聊ID", [(g.row, g.chat_id) for g in groups], "群聊ID")

    if ck.problems:
        raise RosterError(ck.problems)
    return RosterFile(branch_name, theme_day, members, households, groups, warnings=_gap_warnings(members, households))


def _leader_cycles(members: list[MemberRow]) -> list[list[str]]:
    """Circular 中心户 links (M02 → M08 → M02), each once, starting at the member listed first. Every member has
    at most one leader, so one walk per member with three colours finds them all in linear time."""
    leader = {m.code: m.leader_code for m in members if m.leader_code and m.leader_code != m.code}
    order = {m.code: i for i, m in enumerate(members)}
    state: dict[str, int] = {}  # 1 = on the current walk, 2 = done
    cycles: list[list[str]] = []
    for m in members:
        path: list[str] = []
        code: str | None = m.code
        while code is not None and code in order and state.get(code) is None:
            state[code] = 1
            path.append(code)
            code = leader.get(code)
        if code is not None and state.get(code) == 1:  # the walk came back to itself
            cycle = path[path.index(code) :]
            k = min(range(len(cycle)), key=lambda i: order[cycle[i]])
            cycles.append(cycle[k:] + cycle[:k])
        for c in path:
            state[c] = 2
    return sorted(cycles, key=lambda c: order[c[0]])


def _gap_warnings(members: list[MemberRow], households: list[HouseholdRow]) -> list[str]:
    """Gaps the secretary should fill (article 2). Not errors: a roster in transition is still importable."""
    out: list[str] = []
    by_code = {m.code: m for m in members}
    load = Counter(h.member_code for h in households if h.member_code)
    for h in households:
        if not h.member_code:
            out.append(f"{h.code} {h.head_name}：没有联系党员")
        elif by_code[h.member_code].status == "免联户":
            out.append(f"{h.code} {h.head_name}：联系党员 {by_code[h.member_code].name} 已免联户，需要调整")
    lo, hi = LINKS_PER_MEMBER
    for m in members:
        if m.status == "免联户":
            continue
        n = load.get(m.code, 0)
        if n < lo or n > hi:
            out.append(f"{m.code} {m.name}：联系 {n} 户，不在 {lo}–{hi} 户之间")
    led = Counter(m.leader_code for m in members if m.leader_code)
    lo, hi = MEMBERS_PER_LEADER
    for m in members:
        if "中心户" in m.roles and not lo <= led.get(m.code, 0) <= hi:
            out.append(f"{m.code} {m.name}：中心户带 {led.get(m.code, 0)} 名党员，不在 {lo}–{hi} 名之间")
    return out


# ---------------------------------------------------------------------------------------------------------------
# writing


def _join(items: tuple[str, ...]) -> str | None:
    return ";".join(items) or None


def write_roster_xlsx(rf: RosterFile, path: str | Path) -> None:
    """Write the same four sheets the import reads, so export → import is a fixed point."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_MEMBERS
    with_pledge = any(m.pledge for m in rf.members)  # the optional column only when someone has a pledge
    ws.append(MEMBER_COLUMNS + [PLEDGE_COLUMN] * with_pledge)
    for m in rf.members:
        ws.append(
            [
                m.code,
                m.name,
                m.userid,
                m.gender or None,
                m.birth_year,
                m.grid or None,
                _join(m.roles),
                m.status,
                m.leader_code,
                m.note or None,
            ]
            + [m.pledge or None] * with_pledge
        )
    ws = wb.create_sheet(SHEET_HOUSEHOLDS)
    ws.append(HOUSEHOLD_COLUMNS)
    for h in rf.households:
        ws.append(
            [
                h.code,
                h.head_name,
                h.gender or None,
                h.birth_year,
                h.address or None,
                h.grid or None,
                h.member_code,
                _join(h.key_types),
                _join(h.aliases),
                h.external_userid,
            ]
        )
    ws = wb.create_sheet(SHEET_GROUPS)
    ws.append(GROUP_COLUMNS)
    levels = {v: k for k, v in LEVELS.items()}
    for g in rf.groups:
        ws.append([g.chat_id, g.name, levels[g.level], g.member_code, "是" if g.internal else "否", g.webhook_key])
    ws = wb.create_sheet(SHEET_ORG)
    ws.append(ORG_COLUMNS)
    ws.append([rf.branch_name, f"每月{rf.theme_day}日" if rf.theme_day else None])
    for sheet in wb.worksheets:
        for i, col in enumerate(sheet.iter_cols(min_row=1, max_row=1), start=1):
            width = max(len(str(c.value or "")) for c in sheet[get_column_letter(i)]) * 2 + 2
            sheet.column_dimensions[get_column_letter(i)].width = min(max(width, 8), 40)
            del col
    neutralise_workbook(wb)  # names and notes are people's text: never formulas
    wb.save(path)
