"""Retention: raw message text is kept only as long as configured (PIPL art. 19/47); the records built from it
(visits, matters with their masked summaries, coded tags) stay."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import InboundMessage

CHUNK_ROWS = 500  # rows blanked per transaction: a few ms of write lock, far inside a callback's reply budget


async def purge_chunk(session: AsyncSession, before: dt.datetime, limit: int = CHUNK_ROWS) -> int:
    """Blank the text and cached reply of up to `limit` inbound messages received before `before`."""
    ids = list(
        await session.scalars(
            select(InboundMessage.id)
            .where(InboundMessage.received_at < before, InboundMessage.text.is_not(None))
            .order_by(InboundMessage.id)
            .limit(limit)
        )
    )
    if not ids:
        return 0
    await session.execute(
        update(InboundMessage)
        .where(InboundMessage.id.in_(ids))
        .values(text=None, reply=None)
        .execution_options(synchronize_session=False)
    )
    return len(ids)


async def purge_old_texts(
    sessionmaker: async_sessionmaker[AsyncSession], before: dt.datetime, limit: int = CHUNK_ROWS
) -> tuple[int, int]:
    """Blank every message older than `before`, one short transaction per chunk, so a purge of a year of a
    county's messages never holds the write lock while callbacks wait (a 200 must follow a stored message).
    Returns (rows, transactions). Idempotent: a purge cut short is finished by the next run."""
    rows = chunks = 0
    while True:
        async with sessionmaker() as s, s.begin():
            n = await purge_chunk(s, before, limit)
        chunks += 1
        rows += n
        if n < limit:
            return rows, chunks
