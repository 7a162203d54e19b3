"""Issue 13, round 7: a member's own plan said without a done verb, ticked lists of homes, and words whose 了/过 is
no aspect. Sentences written for this test (not copied from any labelled set). Demo roster; today is 2026-11-26
(a Thursday) unless a test says otherwise."""

from __future__ import annotations

from datetime import date

import pytest

FRIDAY = date(2026, 12, 4)


# -- a member's own plan --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "我马上过去看看毛阿婆",  # 过去 is going over, not a done 过
        "等下我过去毛阿婆屋里坐坐",
        "下午我跑一趟汪丽萍家",
        "我这就去章海涛家",
    ],
)
def test_a_members_own_plan_is_no_visit(parse, text):
    r = parse(text, sender="sunxiaojun", chat="group1")
    assert r.intent == "none"
    assert r.not_visit == "planned"


def test_going_over_to_mediate_later_keeps_the_quarrel_but_opens_nothing(parse):
    r = parse("我下半日过去调解一下", sender="sunxiaojun", chat="group1")
    assert (r.intent, r.triggers) == ("none", ["dispute"])


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("接到电话马上过去看了看石磊", date(2026, 11, 26)),  # the 了 is on the verb
        ("我下午跑了一趟汪丽萍家", date(2026, 11, 26)),
        ("昨天过去毛阿婆家坐了坐", date(2026, 11, 25)),
    ],
)
def test_going_over_that_was_done_stays_a_visit(parse, text, day):
    r = parse(text, sender="sunxiaojun", chat="group1")
    assert (r.intent, r.date) == ("visit", day)


def test_a_bare_weekday_still_to_come_this_week_with_nothing_done_is_a_plan(parse):
    # said on a Friday: this Saturday is tomorrow; 了解 is finding out, not a done 了
    r = parse("我礼拜六去毛阿婆屋里了解下情况", sender="sunxiaojun", chat="group1", today=FRIDAY)
    assert (r.intent, r.not_visit) == ("none", "planned")


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("礼拜六去了毛阿婆屋里", date(2026, 11, 28)),  # done: last Saturday
        ("礼拜三去毛阿婆屋里了解了下情况", date(2026, 12, 2)),  # this week's Wednesday is past
    ],
)
def test_a_bare_weekday_with_the_visit_done_is_the_visit_day(parse, text, day):
    r = parse(text, sender="sunxiaojun", chat="group1", today=FRIDAY)
    assert (r.intent, r.households, r.date) == ("visit", ["H050"], day)


# -- ticked lists -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "households", "day"),
    [
        ("毛阿婆✔️ 石磊✔️ 今天", ["H050", "H051"], date(2026, 11, 26)),
        ("走访 毛阿婆✅ 石磊✅ 章海涛✅", ["H049", "H050", "H051"], date(2026, 11, 26)),
        ("11.24 毛阿婆√ 汪建平√", ["H047", "H050"], date(2026, 11, 24)),
    ],
)
def test_a_members_ticked_list_of_homes_is_a_visit_to_each(parse, text, households, day):
    r = parse(text, sender="sunxiaojun", chat="group1")
    assert (r.intent, r.households, r.date) == ("visit", households, day)


@pytest.mark.parametrize("text", ["明天去 毛阿婆✔ 石磊✔", "收到✔"])
def test_ticks_on_a_plan_or_on_no_home_are_no_visit(parse, text):
    assert parse(text, sender="sunxiaojun", chat="group1").intent == "none"
