"""Residents' words that made no record but may need someone (the parser's `attention`: a question, distress)
go on the linked member's private daily list (jobs/attention.py) instead of being lost; the member registers one
with "登记 N". Nothing is said in the 联户群: the bot cannot speak there and a guess must not be answered in public."""

from __future__ import annotations

import re

from handlers import matters
from handlers.context import Context

REGISTER = re.compile(r"^\s*登记\s*([0-9０-９]+)\s*$")
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def needs_a_look(ctx: Context) -> bool:
    p = ctx.parsed
    return (
        p is not None
        and p.intent == "none"
        and p.attention
        and ctx.sender.kind == "resident"
        and ctx.branch is not None
        and ctx.sender.household is not None
    )


async def handle_note(ctx: Context) -> bool:
    assert ctx.branch is not None and ctx.sender.household is not None
    h = ctx.sender.household
    member = await ctx.uow.households.linked_member(h.id)
    ctx.uow.attention.add(
        branch_id=ctx.branch.id,
        member_id=member.id if member else None,
        household_id=h.id,
        inbound_id=ctx.inbound_id,
        text=ctx.msg.text,
        said_at=ctx.msg.sent_at,
    )
    if ctx.msg.channel == "kf" and member is not None:  # the resident's own 1:1 chat: say it was passed on
        ctx.reply(f"收到，已转给您的联系党员{member.name}，他会看一看。")
    return True


def is_register(ctx: Context) -> bool:
    return ctx.sender.member is not None and REGISTER.match(ctx.msg.text) is not None


async def handle_register(ctx: Context) -> bool:
    m = REGISTER.match(ctx.msg.text)
    assert m is not None and ctx.sender.member is not None
    number = int(m.group(1).translate(_FULLWIDTH))
    found = await ctx.uow.attention.by_number(ctx.sender.member, number)
    if found is None:
        ctx.reply(f"您的清单里没有第 {number} 条，什么都没有登记。")
        return True
    item, household = found
    if item.matter_id is not None:
        ctx.reply(f"第 {number} 条已经登记过了，没有重复登记。")
        return True
    registered = await matters.intake(ctx, "request", item.summary, household)
    if registered is not None:
        item.matter_id = registered.id
        if registered.source_inbound_id == ctx.inbound_id and item.inbound_id is not None:
            registered.source_inbound_id = item.inbound_id  # the resident's words, not the member's "登记 N"
    return True


ROUTES = (
    # (name, rule, handler, help); the priority is in handlers/__init__.py
    ("register_item", is_register, handle_register, "登记清单里的一条：“登记 3”（每天私下发给您的“拿不准”清单）"),
    ("attention", needs_a_look, handle_note, ""),
)
