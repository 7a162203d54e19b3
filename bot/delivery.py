"""Routing of outgoing messages: what a handler said (ctx.outgoing) becomes outbox rows, each sent back the way
its message came — a passive reply in the callback's own answer (智能机器人 / long connection), a 微信客服 reply, a
private note to the member of a household group (the bot cannot speak there), a group post, or an app message.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.privacy import mask
from domain.roles import branch_heads
from handlers.context import Context
from storage import outbox, repo
from storage.models import Member, OutboundMessage

if TYPE_CHECKING:
    from bot.outbox import OutboxWorker

log = logging.getLogger(__name__)

_PASSIVE = insert(OutboundMessage.__table__)


class Delivery:
    def __init__(self) -> None:
        self.outbox: OutboxWorker | None = None  # set by bot/outbox.py when the worker runs

    async def queue_outgoing(self, session: AsyncSession, ctx: Context, inbound_id: int) -> None:
        """Every answer becomes an outbox row, routed back the way the message came."""
        branch_id = ctx.branch.id if ctx.branch else None
        passive: list[dict[str, Any]] = []
        for n, out in enumerate(ctx.outgoing):
            key = f"in:{inbound_id}:{n}"
            if out.kind == "reply" and ctx.msg.channel in ("aibot", "ws", "console"):  # console: shown on the page
                # answered in the HTTP response / aibot_respond_msg itself (passive reply); logged for the record
                passive.append(
                    {
                        "branch_id": branch_id,
                        "channel": "passive",
                        "target": out.to,
                        "msgtype": "markdown",
                        "content": out.text,
                        "status": "sent",
                        "inbound_id": inbound_id,
                    }
                )
                continue
            if out.kind == "reply" and ctx.msg.channel == "kf":
                outbox.enqueue(
                    session,
                    channel="kf",
                    target=ctx.msg.sender,
                    content=out.text,
                    msgtype="text",
                    key=key,
                    branch_id=branch_id,
                    inbound_id=inbound_id,
                    payload={"open_kfid": ctx.msg.meta.get("open_kfid", "")},
                )
                continue
            if out.kind == "reply" and ctx.msg.channel == "archive":
                # the bot cannot speak in a household group: the group's member gets it privately
                await self._reply_to_group_member(session, ctx, out.text, key, branch_id, inbound_id)
                continue
            if out.kind == "group":
                group = await repo.group_by_chat_id(session, out.to)
                if group is not None:
                    await outbox.enqueue_group_post(
                        session, group, out.text, key=key, branch_id=branch_id, inbound_id=inbound_id
                    )
                else:
                    log.warning("group post to unknown chat %s dropped", out.to)
                continue
            target = ctx.msg.sender if out.kind == "reply" else out.to
            outbox.enqueue(
                session,
                channel="app",
                target=target,
                content=out.text,
                branch_id=branch_id,
                inbound_id=inbound_id,
                key=key,
            )
        if passive:
            await session.execute(_PASSIVE, passive)

    async def _reply_to_group_member(
        self, session: AsyncSession, ctx: Context, text: str, key: str, branch_id: int | None, inbound_id: int
    ) -> None:
        """The bot only reads this group (the archive): a member's own words are answered to them privately; the
        answer to a resident goes to the group's linked member — or, in a group with none, the branch's 书记 —
        plainly marked as the resident's, to pass on."""
        group = ctx.chat.group
        where = f"「{group.name}」" if group is not None else "群"
        raw = mask(ctx.msg.text)  # masked before it is cut: half a number would slip past the rule
        said = raw if len(raw) <= 60 else raw[:60] + "…"
        if ctx.sender.member is not None:  # a member's words: the answer is theirs
            targets = [ctx.sender.member]
            note = f"{where}里您说：{said}\n\n{text}"
        else:  # the answer is for the resident, and only a member can say it there
            member = await session.get(Member, group.member_id) if group is not None and group.member_id else None
            if member is not None and member.active and member.userid:
                targets = [member]
            elif group is not None:
                targets = branch_heads(await repo.active_members(session, group.branch_id))
            else:
                targets = []
            who = ctx.sender.display
            note = f"{where}里{who}说：{said}\n\n机器人在联户群里说不了话，请您转告{who}：\n{text}"
        targets = [m for m in targets if m.userid]
        if not targets:
            log.warning("nobody to tell about message %s in %s (no linked member, no 书记)", inbound_id, where)
            return
        for n, member in enumerate(targets):
            outbox.enqueue(
                session,
                channel="app",
                target=member.userid,
                content=note,
                branch_id=branch_id,
                inbound_id=inbound_id,
                key=key if n == 0 else f"{key}:{member.id}",
            )

    def kick(self) -> None:
        """New rows are waiting: wake the worker now rather than at its next poll."""
        if self.outbox is not None:
            self.outbox.wake()

    async def flush(self) -> int:
        """Send what is due now (the worker does this on its own; callers that want it at once may ask)."""
        if self.outbox is None:
            return 0
        return await self.outbox.run_once()
