"""Issue 13, round 5: visits and their days (train_t4), notices and hardship (train_t5), checked with sentences
written for this test (not copied from any labelled set). Demo roster; today is 2026-11-26 (a Thursday)."""

from __future__ import annotations

from datetime import date

import pytest


def test_a_resident_telling_the_member_came_to_give_or_help(parse):
    r = parse("建国昨天来给我送了两袋米", sender="wmh001x7Qe")
    assert (r.intent, r.households, r.date) == ("visit", ["H001"], date(2026, 11, 25))
    r = parse("建国今天来帮我把灯泡换好了", sender="wmh001x7Qe")
    assert (r.intent, r.date) == ("visit", date(2026, 11, 26))


def test_asking_the_member_to_come_and_help_is_no_visit(parse):
    assert parse("请建国来帮我们看看这个电表", sender="wmh001x7Qe").intent != "visit"


@pytest.mark.parametrize(
    "text",
    [
        "后天重阳节，我上午去王根发家送重阳糕",  # the day to come is in another clause
        "王彩娥家的走访推到下礼拜三",  # put off
    ],
)
def test_visits_still_to_come(parse, text):
    r = parse(text, sender="zhangwei")
    assert (r.intent, r.not_visit) == ("none", "planned")


@pytest.mark.parametrize(
    "text",
    [
        "各位，月底前把本月走访记录补报上来",
        "国庆那天请各位党员到联系户家里坐坐",
        "转：关于做好冬季防火工作的通知，各户注意用电安全",
    ],
)
def test_words_to_everyone_and_forwards_are_chat(parse, text):
    assert parse(text, sender="chenjianguo").intent == "none"


def test_hardship_said_as_money_that_cannot_be_found(parse):
    r = parse("老伴住院开刀，医药费屋里拿不出", sender="wmh011x7Qe")
    assert {"hardship", "illness"} <= set(r.triggers)


def test_a_festivals_food_names_no_day(parse):
    """重阳糕 is a cake, not 重阳节: the visit is today."""
    r = parse("今天去王根发家送了重阳糕", sender="zhangwei")
    assert (r.intent, r.date) == ("visit", date(2026, 11, 26))
