"""The month-report rules: what counts as visited, covered, new, closed, open at the month's end and overdue, and
which rating an 评价 gave. Pure: storage/rhythm.py asks the database for the counts these rules describe (SQL
aggregates, narrowed by the same bounds), and tests recount stored records with these functions to check it.

A month is [start, end) in UTC instants (local midnights, domain/time.py) and [start_d, end_d) in local dates.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from domain.roles import EXEMPT
from domain.time import aware, local_date

RATINGS = ("满意", "基本满意", "不满意")
SATISFIED = ("满意", "基本满意")  # what the 满意率 counts


@dataclass(frozen=True)
class Month:
    start: dt.datetime  # local midnight of the 1st, in UTC
    end: dt.datetime  # local midnight of the next 1st, in UTC
    start_d: dt.date
    end_d: dt.date


# --- who is due, who is covered -----------------------------------------------------------------------------
def owes_visits(member_status: str | None) -> bool:
    """An exempt (免联户) member has no households due; their links still exist but count for nobody."""
    return member_status != EXEMPT


def covered(household_id: int, visited: set[int]) -> bool:
    """A household counts as visited in the month if anyone visited it (a 中心户 standing in for the member covers
    it too); a member's visit count is their own records."""
    return household_id in visited


@dataclass(frozen=True)
class LinkSpan:
    household_id: int
    member_id: int
    valid_from: dt.datetime
    valid_to: dt.datetime | None


def responsible(spans: Iterable[LinkSpan], month: Month) -> dict[int, int]:
    """household_id → the member responsible in the month: the latest link (by valid_from) overlapping it. A
    household whose first link came after the month (roster imported later) counts with its current link, so the
    first summary after a deployment is not empty. `spans` must hold every link of a household that has one
    overlapping the month or a current one, in (valid_from, id) order."""
    overlap: dict[int, int] = {}
    current: dict[int, int] = {}
    first_from: dict[int, dt.datetime] = {}
    for s in spans:
        vfrom = aware(s.valid_from)
        first_from.setdefault(s.household_id, vfrom)
        if s.valid_to is None:
            current[s.household_id] = s.member_id
        if vfrom < month.end and (s.valid_to is None or aware(s.valid_to) > month.start):
            overlap[s.household_id] = s.member_id  # ordered by valid_from: the last one wins
    for hid, mid in current.items():
        if hid not in overlap and first_from[hid] >= month.end:
            overlap[hid] = mid
    return overlap


# --- matters (诉求 and 心愿) -------------------------------------------------------------------------------------
def is_new(created: dt.datetime, month: Month) -> bool:
    return month.start <= aware(created) < month.end


def closed_in(closed: dt.datetime | None, month: Month) -> bool:
    """办结/归档 in the month (for a wish: fulfilled)."""
    return closed is not None and month.start <= aware(closed) < month.end


def open_at_end(created: dt.datetime, closed: dt.datetime | None, month: Month) -> bool:
    return aware(created) < month.end and (closed is None or aware(closed) >= month.end)


def overdue_in(created: dt.datetime, closed: dt.datetime | None, due: dt.date | None, month: Month) -> bool:
    """Past its due date while open at some point in the month: due before the month ended, and either still open
    or closed (within the month or later) on a day after the due date."""
    if due is None or due >= month.end_d or aware(created) >= month.end:
        return False
    if closed is None:
        return True
    return aware(closed) >= month.start and local_date(closed) > due


def close_days(created: dt.datetime, closed: dt.datetime) -> float:
    return (aware(closed) - aware(created)).total_seconds() / 86400


def rating_of(note: str | None, to_state: str | None, current: str | None) -> str | None:
    """The rating an 评价 event gave: from its note or state if written there (代评 notes included), else the
    matter's current one."""
    for text in (note or "", to_state or ""):
        for r in ("不满意", "基本满意", "满意"):  # longest first: 满意 is inside the other two
            if r in text:
                return r
    return current if current in RATINGS else None


def satisfaction(ratings: dict[str, int]) -> float | None:
    n = sum(ratings.get(r, 0) for r in RATINGS)
    return sum(ratings.get(r, 0) for r in SATISFIED) / n if n else None


def close_rate(closed: int, open_end: int) -> float | None:
    base = closed + open_end
    return closed / base if base else None


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# --- 八必访 tasks --------------------------------------------------------------------------------------------------
def days_to_visit(created: dt.datetime, closed: dt.datetime) -> float:
    return max(0.0, close_days(created, closed))
