"""Rules that moved out of bot/ into jobs/, tested without a database or a bot: which branch township staff mean,
and whether a 微信客服 reply may still go out."""

from __future__ import annotations

import datetime as dt

import pytest

from jobs import kf_window, township

BRANCHES = [(1, "前洋村党支部"), (2, "后洋村党支部"), (3, "洋头村党支部")]


@pytest.mark.parametrize(
    ("text", "branch_id", "rest"),
    [
        ("前洋村 本月未走访户", 1, "本月未走访户"),
        ("  后洋村   本月汇总 ", 2, "本月汇总"),
        ("洋 本月汇总", None, "洋 本月汇总"),  # fits all three: ask
        ("前洋村", None, "前洋村"),  # a name and nothing to do
        ("本月汇总", None, "本月汇总"),
    ],
)
def test_township_staff_name_the_branch_first(text, branch_id, rest):
    choice = township.choose(BRANCHES, text)
    assert (choice.branch_id, choice.text) == (branch_id, rest)
    assert choice.choices == (() if branch_id else tuple(n for _, n in BRANCHES))


def test_one_branch_needs_no_name():
    assert township.choose([(7, "前洋村党支部")], "本月汇总") == township.Choice(7, "本月汇总")


NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("window", "allowed"),
    [
        ({}, False),  # the resident never wrote
        ({"last_in": (NOW - dt.timedelta(hours=47)).isoformat(), "sent": 4}, True),
        ({"last_in": (NOW - dt.timedelta(hours=49)).isoformat(), "sent": 0}, False),  # 48 hours passed
        ({"last_in": (NOW - dt.timedelta(hours=1)).isoformat(), "sent": 5}, False),  # five replies used
    ],
)
def test_kf_reply_window(window, allowed):
    why = kf_window.refusal(window, NOW)
    assert (why is None) is allowed
    if why is not None:
        assert "微信客服不能再回复" in why
