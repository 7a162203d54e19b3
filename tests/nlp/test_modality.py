"""Issue 13: what happened vs what was planned, failed, asked for or told to someone; calls; corrections; the
member a query is about; needs inside visit reports; confidence. Demo roster (same people as the shared one)."""

from __future__ import annotations

from datetime import date

import pytest

from nlp.parser import ACT, ASK

# (sender, text, intent, not_visit)
VISIT_OR_NOT = [
    ("lixiulan", "今天下午去看望了冯阿林", "visit", None),
    ("lixiulan", "我明朝去看看冯阿林", "none", "planned"),
    ("lixiulan", "等天晴了再去看看施月娥", "none", "planned"),
    ("lixiulan", "下午去了趟戴巧玲家，门锁着，明天再去", "none", "failed"),
    ("wumin", "本想今天去曹雪琴那 下雨就没去成", "none", "failed"),
    ("zhangwei", "丽丽 蒋立新家你明天去一趟", "none", "instructed"),
    ("chenjianguo", "张伟 严德富家这礼拜抽空去一趟", "none", "instructed"),
    ("wmh050x7Qe", "阿婆说想让你有空来屋里坐坐", "request", "asked"),
    ("wanghaifeng", "上昼去望了望葛素芬 伊身体还可以", "visit", None),
    ("wmh009x7Qe", "海峰下半天来阿拉屋里兜了一圈", "visit", None),
    ("sunxiaojun", "刚刚在章海涛家聊了半个小时", "visit", None),
]


@pytest.mark.parametrize(("sender", "text", "intent", "why"), VISIT_OR_NOT)
def test_aspect_and_modality_decide_a_visit(parse, sender, text, intent, why):
    r = parse(text, sender=sender)
    assert (r.intent, r.not_visit) == (intent, why)


def test_a_call_is_a_visit_only_with_a_household_living_away(parse):
    away = parse("今天给林志豪打了个视频电话 他在宁波一切都好", sender="linfang")
    assert (away.intent, away.households) == ("visit", ["H041"])
    home = parse("给王彩娥打了个电话 她说蛮好", sender="zhangwei")
    assert (home.intent, home.not_visit) == ("none", "call_at_home")


@pytest.mark.parametrize(
    ("text", "today", "day"),
    [
        ("中秋节那天去看了金爷爷", date(2026, 11, 20), date(2026, 9, 25)),
        ("重阳节在金爷爷家坐了坐", date(2026, 11, 20), date(2026, 10, 18)),
        ("10.2去了金爷爷家", date(2026, 11, 20), date(2026, 10, 2)),
        ("12/30去了金爷爷家", date(2027, 1, 2), date(2026, 12, 30)),
        ("除夕下午去金爷爷屋里送了对联", date(2026, 2, 20), date(2026, 2, 16)),
        ("冬至那天去金爷爷家送了汤圆", date(2027, 1, 3), date(2026, 12, 22)),
        ("清明节那天去金爷爷家看了看", date(2026, 5, 6), date(2026, 4, 5)),
        ("五一那天去金爷爷家坐了坐", date(2026, 5, 6), date(2026, 5, 1)),
        ("正月初三去金爷爷家拜年", date(2026, 2, 25), date(2026, 2, 19)),
        # the holiday around a festival is no one day: the report's day stays today
        ("国庆加班走访了金爷爷", date(2026, 10, 10), date(2026, 10, 10)),
    ],
)
def test_festival_and_dotted_dates(parse, text, today, day):
    r = parse(text, sender="wumin", today=today)
    assert (r.intent, r.date) == ("visit", day)


def test_a_visit_that_carries_a_need_says_so(parse):
    r = parse("去陶建设屋里看了下 他家柴间的棚子塌了一半，想请村里找人帮忙", sender="chenyating")
    assert (r.intent, r.households, r.need) == ("visit", ["H056"], True)
    plain = parse("今天去陶建设家看了看 都挺好", sender="chenyating")
    assert plain.need is False


@pytest.mark.parametrize(
    ("sender", "text", "correction"),
    [
        ("zhangwei", "撤销", {"action": "undo", "kind": None, "ref": None, "wrong": [], "right": []}),
        ("wangli", "刚才那条不是走访", {"action": "undo", "kind": "visit", "ref": None, "wrong": [], "right": []}),
        ("wmh046x7Qe", "撤销 诉求12", {"action": "undo", "kind": "request", "ref": "诉求12", "wrong": [], "right": []}),
        (
            "zhangwei",
            "记错了，不是王大伯是王大妈",
            {"action": "replace", "kind": None, "ref": None, "wrong": ["H011"], "right": ["H012"]},
        ),
    ],
)
def test_corrections(parse, sender, text, correction):
    r = parse(text, sender=sender)
    assert (r.intent, r.correction) == ("none", correction)


def test_a_query_naming_a_member_carries_the_member(parse):
    r = parse("张伟这个月走访了几户", sender="chenjianguo")
    assert (r.intent, r.query, r.member) == ("query", "summary", "M04")
    assert parse("我这个月还差几户没走", sender="wangli").member is None


@pytest.mark.parametrize(
    ("sender", "text"),
    [
        ("wmh007x7Qe", "桥头那盏灯黑了一个礼拜了"),
        ("wmh031x7Qe", "自来水一股怪味道"),
        ("wmh044x7Qe", "晒谷场边上那块水泥板翘起来了 老人要绊倒的"),
    ],
)
def test_a_fault_without_a_problem_word_is_a_request(parse, sender, text):
    assert parse(text, sender=sender).intent == "request"


@pytest.mark.parametrize(
    "text",
    ["台风要来了 阳台上的花盆收进来 别砸到人", "本周六村里义诊 需要的报名", "天黑了 回家吃饭"],
)
def test_warnings_and_chat_stay_silent(parse, text):
    assert parse(text, sender="chenjianguo").intent == "none"


def test_confidence_is_in_every_result_and_ranks_the_evidence(parse):
    sure = parse("今天去王大妈家走访了", sender="wanghaifeng")
    unsure = parse("自来水一股怪味道", sender="wmh031x7Qe")
    silent = parse("收到", sender="wanghaifeng")
    assert sure.confidence >= ACT and silent.confidence >= ACT
    assert ASK <= unsure.confidence < ACT
    assert all(0.0 <= x.confidence <= 1.0 for x in (sure, unsure, silent))
    assert "confidence" in sure.to_dict()


def test_dialect_forms_that_are_part_of_a_name_are_left_alone(roster):
    from dataclasses import replace

    from nlp.parser import Parser
    from nlp.roster import Roster

    hh = list(roster.households)
    hh[0] = replace(hh[0], head_name="陈今朝")
    p = Parser(Roster(roster.members, tuple(hh)))
    assert p.rewrite("陈今朝家") == "陈今朝家"
    assert p.rewrite("今朝去了") == "今天去了"


def test_a_residents_unrecorded_question_or_distress_asks_for_attention(parse):
    assert parse("有没有人晓得镇上理发店几点开门", sender="wmh044x7Qe").attention is True
    assert parse("今天天气不错", sender="wmh044x7Qe").attention is False
    # a member's chat never goes on the residents' list
    assert parse("有没有人晓得镇上理发店几点开门", sender="zhengguoping").attention is False


def test_a_festival_word_inside_a_name_is_no_date(parse):
    # 邬国庆 holds 国庆: the visit is today's, not October 1st's
    r = parse("年前去邬国庆家送了慰问金", sender="chenjianguo", today=date(2026, 2, 25))
    assert (r.intent, r.households, r.date) == ("visit", ["H005"], date(2026, 2, 25))
