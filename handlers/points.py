"""积分 in chat: each member sees their own; the ranking goes to the 书记/委员 privately.

Per the 2024 减负 rules there is no ranking in a group unless the branch turns it on ([points] public_ranking);
a member who asks in a group gets the answer privately. Totals are sums over the ledger (storage/points.py),
posted nightly by the points job.
"""

from __future__ import annotations

import re

from handlers.common import is_private, named_member, query_is
from handlers.context import Context
from storage import points, repo
from storage.models import Member
from storage.rhythm import EXEMPT, day_start

RANKING = re.compile(r"排名|排行|全支部|大家|所有人|名单")


async def _own(ctx: Context, m: Member) -> str:
    """One member's points this year (the sender's own, or the member a 书记/委员 asks about)."""
    year = ctx.today.year
    y0, y1 = points.year_bounds(year)
    month = ctx.today.strftime("%Y-%m")
    m0, m1 = (day_start(d) for d in repo.month_bounds(month))
    total = await ctx.uow.points.total(m.id, y0, y1)
    this_month = await ctx.uow.points.total(m.id, m0, m1)
    recent = await ctx.uow.points.entries(m.id, y0, y1, limit=8)
    lines = [f"**{m.name}同志 {year}年积分：{total} 分**（本月 {this_month:+d} 分）"]
    if recent:
        lines.append("最近的记分：")
        lines += [f"- {e.cause}：{e.points:+d}" for e in recent]
    else:
        lines.append("今年还没有记分。")
    if m.status == EXEMPT:
        who = "您" if m.id == (ctx.sender.member.id if ctx.sender.member else None) else f"{m.name}"
        lines.append(f"{who}是免联户党员，联户积分不作要求。")
    lines.append("积分每天凌晨结算：今天的走访明天计入。")
    return "\n".join(lines)


async def _ranking(ctx: Context) -> str:
    assert ctx.branch is not None
    year = ctx.today.year
    y0, y1 = points.year_bounds(year)
    rows = await ctx.uow.points.ranking(ctx.branch.id, y0, y1)
    threshold = ctx.options.year_end_threshold
    lines = [f"**{ctx.branch.name} {year}年积分排名**（免联户党员不计）"]
    for i, (m, total) in enumerate(rows, 1):
        lines.append(f"{i}. {m.name}：{total} 分" + ("（低于年终线）" if total < threshold else ""))
    return "\n".join(lines)


async def handle_points(ctx: Context) -> bool:
    s = ctx.sender
    if ctx.branch is None or s.member is None:
        ctx.reply("积分只对本支部党员开放。")
        return True
    named = await named_member(ctx, "积分")  # "张伟的积分": for 书记/委员 and 张伟 himself (domain/commands.py 查看)
    if named is False:
        return True
    wants_ranking = bool(RANKING.search(ctx.msg.text))
    if isinstance(named, Member):
        text = await _own(ctx, named)
    elif wants_ranking and not s.is_cadre:
        text = "积分排名只发给支部书记和委员。以下是您自己的积分：\n" + await _own(ctx, s.member)
    elif wants_ranking:
        text = await _ranking(ctx)
        if not is_private(ctx) and ctx.options.public_ranking:
            ctx.reply(text)  # the branch chose to publish rankings in its group
            return True
    else:
        text = await _own(ctx, s.member)
    if is_private(ctx):
        ctx.reply(text)
    else:
        ctx.notify(s.userid, text)
        ctx.reply("积分情况已私信发给您。")
    return True


ROUTES = (("points", query_is("points"), handle_points, "查积分：“我的积分”（书记可问“积分排名”）"),)
