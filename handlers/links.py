"""联户关系 (policy article 2): two-way selection, the branch decides. A change is a request (调整N) that only an
approved decision turns into a new link; the old link is closed, never overwritten, and both are audited.
"""

from __future__ import annotations

import re
from collections import Counter

from domain import commands
from domain.roles import CADRES, EXEMPT
from handlers.common import actor_of, household_label
from handlers.context import Context
from storage.models import AuditEvent, Household, Link, LinkChange, Member

REQUEST = re.compile(r"^\s*调整联户\s+(\S+)\s+(\S+)\s*(.*)$", re.S)
DECIDE = re.compile(r"^\s*(同意|驳回)\s*调整\s*([0-9]+)\s*(.*)$", re.S)
RESIDENT_ASK = re.compile(
    r"(?:想|希望|想要)(?:让|请)?([\u4e00-\u9fa5]{2,4}?)(?:来|以后)?(?:联系|负责|联)(?:我家|我们家)"
)
GAP_WORDS = ("联户缺口", "联户空缺", "谁没人联系")
LINKS_PER_MEMBER = (5, 20)


async def _household(ctx: Context, token: str) -> Household | None:
    assert ctx.branch is not None
    if re.fullmatch(r"[Hh]\d+", token):
        return (await ctx.uow.households.by_codes(ctx.branch.id, [token.upper()])).get(token.upper())
    return await ctx.uow.households.by_name(ctx.branch.id, token.removesuffix("家"))


async def _member(ctx: Context, name: str) -> Member | None:
    assert ctx.branch is not None
    if name in ("我", "本人") and ctx.sender.member is not None:
        return ctx.sender.member
    return await ctx.uow.members.by_name(ctx.branch.id, name)


async def _create(ctx: Context, household: Household, to: Member, reason: str) -> None:
    assert ctx.branch is not None
    current = await ctx.uow.households.linked_member(household.id)
    if current is not None and current.id == to.id:
        ctx.reply(f"{household_label(household)} 现在就是{to.name}联系，不用调整。")
        return
    if to.status == EXEMPT:
        ctx.reply(f"{to.name}是免联户党员，不能联系户。")
        return
    number = await ctx.uow.links.next_change_number(ctx.branch.id)
    ctx.uow.links.add_change(
        LinkChange(
            branch_id=ctx.branch.id,
            number=number,
            household_id=household.id,
            from_member_id=current.id if current else None,
            to_member_id=to.id,
            requested_by=ctx.msg.sender,
            reason=reason[:200],
            created_at=ctx.msg.sent_at,
        )
    )
    for c in await ctx.uow.members.active(ctx.branch.id):
        if c.role_set & CADRES and c.userid and c.userid != ctx.msg.sender:
            ctx.uow.notices.tell(
                c,
                f"调整{number}：{household_label(household)} 由"
                f"{current.name if current else '（无）'}改为{to.name}联系。原因：{reason or '未写'}。"
                f"\n回复“同意 调整{number}”或“驳回 调整{number} 原因”。",
                key=f"linkreq:{ctx.branch.id}:{number}:{c.id}",
                branch_id=ctx.branch.id,
            )
    ctx.reply(f"已提出 调整{number}：{household.head_name}家改由{to.name}联系，等支部书记或委员审批。")


async def handle_request(ctx: Context) -> bool:
    m = REQUEST.match(ctx.msg.text)
    if m is None or ctx.branch is None:
        return False
    if ctx.sender.kind not in ("member", "resident", "township"):
        ctx.reply("没有在名册里找到您，不能提出调整。")
        return True
    household = await _household(ctx, m.group(1))
    to = await _member(ctx, m.group(2))
    if household is None:
        ctx.reply(f"没有找到“{m.group(1)}”这一户（可写户编号，如 H011）。")
        return True
    if to is None:
        ctx.reply(f"本支部没有叫“{m.group(2)}”的党员（或有重名）。")
        return True
    asked = commands.Subject(branch_id=household.branch_id, kind="link", number=0, state="", household_id=household.id)
    decision = commands.may(actor_of(ctx), "调整联户", asked)
    if not decision.allowed:
        ctx.reply(f"没有提出调整：{decision.reason_zh}")
        return True
    await _create(ctx, household, to, m.group(3).strip())
    return True


def _resident_ask(ctx: Context) -> bool:
    return ctx.sender.kind == "resident" and RESIDENT_ASK.search(ctx.msg.text) is not None


async def handle_resident_ask(ctx: Context) -> bool:
    m = RESIDENT_ASK.search(ctx.msg.text)
    if m is None or ctx.branch is None or ctx.sender.household is None:
        return False
    to = await _member(ctx, m.group(1))
    if to is None:
        return False  # not a member's name: let the other routes read it
    await _create(ctx, ctx.sender.household, to, "群众自己提出")
    return True


async def handle_decide(ctx: Context) -> bool:
    m = DECIDE.match(ctx.msg.text)
    if m is None or ctx.branch is None:
        return False
    verb, number, note = m.group(1), int(m.group(2)), m.group(3).strip()
    lc = await ctx.uow.links.change(ctx.branch.id, number)
    if lc is None:
        ctx.reply(f"没有找到 调整{number}。")
        return True
    subject = commands.Subject(
        branch_id=lc.branch_id,
        kind="link",
        number=number,
        state=lc.state,
        reporter=lc.requested_by,
        household_id=lc.household_id,
    )
    decision = commands.may(actor_of(ctx), verb, subject)
    if not decision.allowed:
        ctx.reply(f"调整{number} 没有变化：{decision.reason_zh}")
        return True
    if verb == "驳回" and not note:
        ctx.reply(f"调整{number} 没有变化：驳回请写明原因。")
        return True
    household = await ctx.uow.households.get(lc.household_id)
    to = await ctx.uow.members.get(lc.to_member_id)
    assert household is not None and to is not None  # foreign keys
    now = ctx.msg.sent_at
    lc.state, lc.decided_by, lc.decision_note, lc.decided_at = (
        "已同意" if verb == "同意" else "已驳回",
        ctx.msg.sender,
        note,
        now,
    )
    requester = await ctx.uow.members.by_userid(lc.requested_by)
    if verb == "驳回":
        ctx.uow.audit.add(
            AuditEvent(
                branch_id=ctx.branch.id,
                actor=ctx.msg.sender,
                action="link_change_rejected",
                subject=household.code,
                detail={"number": number, "note": note},
                at=now,
            )
        )
        ctx.uow.notices.tell(requester, f"调整{number} 被驳回：{note}", key=f"linkdec:{lc.id}", branch_id=ctx.branch.id)
        ctx.reply(f"调整{number} 已驳回，原因：{note}。")
        return True
    current = await ctx.uow.links.current(household.id)
    old = await ctx.uow.members.get(current.member_id) if current else None
    if current is not None:
        current.valid_to = now
    ctx.uow.links.add(
        Link(
            branch_id=ctx.branch.id,
            member_id=to.id,
            household_id=household.id,
            valid_from=now,
            reason=f"调整{number}：{lc.reason}"[:200],
            changed_by=ctx.msg.sender,
        )
    )
    ctx.uow.audit.add(
        AuditEvent(
            branch_id=ctx.branch.id,
            actor=ctx.msg.sender,
            action="link_change",
            subject=household.code,
            detail={"number": number, "from": old.name if old else "无", "to": to.name},
            at=now,
        )
    )
    for person in {p.id: p for p in (requester, old, to) if p is not None}.values():
        ctx.uow.notices.tell(
            person,
            f"调整{number} 已同意：{household_label(household)} 今后由{to.name}联系。",
            key=f"linkdec:{lc.id}:{person.id}",
            branch_id=ctx.branch.id,
        )
    ctx.reply(f"调整{number} 已同意：{household.head_name}家今后由{to.name}联系（原为{old.name if old else '无'}）。")
    return True


async def handle_gaps(ctx: Context) -> bool:
    if ctx.branch is None or not ctx.sender.is_cadre:
        ctx.reply("联户缺口只给支部书记、委员看。")
        return True
    members = {m.id: m for m in await ctx.uow.members.active(ctx.branch.id)}
    rows = await ctx.uow.households.with_member(ctx.branch.id)
    lines = []
    load: Counter[int] = Counter()
    for h, mid in rows:
        m = members.get(mid) if mid else None
        if m is None:
            lines.append(f"- {household_label(h)}：没有联系党员")
        elif m.status == EXEMPT:
            lines.append(f"- {household_label(h)}：{m.name}已免联户（{m.note or '无备注'}）")
        else:
            load[m.id] += 1
    lo, hi = LINKS_PER_MEMBER
    for m in members.values():
        if m.status != EXEMPT and not lo <= load[m.id] <= hi:
            lines.append(f"- {m.name}（{m.status}）联系 {load[m.id]} 户，应在 {lo}–{hi} 户之间")
    ctx.reply("**联户缺口**\n" + "\n".join(lines) if lines else "联户关系没有缺口。")
    return True


ROUTES = (
    (
        "link_request",
        lambda ctx: REQUEST.match(ctx.msg.text) is not None,
        handle_request,
        "调整联户：“调整联户 H011 王丽 原因”",
    ),
    (
        "link_decide",
        lambda ctx: DECIDE.match(ctx.msg.text) is not None,
        handle_decide,
        "审批调整：“同意 调整N”或“驳回 调整N 原因”",
    ),
    ("link_gaps", lambda ctx: ctx.msg.text.strip() in GAP_WORDS, handle_gaps, "看联户缺口：“联户缺口”"),
    ("link_resident_ask", _resident_ask, handle_resident_ask, ""),
)
