"""Issue 13, round 10: the linear model's second opinion where the rules' reading is weakest (nlp/parser.py,
SECOND_OPINION; nlp/linear.py). The mechanism is tested with a model that says what the test tells it to, so each
case fails if a cell, the bar or the fields written change; a few sentences of my own check the real model. Demo
roster; today is 2026-11-26 unless a test says otherwise."""

from __future__ import annotations

from datetime import date

import pytest

from nlp.parser import ACT, ASK, SECOND_OPINION, Parser

TODAY = date(2026, 11, 26)
RESIDENT = "wmh050x7Qe"  # 毛阿婆's household, H050
MEMBER = "sunxiaojun"


class SaysModel:
    """A model that answers every text with one label and posterior, and counts how often it was asked."""

    def __init__(self, label: str, p: float) -> None:
        self.label, self.p, self.asked = label, p, 0

    def predict(self, text: str, role: str) -> tuple[str, float]:
        self.asked += 1
        return self.label, self.p


@pytest.fixture
def told(roster):
    def _told(label: str, p: float = 0.9999) -> tuple[Parser, SaysModel]:
        parser = Parser(roster)
        parser._linear = model = SaysModel(label, p)
        return parser, model

    return _told


def _rules(roster, text: str, sender: str, chat: str = "group2"):
    parser = Parser(roster)
    parser.second_opinion = {}
    return parser.parse(text, sender=sender, chat=chat, today=TODAY)


REQUEST = "想问问低保的政策"
VISIT = "今朝去了毛阿婆屋里 帮伊换了煤气"


def test_the_rules_alone_read_these_sentences_as_the_tests_assume(roster):
    assert _rules(roster, REQUEST, RESIDENT).intent == "request"
    assert _rules(roster, VISIT, MEMBER, "group1").intent == "visit"


def test_a_sure_model_turns_a_residents_request_into_chat_that_still_reaches_the_member(told):
    parser, model = told("none")
    r = parser.parse(REQUEST, sender=RESIDENT, today=TODAY)
    assert (r.intent, r.households, r.attention, model.asked) == ("none", [], True, 1)
    assert ASK <= r.confidence < ACT


@pytest.mark.parametrize(
    "label, text",
    [("feedback", "想问问低保的政策 一直没弄明白"), ("wish", REQUEST)],
)
def test_a_residents_request_may_become_feedback_or_a_wish_marked_unsure(told, label, text):
    parser, _ = told(label)
    assert _rules(parser.roster, text, RESIDENT).intent == "request"
    r = parser.parse(text, sender=RESIDENT, today=TODAY)
    assert (r.intent, r.households) == (label, ["H050"])
    assert ASK <= r.confidence < ACT  # unsure: listed for the member, never answered in public


def test_a_trouble_that_points_back_at_nothing_stays_a_request(told):
    # no wait, no thanks, no verdict: a new trouble, whatever the model says ("还没弄明白" above points back)
    parser, model = told("feedback")
    r = parser.parse("垃圾桶三天没人清了 臭死", sender=RESIDENT, today=TODAY)
    assert (r.intent, model.asked) == ("request", 1)


def test_an_unsure_model_leaves_the_rules_reading(told):
    parser, model = told("none", SECOND_OPINION[("resident", "request")]["none"] - 0.01)
    r = parser.parse(REQUEST, sender=RESIDENT, today=TODAY)
    assert (r.intent, model.asked) == ("request", 1)


def test_a_disagreement_outside_the_table_leaves_the_rules_reading(told):
    # a resident's request the model calls a visit: the rules were right more often there
    parser, _ = told("visit")
    assert parser.parse(REQUEST, sender=RESIDENT, today=TODAY).intent == "request"


@pytest.mark.parametrize("says", ["none", "request"])
def test_a_members_visit_to_a_household_named_is_left_to_the_rules(told, says):
    # (the model was right about as often as the rules there: a record must not be lost on its word)
    parser, _ = told(says)
    r = parser.parse(VISIT, sender=MEMBER, chat="group1", today=TODAY)
    assert (r.intent, r.households) == ("visit", ["H050"])


def test_a_members_visit_with_no_household_the_model_calls_chat_is_none(told, roster):
    text = "今朝走了一圈 都蛮好"
    assert _rules(roster, text, MEMBER, "group1").intent == "visit"
    parser, _ = told("none")
    r = parser.parse(text, sender=MEMBER, chat="group1", today=TODAY)
    assert (r.intent, r.date, r.attention) == ("none", None, False)


def test_a_members_request_the_model_calls_chat_is_dropped_unsure(told, roster):
    text = "毛银花讲伊想申请低保"
    assert _rules(roster, text, MEMBER, "group1").intent == "request"
    parser, _ = told("none")
    r = parser.parse(text, sender=MEMBER, chat="group1", today=TODAY)
    assert (r.intent, r.attention) == ("none", False)


@pytest.mark.parametrize(
    "text",
    [
        "小孙 毛银花屋里侬去看一下 伊昨日从梯子上跌下来了",
        "王丽 章海涛屋里水管爆了 麻烦找个人去修",
        "屋后头那根电线杆斜了 风一吹就晃 怕要倒下来",
    ],
)
def test_a_fall_an_errand_or_a_fault_stays_a_request(told, roster, text):
    sender = "zhengguoping" if text.startswith(("小孙", "王丽")) else RESIDENT
    chat = "group1" if sender != RESIDENT else "group2"
    assert _rules(roster, text, sender, chat).intent == "request"
    parser, _ = told("none")
    assert parser.parse(text, sender=sender, chat=chat, today=TODAY).intent == "request"


def test_a_members_chat_is_never_asked_about(told):
    parser, model = told("request")
    r = parser.parse("今朝天气蛮好", sender=MEMBER, chat="group1", today=TODAY)
    assert (r.intent, model.asked) == ("none", 0)


def test_a_residents_chat_is_left_to_the_rules(told, roster):
    text = "今朝去镇上买了点菜"
    assert _rules(roster, text, RESIDENT).intent == "none"
    parser, model = told("feedback")
    assert parser.parse(text, sender=RESIDENT, today=TODAY).intent == "none" and model.asked == 0


def test_sure_chat_is_never_asked_about(told):
    parser, model = told("feedback")
    for text in ("收到", "[图片]", "转发：明天上午停电通知"):
        assert parser.parse(text, sender=RESIDENT, today=TODAY).intent == "none"
    assert model.asked == 0


def test_a_call_to_a_household_living_away_is_left_to_the_rules(told, roster):
    # the demo roster's 林志豪 (H041) lives in 宁波 for work
    h = next(h for h in roster.households if h.id == "H041")
    assert "在宁波务工" in h.address
    member = next(m for m in roster.members if m.id == h.member_id)
    text = f"刚刚跟{h.head_name}视频了一下 伊在外头都好"
    assert _rules(roster, text, member.userid, "group1").intent == "visit"
    parser, _ = told("none")
    assert parser.parse(text, sender=member.userid, chat="group1", today=TODAY).intent == "visit"


def test_a_correction_is_never_second_guessed(told):
    parser, model = told("none")
    r = parser.parse("刚才那条不是走访", sender=MEMBER, chat="group1", today=TODAY)
    assert r.correction is not None and model.asked == 0


def test_jokes_and_polite_words_are_not_the_models_to_read(told):
    joke = "哈哈 屋后头那根电线杆斜了 风一吹就晃"
    parser, model = told("none")
    r = parser.parse(joke, sender=RESIDENT, today=TODAY)
    assert model.asked == 0 and r.intent == _rules(parser.roster, joke, RESIDENT).intent


def test_the_second_opinion_can_be_switched_off(told):
    parser, model = told("none")
    parser.second_opinion = {}
    assert parser.parse(REQUEST, sender=RESIDENT, today=TODAY).intent == "request"
    assert model.asked == 0


# -- the real model, on sentences of my own ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, sender, chat",
    [
        ("天热煞了 中午大家勿要出去跑 傍晚凉快了再去走访", MEMBER, "group1"),
        ("听讲明年村里要搞道路拓宽 到时候又要吵了", RESIDENT, "group2"),
    ],
)
def test_the_real_model_calls_these_chat(parse, text, sender, chat):
    assert parse(text, sender=sender, chat=chat).intent == "none"


@pytest.mark.parametrize(
    "text, says",
    [
        ("村里礼堂下个月能借来办酒伐", "none"),  # an ask put as a yes/no question
        ("门口的灯弄好了 谢谢 这次是阴沟堵牢了", "feedback"),  # a new trouble after thanks
    ],
)
def test_what_the_rules_know_of_a_request_is_kept(told, roster, text, says):
    assert _rules(roster, text, RESIDENT).intent == "request"
    parser, model = told(says)
    assert parser.parse(text, sender=RESIDENT, today=TODAY).intent == "request" and model.asked == 1


@pytest.mark.parametrize("text", ["帮我修的水龙头好用了 谢谢", "这个事反映了好几回了 一直拖着"])
def test_a_pleased_verdict_or_a_matter_told_before_stays_feedback(told, roster, text):
    assert _rules(roster, text, RESIDENT).intent == "feedback"
    parser, _ = told("request")
    assert parser.parse(text, sender=RESIDENT, today=TODAY).intent == "feedback"


def test_a_clause_read_for_the_rules_only_is_not_second_guessed(told):
    parser, model = told("none")
    r = parser.parse(REQUEST, sender=RESIDENT, today=TODAY, rules_only=True)
    assert (r.intent, model.asked) == ("request", 0)


def test_a_danger_a_resident_tells_stays_a_request(told, roster):
    text = "村后山塘的堤坝有裂缝 怕下雨出事"
    assert _rules(roster, text, RESIDENT).intent == "request"
    parser, _ = told("none")
    assert parser.parse(text, sender=RESIDENT, today=TODAY).intent == "request"


# -- rules of this round, sentences of my own ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, sender, query",
    [
        ("小孙 阿拉屋后头阴沟个事体咋话了", RESIDENT, "request_status"),
        ("上回托侬问个补助 有下文伐", RESIDENT, "request_status"),
        ("小孙 我孙子入学要的那张证明开出来没", RESIDENT, "request_status"),
        ("孙小军十月份走访了哪几户", "chenjianguo", "summary"),
        ("这个月还有哪些人家没人去过", MEMBER, "unvisited"),
        ("我联系的那几户是谁来着", MEMBER, "my_households"),
        ("重点户上个月走得咋话", MEMBER, "key_households"),
        ("咋查没走访的户", MEMBER, "help"),
        ("这个机器人怎么登记走访", MEMBER, "help"),
        ("怎么评分啊", RESIDENT, "help"),
        ("我的机分多少了", MEMBER, "points"),
    ],
)
def test_loosely_put_questions(roster, text, sender, query):
    r = _rules(roster, text, sender, "private")
    assert (r.intent, r.query) == ("query", query)


def test_members_banter_in_their_group_is_no_question(parse):
    assert parse("有谁晓得王丽积分咋介高的 哈哈", sender=MEMBER, chat="group1").intent == "none"


@pytest.mark.parametrize(
    "text, sender, chat, intent",
    [
        ("冬至想包馄饨 就是弗会包 有人来教教就好了", RESIDENT, "group2", "wish"),
        ("我想要门口那盏路灯亮起来 坏了半个月了", RESIDENT, "group2", "request"),
        ("我出院了 下个月复查要去宁波 车子寻弗着 有啥办法伐", RESIDENT, "group2", "request"),
        ("瓦片是换好了 我弗满意 楼上还是漏", RESIDENT, "private", "feedback"),
        ("身体还是老样子 吃得落困得着 谢谢书记关心", RESIDENT, "group2", "none"),
        ("今朝热煞 大家下半日勿要下地去了", RESIDENT, "group2", "none"),
        ("大家好 我是新搬来的 住四组 以后多多关照", RESIDENT, "group2", "none"),
        ("明朝落雨伐 啥人看过天气预报", RESIDENT, "group2", "none"),
        ("我在宁波 阿拉娘打电话讲屋顶漏水了 能不能叫村里人去看看", RESIDENT, "group2", "request"),
        ("汪建平讲想申请低保 立峰还讲要去镇里上访 请村里尽快出面", MEMBER, "group1", "request"),
        ("送好了 汪建平 章海涛两户 米和油都放下了", MEMBER, "group1", "visit"),
        ("重阳节那天跟毛阿婆一起吃了顿饭 伊精神蛮好", MEMBER, "group1", "visit"),
        ("汪建平 这两天找时间来侬屋里望望", MEMBER, "group2", "none"),
        ("毛阿婆 下半日我来侬屋里坐坐", MEMBER, "group2", "none"),
        ("下月走访通报：1.应走访60户 2.已走访54户 请相关党员月初补上", "chenjianguo", "group1", "none"),
    ],
)
def test_round_ten_readings(parse, text, sender, chat, intent):
    assert parse(text, sender=sender, chat=chat).intent == intent


def test_a_round_where_two_of_the_homes_were_shut_is_the_visit_to_the_others(parse):
    # "汪家两户都锁着门" is some of the homes, not all of them (汪建平 H047, 章海涛 H049)
    r = parse("今天下午跑了一圈，汪建平、章海涛在屋里，汪家两户都锁着门", sender=MEMBER, chat="group1")
    assert (r.intent, r.households) == ("visit", ["H047", "H049"])


def test_a_correction_of_the_day_takes_the_day_the_going_was(parse):
    r = parse("更正：昨天报的走访毛阿婆，实际是前天去的", sender=MEMBER, chat="group1")
    assert (r.intent, r.households, r.date) == ("visit", ["H050"], date(2026, 11, 24))


def test_a_call_just_now_after_a_festival_said_in_passing_is_today(parse):
    r = parse("五一回弗来了 刚跟林志豪视频了一下 伊蛮好", sender="linfang", chat="group1", today=date(2026, 4, 30))
    assert (r.intent, r.date) == ("visit", date(2026, 4, 30))


@pytest.mark.parametrize(
    "text, trigger",
    [
        ("医药费要先垫 我一下子拿弗出", "hardship"),
        ("孙子要交学费 屋里钱实在紧", "hardship"),
        ("真要拆我到县里去讨个说法", "petition"),
        ("啥人也弗来讲一声 当阿拉弗是人", "discontent"),
        ("这个规定弗合理 老人吃力煞", "discontent"),
        ("隔壁的墙砌到阿拉地基上来了", "violation"),
        ("村口两部车子撞了", "emergency"),
        ("台风过去 屋顶瓦片吹掉交关", "emergency"),
        ("阿拉老头子又住进县医院了", "illness"),
    ],
)
def test_situations_in_villagers_words(parse, text, trigger):
    assert trigger in parse(text, sender=RESIDENT).triggers


@pytest.mark.parametrize(
    "text, sender, trigger",
    [
        ("阿拉老两口结婚四十年了 儿子订了个蛋糕", RESIDENT, "wedding_funeral"),
        ("弄堂口墨墨黑 阿拉老太婆差一眼跌倒", RESIDENT, "emergency"),
        ("有上访苗头的要早发现早化解 大家走访时留个心", "chenjianguo", "petition"),
        ("屋顶瓦片被风吹掉两块 落雨要漏", RESIDENT, "emergency"),
    ],
)
def test_look_alikes_of_situations(parse, text, sender, trigger):
    assert trigger not in parse(text, sender=sender, chat="group1" if sender != RESIDENT else "group2").triggers


@pytest.mark.parametrize(
    "text, kept",
    [
        ("门口路灯坏了 有事打我电话13812345678", True),  # a fault at home, with a number to call back
        ("村里什么时候发过年的慰问品", True),  # an outright ask of the village
        ("电视机又坏了 弗要紧 明朝叫儿子来弄", False),  # reassurance: the model may call it chat
    ],
)
def test_a_residents_own_trouble_or_outright_ask_is_kept_from_the_model(told, roster, text, kept):
    assert _rules(roster, text, RESIDENT).intent == "request"
    parser, _ = told("none")
    assert parser.parse(text, sender=RESIDENT, today=TODAY).intent == ("request" if kept else "none")
