"""联有记录: a member (or a resident) reports a visit in plain words; the bot records it and says what it recorded.

States (docs/conversations.md): idle → [ambiguous household] → CHOOSE_HOUSEHOLD → (a number) → recorded
                                                         └─ (timeout / 取消 / a new message) → idle
"""

from __future__ import annotations

import datetime as dt

from handlers.common import household_label, intent_is, md
from handlers.context import Context
from handlers.conversation import clear_state, get_state, set_state
from handlers.events import VisitRecorded, VisitReported
from nlp.parser import parse_choice
from storage.models import Household

CHOOSE_HOUSEHOLD = "choose_household"
CANCEL_WORDS = ("取消", "算了", "不用了")


async def record_visits(
    ctx: Context, households: list[Household], day: dt.date, duties: list[str] | None = None
) -> None:
    """Record one visit per household (never twice for the same household and day) and answer."""
    assert ctx.branch is not None
    if duties is None:  # 五联到户: what the member's words say was done there (domain/duties.py); none forced
        duties = ctx.options.policy.catalog.recognise(ctx.msg.text)
    done, already = [], []
    for h in households:
        member = ctx.sender.member
        if member is None or ctx.sender.kind == "resident":
            member = await ctx.uow.households.linked_member(h.id)  # a resident tells us their member came
        if member is None:
            continue
        if await ctx.uow.visits.exists(h.id, day):
            already.append(h)
            continue
        visit = await ctx.uow.visits.add(
            branch_id=ctx.branch.id,
            member_id=member.id,
            household_id=h.id,
            day=day,
            inbound_id=ctx.inbound_id,
            by=ctx.msg.sender,
        )
        ctx.uow.visits.add_duties(visit, duties)
        ctx.publish(VisitRecorded(h, visit))  # open 八必访 tasks of the household close (handlers/mustvisit.py)
        done.append(h)
    lines = []
    if done:
        lines.append(f"已记录：{md(day)} 走访 " + "、".join(household_label(h) for h in done))
    if already:
        lines.append(f"{md(day)} 走访 " + "、".join(household_label(h) for h in already) + " 已经记过了，没有重复记录")
    if done and duties:
        lines.append(f"联户内容：{'、'.join(duties)}")
    if not lines:
        lines.append("这一户目前没有联系党员，没有记录。请联系支部书记调整联户关系。")
    ctx.reply("\n".join(lines))
    if done:  # a need said in the same words becomes a matter (handlers/matters.py)
        ctx.publish(VisitReported(tuple(done), day))


async def handle_visit(ctx: Context) -> bool:
    p = ctx.parsed
    assert p is not None
    if ctx.branch is None or ctx.sender.kind not in ("member", "resident", "township"):
        ctx.reply("没有在名册里找到您，暂时不能记录走访。请联系支部书记把您加入名册。")
        return True
    day = p.date or ctx.today
    if day > ctx.today:
        ctx.reply("走访日期在今天之后，没有记录。计划中的走访请走访后再告诉我。")
        return True
    found = await ctx.uow.households.by_codes(ctx.branch.id, p.households)
    households = [found[c] for c in p.households if c in found]
    if households:
        await record_visits(ctx, households, day)
        return True
    if p.ambiguous:
        candidates = await ctx.uow.households.by_codes(ctx.branch.id, list(p.ambiguous[0]))
        options = [candidates[c] for c in p.ambiguous[0] if c in candidates]
        if options:
            await set_state(
                ctx,
                CHOOSE_HOUSEHOLD,
                {
                    "codes": [h.code for h in options],
                    "date": day.isoformat(),
                    "duties": ctx.options.policy.catalog.recognise(ctx.msg.text),
                },
            )
            listing = "\n".join(f"{i}. {household_label(h)}" for i, h in enumerate(options, 1))
            minutes = ctx.conversation_timeout // 60
            # in a group the bot hears only what @-mentions it: say so, or a bare "2" never reaches it
            how = f"回复“@{ctx.options.bot_name} 序号”" if ctx.msg.chat_type == "group" else "回复序号"
            ctx.reply(f"您说的是哪一户？\n{listing}\n{how}即可（{minutes} 分钟内有效，回复“取消”放弃）。")
            return True
    ctx.reply("没认出是哪一户，没有记录。请写上户主姓名，例如“今天走访了王根发家”。")
    return True


async def has_open_choice(ctx: Context) -> bool:
    state = await get_state(ctx)
    return state is not None and state.state == CHOOSE_HOUSEHOLD


async def handle_choice(ctx: Context) -> bool:
    """The answer to 您说的是哪一户？ — or something else, which ends the question and is dispatched as usual."""
    if not await has_open_choice(ctx):
        return False
    state = ctx.open_question
    assert state is not None
    codes: list[str] = state.data["codes"]
    text = ctx.msg.text.strip()
    if text in CANCEL_WORDS:
        await clear_state(ctx)
        ctx.reply("好的，已取消，没有记录。")
        return True
    k = parse_choice(text, len(codes))
    if k is None:
        p = ctx.parsed
        if p is not None and p.intent != "none":
            await clear_state(ctx)  # a new message: drop the question and let the other routes have it
            return False
        ctx.reply(f"请回复 1–{len(codes)} 的序号，或回复“取消”。")
        return True
    await clear_state(ctx)
    assert ctx.branch is not None
    chosen = (await ctx.uow.households.by_codes(ctx.branch.id, [codes[k - 1]]))[codes[k - 1]]
    await record_visits(ctx, [chosen], dt.date.fromisoformat(state.data["date"]), state.data.get("duties", []))
    return True


ROUTES = (
    # (name, rule, handler, help); the priority is in handlers/__init__.py
    ("choose_household", lambda ctx: True, handle_choice, ""),
    ("visit", intent_is("visit"), handle_visit, "记录走访：直接说，例如“昨天走访了王大伯，路灯坏了”"),
)

# What the person is told when a question of this handler expires unanswered (the sweeper, bot/sweeper.py, says it).
TIMEOUT_NOTES = {CHOOSE_HOUSEHOLD: "刚才的问题已超时，那条走访没有记录。需要的话请重新发一次，并写上户主姓名。"}
