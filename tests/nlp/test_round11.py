"""Issue 13, round 11: a round of several homes read home by home (a shut door, a visit put off, a call to a home
at home, a neighbour named in passing), dates written with a dot or with the weekday after them, a trouble that
points back at nothing, help offered, a story from television. Sentences written for this test (not copied from any
labelled set). Demo roster; today is 2026-11-26 (a Thursday) unless a test says otherwise."""

from __future__ import annotations

from datetime import date

import pytest

MEMBER = "sunxiaojun"  # 汪建平 H047, 汪丽萍 H048, 章海涛 H049, 毛阿婆 H050, 石磊 H051


# -- a round, home by home -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, visited",
    [
        # the shut door is in the clause after the name
        ("今朝九组跑了一圈 汪建平家坐了一歇 章海涛屋里 门锁牢 没人", ["H047"]),
        ("下午去了毛阿婆屋里 阿婆蛮好 后来到石磊家 敲了半天门没人应", ["H050"]),
        # put off, in its own clause
        ("上午去了汪建平 章海涛两家 都蛮好 石磊家下礼拜再去", ["H047", "H049"]),
        # only called, living at home
        ("今天去了毛阿婆家 石磊那边是电话联系的 伊讲都好", ["H050"]),
        # the last of a list was out; the others were met
        ("今天把九组走了 汪建平 章海涛 毛阿婆 石磊出去打工了弗在屋里", ["H047", "H049", "H050"]),
        # nobody at home at first, met after
        ("下午去了章海涛家 伊弗在 伊老婆在 讲了一歇 又去了毛阿婆屋里", ["H049", "H050"]),
    ],
)
def test_each_home_of_a_round_is_read_in_its_own_stretch(parse, text, visited):
    r = parse(text, sender=MEMBER, chat="group1")
    assert (r.intent, r.households, r.date) == ("visit", visited, date(2026, 11, 26))


def test_a_neighbour_named_in_passing_is_not_visited(parse):
    r = parse("昨日去了章海涛屋里 伊跟隔壁石磊为了一棵树吵了两句", sender=MEMBER, chat="group1")
    assert (r.intent, r.households, r.triggers) == ("visit", ["H049"], ["dispute"])


def test_both_homes_of_a_quarrel_are_visited_when_the_member_went_to_both(parse):
    r = parse("昨日去了章海涛屋里 伊跟隔壁石磊为了一棵树吵了两句 两家我都去劝过了", sender=MEMBER, chat="group1")
    assert (r.intent, r.households) == ("visit", ["H049", "H051"])


def test_a_household_named_twice_is_visited_if_once_it_was(parse):
    # the second mention reports what was said ("下个月要去杭州"): no plan of the member's
    r = parse("今天去了汪建平、毛阿婆两户，毛阿婆说下个月要去杭州看孙子", sender=MEMBER, chat="group1")
    assert (r.intent, r.households) == ("visit", ["H047", "H050"])


@pytest.mark.parametrize(
    "text",
    [
        "今天本来想去石磊家 到了门口才晓得伊去县里了 等伊回来再去 章海涛家下礼拜去",
        "下午去九组 汪建平家门锁着 章海涛家也没人 白跑一趟",
    ],
)
def test_a_round_where_no_home_named_was_visited_is_no_visit(parse, text):
    assert parse(text, sender=MEMBER, chat="group1").intent == "none"


def test_one_home_tried_twice_is_not_every_home_shut(parse):
    r = parse("今天九组走了一圈 汪建平 毛阿婆都蛮好 石磊家去了两趟都没人", sender=MEMBER, chat="group1")
    assert (r.intent, r.households) == ("visit", ["H047", "H050"])


def test_a_shut_door_then_a_second_try_that_met_is_the_visit_on_the_second_day(parse):
    r = parse("礼拜一去了石磊家 门关着 礼拜二又去了一趟 人在 聊了一歇", sender=MEMBER, chat="group2")
    # 2026-11-26 is a Thursday: Monday the 23rd, Tuesday the 24th
    assert (r.intent, r.households, r.date) == ("visit", ["H051"], date(2026, 11, 24))


def test_a_village_group_gone_to_with_the_homes_named_after(parse):
    r = parse("11.22礼拜天去九组 汪建平 章海涛 两家都蛮好", sender=MEMBER, chat="group1")
    assert (r.intent, r.households, r.date) == ("visit", ["H047", "H049"], date(2026, 11, 22))


def test_fast_typing_drops_the_day_word(parse):
    r = parse("昨走了三户", sender=MEMBER, chat="group1")
    assert (r.intent, r.date) == ("visit", date(2026, 11, 25))


# -- dates -----------------------------------------------------------------------------------------------------
def test_a_dotted_date_is_one_clause_with_its_verb(parse):
    r = parse("11.20去了毛阿婆屋里", sender=MEMBER)
    assert (r.intent, r.date) == ("visit", date(2026, 11, 20))


def test_the_second_address_of_a_list_is_no_day(parse):
    r = parse("昨天到九组2号和11号两户送了汤圆", sender=MEMBER, chat="group1")
    assert (r.intent, r.date) == ("visit", date(2026, 11, 25))


# -- requests, feedback and chat ------------------------------------------------------------------------------------
def test_a_fault_with_someone_wished_for_to_fix_it_is_a_request(parse):
    r = parse("屋后的水管松了 一直滴水 想请人来弄弄", sender="wmh050x7Qe")
    assert r.intent == "request"


def test_a_refund_after_a_check_is_feedback(parse):
    r = parse("水费查清楚了 是表坏了 钞票退回来了 谢谢", sender="wmh050x7Qe")
    assert r.intent == "feedback"


def test_help_offered_is_no_request(parse):
    r = parse("我退休了空得很 大家有啥要帮忙的尽管叫我", sender=MEMBER, chat="group1")
    assert r.intent == "none"


def test_a_trouble_passed_on_with_an_ask_to_act_is_a_request(parse):
    r = parse("石磊讲伊屋后的地被人家占去一块 两家吵了好几回 这个事要尽快处理", sender=MEMBER, chat="group1")
    assert (r.intent, r.households) == ("request", ["H051"])


def test_a_story_from_television_is_chat(parse):
    r = parse("昨晚看了部电视剧 里面那个老头生病住院了没人管 看得我难过", sender="wmh050x7Qe")
    assert (r.intent, r.triggers) == ("none", [])


@pytest.mark.parametrize(
    "text",
    ["隔壁两只狗一早上在门口吵架 吵得来 哈哈", "今朝月亮好圆 满月 拍了张照片", "那个老歌星去世了 唉"],
)
def test_animals_the_moon_and_a_singer_carry_no_situation(parse, text):
    r = parse(text, sender="wmh050x7Qe")
    assert (r.intent, r.triggers) == ("none", [])


def test_an_offer_to_come_and_photograph_at_home_is_a_request_not_a_visit(parse):
    r = parse("我是毛阿婆的孙女 阿婆腿脚不便 社保卡要重新拍照 能不能上门来拍", sender="wmh050x7Qe")
    assert r.intent == "request"


def test_what_can_you_look_up_asks_for_help(parse):
    r = parse("@机器人 你都能查些什么", sender=MEMBER, chat="group1")
    assert (r.intent, r.query) == ("query", "help")


def test_a_households_words_passed_on_are_not_the_members_going(parse):
    r = parse("毛阿婆讲送菜的送了一个月 菜都是烂的 伊弗满意", sender=MEMBER, chat="group1")
    assert r.intent == "feedback"


def test_a_households_ask_to_be_visited_told_from_a_call_is_its_request(parse):
    r = parse("毛阿婆刚才打电话给我 讲想请书记有空去伊屋里坐坐", sender=MEMBER, chat="group1")
    assert (r.intent, r.households) == ("request", ["H050"])
