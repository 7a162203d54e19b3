"""A member corrects their own visit report in chat: "撤销", "刚才那条不是走访", "记错了，不是王大伯是王大妈".

The parser marks the correction (nlp/parser.py `correction`); this capability finds the member's last report
(storage/corrections.py) and undoes or moves its visits, each change kept with who and when. Corrections of a
诉求/心愿 by number go through the command table (`撤销 诉求N`, handlers/matters.py)."""

from __future__ import annotations

from handlers.common import household_label, md
from handlers.context import Context


def is_visit_correction(ctx: Context) -> bool:
    p = ctx.parsed
    if p is None or p.correction is None or p.intent == "visit" or ctx.sender.member is None:
        return False
    c = p.correction
    return c.get("ref") is None and c.get("kind") in (None, "visit")


async def handle_correction(ctx: Context) -> bool:
    assert ctx.parsed is not None and ctx.parsed.correction is not None and ctx.sender.member is not None
    c, me, now = ctx.parsed.correction, ctx.sender.member, ctx.msg.sent_at
    last = await ctx.uow.visits.last_report(me.id, now)
    if not last:
        ctx.reply("没有找到您这几天记的走访，什么都没有改。")
        return True
    wrong, right = set(c.get("wrong") or []), list(c.get("right") or [])
    if c.get("action") == "replace" and right:
        pick = [(v, h) for v, h in last if not wrong or h.code in wrong]
        if len(pick) != 1:
            names = "、".join(h.head_name for _, h in last)
            ctx.reply(f"您上一条记的是：{names}。请说清楚把哪一户改成哪一户，例如“记错了，不是王根发是王彩娥”。")
            return True
        [(v, before)] = pick
        after = (await ctx.uow.households.by_codes(me.branch_id, right[:1])).get(right[0])
        if after is None:
            ctx.reply("没认出要改成哪一户，什么都没有改。")
            return True
        await ctx.uow.visits.move(v, before, after, actor=ctx.msg.sender, at=now, words=ctx.msg.text)
        ctx.reply(
            f"已更正：{md(v.visit_date)} 走访 {household_label(before)} → {household_label(after)}。改动留有记录。"
        )
        return True
    undo = [(v, h) for v, h in last if not wrong or h.code in wrong]
    if not undo:
        ctx.reply("您上一条没有记这一户，什么都没有改。")
        return True
    for v, h in undo:
        await ctx.uow.visits.undo(v, h, actor=ctx.msg.sender, at=now, words=ctx.msg.text)
    listing = "、".join(f"{md(v.visit_date)} {household_label(h)}" for v, h in undo)
    ctx.reply(f"已撤销走访：{listing}。撤销留有记录（谁、何时）。")
    return True


ROUTES = (
    # (name, rule, handler, help); the priority is in handlers/__init__.py (before the visit route)
    (
        "correct_visit",
        is_visit_correction,
        handle_correction,
        "改走访：说“刚才那条记错了，不是王大伯是王大妈”或“撤销”",
    ),
)
