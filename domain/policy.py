"""Articles 7–9 as rules: which matters need the branch's 把关 (and so the linked member's view first), the kinds of
nomination, assessment periods, and how the year's score combines the branch's assessment with households' ratings.
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.duties import DEFAULT, Catalog

# 把关 (article 8): matters the branch approves for a household. Matched on the category and the summary.
APPROVAL_KEYWORDS: tuple[str, ...] = (
    "低保",
    "救助",
    "宅基地",
    "建房",
    "特困",
    "困难补助",
    "临时救助",
    "残疾",
    "危房",
    "补贴申请",
    "评优",
)
NOMINATION_KINDS: tuple[str, ...] = ("入党积极分子", "评优", "后备干部")
OPINIONS: tuple[str, ...] = ("同意", "不同意")
# The households' view, from the ratings already kept (满意/基本满意/不满意), on the branch's 100-point scale.
RATING_SCORES: Mapping[str, float] = {"满意": 100.0, "基本满意": 80.0, "不满意": 0.0}
WEIGHTS: Mapping[str, float] = {"branch": 0.7, "households": 0.3}
COMPONENTS = ("branch", "households")

_PERIOD = re.compile(r"^\s*(\d{4})\s*(?:年)?\s*(?:[Qq]([1-4])|第?([一二三四1-4])季度?)?\s*$")
_CN = {"一": 1, "二": 2, "三": 3, "四": 4}


@dataclass(frozen=True)
class PolicyOptions:
    """The branch's settings for these articles (bot/config.py builds it; handlers and jobs read it)."""

    catalog: Catalog = DEFAULT
    approval_keywords: tuple[str, ...] = APPROVAL_KEYWORDS
    opinion_wait_days: int = 3
    weights: Mapping[str, float] = field(default_factory=lambda: dict(WEIGHTS))
    rating_scores: Mapping[str, float] = field(default_factory=lambda: dict(RATING_SCORES))
    candidates: int = 3  # how many 锋领党员 / 示范网格 candidates are shown
    candidate_min_coverage: float = 0.8  # share of household-months visited in the year
    year_end_threshold: int = 60  # [points] year_end_threshold: below it at year end, 警示帮扶


def needs_approval(category: str, summary: str, keywords: Iterable[str] = APPROVAL_KEYWORDS) -> bool:
    return any(k and (k in category or k in summary) for k in keywords)


def parse_period(text: str) -> str | None:
    """'2026Q4' / '2026年第四季度' / '2026' / '2026年' → '2026Q4' / '2026'; None when not a period."""
    m = _PERIOD.match(str(text))
    if m is None:
        return None
    year, q = m.group(1), m.group(2) or m.group(3)
    if q is None:
        return year
    return f"{year}Q{_CN.get(q) or int(q)}"


def period_label(period: str) -> str:
    return f"{period[:4]}年第{'一二三四'[int(period[-1]) - 1]}季度" if "Q" in period else f"{period}年"


def branch_year_score(scores: Mapping[str, float], year: int) -> float | None:
    """The branch's score for `year`: the year entry when given, else the mean of the quarters entered."""
    if str(year) in scores:
        return float(scores[str(year)])
    quarters = [v for p, v in scores.items() if p.startswith(f"{year}Q")]
    return sum(quarters) / len(quarters) if quarters else None


def households_score(ratings: Iterable[str], scores: Mapping[str, float] = RATING_SCORES) -> float | None:
    values = [scores[r] for r in ratings if r in scores]
    return sum(values) / len(values) if values else None


def combined(parts: Mapping[str, float | None], weights: Mapping[str, float] = WEIGHTS) -> float | None:
    """Weighted mean of the parts present. No branch score → None: the households alone never make a year score
    (a member whose households rated nothing is not judged on nothing, and vice versa the weights renormalise)."""
    if parts.get("branch") is None:
        return None
    present = {k: v for k, v in parts.items() if v is not None and weights.get(k, 0) > 0}
    total = sum(weights[k] for k in present)
    return round(sum(weights[k] * v for k, v in present.items()) / total, 1) if total else None


def check_weights(weights: Mapping[str, float]) -> None:
    unknown = set(weights) - set(COMPONENTS)
    if unknown:
        raise ValueError(f"[assessment] weights 只能有 {', '.join(COMPONENTS)}，收到 {', '.join(sorted(unknown))}")
    if any(v < 0 for v in weights.values()) or weights.get("branch", 0) <= 0:
        raise ValueError("[assessment] weights 不能为负，且村党组织评分（branch）的权重必须大于 0")


def options_from(settings: Any) -> PolicyOptions:
    """[duties], [opinions], [assessment] of a settings object as the rules' options. Raises ValueError.
    Duck-typed so jobs/ can build it without importing bot.config."""
    from domain import duties

    catalog = duties.make_catalog(item.model_dump() for item in settings.duties.extra)
    check_weights(settings.assessment.weights)
    a = settings.assessment
    return PolicyOptions(
        catalog=catalog,
        approval_keywords=tuple(settings.opinions.approval_keywords),
        opinion_wait_days=settings.opinions.wait_days,
        weights=dict(a.weights),
        rating_scores=dict(a.rating_scores),
        candidates=a.candidates,
        candidate_min_coverage=a.candidate_min_coverage,
        year_end_threshold=settings.points.year_end_threshold,
    )
