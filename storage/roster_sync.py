"""Roster file ⇄ database, for one branch at a time, in one transaction.

Re-importing an edited sheet updates rows in place; link changes close the old link and open a new one, with an
audit row. Rows missing from a re-import are deactivated (never deleted: visits and matters point at them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
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


async def import_roster(
    session: AsyncSession, rf: RosterFile, *, actor: str = "roster-import", now: dt.datetime | None = None
) -> ImportReport:
    """Write `rf` into the database inside the caller's transaction. Raises RosterError on conflicts."""
    now = now or utcnow()
    if not rf.branch_name:
        raise RosterError([Problem("组织", None, "党组织", None, "缺少党组织名称（CSV 名册请用 --branch 指定）")])

    branch = (await session.execute(select(Branch).where(Branch.name == rf.branch_name))).scalar_one_or_none()
    created = branch is None
    if branch is None:
        branch = Branch(name=rf.branch_name, theme_day=rf.theme_day or 5)
        session.add(branch)
        await session.flush()
    elif rf.theme_day:
        branch.theme_day = rf.theme_day
    branch.roster_version = (branch.roster_version or 0) + 1
    report = ImportReport(branch.id, branch.name, created, warnings=list(rf.warnings))

    await _check_cross_branch(session, branch.id, rf)

    grids = {g.name: g for g in (await session.scalars(select(Grid).where(Grid.branch_id == branch.id)))}

    async def grid_id(name: str) -> int | None:
        if not name:
            return None
        if name not in grids:
            grids[name] = Grid(branch_id=branch.id, name=name)
            session.add(grids[name])
            await session.flush()
        return grids[name].id

    # members
    existing_m = {m.code: m for m in await session.scalars(select(Member).where(Member.branch_id == branch.id))}
    for row in rf.members:
        gid = await grid_id(row.grid)  # before adding the row: grid_id() may flush
        m = existing_m.get(row.code)
        if m is None:
            m = Member(branch_id=branch.id, code=row.code)
            session.add(m)
            existing_m[row.code] = m
        _apply_member(m, row, gid)
    await session.flush()
    for row in rf.members:
        existing_m[row.code].leader_id = existing_m[row.leader_code].id if row.leader_code else None
    # 先锋承诺 (issue 17, storage/policy.py): a filled cell records the pledge, with who and when
    await policy.apply_roster_pledges(
        session, existing_m, {r.code: r.pledge for r in rf.members if r.pledge}, actor=actor, now=now
    )
    seen_m = {r.code for r in rf.members}
    for code, m in existing_m.items():
        if code not in seen_m and m.active:
            m.active = False
            report.deactivated.append(f"党员 {code} {m.name}")
    report.members = len(rf.members)

    # households
    existing_h = {h.code: h for h in await session.scalars(select(Household).where(Household.branch_id == branch.id))}
    for row in rf.households:
        gid = await grid_id(row.grid)
        h = existing_h.get(row.code)
        if h is None:
            h = Household(branch_id=branch.id, code=row.code)
            session.add(h)
            existing_h[row.code] = h
        _apply_household(h, row, gid)
    await session.flush()
    seen_h = {r.code for r in rf.households}
    for code, h in existing_h.items():
        if code not in seen_h and h.active:
            h.active = False
            report.deactivated.append(f"联系户 {code} {h.head_name}")
    report.households = len(rf.households)

    # links: compare wanted current links with the open rows
    open_links = {
        link.household_id: link
        for link in await session.scalars(select(Link).where(Link.branch_id == branch.id, Link.valid_to.is_(None)))
    }
    by_mid = {m.id: m for m in existing_m.values()}
    wanted = {existing_h[r.code].id: (existing_m[r.member_code].id if r.member_code else None) for r in rf.households}
    for h in existing_h.values():
        if h.id not in wanted:
            wanted[h.id] = None  # household left the roster: close its link
    for hid, mid in wanted.items():
        cur = open_links.get(hid)
        if cur is not None and cur.member_id == mid:
            continue
        hh = next(h for h in existing_h.values() if h.id == hid)
        old = by_mid[cur.member_id].name if cur is not None else "无"
        new = by_mid[mid].name if mid is not None else "无"
        if cur is not None:
            cur.valid_to = now
        if mid is not None:
            session.add(
                Link(
                    branch_id=branch.id,
                    member_id=mid,
                    household_id=hid,
                    valid_from=now,
                    reason="名册导入",
                    changed_by=actor,
                )
            )
        if cur is not None or mid is not None:
            if not created:
                report.links_changed.append(f"{hh.code} {hh.head_name}：{old} → {new}")
            session.add(
                AuditEvent(
                    branch_id=branch.id,
                    actor=actor,
                    action="link_change",
                    subject=hh.code,
                    detail={"from": old, "to": new, "reason": "名册导入"},
                    at=now,
                )
            )

    # groups
    existing_g = {
        g.chat_id: g for g in await session.scalars(select(ChatGroup).where(ChatGroup.branch_id == branch.id))
    }
    for row in rf.groups:
        g = existing_g.get(row.chat_id)
        if g is None:
            g = ChatGroup(branch_id=branch.id, chat_id=row.chat_id)
            session.add(g)
        _apply_group(g, row, existing_m[row.member_code].id if row.member_code else None)
    report.groups = len(rf.groups)

    session.add(
        AuditEvent(
            branch_id=branch.id,
            actor=actor,
            action="roster_import",
            subject=branch.name,
            detail={
                "members": report.members,
                "households": report.households,
                "groups": report.groups,
                "links_changed": len(report.links_changed),
            },
            at=now,
        )
    )
    await session.flush()
    return report


async def _check_cross_branch(session: AsyncSession, branch_id: int, rf: RosterFile) -> None:
    """WeCom ids are corp-wide: another branch already holding one is a roster error, not a DB crash."""
    problems: list[Problem] = []
    userids = {m.userid: m for m in rf.members if m.userid}
    if userids:
        rows = await session.execute(
            select(Member.userid, Branch.name)
            .join(Branch, Branch.id == Member.branch_id)
            .where(Member.userid.in_(list(userids)), Member.branch_id != branch_id)
        )
        for userid, other in rows:
            problems.append(
                Problem("党员", userids[userid].row, "企业微信账号", "C", f"企业微信账号 {userid} 已属于 {other}")
            )
    externals = {h.external_userid: h for h in rf.households if h.external_userid}
    if externals:
        rows = await session.execute(
            select(Household.external_userid, Branch.name)
            .join(Branch, Branch.id == Household.branch_id)
            .where(Household.external_userid.in_(list(externals)), Household.branch_id != branch_id)
        )
        for ext, other in rows:
            problems.append(
                Problem("联系户", externals[ext].row, "外部联系人ID", "J", f"外部联系人ID {ext} 已属于 {other}")
            )
    chats = {g.chat_id: g for g in rf.groups}
    if chats:
        rows = await session.execute(
            select(ChatGroup.chat_id, Branch.name)
            .join(Branch, Branch.id == ChatGroup.branch_id)
            .where(ChatGroup.chat_id.in_(list(chats)), ChatGroup.branch_id != branch_id)
        )
        for chat_id, other in rows:
            problems.append(Problem("群聊", chats[chat_id].row, "群聊ID", "A", f"群聊ID {chat_id} 已属于 {other}"))
    if problems:
        raise RosterError(problems)


def _apply_member(m: Member, r: MemberRow, grid_id: int | None) -> None:
    m.name, m.userid, m.gender, m.birth_year = r.name, r.userid, r.gender, r.birth_year
    m.grid_id, m.roles, m.status, m.note, m.active = grid_id, ";".join(r.roles), r.status, r.note, True


def _apply_household(h: Household, r: HouseholdRow, grid_id: int | None) -> None:
    h.head_name, h.gender, h.birth_year, h.address, h.grid_id = r.head_name, r.gender, r.birth_year, r.address, grid_id
    h.key_types, h.aliases, h.external_userid, h.active = (
        ";".join(r.key_types),
        ";".join(r.aliases),
        r.external_userid,
        True,
    )


def _apply_group(g: ChatGroup, r: GroupRow, member_id: int | None) -> None:
    g.name, g.level, g.member_id, g.internal, g.webhook_key = r.name, r.level, member_id, r.internal, r.webhook_key


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
