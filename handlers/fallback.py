"""帮助 (generated from the route table) and what happens to everything nobody handled."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.common import query_is
from handlers.context import Context
from handlers.routing import Handler, Route


def make_help(routes: Sequence[Route]) -> Handler:
    """帮助 lists the help line of every route (in the order given) that this sender may use."""

    async def handle_help(ctx: Context) -> bool:
        lines = ["我是联户小助手，能帮您："]
        for r in routes:
            if r.help and (not r.roles or r.roles & ctx.sender.roles or ctx.sender.kind in r.roles):
                lines.append(f"- {r.help}")
        lines.append("直接用平常的话说就行，不用填表，也不用拍照。")
        ctx.reply("\n".join(lines))
        return True

    return handle_help


HELP_LINE = "看帮助：“帮助”"
IS_HELP = query_is("help")


async def handle_unknown(ctx: Context) -> bool:
    # Someone spoke to the bot on purpose (an @ or 1:1): say what was not understood. Chatter read from a
    # household group without an @ stays unanswered: a false reply there is worse than none.
    if ctx.msg.channel == "archive":
        return True
    p = ctx.parsed
    if p is not None and p.intent == "none" and ctx.sender.kind == "resident":
        # a resident is never pointed at the members' questions
        ctx.reply(
            "没看懂您的意思。有事直接说就行，例如“门口路灯坏了”；想知道办得怎么样，可以问“我反映的事办得怎么样了”。"
        )
    elif p is not None and p.intent == "none" and p.triggers and p.households:
        # a member passing on what befell a household ("听讲蒋立新前两天被车撞了"): the 八必访 post-hook opens the
        # task and tells the linked member privately; here only that it was taken, never the situation itself
        ctx.reply("收到，已私下提醒联系这一户的党员抽空上门看看。")
    elif p is not None and p.intent == "none":
        ctx.reply("没看懂您要我做什么。可以说“昨天走访了王大伯”或“本月未走访户”，发“帮助”看全部用法。")
    else:
        ctx.reply("这件事我还不会办，已经记下原话。发“帮助”看我能做什么。")
    return True


def anything(ctx: Context) -> bool:
    return True


async def township_needs_branch(ctx: Context) -> bool | None:
    """Pre-hook: township staff in a deployment of many branches name the branch first."""
    choices = ctx.township_choices
    if not choices:
        return None
    ctx.reply("请在前面写上支部名，例如“前洋村 本月未走访户”。现有支部：" + "、".join(choices))
    return False
