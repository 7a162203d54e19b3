"""Time rules: the database keeps UTC, people live in Asia/Shanghai days and months."""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


def aware(ts: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back naive; everything we write is UTC."""
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=dt.UTC)


def local_date(ts: dt.datetime, tz: ZoneInfo = TZ) -> dt.date:
    return aware(ts).astimezone(tz).date()


def day_start(d: dt.date, tz: ZoneInfo = TZ) -> dt.datetime:
    """Local midnight of `d`, in UTC (how timestamps are compared in queries)."""
    return dt.datetime.combine(d, dt.time(), tz).astimezone(dt.UTC)


def month_of(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First day of `month` (YYYY-MM) and first day of the next one."""
    year, mon = (int(x) for x in month.split("-"))
    start = dt.date(year, mon, 1)
    return start, start + dt.timedelta(days=calendar.monthrange(year, mon)[1])


def previous_month(month: str) -> str:
    start, _ = month_bounds(month)
    return month_of(start - dt.timedelta(days=1))
