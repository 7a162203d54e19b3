"""Explicit conversation states (python-telegram-bot style), stored per (chat, user) with an expiry.

A state is a name plus data. The state table lives in the database so a restart or a second instance keeps it;
the runtime's sweeper tells the user when one expires.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select

from handlers.context import Context
from storage.models import ConversationState


async def get_state(ctx: Context) -> ConversationState | None:
    row = (
        await ctx.session.execute(
            select(ConversationState).where(
                ConversationState.chat_key == ctx.msg.chat_key, ConversationState.userid == ctx.msg.sender
            )
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.UTC)
    if expires <= ctx.msg.sent_at:
        return None  # expired: the sweeper says so and deletes it
    return row


async def set_state(ctx: Context, state: str, data: dict[str, Any]) -> None:
    await clear_state(ctx)
    ctx.session.add(
        ConversationState(
            chat_key=ctx.msg.chat_key,
            userid=ctx.msg.sender,
            state=state,
            data={**data, "channel": ctx.msg.channel, "meta": ctx.msg.meta},
            expires_at=ctx.msg.sent_at + dt.timedelta(seconds=ctx.conversation_timeout),
        )
    )


async def clear_state(ctx: Context) -> None:
    await ctx.session.execute(
        delete(ConversationState).where(
            ConversationState.chat_key == ctx.msg.chat_key, ConversationState.userid == ctx.msg.sender
        )
    )
