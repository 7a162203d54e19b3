"""Retention: raw message text is kept only as long as configured (PIPL art. 19/47); the records built from it
(visits, matters with their masked summaries, coded tags) stay."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboundMessage


async def purge_old_texts(session: AsyncSession, before: dt.datetime) -> int:
    """Blank the text and cached reply of every inbound message received before `before`."""
    res = await session.execute(
        update(InboundMessage)
        .where(InboundMessage.received_at < before, InboundMessage.text.is_not(None))
        .values(text=None, reply=None)
        .execution_options(synchronize_session=False)
    )
    return int(res.rowcount or 0)
