"""The month-report rules (domain/report.py), without a database: each case is one boundary a count could get
wrong — a month is [local midnight of the 1st, local midnight of the next 1st)."""

from __future__ import annotations

import datetime as dt

import pytest

from domain import report as rules
from domain.time import TZ, day_start

NOV = rules.Month(
    day_start(dt.date(2026, 11, 1)), day_start(dt.date(2026, 12, 1)), dt.date(2026, 11, 1), dt.date(2026, 12, 1)
)


def local(y, m, d, hh=9, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=TZ).astimezone(dt.UTC)


def naive_utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None)  # what SQLite hands back


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        (local(2026, 11, 1, 0, 0), True),  # the first local minute of the month
        (local(2026, 10, 31, 23, 59), False),  # 15:59 UTC on the 31st: still October in Shanghai
        (local(2026, 11, 30, 23, 59), True),
        (local(2026, 12, 1, 0, 0), False),
        (naive_utc(local(2026, 11, 15)), True),  # naive = UTC
    ],
)
def test_new_in_the_local_month(created, expected):
    assert rules.is_new(created, NOV) is expected


@pytest.mark.parametrize(
    ("created", "closed", "due", "expected", "why"),
    [
        (local(2026, 10, 1), None, dt.date(2026, 11, 10), True, "still open, due inside the month"),
        (local(2026, 10, 1), None, dt.date(2026, 12, 1), False, "due the day after the month"),
        (local(2026, 10, 1), local(2026, 11, 10, 23, 0), dt.date(2026, 11, 10), False, "closed on its due day"),
        (local(2026, 10, 1), local(2026, 11, 11, 0, 30), dt.date(2026, 11, 10), True, "closed the day after"),
        (local(2026, 10, 1), local(2026, 10, 20), dt.date(2026, 10, 5), False, "late, but done before November"),
        (local(2026, 10, 1), local(2026, 12, 3), dt.date(2026, 11, 20), True, "closed after the month, late in it"),
        (local(2026, 12, 2), None, dt.date(2026, 11, 20), False, "registered after the month"),
        (local(2026, 10, 1), None, None, False, "no due date"),
    ],
)
def test_overdue_in_the_month(created, closed, due, expected, why):
    assert rules.overdue_in(created, closed, due, NOV) is expected, why


def test_open_at_the_end_of_the_month():
    assert rules.open_at_end(local(2026, 11, 3), None, NOV)
    assert rules.open_at_end(local(2026, 11, 3), local(2026, 12, 1, 0, 0), NOV)  # closed on the next 1st
    assert not rules.open_at_end(local(2026, 11, 3), local(2026, 11, 30, 23, 59), NOV)
    assert not rules.open_at_end(local(2026, 12, 1, 0, 0), None, NOV)


@pytest.mark.parametrize(
    ("note", "to_state", "current", "expected"),
    [
        ("满意", "已评价", "不满意", "满意"),  # the event's own word wins over the matter's later one
        ("基本满意", "已评价", None, "基本满意"),
        ("不满意", "已评价", "满意", "不满意"),  # 满意 is inside 不满意: longest first
        ("代评（联系党员转达）：基本满意", "已评价", None, "基本满意"),
        ("", "已评价", "满意", "满意"),  # nothing written on the event: the matter's rating
        ("", "已评价", "还行", None),
    ],
)
def test_rating_of_an_event(note, to_state, current, expected):
    assert rules.rating_of(note, to_state, current) == expected


def test_the_responsible_member_of_a_household_in_a_month():
    spans = [
        rules.LinkSpan(1, 10, local(2020, 1, 1), local(2026, 11, 15)),  # handed over mid-month …
        rules.LinkSpan(1, 11, local(2026, 11, 15), None),  # … the later link answers for the month
        rules.LinkSpan(2, 10, local(2020, 1, 1), local(2026, 10, 1)),  # ended before the month, no new link
        rules.LinkSpan(3, 12, local(2026, 12, 5), None),  # first linked after the month (imported later)
        rules.LinkSpan(4, 10, local(2020, 1, 1), local(2026, 9, 1)),  # unlinked for the whole month …
        rules.LinkSpan(4, 13, local(2026, 12, 5), None),  # … and relinked after it: nobody's that month
    ]
    spans.sort(key=lambda s: s.valid_from)
    assert rules.responsible(spans, NOV) == {1: 11, 3: 12}


def test_exempt_members_owe_no_visits_and_anyone_covers_a_household():
    assert not rules.owes_visits("免联户") and rules.owes_visits("正常") and rules.owes_visits(None)
    assert rules.covered(5, {5, 6}) and not rules.covered(7, {5, 6})


def test_rates():
    assert rules.satisfaction({"满意": 2, "基本满意": 1, "不满意": 1}) == 0.75
    assert rules.satisfaction({}) is None
    assert rules.close_rate(3, 1) == 0.75 and rules.close_rate(0, 0) is None
    assert rules.median([]) is None and rules.median([1.0, 3.0, 10.0]) == 3.0
    assert rules.days_to_visit(local(2026, 11, 3), local(2026, 11, 2)) == 0.0  # closed "before": never negative
