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


# -- 八必访 told without the usual word ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        ("伊隔壁那户私自扩了两间 村里还不晓得", "violation"),
        ("伊老公打牌输了三万多 屋里钞票都输光了", "violation"),
        ("有人在集体的那块空地上 围了圈篱笆种番薯", "violation"),
        ("伊讲要造个车棚 我讲先去报批 伊讲早就搭好了", "violation"),
        ("伊儿子前日骑摩托跟人家撞了", "emergency"),
        ("伊老头子修屋顶从梯子上跌落来了", "emergency"),
        ("老人手骨断了 吊了绷带", "illness"),
        ("讲再不弄伊就到县里去寻领导", "petition"),
        ("看病的钞票都是东借西借凑的", "hardship"),
        ("米缸里米都快吃光了", "hardship"),
        ("今年工钿还没发 日脚难过", "hardship"),
        ("两兄弟为了宅基地闹到现在", "dispute"),
        ("讲了几趟了 当阿拉是空气", "discontent"),
    ],
)
def test_a_situation_told_in_other_words(parse, text, trigger):
    r = parse("昨日去了毛阿婆屋里 " + text, sender="sunxiaojun")
    assert r.intent == "visit"
    assert trigger in r.triggers


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        ("县里严打赌博 大家跟联系户讲讲", "violation"),  # a notice against gambling is no gambling
        ("重阳那日村里在大会堂办了十桌 老人都去吃了", "wedding_funeral"),  # the village's feast for the old
        ("流感多 发烧了早点去医院 不要硬扛", "illness"),  # advice
        ("老王讲要去县里告我 告我下棋赖皮😂", "petition"),  # a joke
    ],
)
def test_look_alikes_reveal_no_situation(parse, text, trigger):
    assert trigger not in parse(text, sender="chenjianguo", chat="group1").triggers


# -- chat that looks like a matter --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "五一值班表发群里了 大家看一下 有问题私聊我",  # "有问题…找我" is no problem told
        "抖音上讲奉化那边台风刮倒了交关树 阿拉这里没事",  # news from elsewhere
    ],
)
def test_notices_and_news_are_chat(parse, text):
    r = parse(text, sender="wmh050x7Qe")
    assert r.intent == "none"
    assert r.triggers == []


def test_a_fire_put_out_at_home_keeps_the_situation_but_asks_nothing(parse):
    r = parse("昨日夜里阿拉灶头间烧起来了 自家扑灭了 人没事", sender="wmh050x7Qe")
    assert (r.intent, r.triggers) == ("none", ["emergency"])


def test_a_family_quarrel_made_up_keeps_the_situation(parse):
    r = parse("两个儿子为了老屋吵了一场 后来讲开了 没事了", sender="wmh050x7Qe")
    assert (r.intent, r.triggers) == ("none", ["dispute"])


def test_a_fault_fixed_by_oneself_and_a_warning_to_all_is_chat(parse):
    r = parse("屋里水管冻裂了 自家已经换好了 大家也注意", sender="wmh050x7Qe")
    assert r.intent == "none"


def test_a_visit_put_off_for_a_family_grave_is_no_visit(parse):
    r = parse("清明上坟去了 走访这礼拜补上", sender="sunxiaojun", chat="group1")
    assert r.intent == "none"


def test_asking_another_member_later_in_the_sentence_is_no_query(parse):
    r = parse("张伟 老王屋里这个月你去过了吗", sender="wanghaifeng", chat="group1")
    assert r.intent == "none"


def test_naming_another_member_then_telling_them_a_trouble_stays_a_request(parse):
    r = parse("张伟 严德富家你去看一下 伊昨日跌了一跤", sender="wanghaifeng", chat="group1")
    assert r.intent == "request"


def test_a_call_to_a_household_away_with_an_invitation_after_it_is_the_visit(parse):
    r = parse("昨日跟郭静打了个电话 伊讲年底结婚 到时候请阿拉去吃喜酒", sender="linfang")
    assert (r.intent, r.households, r.date) == ("visit", ["H042"], date(2026, 11, 25))
    assert r.triggers == ["wedding_funeral"]


# -- visits told every way ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("小孙 昨日侬来望阿拉 辛苦侬了", date(2026, 11, 25)),  # 来望 = came to see
        ("小孙 前天侬来拜年 阿拉开心煞", date(2026, 11, 24)),
    ],
)
def test_a_resident_telling_the_member_came_in_dialect(parse, text, day):
    r = parse(text, sender="wmh050x7Qe")
    assert (r.intent, r.households, r.date) == ("visit", ["H050"], day)


@pytest.mark.parametrize(
    ("text", "households", "day"),
    [
        ("昨日在毛阿婆屋里讲了半日闲话", ["H050"], date(2026, 11, 25)),
        ("医院里望过石磊了 要住几日", ["H051"], date(2026, 11, 26)),
        ("前天到九组11号望了一趟", ["H051"], date(2026, 11, 24)),
        ("九组9号 九组11号 上昼走了 都好", ["H050", "H051"], date(2026, 11, 26)),
        ("礼拜一把九组跑了 毛阿婆 石磊 都在屋里", ["H050", "H051"], date(2026, 11, 23)),
    ],
)
def test_a_members_visit_in_other_words(parse, text, households, day):
    r = parse(text, sender="sunxiaojun", chat="group1")
    assert (r.intent, r.households, r.date) == ("visit", households, day)


@pytest.mark.parametrize(
    "text",
    [
        "今朝到毛阿婆 石磊两家去了一趟 两家都不在 门口挂着锁",  # every home of the round was shut
        "上昼去毛阿婆屋里 门敲弗开 电话也没人接",
    ],
)
def test_a_round_where_nobody_was_home_is_no_visit(parse, text):
    assert parse(text, sender="sunxiaojun", chat="group1").intent == "none"


def test_a_death_told_with_the_morning_is_no_round_of_visits(parse):
    r = parse("石磊老娘今朝早上走了 后日出殡", sender="sunxiaojun", chat="group1")
    assert r.intent != "visit"
    assert r.triggers == ["wedding_funeral"]


def test_hoping_for_new_year_is_no_visit_seen(parse):
    # 希望过年前…: 望过 inside 希望过 is no "saw"
    assert parse("希望过年前有人帮我把灶头间刷一刷", sender="wmh050x7Qe").intent == "wish"


@pytest.mark.parametrize(
    ("text", "hit", "trigger"),
    [
        ("前日去了毛阿婆屋里 伊住了一礼拜医院刚回来", True, "illness"),
        ("前日去了毛阿婆屋里 隔壁新搭的棚占了村道", True, "violation"),
        ("前日去了毛阿婆屋里 剩下的药费实在拿不出", True, "hardship"),
        ("前日去了毛阿婆屋里 伊问屋前种点菜会不会算违建", False, "violation"),
        ("前日陪镇里领导慰问了毛阿婆和石磊两户困难户", False, "hardship"),
    ],
)
def test_round8_situations_in_visit_reports(parse, text, hit, trigger):
    r = parse(text, sender="sunxiaojun", chat="group1")
    assert r.intent == "visit"
    assert (trigger in r.triggers) is hit


# -- residents and matters ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "小孙 上回帮我申请的补助 钱已经打到卡上了 谢谢侬",
        "门口的阴井盖换新的了 谢谢",
        "孙子收到书包开心煞了 谢谢小孙",
    ],
)
def test_thanks_for_a_matter_done_is_feedback(parse, text):
    assert parse(text, sender="wmh050x7Qe").intent == "feedback"


@pytest.mark.parametrize(
    "text",
    [
        "补助材料交上去一个多月了 一点回音都没有",
        "路灯又黑掉了 上个月才修过的",  # broken again after the repair: a complaint about it
    ],
)
def test_a_matter_still_not_done_is_feedback(parse, text):
    assert parse(text, sender="wmh050x7Qe").intent == "feedback"


def test_a_fault_without_a_problem_word_and_a_craftsman_asked_for(parse):
    r = parse("毛阿婆打电话来讲 灶头间墙皮一块块往下掉 要找个泥水匠去看看", sender="sunxiaojun", chat="group1")
    assert (r.intent, r.households) == ("request", ["H050"])


def test_a_relatives_call_to_a_resident_living_away_is_no_visit(parse):
    # 林志豪 lives away (在宁波务工): his mother's call to him is no contact of the member's
    r = parse("林姐 老家屋顶好像漏了 我妈打电话来讲墙上湿了一大片", sender="wmh041x7Qe")
    assert r.intent == "request"


def test_a_resident_asking_a_neighbour_is_chat(parse):
    assert parse("老王 侬医保交了伐", sender="wmh050x7Qe").intent == "none"


def test_a_resident_asking_the_member_still_asks(parse):
    # 小孙 is the member: a question to them about the resident's own matter is no neighbour talk
    r = parse("小孙 侬讲的医保补交 办好了伐", sender="wmh050x7Qe")
    assert (r.intent, r.query) == ("query", "request_status")


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("老花镜的心愿 办了伐", "request_status"),
        ("11月份重点户", "key_households"),
    ],
)
def test_short_questions(parse, text, query):
    sender = "wmh050x7Qe" if "心愿" in text else "sunxiaojun"
    r = parse(text, sender=sender, chat="private")
    assert (r.intent, r.query) == ("query", query)


@pytest.mark.parametrize(
    "text",
    [
        "积分办法镇里发下来了 大家抽空看一下",
        "天冷了 各位抽空去重点户那里望望",
    ],
)
def test_words_to_everyone_ask_the_bot_nothing(parse, text):
    assert parse(text, sender="chenjianguo", chat="group1").intent == "none"


def test_a_resident_tells_the_member_brought_new_year_goods(parse):
    r = parse("前天小孙拎了年货来 陪我讲了半天闲话", sender="wmh050x7Qe")
    assert (r.intent, r.date) == ("visit", date(2026, 11, 24))


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("阿拉屋里瓦片被风吹掉两块 哪个有空帮忙盖一盖", False),  # a gust: a repair
        ("台风过后屋顶瓦片吹掉一半", True),
        ("屋顶瓦片被风吹落了一大片", True),  # the size of it tells a storm
    ],
)
def test_wind_damage_is_an_emergency_only_in_a_storm(parse, text, hit):
    assert ("emergency" in parse(text, sender="wmh050x7Qe").triggers) is hit


def test_an_april_fools_joke_is_chat(parse):
    r = parse("今朝愚人节 哈哈 孙子骗我讲中了大奖", sender="wmh050x7Qe")
    assert (r.intent, r.triggers) == ("none", [])


def test_a_quarrel_told_by_how_often(parse):
    assert "dispute" in parse("隔壁搭的棚滴水到阿拉屋里 为这个吵过两回了", sender="wmh050x7Qe").triggers


# -- older residents in their group, members thanking back ------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "today", "day"),
    [
        ("小孙 昨日来医院望我 谢谢侬", date(2026, 11, 26), date(2026, 11, 25)),
        ("小孙大年初一就来拜年 还带了水果", NEW_YEAR, date(2026, 2, 17)),
        ("小孙 侬今朝来的时候我忘记问了 医保卡丢了要去哪里补", date(2026, 11, 26), date(2026, 11, 26)),
    ],
)
def test_round8_a_resident_tells_the_member_came(parse, text, today, day):
    r = parse(text, sender="wmh050x7Qe", today=today)
    assert (r.intent, r.date) == ("visit", day)


def test_a_member_at_the_hospital_with_a_household_is_a_visit(parse):
    r = parse("昨日跑了趟医院 毛阿婆手术蛮顺利 过两日好出院", sender="sunxiaojun")
    assert (r.intent, r.households, r.date) == ("visit", ["H050"], date(2026, 11, 25))


def test_three_homes_all_given_their_mooncakes(parse):
    r = parse("中秋送月饼 毛阿婆 石磊 章海涛三户都送到了", sender="sunxiaojun", today=date(2026, 9, 27))
    assert (r.intent, r.households, r.date) == ("visit", ["H049", "H050", "H051"], date(2026, 9, 25))


def test_a_member_thanking_a_household_for_a_gift_is_chat(parse):
    assert parse("毛阿婆 粽子收到了 交关好吃 谢谢侬", sender="sunxiaojun").intent == "none"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("小时候最想要的就是一双解放鞋 现在啥都有了", "none"),  # a memory
        ("老头子想吃城里那家的麻糍 有空帮阿拉带两块", "wish"),
        ("屋里只有一把破电扇 能不能帮我弄个新的", "wish"),
        ("袁立峰 侬明朝帮我带两包化肥", "none"),  # a neighbour asked for a hand
        ("老太婆上礼拜住院了 现在回来了 大家不要担心", "none"),
        ("我眼睛不好 字打不来 叫孙女帮我打的 大家好", "none"),
        ("水沟还没通好 今朝又漫出来了", "feedback"),
        ("补助还没批下来 等了两个月了", "feedback"),
        ("桥栏杆换新了 比原来还牢 👍", "feedback"),
    ],
)
def test_older_residents_in_their_group(parse, text, intent):
    assert parse(text, sender="wmh050x7Qe").intent == intent


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("我没钱看病了 药费交不起", "illness"),  # money for the doctor: hardship, no illness told
        ("最近骗子多 有人打电话讲我孙子出事了要打钱 我不睬伊", "emergency"),
    ],
)
def test_round8_no_situation_read_into(parse, text, absent):
    assert absent not in parse(text, sender="wmh050x7Qe").triggers


def test_a_chronic_illness_is_an_illness(parse):
    assert "illness" in parse("伊有慢性病 现在没钱看病了", sender="wmh050x7Qe").triggers


def test_a_member_reminding_about_scams_asks_nothing(parse):
    r = parse("吴敏 侬上趟讲的那个防诈骗 我晓得了 陌生电话弗接", sender="wmh036x7Qe")
    assert (r.intent, r.triggers) == ("none", [])


def test_words_to_everyone_about_questions_they_may_have(parse):
    assert parse("医保的事体大家有弗清楚的 我礼拜三在村里", sender="wumin").intent == "none"


# -- the members' group ---------------------------------------------------------------------------------------------
def test_a_month_and_day_without_the_days_word(parse):
    r = parse("12月30去潘小芬家 伊讲厕所漏水", sender="zhengguoping", today=date(2026, 1, 2))
    assert (r.intent, r.date) == ("visit", date(2025, 12, 30))


@pytest.mark.parametrize(
    "text",
    [
        "明天开学 留守儿童户都去望一望 缺啥登记上来",  # an instruction, not "were they all visited?"
        "重阳节的慰问品 各联户党员帮忙送到屋里",
        "想当年阿拉走访全靠两只脚 现在有机器人了",
        "书记 罗勇上礼拜搬走了 这户以后还要联系吗",  # a household that moved: no cleared heap
    ],
)
def test_round8_members_group_chat(parse, text):
    assert parse(text, sender="chenjianguo", chat="group1").intent == "none"


def test_a_member_passing_on_where_to_ask_is_a_request(parse):
    r = parse("书记 毛阿婆讲伊孙子的助学金还没批下来 问我好去哪里问", sender="sunxiaojun", chat="group1")
    assert (r.intent, r.households) == ("request", ["H050"])


def test_a_worry_about_the_next_typhoon_is_no_emergency(parse):
    r = parse("石磊屋里后墙有裂缝 台风来怕要倒 能不能派人看一下", sender="sunxiaojun", chat="group1")
    assert (r.intent, r.triggers) == ("request", [])


# -- dictated by voice --------------------------------------------------------------------------------------------
def test_in_a_private_chat_with_the_bot_a_question_by_voice_is_asked_of_it(parse):
    r = parse("11月份 全村 走访 会总 那个 就是说 汇总表", sender="chenjianguo", chat="private")
    assert (r.intent, r.query, r.month) == ("query", "summary", "2026-11")


def test_the_same_words_in_the_group_ask_nothing(parse):
    assert parse("11月份 全村 走访 会总 那个 就是说 汇总表", sender="chenjianguo", chat="group1").intent == "none"


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("我联户的人家是哪几家", "my_households"),
    ],
)
def test_round8_questions_by_voice(parse, text, query):
    r = parse(text, sender="panxiaodong", chat="private")
    assert (r.intent, r.query) == ("query", query)


def test_asking_another_member_by_old_and_surname_is_no_query(parse):
    assert parse("老郑 侬积分多少了 我才三十几分", sender="zhangwei", chat="group1").intent == "none"


def test_a_greeting_heard_as_hospital_is_no_illness(parse):
    r = parse("住院大家新春快乐 身体健康", sender="wanghaifeng", chat="group1")
    assert (r.intent, r.triggers) == ("none", [])


@pytest.mark.parametrize(
    "text",
    [
        "清明回老家了 这两天走访弗了 回来再补",
        "今年的走访基本都走好了 明年继续努力",
        "我记得老早 阿土伯年轻的时候 到阿拉屋里来坐过 讲山里的事",
        "小王 侬去跟卢金水讲一声 叫伊下午来村里拿补贴表",  # a word passed on, no errand
    ],
)
def test_round8_members_talk_that_is_no_report(parse, text):
    assert parse(text, sender="wanghaifeng", chat="group1").intent == "none"


def test_a_resident_saying_the_member_came_yesterday_to_look_is_a_visit(parse):
    r = parse("小孙昨日来阿拉屋里望望 帮我把电视弄好了 谢谢侬", sender="wmh050x7Qe")
    assert (r.intent, r.date) == ("visit", date(2026, 11, 25))


def test_thanks_for_coming_yesterday_is_a_visit(parse):
    r = parse("谢谢小孙昨日来看 阿拉老头子手术蛮顺利", sender="wmh050x7Qe")
    assert (r.intent, r.date) == ("visit", date(2026, 11, 25))


def test_festival_food_received_with_thanks_to_all_is_chat(parse):
    assert parse("月饼收到了 蛮好吃的 谢谢大家", sender="wmh050x7Qe").intent == "none"


# -- notices and what people answer ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "2027年度城乡居民医保开始缴费啦！缴费时间12月31日前，可通过支付宝缴纳，逾期不能享受待遇哦",
        "镇社保所：春风行动招聘会下礼拜在镇文化中心举行 在外的老乡可以回来看看",
        "医保缴费最后一个月了 大家提醒提醒联系户",
        "低保政策转到群里了 大家有符合条件的联系户先摸个底",
    ],
)
def test_round8_notices(parse, text):
    assert parse(text, sender="wangli", chat="group1").intent == "none"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("晓得了 阿拉屋里米和水都备好了 蜡烛也有", "none"),
        ("医保我在支付宝上交好了", "none"),
        ("医保查到了 交进去了 谢谢小孙", "feedback"),
        ("谢谢侬和村里帮忙 阿拉老娘的丧事都办好了", "feedback"),
    ],
)
def test_round8_answers_to_notices(parse, text, intent):
    assert parse(text, sender="wmh050x7Qe").intent == intent


def test_a_missing_old_man_and_everyone_asked_to_search_is_a_request(parse):
    r = parse("阿宝伯昨日下半天出去到现在没回来 手机关机 大家帮忙寻寻", sender="zhengguoping", chat="group1")
    assert (r.intent, r.triggers) == ("request", ["emergency"])


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("上礼拜去了毛阿婆屋里 台风过后屋顶有点漏 已经报村里了", True),
        ("我年轻时候那场台风才叫厉害 整个村都淹掉了", False),  # an old story
        ("今朝去了毛阿婆屋里 征地的事伊意见蛮大", True),
    ],
)
def test_round8_situations_in_the_groups(parse, text, hit):
    r = parse(text, sender="sunxiaojun", chat="group1")
    assert bool({"emergency", "discontent"} & set(r.triggers)) is hit


# -- residents' long voice messages ---------------------------------------------------------------------------------
def test_the_member_came_on_new_years_eve_to_look_in(parse):
    r = parse("小孙大年夜来阿拉屋里望望 还帮我贴了春联", sender="wmh050x7Qe", today=NEW_YEAR)
    assert (r.intent, r.date) == ("visit", date(2026, 2, 16))


def test_the_member_came_while_the_resident_was_out(parse):
    r = parse("小孙前天来过阿拉屋里 我弗在屋里 是阿拉老太婆陪伊讲的", sender="wmh050x7Qe")
    assert (r.intent, r.date) == ("visit", date(2026, 11, 24))


@pytest.mark.parametrize(
    "text",
    [
        "五一孙子带女朋友来看我 小姑娘长得好 我交关欢喜",  # family coming is no member's visit
        "国庆阿拉孙子带了一只狗回来 把拖鞋咬烂了 哈哈",
        "今朝落雨 我在屋里望电视 我年轻辰光也是这样过来的",
    ],
)
def test_round8_family_and_memories_are_no_visit(parse, text):
    assert parse(text, sender="wmh050x7Qe").intent != "visit"
