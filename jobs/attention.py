"""Daily: each member privately gets the residents' words of their 联户群 that made no record but may need them
(handlers/attention.py), numbered, with the one word that registers one ("登记 3"). Nothing when there is nothing;
never in a group (基层减负: reminders in private)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from jobs.context import JobContext, send_private
from storage import attention
from storage.models import AttentionItem, Household, Member


def list_text(member: Member, items: list[tuple[int, AttentionItem, Household]], jc: JobContext) -> str:
    lines = [f"{member.name}同志，联户群里有 {len(items)} 句话机器人拿不准要不要登记，请您看一看："]
    for number, item, h in items:
        when = item.said_at.astimezone(jc.tz)
        lines.append(f"{number}. {h.head_name}家（{when.month}月{when.day}日 {when:%H:%M}）：{item.summary}")
    lines.append("要登记为诉求，回复“登记 序号”，例如“登记 " + str(items[0][0]) + "”；不需要的不用管。")
    return "\n".join(lines)


async def run_attention(jc: JobContext) -> dict[str, Any]:
    s = jc.session
    grouped: dict[int, list[tuple[AttentionItem, Household]]] = defaultdict(list)
    for item, h in await attention.unlisted(s, jc.branch.id, jc.now):
        assert item.member_id is not None
        grouped[item.member_id].append((item, h))
    sent = 0
    for member_id, pairs in grouped.items():
        member = await s.get(Member, member_id)
        if member is None:
            continue
        first = await attention.next_number(s, member_id)
        numbered = [(first + k, item, h) for k, (item, h) in enumerate(pairs)]
        for number, item, _h in numbered:
            item.number, item.listed_at = number, jc.now
        if await send_private(jc, member, list_text(member, numbered, jc), f"attention:{member_id}:{first}"):
            sent += 1
    return {"members": sent, "items": sum(len(p) for p in grouped.values())}
