"""The scheduler mechanism: runs the jobs of the one table in jobs/__init__.py (JOBS) on cron schedules, inside
the app, exactly once. What a job says lives in jobs/; when and how often it runs lives here.

Exactly once, three layers deep:
  1. a Lease row: among several instances on one database only the holder ticks (it renews every tick; when an
     instance dies its lease lapses after `lease_seconds` and another takes over);
  2. a JobRun row per (job, period), inserted before the job runs — the unique constraint is the final guard
     against two runners, and a restart sees the row and does not post again;
  3. the job's outbox rows carry idempotency keys and are written in the same transaction that marks the
     JobRun done, so a crash mid-job leaves nothing half-sent: the stale 'running' row is retried later.

A period missed while the bot was down is caught up once (only the most recent firing of each job, and only if
it is at most `catch_up_days` old). Jobs are per branch: JobRun.job is "summary:3", the period is the month
covered ("2026-10"), the ISO week ("2026-W48"), the day ("2026-11-26") or the year ("2026").
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from croniter import croniter
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.keys import RUNTIME_KEY, SESSIONMAKER_KEY, SETTINGS_KEY
from domain.time import aware
from jobs import JOBS, JobSpec
from jobs.context import JobContext
from storage.models import Branch, JobRun, Lease, utcnow

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
MAX_ATTEMPTS = 3  # a job that fails this often for one period waits for `lianhu jobs run`


def job_key(name: str, branch_id: int) -> str:
    return f"{name}:{branch_id}"


def period_now(name: str, now_local: dt.datetime) -> str:
    """The period `lianhu jobs run NAME` uses without --period: the one a firing now would get."""
    return JOBS[name].period_of(now_local)


def last_fire(expr: str, now_local: dt.datetime) -> dt.datetime:
    # croniter's get_prev is strict: nudge so a firing exactly at `now` counts as due
    return croniter(expr, now_local + dt.timedelta(seconds=1)).get_prev(dt.datetime)


def next_fire(expr: str, now_local: dt.datetime) -> dt.datetime:
    return croniter(expr, now_local).get_next(dt.datetime)


@dataclass
class Outcome:
    job: str
    period: str
    status: str  # ran / done-before / busy / failed / gave-up
    detail: dict[str, Any]


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        deliver: Callable[[], Awaitable[Any]] | None = None,
        instance: str | None = None,
        use_lease: bool = True,
    ) -> None:
        self.settings = settings
        self.cfg = settings.schedule
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.deliver = deliver
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.use_lease = use_lease
        self.tz = ZoneInfo(self.cfg.timezone)
        self.stale_after = dt.timedelta(seconds=max(600, 3 * self.cfg.lease_seconds))

    # --- lease --------------------------------------------------------------------------------------------
    async def acquire_lease(self) -> bool:
        """Take or renew the scheduler lease. Plain UPDATE … WHERE, then INSERT: same on SQLite and PostgreSQL."""
        now = self.clock()
        until = now + dt.timedelta(seconds=self.cfg.lease_seconds)
        try:
            async with self.sessionmaker() as s, s.begin():
                res = await s.execute(
                    update(Lease)
                    .where(Lease.name == LEASE_NAME, or_(Lease.holder == self.instance, Lease.expires_at < now))
                    .values(holder=self.instance, expires_at=until)
                    .execution_options(synchronize_session=False)
                )
                if res.rowcount == 1:
                    return True
                if await s.get(Lease, LEASE_NAME) is not None:
                    return False
                s.add(Lease(name=LEASE_NAME, holder=self.instance, expires_at=until))
        except IntegrityError:
            return False  # another instance inserted it first
        return True

    async def release_lease(self) -> None:
        async with self.sessionmaker() as s, s.begin():
            await s.execute(
                update(Lease)
                .where(Lease.name == LEASE_NAME, Lease.holder == self.instance)
                .values(expires_at=self.clock() - dt.timedelta(seconds=1))
                .execution_options(synchronize_session=False)
            )

    # --- what is due --------------------------------------------------------------------------------------
    async def due(self, now: dt.datetime | None = None) -> list[tuple[JobSpec, Branch, str]]:
        now = now or self.clock()
        local = now.astimezone(self.tz)
        horizon = dt.timedelta(days=self.cfg.catch_up_days)
        async with self.sessionmaker() as s:
            branches = list(await s.scalars(select(Branch).order_by(Branch.id)))
            wanted: list[tuple[JobSpec, Branch, str]] = []
            for b in branches:
                for spec in JOBS.values():
                    fire = last_fire(spec.cron(self.cfg, b), local)
                    if local - fire > horizon:
                        continue  # too old to be worth catching up
                    wanted.append((spec, b, spec.period_of(fire)))
            periods = {p for _, _, p in wanted}
            finished = {
                (job, period)
                for job, period, status, detail in (
                    await s.execute(
                        select(JobRun.job, JobRun.period, JobRun.status, JobRun.detail).where(
                            JobRun.period.in_(periods or {""})
                        )
                    )
                ).all()
                if status == "done" or (status == "failed" and int((detail or {}).get("attempts", 0)) >= MAX_ATTEMPTS)
            }
        return [(spec, b, p) for spec, b, p in wanted if (job_key(spec.name, b.id), p) not in finished]

    async def tick(self) -> list[Outcome]:
        """One round: hold the lease, run what is due, hand the new messages to the outbox."""
        if self.use_lease and not await self.acquire_lease():
            return []
        outcomes = []
        for spec, branch, period in await self.due():
            if outcomes and self.use_lease and not await self.acquire_lease():
                break  # a long round (many branches) lost the lease: the new holder carries on
            outcomes.append(await self.run_job(spec.name, branch, period))
        if any(o.status == "ran" for o in outcomes) and self.deliver is not None:
            try:
                await self.deliver()
            except Exception:  # the outbox worker retries on its own
                log.exception("delivering job messages failed")
        return outcomes

    async def run_forever(self) -> None:
        while True:
            try:
                for o in await self.tick():
                    log.info("job %s %s: %s %s", o.job, o.period, o.status, o.detail)
            except Exception:  # a bad round (database away) must not stop the rhythm for good
                log.exception("scheduler tick failed")
            await asyncio.sleep(self.cfg.tick_seconds)

    # --- running one job for one period -------------------------------------------------------------------
    async def _claim(self, job: str, period: str, now: dt.datetime, force: bool) -> tuple[int | None, str, int]:
        """Insert (or take over) the JobRun row. Returns (row id or None, why not, attempts so far)."""
        try:
            async with self.sessionmaker() as s, s.begin():
                jr = (
                    await s.execute(select(JobRun).where(JobRun.job == job, JobRun.period == period))
                ).scalar_one_or_none()
                if jr is None:
                    jr = JobRun(
                        job=job,
                        period=period,
                        status="running",
                        instance=self.instance,
                        started_at=now,
                        detail={"attempts": 0},
                    )
                    s.add(jr)
                    await s.flush()
                    return jr.id, "", 0
                attempts = int((jr.detail or {}).get("attempts", 0))
                stale = jr.status == "running" and now - aware(jr.started_at) > self.stale_after
                retry = jr.status == "failed" and (attempts < MAX_ATTEMPTS or force)
                if not (stale or retry or (force and jr.status == "done")):
                    return (
                        None,
                        "done-before" if jr.status == "done" else ("busy" if jr.status == "running" else "gave-up"),
                        attempts,
                    )
                res = await s.execute(
                    update(JobRun)
                    .where(JobRun.id == jr.id, JobRun.status == jr.status, JobRun.instance == jr.instance)
                    .values(status="running", instance=self.instance, started_at=now, finished_at=None)
                    .execution_options(synchronize_session=False)
                )
                return (jr.id, "", attempts) if res.rowcount == 1 else (None, "busy", attempts)
        except IntegrityError:
            return None, "busy", 0  # another instance inserted the row first: it runs the job

    async def run_job(
        self, name: str, branch: Branch, period: str, *, force: bool = False, now: dt.datetime | None = None
    ) -> Outcome:
        spec = JOBS[name]
        now = now or self.clock()
        key = job_key(name, branch.id)
        run_id, why, attempts = await self._claim(key, period, now, force)
        if run_id is None:
            return Outcome(key, period, why, {})
        try:
            # before the job's transaction opens: on SQLite a read snapshot held across another connection's commits
            # could not write its JobRun row afterwards
            early = await spec.chunks(self.sessionmaker, self.settings, now) if spec.chunks else {}
            async with self.sessionmaker() as s, s.begin():
                b = await s.get(Branch, branch.id)
                assert b is not None
                jc = JobContext(s, self.settings, b, period, now)
                detail = {**early, **await spec.run(jc)}
                detail["attempts"] = attempts + 1
                # the done mark commits with the job's messages: both or neither
                await s.execute(
                    update(JobRun)
                    .where(JobRun.id == run_id, JobRun.instance == self.instance)
                    .values(status="done", finished_at=self.clock(), detail=detail)
                    .execution_options(synchronize_session=False)
                )
        except Exception as exc:
            log.exception("job %s for %s failed", key, period)
            async with self.sessionmaker() as s, s.begin():
                await s.execute(
                    update(JobRun)
                    .where(JobRun.id == run_id, JobRun.instance == self.instance)
                    .values(
                        status="failed",
                        finished_at=self.clock(),
                        detail={"attempts": attempts + 1, "error": f"{type(exc).__name__}: {exc}"[:300]},
                    )
                    .execution_options(synchronize_session=False)
                )
            return Outcome(key, period, "failed", {"error": str(exc)})
        return Outcome(key, period, "ran", detail)

    # --- for `lianhu jobs list` ---------------------------------------------------------------------------
    async def status(self, branch_id: int | None = None) -> list[dict[str, Any]]:
        """Each job's last and next run, for every branch or one (the console shows one: a county has hundreds)."""
        local = self.clock().astimezone(self.tz)
        out = []
        q = select(Branch).order_by(Branch.id)
        if branch_id is not None:
            q = q.where(Branch.id == branch_id)
        async with self.sessionmaker() as s:
            for b in await s.scalars(q):
                for spec in JOBS.values():
                    last = (
                        await s.execute(
                            select(JobRun)
                            .where(JobRun.job == job_key(spec.name, b.id))
                            .order_by(JobRun.started_at.desc(), JobRun.id.desc())
                            .limit(1)
                        )
                    ).scalar_one_or_none()
                    expr = spec.cron(self.cfg, b)
                    out.append(
                        {
                            "branch": b.name,
                            "job": spec.name,
                            "title": spec.title,
                            "cron": expr,
                            "last_period": last.period if last else None,
                            "last_status": last.status if last else None,
                            "last_at": aware(last.finished_at or last.started_at).astimezone(self.tz) if last else None,
                            "next_at": next_fire(expr, local),
                        }
                    )
        return out


# --- inside the app ----------------------------------------------------------------------------------------
SCHEDULER_KEY: web.AppKey[Scheduler] = web.AppKey("scheduler")


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx (after the runtime and the outbox worker): tick every `tick_seconds` on the runtime's clock."""
    settings = app[SETTINGS_KEY]
    rt = app[RUNTIME_KEY]
    task = None
    sched = Scheduler(settings, app[SESSIONMAKER_KEY], clock=lambda: rt.clock(), deliver=rt.flush_outbox)
    app[SCHEDULER_KEY] = sched
    if settings.schedule.enabled:
        task = asyncio.get_running_loop().create_task(sched.run_forever())
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(Exception):
            await sched.release_lease()
