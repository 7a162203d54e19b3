"""积分 rules: how many points each kind of event is worth (values from config [points]; defaults here, once).

storage/points.py turns what happened into ledger rows with these values; bot/config.py PointsSettings takes its
defaults from here, so a default is written in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PointsRules:
    visit: int = 1
    key_visit: int = 2
    rating_satisfied: int = 2
    rating_basic: int = 0
    rating_unsatisfied: int = -2
    must_visit_timely: int = 2
    must_visit_days: int = 3
    overdue: int = -2

    def for_rating(self, rating: str) -> int:
        return {"满意": self.rating_satisfied, "基本满意": self.rating_basic, "不满意": self.rating_unsatisfied}.get(
            rating, 0
        )


DEFAULTS = PointsRules()
