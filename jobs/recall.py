"""The recall rule: a resident recalled (撤回) a message in a household group. A matter it created that nobody has
acted on yet (已登记) is withdrawn; one already in hand stays, and the group's member is asked to check with the
household. Runs in the transaction that moves the archive cursor past the recall (bot/archive.py).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import matters, outbox, repo
from storage.models import InboundMessage, Matter, Member


async def apply_recall(
    session: AsyncSession, *, recalled_msgid: str, recall_msgid: str, resident: str, member_id: int | None
) -> int:
    """Returns how many matters the recalled message had created (each handled as above)."""
    source = (
        await session.execute(
            select(InboundMessage).where(InboundMessage.channel == "archive", InboundMessage.msg_id == recalled_msgid)
        )
    ).scalar_one_or_none()
    if source is None:
        return 0
    found = list(await session.scalars(select(Matter).where(Matter.source_inbound_id == source.id)))
    member = await session.get(Member, member_id) if member_id else None
    household = await repo.household_by_external(session, resident)
    who = f"{household.head_name}家" if household is not None else "居民"
    for m in found:
        label = matters.ref(m)
        if m.state == "已登记":
            await matters.transition(session, m, "撤回", resident, "居民撤回了消息")
            note = f"{who}撤回了消息，{label}已撤回，不用再办。"
        else:
            note = f"{who}撤回了提出{label}的那条消息；{label}现在是“{m.state}”，请和居民确认是否还要办。"
        if member is not None and member.userid:
            outbox.enqueue(
                session,
                channel="app",
                target=member.userid,
                content=note,
                branch_id=m.branch_id,
                key=f"recall:{recall_msgid}:{m.id}",
            )
    return len(found)
