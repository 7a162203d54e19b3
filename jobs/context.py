"""What every job gets and the few ways a job speaks: a private message once per key, a post into the branch's
一级 group cut to WeCom's size limit. Each job (one module beside this one) reads the database, writes outbox rows
with idempotency keys inside the transaction the scheduler gives it, and returns a small detail dict for its JobRun
row; the scheduler mechanism (bot/scheduler.py) decides when. Jobs never import bot/: the settings arrive as an
object shaped like `JobSettings` below (bot.config.Settings is one).

Privacy and the 2024 减负 rules shape the wording: the group sees counts, never key-household types or household
names; reminders and lists of people go privately, and only to people who have something to do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import common
from storage import matters, outbox, rhythm
from storage.models import Branch, ChatGroup, Member, OutboundMessage

MARKDOWN_MAX = 4096  # webhook markdown content, bytes (wecom-platform.md §3)
STATE_ORDER = tuple(matters.STATES)  # display order of states = the lifecycle order in storage/matters.py


# --- the settings a job reads (structural: bot.config.Settings fits, jobs never import it) ----------------------
class ScheduleOptions(Protocol):
    timezone: str
    digest_to: Sequence[str]
    remind_from_day: int
    remind_every_days: int


class MatterOptions(Protocol):
    respond_hours: int
    remind_before_days: int
    followup_days: int


class PrivacyOptions(Protocol):
    retention_days: int


class JobSettings(Protocol):
    schedule: ScheduleOptions
    matters: MatterOptions
    privacy: PrivacyOptions
    points: Any  # every PointsRules field plus year_end_threshold (jobs/points.py reads them by name)


@dataclass
class JobContext:
    session: AsyncSession
    settings: JobSettings
    branch: Branch
    period: str
    now: dt.datetime  # aware

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.schedule.timezone)

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.tz).date()


def day_period(fire_local: dt.datetime) -> str:
    return fire_local.date().isoformat()


# --- small helpers ------------------------------------------------------------------------------------------
def nbytes(s: str) -> int:
    return len(s.encode("utf-8"))


def split_markdown(text: str, limit: int = MARKDOWN_MAX) -> list[str]:
    """Cut at line ends into parts of at most `limit` UTF-8 bytes; a part notes it continues."""
    room = limit - nbytes("\n（续）") - 16
    parts: list[str] = []
    cur: list[str] = []
    size = 0
    for line in text.split("\n"):
        while nbytes(line) > room:  # one very long line: cut on a character boundary
            cut = line.encode("utf-8")[:room].decode("utf-8", errors="ignore")
            if cur:
                parts.append("\n".join(cur))
                cur, size = [], 0
            parts.append(cut)
            line = line[len(cut) :]
        extra = nbytes(line) + (1 if cur else 0)
        if cur and size + extra > room:
            parts.append("\n".join(cur))
            cur, size = [], 0
            extra = nbytes(line)
        cur.append(line)
        size += extra
    if cur:
        parts.append("\n".join(cur))
    if len(parts) > 1:
        parts = [p + f"\n（{i}/{len(parts)}）" for i, p in enumerate(parts, 1)]
    return parts


def pct(a: int, b: int) -> str:
    return f"{round(100 * a / b)}%" if b else "—"


def month_label(month: str) -> str:
    y, m = month.split("-")
    return f"{y}年{int(m)}月"


md = common.md  # one way to write a date and a household, in chat and in jobs alike
hh_label = common.household_label


async def key_taken(s: AsyncSession, key: str) -> bool:
    return bool(await s.scalar(select(OutboundMessage.id).where(OutboundMessage.idempotency_key == key).limit(1)))


async def send_private(jc: JobContext, member: Member, text: str, key: str) -> bool:
    """Queue a private message once per key (the JobRun row already keeps a job from running twice; this
    guards a job that is re-run by hand for the same period)."""
    if not member.userid or await key_taken(jc.session, key):
        return False
    row = outbox.enqueue(jc.session, channel="app", target=member.userid, content=text, key=key, branch_id=jc.branch.id)
    row.created_at = jc.now
    return True


async def post_group(jc: JobContext, group: ChatGroup, text: str, key: str) -> int:
    """Post markdown into the 一级 group, split to WeCom's size limit. Returns parts queued."""
    n = 0
    for i, part in enumerate(split_markdown(text), 1):
        k = f"{key}:p{i}"
        if await key_taken(jc.session, f"{k}:webhook") or await key_taken(jc.session, f"{k}:aibot"):
            continue
        for row in await outbox.enqueue_group_post(jc.session, group, part, key=k, branch_id=jc.branch.id):
            row.created_at = jc.now
        n += 1
    return n


async def level1_group(s: AsyncSession, branch_id: int) -> ChatGroup | None:
    return (
        await s.execute(
            select(ChatGroup)
            .where(ChatGroup.branch_id == branch_id, ChatGroup.level == 1, ChatGroup.internal)
            .order_by(ChatGroup.webhook_key.is_(None), ChatGroup.id)
            .limit(1)
        )
    ).scalar_one_or_none()


async def last_sent_at(s: AsyncSession, prefix: str) -> dt.datetime | None:
    row = (
        await s.execute(
            select(OutboundMessage.created_at)
            .where(OutboundMessage.idempotency_key.like(prefix + "%"))
            .order_by(OutboundMessage.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return rhythm.aware(row) if row is not None else None
