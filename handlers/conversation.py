"""Explicit conversation states (python-telegram-bot style), stored per (chat, user) with an expiry.

A state is a name plus data. The state table lives in the database so a restart or a second instance keeps it;
the runtime's sweeper tells the user when one expires.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.time import aware
from handlers.context import Context
from storage.models import ConversationState


async def get_state(ctx: Context) -> ConversationState | None:
    """The question this person has open here (kept on ctx.open_question for the handler that asked it)."""
    ctx.open_question = None
    if ctx.no_open_question:  # the runtime knows from the statement that read the branch: no need to ask again
        return None
    row = await ctx.uow.questions.get(ctx.msg.chat_key, ctx.msg.sender)
    if row is None:
        return None
    expires = aware(row.expires_at)
    if expires <= ctx.msg.sent_at:
        return None  # expired: the sweeper says so and deletes it
    ctx.open_question = row
    return row


async def set_state(ctx: Context, state: str, data: dict[str, Any]) -> None:
    await clear_state(ctx)
    ctx.no_open_question = False
    ctx.uow.questions.put(
        ConversationState(
            chat_key=ctx.msg.chat_key,
            userid=ctx.msg.sender,
            state=state,
            data={**data, "channel": ctx.msg.channel, "meta": ctx.msg.meta},
            expires_at=ctx.msg.sent_at + dt.timedelta(seconds=ctx.conversation_timeout),
        )
    )


async def clear_state(ctx: Context) -> None:
    await ctx.uow.questions.clear(ctx.msg.chat_key, ctx.msg.sender)
