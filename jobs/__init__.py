"""The branch's rhythm as capabilities: one module per job, and the one table the scheduler registers them from.

A job is `run(JobContext) -> detail`: it reads the database, writes outbox rows with idempotency keys in the
transaction it is given, and returns a small dict for its JobRun row. When it runs (cron, lease, JobRun, catch-up)
is the scheduler *mechanism* in bot/scheduler.py; what it says lives here. jobs/ may import domain, nlp, storage
and handlers, never bot/ (tests/unit/test_layering.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jobs import attention, digest, matter_timers, points, reminders, retention, summary, year_end
from jobs.context import JobContext, ScheduleOptions, day_period
from storage.models import Branch


@dataclass(frozen=True)
class JobSpec:
    name: str  # what `lianhu jobs run NAME` takes; JobRun.job is "NAME:branch_id"
    title: str
    cron: Callable[[Any, Branch], str]  # (the [schedule] settings, the branch) → cron expression
    period_of: Callable[[dt.datetime], str]  # local firing time → the period it covers
    run: Callable[[JobContext], Awaitable[dict[str, Any]]]
    example_period: str
    # a long write done in short transactions of its own, before `run`'s transaction (which must stay short: it
    # holds the write lock while it writes); gets (sessionmaker, settings, now), its detail joins the JobRun's
    chunks: Callable[[Any, Any, dt.datetime], Awaitable[dict[str, Any]]] | None = None


def _summary_cron(cfg: Any, branch: Branch) -> str:
    hh, mm = (int(x) for x in cfg.summary_time.split(":"))
    day = min(max(int(branch.theme_day or 5), 1), 28)  # a 31st would skip short months: 28 is every month
    return f"{mm} {hh} {day} * *"


def _cron(field: str) -> Callable[[ScheduleOptions, Branch], str]:
    return lambda cfg, _branch: getattr(cfg, field)


JOBS: dict[str, JobSpec] = {
    j.name: j
    for j in (
        JobSpec("summary", "主题党日汇总", _summary_cron, summary.summary_period, summary.run_summary, "2026-10"),
        JobSpec(
            "digest", "周二联合办公摘要", _cron("digest_cron"), digest.digest_period, digest.run_digest, "2026-W48"
        ),
        JobSpec(
            "reminders", "走访和超期提醒", _cron("reminders_cron"), day_period, reminders.run_reminders, "2026-11-26"
        ),
        JobSpec(
            "matter_timers",
            "诉求时限与回访",
            _cron("matter_timers_cron"),
            matter_timers.hour_period,
            matter_timers.run_matter_timers,
            "2026-11-26T10",
        ),
        JobSpec(
            "retention",
            "清除过期原始消息",
            _cron("retention_cron"),
            day_period,
            retention.run_retention,
            "2026-11-26",
            chunks=retention.purge_chunks,
        ),
        JobSpec("points", "积分结算", _cron("points_cron"), day_period, points.run_points, "2026-11-26"),
        JobSpec(
            "attention",
            "拿不准的话，私下给党员",
            _cron("attention_cron"),
            day_period,
            attention.run_attention,
            "2026-11-26",
        ),
        JobSpec(
            "year_end", "年终积分名单", _cron("year_end_cron"), year_end.year_period, year_end.run_year_end, "2026"
        ),
    )
}
