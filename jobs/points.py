"""Points posting (积分结算): the ledger rows for what happened since the last run, by the configured rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import select

from jobs.context import JobContext
from storage import points
from storage.models import JobRun


def rules_from(settings: Any) -> points.PointsRules:
    """The configured values of every rule PointsRules knows (the settings also hold non-rule keys)."""
    p = settings.points
    return points.PointsRules(**{f.name: getattr(p, f.name) for f in dataclasses.fields(points.PointsRules)})


async def run_points(jc: JobContext) -> dict[str, Any]:
    """Scan what happened since shortly before the last run (late-recorded visits included); the first run
    scans everything. cause_key makes the overlap harmless."""
    last = await jc.session.scalar(
        select(JobRun.period)
        .where(JobRun.job == f"points:{jc.branch.id}", JobRun.status == "done")
        .order_by(JobRun.period.desc())
        .limit(1)
    )
    since = dt.date.fromisoformat(last) - dt.timedelta(days=40) if last else None
    added = await points.sync_points(
        jc.session, jc.branch.id, rules=rules_from(jc.settings), today=jc.today, since=since
    )
    return {"added": added, "since": since.isoformat() if since else None}
