"""The members' rights (policy article 8): 把关 — the linked member's view on a household's matter the branch must
approve (低保、救助、宅基地 …), asked privately when the matter is registered and recorded before the branch decides;
推荐 — nominations for 入党积极分子 / 评优 / 后备干部, for the secretary only.

`意见 诉求N 同意|不同意 理由` · `推荐 张三 入党积极分子|评优|后备干部 理由`. Both are private by nature (a household's
hardship; a person's prospects): in a group the bot answers only that it was recorded, and says the rest 1:1.
"""

from __future__ import annotations

import datetime as dt
import re

from domain.policy import NOMINATION_KINDS, needs_approval
from handlers.common import is_private, md
from handlers.context import TZ, Context
from handlers.events import MatterRegistered
from handlers.matters import COMMAND
from nlp.pii import mask_pii
from storage import matters as mt

OPINION = re.compile(r"^\s*意见\s*(诉求|心愿)\s*([0-9０-９]+)\s*(不同意|同意)?\s*(.*)$", re.S)
NOMINATE = re.compile(r"^\s*推荐\s*(\S+?)\s*(入党积极分子|积极分子|评优|评先评优|后备干部)?(?:\s+(.*))?$", re.S)
DECISIONS = ("商议", "派", "不予受理")  # the moves that decide a 把关 matter
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_KIND_ALIASES = {"积极分子": "入党积极分子", "评先评优": "评优"}


def _answer(ctx: Context, text: str, group_note: str) -> None:
    """Private things: 1:1 as is; in a group only `group_note`, the text privately."""
    if is_private(ctx):
        ctx.reply(text)
    else:
        ctx.notify(ctx.msg.sender, text)
        ctx.reply(group_note)


# --- asking: a reaction to a registered matter ------------------------------------------------------------------
async def ask_linked_member(ctx: Context, event: MatterRegistered) -> None:
    """A request registered by this message that needs the branch's 把关: ask its household's member, privately."""
    m = event.matter
    if ctx.branch is None or m.kind != "request":
        return
    keywords = ctx.options.policy.approval_keywords
    if m.household_id is None or m.member_id is None or not needs_approval(m.category, m.summary, keywords):
        return
    member = await ctx.uow.members.get(m.member_id)
    if member is None or not await ctx.uow.opinions.ask(m, member, ctx.msg.sent_at):
        return
    ref = mt.ref(m)
    ctx.uow.notices.tell(
        member,
        f"{ref}：{m.summary}\n这件事需要支部把关审批，支部商议前请您发表意见："
        f"回复“意见 {ref} 同意 理由”或“意见 {ref} 不同意 理由”。",
        key=f"opinion-ask:{m.id}:{member.id}",
        branch_id=ctx.branch.id,
    )


# --- the gate: a decision waits for the view, a few days at most --------------------------------------------------
async def wait_for_opinion(ctx: Context) -> bool | None:
    """Pre-hook: 商议/派/不予受理 of a 把关 matter whose member was asked and has not answered, within the wait."""
    if ctx.branch is None or not ctx.sender.is_cadre:
        return None  # others are refused by the command itself
    cm = COMMAND.match(ctx.msg.text)
    if cm is None or cm.group(1) not in DECISIONS or cm.group(2) != "诉求":
        return None
    number = int(cm.group(3).translate(_FULLWIDTH))
    matter = await ctx.uow.matters.by_ref(ctx.branch.id, "request", number)
    if matter is None:
        return None
    op = await ctx.uow.opinions.latest(matter.id)
    if op is None or op.opinion is not None:
        return None
    asked = op.asked_at if op.asked_at.tzinfo else op.asked_at.replace(tzinfo=dt.UTC)
    until = asked + dt.timedelta(days=ctx.options.policy.opinion_wait_days)
    if ctx.msg.sent_at >= until:
        return None
    member = await ctx.uow.members.get(op.member_id)
    name = member.name if member else "联系党员"
    ref = mt.ref(matter)
    if member is not None:
        ctx.uow.notices.tell(
            member,
            f"支部准备研究 {ref}，还在等您的意见：回复“意见 {ref} 同意 理由”或“意见 {ref} 不同意 理由”。",
            key=f"opinion-remind:{op.id}",
            branch_id=ctx.branch.id,
        )
    ctx.reply(
        f"{ref} 没有变化：这件事需要联户党员把关，{name}还没有发表意见（{md(asked.astimezone(TZ).date())}已征求，"
        f"已再次提醒）。请等{name}回复；到{md(until.astimezone(TZ).date())}仍未回复，支部可以直接决定。"
    )
    return False


# --- 意见 ------------------------------------------------------------------------------------------------------------
async def handle_opinion(ctx: Context) -> bool:
    m = OPINION.match(ctx.msg.text)
    if m is None or ctx.branch is None:
        return False
    me = ctx.sender.member
    if me is None:
        ctx.reply("发表把关意见是联户党员的权利，只有本支部党员可以发。")
        return True
    label, number, verdict = m.group(1), int(m.group(2).translate(_FULLWIDTH)), m.group(3)
    reason = mask_pii(" ".join(m.group(4).split()))
    ref = f"{label}{number}"
    if verdict is None:
        ctx.reply(f"{ref} 没有记录意见：请写“意见 {ref} 同意 理由”或“意见 {ref} 不同意 理由”。")
        return True
    if verdict == "不同意" and not reason:
        ctx.reply(f"{ref} 没有记录意见：不同意请写明理由。")
        return True
    matter = await ctx.uow.matters.by_ref(ctx.branch.id, mt.LABEL_KIND[label], number)
    if matter is None:
        ctx.reply(f"没有找到 {ref}。")
        return True
    linked = await ctx.uow.households.linked_member(matter.household_id) if matter.household_id else None
    if me.id not in {matter.member_id, linked.id if linked else None}:
        ctx.reply(f"{ref} 没有记录意见：只有这一户的联系党员可以发表把关意见。")
        return True
    if not needs_approval(matter.category, matter.summary, ctx.options.policy.approval_keywords):
        ctx.reply(f"{ref} 不是需要支部把关审批的事项，不用发表意见。有想法可以直接跟支部书记说。")
        return True
    if await ctx.uow.opinions.branch_decided(matter):
        ctx.reply(f"{ref} 支部已经作出决定（现在“{matter.state}”），意见没有记录。有不同看法请直接向支部书记反映。")
        return True
    await ctx.uow.opinions.give(matter, me, verdict, reason, actor=ctx.msg.sender, now=ctx.msg.sent_at)
    for sec in await ctx.uow.members.heads(ctx.branch.id):
        if sec.userid != ctx.msg.sender:
            ctx.uow.notices.tell(
                sec,
                f"{ref} 联系党员{me.name}的把关意见：{verdict}"
                + (f"——{reason}" if reason else "")
                + f"\n事项：{matter.summary}",
                key=f"opinion:{matter.id}:{me.id}:{ctx.msg.msg_id}:{sec.id}",
                branch_id=ctx.branch.id,
            )
    _answer(
        ctx,
        f"已记录您对 {ref} 的意见：{verdict}" + (f"，理由：{reason}" if reason else "") + "。支部研究时会看到。",
        f"{ref} 的意见已记录，详情已私信您。",
    )
    return True


def _is_nomination(ctx: Context) -> bool:
    """`推荐 …` naming a kind, or `推荐 张三` alone (then asked for the kind); not "推荐一下这个政策"."""
    m = NOMINATE.match(ctx.msg.text)
    return m is not None and (m.group(2) is not None or re.match(r"^\s*推荐\s+\S{2,4}\s*$", ctx.msg.text) is not None)


# --- 推荐 ------------------------------------------------------------------------------------------------------------
async def handle_nominate(ctx: Context) -> bool:
    m = NOMINATE.match(ctx.msg.text)
    if m is None or ctx.branch is None:
        return False
    me = ctx.sender.member
    if me is None:
        ctx.reply("推荐是党员的权利，只有本支部党员可以推荐。")
        return True
    name, kind, reason = m.group(1), m.group(2), mask_pii(" ".join((m.group(3) or "").split()))
    kinds = "、".join(NOMINATION_KINDS)
    if kind is None:
        _answer(
            ctx,
            f"没有记录推荐：请写明推荐什么（{kinds}），例如“推荐 张三 后备干部 理由”。",
            "没有记录推荐，原因已私信您。",
        )
        return True
    kind = _KIND_ALIASES.get(kind, kind)
    nominee = next(iter(await ctx.uow.members.named(ctx.branch.id, name)), None)
    if kind == "入党积极分子" and nominee is not None:
        _answer(ctx, f"没有记录推荐：{name}已经是党员，不能推荐为入党积极分子。", "没有记录推荐，原因已私信您。")
        return True
    if nominee is not None and nominee.id == me.id:
        _answer(ctx, "没有记录推荐：不能推荐自己。", "没有记录推荐，原因已私信您。")
        return True
    ctx.uow.opinions.nominate(me, kind, name, nominee, reason, actor=ctx.msg.sender, now=ctx.msg.sent_at)
    for sec in await ctx.uow.members.heads(ctx.branch.id):
        if sec.userid != ctx.msg.sender:
            ctx.uow.notices.tell(
                sec,
                f"{me.name}推荐{name}为{kind}"
                + (f"，理由：{reason}" if reason else "")
                + "。（仅您可见，可在党员大会前导出“意见推荐”）",
                key=f"nominate:{ctx.msg.msg_id}:{sec.id}",
                branch_id=ctx.branch.id,
            )
    _answer(ctx, f"已记录您推荐{name}为{kind}，已私下转给支部书记。", "推荐已记录，已私下转给支部书记。")
    return True


ROUTES = (
    (
        "opinion",
        lambda ctx: OPINION.match(ctx.msg.text) is not None,
        handle_opinion,
        "把关意见（联户党员）：“意见 诉求N 同意 理由”或“意见 诉求N 不同意 理由”",
    ),
    (
        "nominate",
        _is_nomination,
        handle_nominate,
        "推荐（私下给书记）：“推荐 张三 入党积极分子|评优|后备干部 理由”",
    ),
)
