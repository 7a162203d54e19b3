"""Retention: daily, raw message text older than [privacy] retention_days is blanked (storage/retention.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jobs.context import JobContext
from storage.retention import purge_old_texts


async def run_retention(jc: JobContext) -> dict[str, Any]:
    """The job runs per branch; the purge is deployment-wide and idempotent, so running it for each branch costs
    nothing."""
    before = jc.now - dt.timedelta(days=jc.settings.privacy.retention_days)
    return {"purged": await purge_old_texts(jc.session, before)}
