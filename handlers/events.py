"""What one message did, as events, so capabilities react to each other without calling each other.

A handler publishes (`ctx.publish(...)`); after the route has run, the dispatcher hands each event, in order, to the
reactions listed for its type in the one table (`handlers/__init__.py`, REACTIONS). A reaction may publish more
events; they are handled in the same pass, inside the message's transaction, so all of it commits or none does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.models import Household, Matter, Visit


@dataclass(frozen=True)
class VisitRecorded:
    """One household's visit was written (a report may record several)."""

    household: Household
    visit: Visit


@dataclass(frozen=True)
class VisitReported:
    """A visit report was answered: the households it recorded (its words may also carry a need)."""

    households: tuple[Household, ...]
    day: dt.date


@dataclass(frozen=True)
class MatterRegistered:
    """A new wish or request was registered (not a duplicate folded into an open one)."""

    matter: Matter


Event = VisitRecorded | VisitReported | MatterRegistered
