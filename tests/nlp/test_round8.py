"""Issue 13, round 8: old stories, repairs told as the broken part taken out, deaths told with when, quarrels with
the sender, offers of produce, a fault reported days ago and still there. Sentences written for this test (not
copied from any labelled set). Demo roster; today is 2026-11-26 (a Thursday) unless a test says otherwise."""

from __future__ import annotations

from datetime import date

import pytest

NEW_YEAR = date(2026, 2, 19)  # two days after 春节 2026 (除夕 was 2026-02-16)


# -- dates ----------------------------------------------------------------------------------------------------
def test_new_years_eve_in_dialect_before_going_is_the_eve(parse):
    # "大年夜到…" must not lose 大年夜 to the dialect form 夜到 (evening)
    r = parse("大年夜到毛阿婆屋里送了两斤年糕", sender="sunxiaojun", today=NEW_YEAR)
    assert (r.intent, r.date) == ("visit", date(2026, 2, 16))


def test_dialect_yesterday(parse):
    r = parse("小孙昨么来过了 还帮我换了只灯泡", sender="wmh050x7Qe")
    assert (r.intent, r.date) == ("visit", date(2026, 11, 25))


def test_dialect_not_yet_asks_for_the_homes_not_visited(parse):
    r = parse("我这个月还有哪几户弗曾去", sender="sunxiaojun", chat="private")
    assert (r.intent, r.query, r.month) == ("query", "unvisited", "2026-11")


# -- visits ---------------------------------------------------------------------------------------------------
def test_a_member_doing_a_job_inside_the_home_is_a_visit(parse):
    r = parse("下午帮石磊把屋里的水龙头换好了", sender="sunxiaojun")
    assert (r.intent, r.households, r.date) == ("visit", ["H051"], date(2026, 11, 26))


def test_the_old_part_taken_out_is_a_repair_not_a_fault(parse):
    r = parse("帮毛阿婆把屋里老插座拆掉了 装了只新的", sender="sunxiaojun")
    assert r.intent == "visit"
    assert not r.need


@pytest.mark.parametrize(
    "text",
    [
        "记得那年去阿宝伯屋里 伊还烧了一桌菜招待",
        "还记得小时候到毛阿婆家吃过麦饼 现在阿婆都八十多了",
    ],
)
def test_an_old_story_is_no_visit(parse, text):
    r = parse(text, sender="sunxiaojun", chat="group1")
    assert r.intent == "none"


def test_remember_to_go_is_still_an_instruction(parse):
    r = parse("小孙 记得去毛阿婆屋里看看", sender="zhengguoping", chat="group1")
    assert (r.intent, r.not_visit) == ("none", "instructed")


# -- 八必访 ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("伊儿子骑电瓶车撞了 在医院缝了八针", True),
        ("路口那只坑 我电瓶车差点翻了", False),
    ],
)
def test_a_road_accident_told_with_the_vehicle(parse, text, hit):
    r = parse(text, sender="wmh050x7Qe")
    assert ("emergency" in r.triggers) is hit


def test_a_death_told_with_when_it_was(parse):
    r = parse("老伴前年走了以后 我一个人种两亩田 实在种弗动了", sender="wmh050x7Qe")
    assert "wedding_funeral" in r.triggers


def test_a_neighbour_who_quarrels_with_the_sender(parse):
    r = parse("隔壁的狗天天在我门口拉屎 讲了几趟还跟我吵 侬来评评", sender="wmh050x7Qe")
    assert "dispute" in r.triggers


# -- chat and feedback ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "阿拉屋里橘子熟了 侬啥辰光有空来摘点去吃",
        "番薯挖出来了 大家拿几个回去尝尝",
    ],
)
def test_an_offer_of_produce_is_chat(parse, text):
    assert parse(text, sender="wmh050x7Qe").intent == "none"


def test_a_fault_reported_days_ago_and_still_there_is_feedback(parse):
    r = parse("门口路灯还没人来修 都讲了五日了", sender="wmh050x7Qe")
    assert r.intent == "feedback"
