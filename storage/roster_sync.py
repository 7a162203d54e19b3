"""Roster file ⇄ database, for one branch at a time, in one transaction.

Re-importing an edited sheet updates rows in place; link changes close the old link and open a new one, with an
audit row. Rows missing from a re-import are deactivated (never deleted: visits and matters point at them).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import policy
from storage.models import AuditEvent, Branch, ChatGroup, Grid, Household, Link, Member, utcnow
from storage.roster_file import GroupRow, HouseholdRow, MemberRow, Problem, RosterError, RosterFile


@dataclass
class ImportReport:
    branch_id: int
    branch_name: str
    created: bool
    members: int = 0
    households: int = 0
    groups: int = 0
    links_changed: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    write_seconds: float = 0.0  # how long the writing transaction held the database (the lock, on SQLite)


Progress = Callable[[str], None]
CHUNK = 5000  # rows per executemany / IN list (SQLite allows 32 766 bound variables per statement)

_M, _H, _L, _G, _A = (t.__table__ for t in (Member, Household, Link, ChatGroup, AuditEvent))
_M_FIELDS = ("name", "userid", "gender", "birth_year", "grid_id", "roles", "status", "note", "active")
_H_FIELDS = ("head_name", "gender", "birth_year", "address", "grid_id", "key_types", "aliases", "external_userid",
             "active")  # fmt: skip
_G_FIELDS = ("name", "level", "member_id", "internal", "webhook_key")


def _chunks(rows: Sequence[Any]) -> Iterable[Sequence[Any]]:
    n = CHUNK
    for i in range(0, len(rows), n):
        yield rows[i : i + n]


def _by_id(table: Any, fields: Sequence[str]) -> Any:
    """UPDATE table SET f = :v_f … WHERE id = :b_id, for executemany."""
    return update(table).where(table.c.id == bindparam("b_id")).values({f: bindparam(f"v_{f}") for f in fields})


Step = Callable[[], Awaitable[None]]


async def _noop() -> None:
    return None


async def _many(session: AsyncSession, stmt: Any, rows: Sequence[dict[str, Any]], step: Step = _noop) -> None:
    for chunk in _chunks(rows):
        await session.execute(stmt, list(chunk))
        await step()


async def import_roster(
    session: AsyncSession,
    rf: RosterFile,
    *,
    actor: str = "roster-import",
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    commit: Step | None = None,
) -> ImportReport:
    """Write `rf` into the database inside the caller's transaction. Raises RosterError on conflicts.

    Linear in the roster: every lookup is a dict, rows go in and change with executemany in chunks (Core, no
    ORM objects: a county is ~250 000 rows), and only rows that differ are updated. Everything is read before the
    first write, so on SQLite the write lock is taken late and held for the bulk statements only.

    `commit` (the CLI passes session.commit): a new branch is written in chunks, each committed on its own, so a
    county's first import never holds the database for more than one chunk (~0.1 s) and the bot's messages get
    in between. Nothing refers to a branch that did not exist, and a failure part-way deletes it again (its
    rows go with it: ON DELETE CASCADE), so the import stays all or nothing. Changes to an existing branch are
    written in one transaction: only rows that differ, normally a handful."""
    t_start = time.monotonic()
    now = now or utcnow()
    say = progress or (lambda _line: None)
    if not rf.branch_name:
        raise RosterError([Problem("组织", None, "党组织", None, "缺少党组织名称（CSV 名册请用 --branch 指定）")])

    # --- read everything first -------------------------------------------------------------------------------
    branch = (await session.execute(select(Branch).where(Branch.name == rf.branch_name))).scalar_one_or_none()
    created = branch is None
    bid = branch.id if branch is not None else None
    await _check_cross_branch(session, bid, rf)
    grids: dict[str, int] = {}
    old_m: dict[str, Any] = {}
    old_h: dict[str, Any] = {}
    open_links: dict[int, tuple[int, int]] = {}
    old_g: dict[str, Any] = {}
    if bid is not None:
        grids = dict((await session.execute(select(Grid.name, Grid.id).where(Grid.branch_id == bid))).all())
        cols_m = [_M.c.id, _M.c.code, _M.c.leader_id, *(_M.c[f] for f in _M_FIELDS)]
        old_m = {r.code: r for r in await session.execute(select(*cols_m).where(_M.c.branch_id == bid))}
        cols_h = [_H.c.id, _H.c.code, *(_H.c[f] for f in _H_FIELDS)]
        # plain tuples (id, code, *_H_FIELDS): a county holds a quarter million of them
        old_h = {r[1]: tuple(r) for r in await session.execute(select(*cols_h).where(_H.c.branch_id == bid))}
        open_links = {
            hid: (lid, mid)
            for lid, hid, mid in await session.execute(
                select(_L.c.id, _L.c.household_id, _L.c.member_id).where(_L.c.branch_id == bid, _L.c.valid_to.is_(None))
            )
        }
        cols_g = [_G.c.id, _G.c.chat_id, *(_G.c[f] for f in _G_FIELDS)]
        old_g = {r.chat_id: r for r in await session.execute(select(*cols_g).where(_G.c.branch_id == bid))}
    say(f"已读取数据库现状（{time.monotonic() - t_start:.1f} 秒），开始写入")

    # --- write -------------------------------------------------------------------------------------------------
    t_write = time.monotonic()
    chunked = created and commit is not None
    step: Step = commit if chunked and commit is not None else _noop
    if branch is None:
        branch = Branch(name=rf.branch_name, theme_day=rf.theme_day or 5, roster_version=1)
        session.add(branch)
        await session.flush()
        await step()  # chunked: the new branch's row first, on its own
    new_id = branch.id
    try:
        report = await _write(session, rf, branch, created, grids, (old_m, old_h, open_links, old_g), actor, now,
                              say, step)  # fmt: skip
    except BaseException:
        if chunked and commit is not None:  # what was committed so far goes again, with everything under it
            await session.rollback()
            await session.execute(delete(_L).where(_L.c.branch_id == new_id))
            await session.execute(update(_M).where(_M.c.branch_id == new_id).values(leader_id=None))
            await session.execute(delete(Branch.__table__).where(Branch.__table__.c.id == new_id))
            await commit()
        raise
    report.write_seconds = time.monotonic() - t_write
    how = "分块提交" if chunked else "一个事务"
    say(f"比对和写入用时 {report.write_seconds:.1f} 秒（{how}）")
    return report


async def _write(
    session: AsyncSession,
    rf: RosterFile,
    branch: Branch,
    created: bool,
    grids: dict[str, int],
    old: tuple[dict[str, Any], dict[str, Any], dict[int, tuple[int, int]], dict[str, Any]],
    actor: str,
    now: dt.datetime,
    say: Progress,
    step: Step,
) -> ImportReport:
    old_m, old_h, open_links, old_g = old
    bid = branch.id
    report = ImportReport(bid, branch.name, created, warnings=list(rf.warnings))

    wanted_grids = {r.grid for r in rf.members if r.grid} | {r.grid for r in rf.households if r.grid}
    new_grids = sorted(wanted_grids - grids.keys())
    if new_grids:
        await session.execute(insert(Grid.__table__), [{"branch_id": bid, "name": n} for n in new_grids])
        grids = dict((await session.execute(select(Grid.name, Grid.id).where(Grid.branch_id == bid))).all())

    # members
    def m_values(r: MemberRow) -> dict[str, Any]:
        return {
            "name": r.name, "userid": r.userid, "gender": r.gender, "birth_year": r.birth_year,
            "grid_id": grids.get(r.grid) if r.grid else None, "roles": ";".join(r.roles), "status": r.status,
            "note": r.note, "active": True,
        }  # fmt: skip

    m_new: list[dict[str, Any]] = []
    m_changed: list[dict[str, Any]] = []
    for r in rf.members:
        vals = m_values(r)
        old = old_m.get(r.code)
        if old is None:
            m_new.append({"branch_id": bid, "code": r.code, **vals})
        elif any(getattr(old, f) != v for f, v in vals.items()):
            m_changed.append({"b_id": old.id, **{f"v_{f}": v for f, v in vals.items()}})
    seen_m = {r.code for r in rf.members}
    gone_m = [old for code, old in old_m.items() if code not in seen_m and old.active]
    if gone_m:
        await _many(session, _by_id(_M, ("active",)), [{"b_id": o.id, "v_active": False} for o in gone_m], step)
        report.deactivated.extend(f"党员 {o.code} {o.name}" for o in gone_m)
    await _many(session, _by_id(_M, _M_FIELDS), m_changed, step)
    await _many(session, insert(_M), m_new, step)
    member_id = dict((await session.execute(select(_M.c.code, _M.c.id).where(_M.c.branch_id == bid))).all())
    leaders = []
    for r in rf.members:
        want = member_id[r.leader_code] if r.leader_code else None
        old = old_m.get(r.code)
        if (old.leader_id if old is not None else None) != want:
            leaders.append({"b_id": member_id[r.code], "v_leader_id": want})
    await _many(session, _by_id(_M, ("leader_id",)), leaders, step)
    # 先锋承诺 (issue 17, storage/policy.py): a filled cell records the pledge, with who and when
    pledges = {r.code: r.pledge for r in rf.members if r.pledge}
    if pledges:
        pledged = select(Member).where(Member.branch_id == bid, Member.code.in_(list(pledges)))
        members = {m.code: m for m in await session.scalars(pledged)}
        await policy.apply_roster_pledges(session, members, pledges, actor=actor, now=now)
    report.members = len(rf.members)
    say(f"党员 {len(rf.members)} 名已写入（新增 {len(m_new)}，修改 {len(m_changed)}）")

    # households
    def h_values(r: HouseholdRow) -> dict[str, Any]:
        return {
            "head_name": r.head_name, "gender": r.gender, "birth_year": r.birth_year, "address": r.address,
            "grid_id": grids.get(r.grid) if r.grid else None, "key_types": ";".join(r.key_types),
            "aliases": ";".join(r.aliases), "external_userid": r.external_userid, "active": True,
        }  # fmt: skip

    # new rows are kept as roster rows and turned into parameters a chunk at a time (memory: a county)
    h_new: list[HouseholdRow] = []
    h_changed: list[dict[str, Any]] = []
    for r in rf.households:
        old = old_h.get(r.code)
        if old is None:
            h_new.append(r)
            continue
        vals = h_values(r)
        if any(old[k] != v for k, v in enumerate(vals.values(), 2)):
            h_changed.append({"b_id": old[0], **{f"v_{f}": v for f, v in vals.items()}})
    seen_h = {r.code for r in rf.households}
    gone_h = [old for code, old in old_h.items() if code not in seen_h and old[-1]]  # [-1]: active
    if gone_h:
        await _many(session, _by_id(_H, ("active",)), [{"b_id": o[0], "v_active": False} for o in gone_h], step)
        report.deactivated.extend(f"联系户 {o[1]} {o[2]}" for o in gone_h)
    gone_heads = {o[1]: o[2] for o in gone_h}
    old_h.clear()  # compared: a county's worth of old rows need not stay alive through the links
    await _many(session, _by_id(_H, _H_FIELDS), h_changed, step)
    for n, chunk in enumerate(_chunks(h_new), 1):
        await session.execute(insert(_H), [{"branch_id": bid, "code": r.code, **h_values(r)} for r in chunk])
        await step()
        if len(h_new) > 40 * CHUNK and n % 10 == 0:
            say(f"联系户 {min(n * CHUNK, len(h_new))}/{len(h_new)} 户已写入")
    report.households = len(rf.households)
    say(f"联系户 {len(rf.households)} 户已写入（新增 {len(h_new)}，修改 {len(h_changed)}）")

    # links: compare wanted current links with the open rows
    hh = dict((await session.execute(select(_H.c.id, _H.c.code).where(_H.c.branch_id == bid))).all())
    household_id = {code: hid for hid, code in hh.items()}
    heads: dict[str, str] = {}  # filled on the first link change of an existing branch
    name_of = dict((await session.execute(select(_M.c.id, _M.c.name).where(_M.c.branch_id == bid))).all())
    wanted = {household_id[r.code]: (member_id[r.member_code] if r.member_code else None) for r in rf.households}
    for hid in hh:
        wanted.setdefault(hid, None)  # household left the roster: close its link
    close: list[dict[str, Any]] = []
    opened: list[tuple[int, int]] = []  # (household id, member id)
    audits: list[tuple[str, str, str]] = []  # (household code, from, to)
    for hid, mid in wanted.items():
        cur = open_links.get(hid)
        if (cur[1] if cur is not None else None) == mid:
            continue
        code = hh[hid]
        old = name_of[cur[1]] if cur is not None else "无"
        new = name_of[mid] if mid is not None else "无"
        if cur is not None:
            close.append({"b_id": cur[0], "v_valid_to": now})
        if mid is not None:
            opened.append((hid, mid))
        if not created:
            if not heads:
                heads = gone_heads | {r.code: r.head_name for r in rf.households}
            report.links_changed.append(f"{code} {heads.get(code, '')}：{old} → {new}")
        audits.append((code, old, new))
    await _many(session, _by_id(_L, ("valid_to",)), close, step)
    for chunk in _chunks(opened):
        await session.execute(
            insert(_L),
            [{"branch_id": bid, "member_id": mid, "household_id": hid, "valid_from": now, "reason": "名册导入",
              "changed_by": actor} for hid, mid in chunk],
        )  # fmt: skip
        await step()
    for chunk in _chunks(audits):
        await session.execute(
            insert(_A),
            [{"branch_id": bid, "actor": actor, "action": "link_change", "subject": code,
              "detail": {"from": old, "to": new, "reason": "名册导入"}, "at": now} for code, old, new in chunk],
        )  # fmt: skip
        await step()
    say(f"联户关系 {len(opened)} 条新建，{len(close)} 条结束")

    # groups
    g_new: list[dict[str, Any]] = []
    g_changed: list[dict[str, Any]] = []
    for r in rf.groups:
        vals = {"name": r.name, "level": r.level, "member_id": member_id[r.member_code] if r.member_code else None,
                "internal": r.internal, "webhook_key": r.webhook_key}  # fmt: skip
        old = old_g.get(r.chat_id)
        if old is None:
            g_new.append({"branch_id": bid, "chat_id": r.chat_id, **vals})
        elif any(getattr(old, f) != v for f, v in vals.items()):
            g_changed.append({"b_id": old.id, **{f"v_{f}": v for f, v in vals.items()}})
    await _many(session, _by_id(_G, _G_FIELDS), g_changed, step)
    await _many(session, insert(_G), g_new, step)
    report.groups = len(rf.groups)

    if not created:  # last: an unchanged re-import writes nothing before this, so the lock is taken only here
        await session.execute(
            update(Branch.__table__)
            .where(Branch.__table__.c.id == bid)
            .values(
                theme_day=rf.theme_day or branch.theme_day,
                roster_version=Branch.__table__.c.roster_version + 1,
            )
        )
        await session.refresh(branch, ["theme_day", "roster_version"])

    await session.execute(
        insert(_A),
        [
            {
                "branch_id": bid,
                "actor": actor,
                "action": "roster_import",
                "subject": branch.name,
                "detail": {
                    "members": report.members,
                    "households": report.households,
                    "groups": report.groups,
                    "links_changed": len(report.links_changed),
                },
                "at": now,
            }
        ],
    )
    return report


async def _check_cross_branch(session: AsyncSession, branch_id: int | None, rf: RosterFile) -> None:
    """WeCom ids are corp-wide: another branch already holding one is a roster error, not a DB crash."""
    problems: list[Problem] = []

    async def others(column: Any, owner: Any, ids: list[str]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for chunk in _chunks(ids):
            q = select(column, Branch.name).join(Branch, Branch.id == owner).where(column.in_(list(chunk)))
            if branch_id is not None:
                q = q.where(owner != branch_id)
            out.extend((await session.execute(q)).all())
        return out

    userids = {m.userid: m for m in rf.members if m.userid}
    for userid, other in await others(Member.userid, Member.branch_id, list(userids)):
        problems.append(
            Problem("党员", userids[userid].row, "企业微信账号", "C", f"企业微信账号 {userid} 已属于 {other}")
        )
    externals = {h.external_userid: h for h in rf.households if h.external_userid}
    for ext, other in await others(Household.external_userid, Household.branch_id, list(externals)):
        problems.append(
            Problem("联系户", externals[ext].row, "外部联系人ID", "J", f"外部联系人ID {ext} 已属于 {other}")
        )
    chats = {g.chat_id: g for g in rf.groups}
    for chat_id, other in await others(ChatGroup.chat_id, ChatGroup.branch_id, list(chats)):
        problems.append(Problem("群聊", chats[chat_id].row, "群聊ID", "A", f"群聊ID {chat_id} 已属于 {other}"))
    if problems:
        raise RosterError(problems)


async def export_roster(session: AsyncSession, branch_id: int) -> RosterFile:
    """The branch as a RosterFile (current links, active rows), in roster order."""
    branch = await session.get_one(Branch, branch_id)
    grids = {g.id: g.name for g in await session.scalars(select(Grid).where(Grid.branch_id == branch_id))}
    members = list(
        await session.scalars(select(Member).where(Member.branch_id == branch_id, Member.active).order_by(Member.code))
    )
    code_of = {m.id: m.code for m in members}
    households = list(
        await session.scalars(
            select(Household).where(Household.branch_id == branch_id, Household.active).order_by(Household.code)
        )
    )
    links = {
        link.household_id: link.member_id
        for link in await session.scalars(select(Link).where(Link.branch_id == branch_id, Link.valid_to.is_(None)))
    }
    groups = list(
        await session.scalars(select(ChatGroup).where(ChatGroup.branch_id == branch_id).order_by(ChatGroup.id))
    )

    pledges = await policy.current_pledges(session, branch_id)  # 先锋承诺 column (issue 17)

    def split(s: str) -> tuple[str, ...]:
        return tuple(x for x in s.split(";") if x)

    return RosterFile(
        branch_name=branch.name,
        theme_day=branch.theme_day,
        members=[
            MemberRow(
                0,
                m.code,
                m.name,
                m.userid,
                m.gender,
                m.birth_year,
                grids.get(m.grid_id or -1, ""),
                split(m.roles),
                m.status,
                code_of.get(m.leader_id or -1),
                m.note,
                pledges.get(m.id, ""),
            )
            for m in members
        ],
        households=[
            HouseholdRow(
                0,
                h.code,
                h.head_name,
                h.gender,
                h.birth_year,
                h.address,
                grids.get(h.grid_id or -1, ""),
                code_of.get(links.get(h.id, -1)),
                split(h.key_types),
                split(h.aliases),
                h.external_userid,
            )
            for h in households
        ],
        groups=[
            GroupRow(0, g.chat_id, g.name, g.level, code_of.get(g.member_id or -1), g.internal, g.webhook_key)
            for g in groups
        ],
    )
