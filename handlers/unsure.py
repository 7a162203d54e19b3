"""What the parser is unsure of, and what it says was no visit (issue 13 item 2; docs/parse.md, Confidence).

A reading at or above ACT is acted on by the other routes. Between ASK and ACT nothing is recorded on a guess:
- a member is asked back in plain words ("要记为走访吗？…回 1 记下"); "1" records exactly what was read then,
  anything else drops it;
- a resident is never answered in public: the words go on the linked member's private daily list (handlers/
  attention.py), where "登记 N" registers them.
Below ASK the bot stays silent. A member's report of a visit that did not happen (planned, failed, a call to a
household at home, an instruction to another member), said to the bot, is answered in one line saying why nothing
was recorded; the same words read from a 联户群 get no answer.

States (docs/conversations.md): idle → [a member's unsure reading] → CONFIRM_RECORD → ("1") → recorded
                                                                           └─ (anything else / timeout) → idle
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from handlers import attention, matters, visits
from handlers.common import household_label, md
from handlers.context import Context
from handlers.conversation import clear_state, get_state, set_state
from nlp.parser import ACT, ASK, ParseResult, parse_choice

CONFIRM_RECORD = "confirm_record"
CANCEL_WORDS = ("取消", "算了", "不用了", "不用", "不记", "不是")
UNSURE_INTENTS = ("visit", "request", "wish", "feedback")  # what would be recorded or answered on a guess
KIND_WORDS = {"visit": "走访", "request": "诉求", "wish": "微心愿"}

# Why a member's words were not recorded as a visit (parse key `not_visit`), in one line each.
NOT_VISIT_LINES = {
    "planned": "这是计划中的走访，没有记录；走访后再告诉我。",
    "failed": "这次没见到人，没有记为走访；见到了再告诉我。",
    "call_at_home": "打电话不算走访（只有对在外地住的户，电话、视频才算），没有记录；上门后再告诉我。",
    "instructed": "这是请别的党员去走访，没有记录；走访过后请他直接告诉我。",
}


def _unsure(p: ParseResult | None) -> bool:
    return p is not None and p.intent in UNSURE_INTENTS and p.confidence < ACT


def is_unsure(ctx: Context) -> bool:
    p = ctx.parsed
    if not _unsure(p):
        return False
    assert p is not None
    s = ctx.sender
    if p.confidence < ASK:
        return s.kind in ("member", "resident")
    if s.kind == "resident":
        return ctx.branch is not None and s.household is not None
    if s.kind != "member" or ctx.branch is None or p.intent == "feedback":
        return False
    if p.intent == "visit":
        return bool(p.households)  # none found, or two that fit: the visit route asks which one (or says none)
    return bool(p.households) or not p.ambiguous  # two that fit: the intake route asks which one


def _from_household_group(ctx: Context) -> bool:
    """Words read from a 联户群 by the chat archive: nobody spoke to the bot, and it cannot speak there."""
    return ctx.msg.channel == "archive" and ctx.chat.level != 1


async def handle_unsure(ctx: Context) -> bool:
    p = ctx.parsed
    assert p is not None
    if p.confidence < ASK:
        return True  # too unsure to ask: silence, nothing recorded
    if ctx.sender.kind == "resident":
        return await attention.handle_note(ctx)  # the member's private daily list, never a public answer
    if _from_household_group(ctx):
        return True  # a member's words in their 联户群, not said to the bot: nothing recorded, nothing said
    assert ctx.branch is not None
    found = await ctx.uow.households.by_codes(ctx.branch.id, list(p.households))
    names = "、".join(household_label(found[c]) for c in p.households if c in found)
    if p.intent == "visit":
        what = f"要记为走访吗？{md(p.date or ctx.today)} 走访 {names}。"
    else:
        words = matters.short(ctx.msg.text, 60)
        what = f"要登记为{KIND_WORDS[p.intent]}吗？{names + '：' if names else ''}“{words}”。"
    await set_state(ctx, CONFIRM_RECORD, {"words": ctx.msg.text, "inbound_id": ctx.inbound_id, "parse": p.to_dict()})
    minutes = ctx.conversation_timeout // 60
    # in a group the bot hears only what @-mentions it (cf. handlers/visits.py's numbered question)
    how = f"回复“@{ctx.options.bot_name} 1”" if ctx.msg.chat_type == "group" else "回 1 "
    ctx.reply(f"{what}\n我拿不准，先没有记。{how}记下（{minutes} 分钟内有效），回别的就不记。")
    return True


def _parse_from(d: dict[str, Any]) -> ParseResult:
    """The reading kept with the question, as it was."""
    fields = {f.name for f in dataclasses.fields(ParseResult)}
    kept = {k: v for k, v in d.items() if k in fields}
    kept["date"] = dt.date.fromisoformat(d["date"]) if d.get("date") else None
    kept["ambiguous"] = [tuple(a) for a in d.get("ambiguous") or []]
    return ParseResult(**kept)


async def handle_answer(ctx: Context) -> bool:
    """The answer to 要记为…吗？ — "1" records what was read; anything else drops it (a new message goes on)."""
    state = await get_state(ctx)
    if state is None or state.state != CONFIRM_RECORD:
        return False
    data = state.data
    await clear_state(ctx)
    text = ctx.msg.text.strip()
    if parse_choice(text, 1) == 1:
        # the record is of the words asked about, read as they were read then: the handlers, their reactions and
        # the post-hooks see those words, that reading and that message (not "1")
        ctx.msg = dataclasses.replace(ctx.msg, text=data["words"])
        ctx.parsed = _parse_from(data["parse"])
        if data.get("inbound_id") is not None:
            ctx.inbound_id = data["inbound_id"]
        if ctx.parsed.intent == "visit":
            return await visits.handle_visit(ctx)
        return await matters.handle_intake(ctx)
    p = ctx.parsed
    if text not in CANCEL_WORDS and p is not None and p.intent != "none":
        return False  # a new message: the question is dropped and this one is handled as usual
    ctx.reply("好的，那条没有记录。")
    return True


def is_not_visit(ctx: Context) -> bool:
    p = ctx.parsed
    return p is not None and p.intent == "none" and p.not_visit in NOT_VISIT_LINES and ctx.sender.kind == "member"


async def handle_not_visit(ctx: Context) -> bool:
    p = ctx.parsed
    assert p is not None and p.not_visit is not None
    if _from_household_group(ctx):
        return True  # read from a 联户群: said to the residents, not to the bot
    ctx.reply(NOT_VISIT_LINES[p.not_visit])
    return True


ROUTES = (
    # (name, rule, handler, help); the priority is in handlers/__init__.py
    ("confirm_record", lambda ctx: not ctx.no_open_question, handle_answer, ""),
    ("unsure", is_unsure, handle_unsure, ""),
    ("not_visit", is_not_visit, handle_not_visit, ""),
)

# What the person is told when the question expires unanswered (the sweeper, bot/sweeper.py, says it).
TIMEOUT_NOTES = {CONFIRM_RECORD: "刚才问您要不要记下的那条没有回复，已超时，没有记录。需要的话请重新说一次。"}
