"""The conversation sweeper: open questions (handlers/conversation.py) that expired are deleted and the person is
told, once — the DELETE decides who tells, so two instances sweeping together never tell twice. What to say is the
handler's (its TIMEOUT_NOTES, by state name); the sweeper only finds, deletes and queues.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import MODULES
from storage import outbox
from storage.models import ConversationState

log = logging.getLogger(__name__)

# state name → what the person is told when it expires: each handler module that asks questions says it in its own
# TIMEOUT_NOTES (handlers/visits.py), collected here from the route table's modules
TIMEOUT_NOTES: Mapping[str, str] = {k: v for m in MODULES for k, v in getattr(m, "TIMEOUT_NOTES", {}).items()}
DEFAULT_NOTE = "刚才的问题已超时，没有记录。需要的话请重新发一次。"


async def sweep_conversations(
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
    *,
    flush: Callable[[], Awaitable[Any]] | None = None,
) -> int:
    """Expire open questions and tell the person, once. Returns how many were told."""
    async with sessionmaker() as session:
        expired = list(await session.scalars(select(ConversationState).where(ConversationState.expires_at <= now)))
    told = 0
    for st in expired:
        async with sessionmaker() as session, session.begin():
            res = await session.execute(delete(ConversationState).where(ConversationState.id == st.id))
            if res.rowcount != 1:
                continue  # another sweeper (or the person's answer) got there first
            note = TIMEOUT_NOTES.get(st.state, DEFAULT_NOTE)
            outbox.enqueue(session, channel="app", target=st.userid, content=note, key=f"expired:{st.id}")
        told += 1
    if told and flush is not None:
        await flush()
    return told


async def sweep_forever(sweep: Callable[[], Awaitable[int]], every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await sweep()
        except Exception:  # keep sweeping; one bad round must not stop expiry notes for good
            log.exception("conversation sweep failed")
