"""Small helpers shared by handlers: how a household and a date are written in replies; the sender and a matter
as the permission rules (domain/commands.py) see them."""

from __future__ import annotations

import datetime as dt
import re

from domain import commands
from handlers.context import Context
from storage.models import Household, Matter, Member

_VILLAGE_PREFIX = re.compile(r"^[^村组号]{1,8}村(?=.)")


def short_address(address: str) -> str:
    """'前洋村三组2号' → '三组2号': neighbours know the village."""
    return _VILLAGE_PREFIX.sub("", address)


def household_label(h: Household) -> str:
    addr = short_address(h.address)
    return f"{h.head_name}（{addr}）" if addr else h.head_name


def md(d: dt.date) -> str:
    return f"{d.month}月{d.day}日"


def is_private(ctx: Context) -> bool:
    return ctx.msg.chat_type == "single"


def intent_is(*intents: str):
    def rule(ctx: Context) -> bool:
        p = ctx.parsed
        return p is not None and p.intent in intents

    return rule


def query_is(*queries: str):
    def rule(ctx: Context) -> bool:
        p = ctx.parsed
        return p is not None and p.intent == "query" and p.query in queries

    return rule


def actor_of(ctx: Context) -> commands.Actor:
    """The sender as the permission rules see them: their own branch and roles, never the group's."""
    s = ctx.sender
    own_branch = (
        s.member.branch_id if s.member is not None else s.household.branch_id if s.household is not None else None
    )
    return commands.Actor(
        userid=ctx.msg.sender,
        branch_id=own_branch,
        roles=frozenset(s.member.role_set) if s.member is not None else frozenset(),
        member_id=s.member.id if s.member is not None else None,
        household_id=s.household.id if s.household is not None else None,
        township=s.kind == "township",
        volunteer=ctx.msg.sender in ctx.options.volunteers,
    )


async def subject_of(ctx: Context, m: Matter) -> commands.Subject:
    linked = await ctx.uow.households.linked_member(m.household_id) if m.household_id else None
    return commands.Subject(
        branch_id=m.branch_id,
        kind=m.kind,
        number=m.number,
        state=m.state,
        reporter=m.reporter,
        household_id=m.household_id,
        assignee_id=m.assignee_id,
        linked_member_id=linked.id if linked else None,
    )


async def named_member(ctx: Context, what: str) -> Member | bool | None:
    """The member the query names, when the sender may see them; None when it names nobody (or nobody known);
    False after telling the sender, in one line, that they may not."""
    p = ctx.parsed
    if p is None or not p.member or ctx.branch is None:
        return None
    m = await ctx.uow.members.by_code(ctx.branch.id, p.member)
    if m is None:
        return None
    about = commands.Subject(branch_id=m.branch_id, kind="member", number=0, state="—", member_id=m.id)
    decision = commands.may(actor_of(ctx), "查看", about)
    if not decision.allowed:
        ctx.reply(f"抱歉，{m.name}的{what}不能给您看：{decision.reason_zh}")
        return False
    return m
