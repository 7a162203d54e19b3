"""Retention: daily, raw message text older than [privacy] retention_days is blanked (storage/retention.py).

The purge is a long write, so it runs as the job's `chunks` step: in short transactions of its own before the job's
transaction, never inside it (one UPDATE over a year of messages held SQLite's write lock while callbacks waited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.context import JobContext, JobSettings
from storage.retention import purge_old_texts


async def purge_chunks(
    sessionmaker: async_sessionmaker[AsyncSession], settings: JobSettings, now: dt.datetime
) -> dict[str, Any]:
    """Deployment-wide and idempotent: the first branch's run does the work, the others find nothing left."""
    rows, transactions = await purge_old_texts(sessionmaker, now - dt.timedelta(days=settings.privacy.retention_days))
    return {"purged": rows, "transactions": transactions}


async def run_retention(jc: JobContext) -> dict[str, Any]:
    return {}  # all the work is in purge_chunks
