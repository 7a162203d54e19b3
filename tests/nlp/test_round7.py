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


# -- visits in other words ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "sender", "households"),
    [
        ("上礼拜四到邱永明、唐小燕两家走了走", "hujianhua", ["H054", "H055"]),
        ("前天去了罗勇住的地方 房子还算干净", "panxiaodong", ["H022"]),
        ("在邵秀珍屋里帮忙料理了一上午", "hujianhua", ["H053"]),
        ("今朝六组五户走了 袁立峰 袁立群 赵大爷 都在", "zhouzhiqiang", ["H030", "H034", "H035"]),
        ("刚从卫生院回来 阿宝伯挂了两天盐水好多了", "zhengguoping", ["H043"]),
        ("在杭州跟林志豪碰了个头 伊厂里都蛮好", "linfang", ["H041"]),
    ],
)
def test_visits_told_through_what_was_done(parse, text, sender, households):
    r = parse(text, sender=sender, chat="group1")
    assert (r.intent, r.households) == ("visit", households)


def test_a_single_word_said_twice_across_clauses_is_no_stutter(parse):
    # "来寻我 我今朝上门": the second 我 opens the clause that holds the visit day
    r = parse("严小红前天哭着来寻我 我今朝上门去劝了劝", sender="zhangwei", chat="group1")
    assert (r.intent, r.date) == ("visit", date(2026, 11, 26))
    r = parse("我 我今朝去了王彩娥屋里", sender="zhangwei", chat="group1")
    assert (r.intent, r.households, r.date) == ("visit", ["H012"], date(2026, 11, 26))


def test_a_round_of_calls_where_one_did_not_get_through_counts_the_other(parse):
    r = parse("上昼跟林志豪视频了一歇 伊讲都好 郭静电话没打通", sender="linfang", chat="private")
    assert (r.intent, r.households) == ("visit", ["H041"])


# -- questions, urges, thanks ---------------------------------------------------------------------------------
def test_an_urge_to_everyone_is_no_question_to_the_bot(parse):
    assert parse("还有几户没走访的抓紧哦 月底要报", sender="chenjianguo", chat="group1").intent == "none"
    assert parse("还有哪几户没走访？", sender="chenjianguo", chat="group1").query == "unvisited"


@pytest.mark.parametrize(
    ("text", "query"), [("我有哪几户", "my_households"), ("阿拉那个心愿有人领了没", "request_status")]
)
def test_short_questions_to_the_bot(parse, text, query):
    sender = "wumin" if query == "my_households" else "wmh037x7Qe"
    r = parse(text, sender=sender, chat="private" if sender == "wumin" else "group2")
    assert (r.intent, r.query) == ("query", query)


@pytest.mark.parametrize(
    "text",
    ["热水器好了 是镇上师傅弄的 谢谢大家", "申请表小周帮我交上去了 真是麻烦伊了"],
)
def test_thanks_for_a_thing_working_or_an_errand_done_is_feedback(parse, text):
    assert parse(text, sender="wmh033x7Qe").intent == "feedback"


def test_a_member_asking_on_a_households_behalf_is_a_request(parse):
    r = parse("唐小燕屋里学费交不起 帮伊问问有没有助学贷款", sender="hujianhua", chat="group1")
    assert (r.intent, r.households, r.triggers) == ("request", ["H055"], ["hardship"])


@pytest.mark.parametrize(
    "text",
    ["想托人帮我给屋里老娘买两箱牛奶送过去", "能不能帮我寻一把躺椅", "屋里没电脑 有台旧的也好"],
)
def test_a_thing_wished_for_through_someone_is_a_wish(parse, text):
    assert parse(text, sender="wmh038x7Qe").intent == "wish"


def test_a_joke_about_what_cannot_be_is_no_wish(parse):
    assert parse("要是再年轻二十岁就好了 哈哈", sender="wmh050x7Qe").intent == "none"
    assert parse("要是能有台新电视就好了", sender="wmh050x7Qe").intent == "wish"


# -- 八必访 ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        ("隔壁把围墙往外砌出来一米多 路都被伊占掉了", "violation"),
        ("后山那块田被人偷偷挖了种树", "violation"),
        ("空屋里夜夜搓麻将 输赢交关大", "violation"),
        ("两家为晒谷场吵了好几趟了 今朝又骂上门来", "dispute"),
        ("倪子跟媳妇一个多月弗讲话了", "dispute"),
        ("兄弟两个为了宅基地闹得弗开心", "dispute"),
        ("伊上礼拜生毛病挂了两天盐水", "illness"),
        ("昨日刚开好刀 精神还可以", "illness"),
    ],
)
def test_situations_in_villagers_words(parse, text, trigger):
    assert trigger in parse(text, sender="wmh047x7Qe").triggers


def test_land_taken_by_the_village_for_a_road_is_no_violation(parse):
    r = parse("村里修路占了我家的地 一分钱没赔 我意见很大", sender="wmh047x7Qe")
    assert "violation" not in r.triggers
    assert "discontent" in r.triggers


@pytest.mark.parametrize("text", ["汪丽萍屋里今朝又骂上门来了", "派出所来过一趟 麻将还在搓"])
def test_people_who_came_to_quarrel_or_the_police_are_no_members_visit(parse, text):
    assert parse(text, sender="wmh047x7Qe").intent != "visit"


# -- the secretary's and committee's words ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "各位同志 12月份走访今朝开始了 重点户月中前都要上门一趟",
        "阿拉网格本月走访已经完成八成了 剩下的月底前跑好",
        "11月份走访汇总出来了 还有两户没走到 相关同志自己对照一下",
    ],
)
def test_announcements_about_the_months_visits_are_no_visit_and_no_question(parse, text):
    assert parse(text, sender="chenjianguo", chat="group1").intent == "none"


def test_a_report_that_the_key_households_were_visited_is_no_question(parse):
    r = parse("今朝把卢金水跟何小梅两个重点户都走访了一遍 情况都稳定", sender="wangli", chat="group1")
    assert (r.intent, r.households) == ("visit", ["H018", "H019"])
    assert parse("重点户都走访了吗", sender="wangli", chat="group1").query == "key_households"
    assert parse("这个月我走访了几户", sender="wangli", chat="group1").query == "summary"


def test_a_span_of_days_is_no_date_of_the_month(parse):
    # "过两日" is in two days, not the 2nd: the visit is still to come
    r = parse("昨日打电话给罗勇问了问 过两日我再上门去看看", sender="panxiaodong", chat="group1")
    assert r.intent == "none"
    r = parse("两日前去了罗勇屋里", sender="panxiaodong", chat="group1")
    assert (r.intent, r.date) == ("visit", date(2026, 11, 24))


def test_a_correction_in_chat_keeps_only_the_right_household_and_its_day(parse):
    r = parse("书记 上一条报错了 弗是严德富家 是蒋立新家 昨日去的", sender="zhangwei", chat="group1")
    assert r.correction is not None and r.correction["right"] == ["H015"]
    assert (r.intent, r.households, r.date) == ("visit", ["H015"], date(2026, 11, 25))


def test_the_month_in_a_question_about_what_one_reported_is_no_monthly_report(parse):
    r = parse("我上个月报上去的几件事 现在办得咋样了", sender="wumin", chat="private")
    assert (r.intent, r.query) == ("query", "request_status")


def test_a_resident_asking_the_member_to_come_tomorrow_is_a_request(parse):
    r = parse("小张 明朝来我屋里坐坐 有事体要跟侬讲", sender="wmh011x7Qe")
    assert (r.intent, r.households) == ("request", ["H011"])


@pytest.mark.parametrize(
    "text",
    [
        "小张 上回帮我弄好的水龙头蛮好用 谢谢侬啊",
        "老年手机收着了 字大声音响 谢谢侬",
        "上回报的那帮打牌的散掉了 现在夜里清静多了 谢谢",
    ],
)
def test_thanks_for_what_was_handled_is_feedback(parse, text):
    assert parse(text, sender="wmh012x7Qe").intent == "feedback"


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        ("超市的活做弗落了 人家弗要我了 小人读书钞票都没着落", "hardship"),
        ("今朝去看阿宝伯 腿上打了钢板", "illness"),
        ("伊跟老公吵得要离婚", "dispute"),
    ],
)
def test_more_situations_in_villagers_words(parse, text, trigger):
    assert trigger in parse(text, sender="wmh043x7Qe").triggers


def test_a_household_kind_named_is_no_illness(parse):
    r = parse("张伟 方奶奶是危重病人户 这个月侬再多跑两趟", sender="chenjianguo", chat="group1")
    assert "illness" not in r.triggers


def test_a_members_plan_to_come_over_and_do_an_errand_is_no_matter(parse):
    r = parse("阿林叔 明朝下半日我过来帮侬弄医保", sender="lixiulan", chat="group2")
    assert (r.intent, r.not_visit) == ("none", "planned")


def test_a_table_posted_to_the_group_is_a_notice(parse):
    r = parse("上个月的积分表已经发群里了，大家自己看看，有问题找我", sender="chenjianguo", chat="group1")
    assert r.intent == "none"


def test_a_dog_that_keeps_biting_is_a_quarrel_between_neighbours_not_an_accident(parse):
    r = parse("隔壁的狗天天放出来咬人 讲了几趟伊弗听", sender="wmh027x7Qe")
    assert "emergency" not in r.triggers
    assert "emergency" in parse("阿拉孙子昨日被狗咬了 去打针了", sender="wmh027x7Qe").triggers


# -- questions in other words ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "sender", "query"),
    [
        ("屋顶漏水的事报上去了没有 有下文伐", "wmh028x7Qe", "request_status"),
        ("孙子的书包心愿有人认领了伐😊", "wmh010x7Qe", "request_status"),  # 伐 before an emoji asks too
        ("上回讲的春联有人写了伐", "wmh010x7Qe", "request_status"),
        ("11月份总的情况发我看看", "chenjianguo", "summary"),
        ("上个月我是不是有户漏掉了没走 查下", "wangli", "unvisited"),
        ("给我看看我负责的那些人家", "wangli", "my_households"),
        ("我一共联了几户", "wangli", "my_households"),
        ("我不识字 这个东西好讲语音伐", "wangli", "help"),
        ("困难户空巢老人这几类这月走访咋样", "chenjianguo", "key_households"),
    ],
)
def test_questions_in_other_words(parse, text, sender, query):
    r = parse(text, sender=sender, chat="private")
    assert (r.intent, r.query) == ("query", query)


def test_a_fault_told_with_when_will_it_be_fixed_is_the_request_itself(parse):
    r = parse("路口那盏路灯暗了一个多礼拜了 啥辰光来修修啊", sender="wmh025x7Qe")
    assert (r.intent, r.households) == ("request", ["H025"])
    # a matter reported before, asked after
    r = parse("上回报的那盏路灯啥辰光来修", sender="wmh025x7Qe")
    assert (r.intent, r.query) == ("query", "request_status")


def test_a_question_to_another_member_by_name_is_no_matter(parse):
    assert parse("郑国平你那个表格弄好了没？", sender="zhouzhiqiang", chat="group1").intent == "none"


def test_a_sight_told_laughing_is_no_fault(parse):
    assert parse("今朝冷伐？阿拉门口的河都结冰了😂", sender="wmh006x7Qe").intent == "none"
    assert parse("阿拉门口的水管冻牢了 没水用", sender="wmh006x7Qe").intent == "request"


def test_a_fault_that_has_not_come_back_is_feedback_and_a_flat_phone_is_no_fault(parse):
    assert parse("后坡打了桩 这几天落雨也没再滑下来 放心了", sender="wmh056x7Qe").intent == "feedback"
    r = parse("谢谢小王帮我去看 老娘没事体 是手机没电了 虚惊一场", sender="wmh017x7Qe")
    assert r.intent == "feedback"


def test_a_weekday_to_come_after_news_told_as_past_is_still_a_plan(parse):
    # the 了 of the quarrel is not the visit's: Saturday is still to come on a Thursday
    r = parse("听说曹雪琴跟隔壁闹矛盾了，我礼拜六去她屋里了解下情况", sender="wumin", chat="group1")
    assert (r.intent, r.triggers) == ("none", ["dispute"])


# -- older residents by voice (set j) ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("王委员昨日来送了副春联 还帮我贴好了", date(2026, 11, 25)),  # a member by surname and title
        ("小王前日送年糕来 还帮我把灯泡换好了", date(2026, 11, 24)),  # brought something
    ],
)
def test_a_resident_telling_the_member_came_with_something(parse, text, day):
    r = parse(text, sender="wmh008x7Qe")
    assert (r.intent, r.households, r.date) == ("visit", ["H008"], day)


def test_a_festival_slipped_by_voice_input(parse):
    r = parse("辣八那日去了方奶奶屋里 送了腊八粥", sender="zhangwei", chat="group1", today=date(2026, 2, 1))
    assert (r.intent, r.date) == ("visit", date(2026, 1, 26))


def test_a_wish_for_a_new_one_when_the_old_one_broke(parse):
    assert parse("我想要只收音机 老的那只坏掉了 弗响了", sender="wmh030x7Qe").intent == "wish"


def test_a_wish_for_a_volunteer_tutor(parse):
    assert parse("屋里小孩作业没人管 希望有志愿者周末帮忙辅导一下", sender="wmh038x7Qe").intent == "wish"


@pytest.mark.parametrize(
    ("text", "trigger"),
    [("儿子正月里讨老婆 到辰光请侬吃老酒", "wedding_funeral"), ("伊跟隔壁为了滴水檐吵了几句", "dispute")],
)
def test_situations_said_in_passing(parse, text, trigger):
    assert trigger in parse(text, sender="wmh030x7Qe").triggers


# -- members' voice reports (set f) --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "sender", "households", "day"),
    [
        ("方奶奶 前日来看侬 侬讲要配副假牙 我帮侬问过了", "zhangwei", ["H016"], date(2026, 11, 24)),
        ("罗勇 昨日下半日我在侬屋里坐过 侬讲工资被拖欠了", "panxiaodong", ["H022"], date(2026, 11, 25)),
        ("杨建新 这礼拜一我来侬屋里 侬讲要办残疾证 材料我拿去了", "lixiulan", ["H027"], date(2026, 11, 23)),
    ],
)
def test_a_member_telling_the_household_in_their_group_that_they_came(parse, text, sender, households, day):
    r = parse(text, sender=sender, chat="group2")
    assert (r.intent, r.households, r.date) == ("visit", households, day)


@pytest.mark.parametrize(
    "text",
    ["唐小燕 过两日我来侬屋里看看 侬覅急", "郭静 侬啥辰光回来过年 到辰光我来侬屋里坐坐", "过了元宵再去彭建军屋里"],
)
def test_a_member_promising_to_come_is_no_visit(parse, text):
    assert parse(text, sender="chenyating", chat="group2").intent == "none"


def test_a_members_plan_to_come_after_the_household_called(parse):
    r = parse("柴国强 侬老婆今朝打电话讲跟隔壁又吵起来了 我下半日过来", sender="wangli", chat="group2")
    assert (r.intent, r.not_visit, r.triggers) == ("none", "planned", ["dispute"])


def test_a_resident_telling_the_member_came_yesterday_and_fixed_something(parse):
    r = parse("小张 昨日来阿拉屋里 帮我把电瓶车充电器修好了 谢谢侬", sender="wmh011x7Qe")
    assert (r.intent, r.date) == ("visit", date(2026, 11, 25))


def test_a_verdict_on_what_was_done_last_time_is_feedback(parse):
    r = parse("王丽 上趟侬来帮阿拉弄好以后 隔壁客客气气 谢谢侬 满意", sender="wmh021x7Qe")
    assert r.intent == "feedback"


def test_asking_the_member_to_come_and_judge_a_quarrel_is_a_request(parse):
    r = parse("老胡 隔壁放炮仗把阿拉玻璃敲碎了 伊拉弗肯赔 侬来帮阿拉评评理", sender="wmh054x7Qe")
    assert (r.intent, r.triggers) == ("request", ["dispute"])


def test_a_fault_back_after_a_promise_not_kept_is_feedback(parse):
    assert parse("屋顶漏水个事体 昨日落雨又漏了 讲好叫人来修 到现在没来", sender="wmh036x7Qe").intent == "feedback"


def test_a_call_dated_by_the_day_the_report_opens_with(parse):
    r = parse("11/24 同林志豪视频 伊讲宁波下雪了 工地停工", sender="linfang", chat="group1")
    assert (r.intent, r.households, r.date) == ("visit", ["H041"], date(2026, 11, 24))


def test_a_death_in_hospital_is_a_funeral_not_an_illness_and_needs_no_matter(parse):
    r = parse("老郑 阿拉老头子前两日在医院里走了 后日出殡", sender="wmh046x7Qe")
    assert (r.intent, r.triggers) == ("none", ["wedding_funeral"])


def test_building_without_approval(parse):
    assert "violation" in parse("邱永明屋里在造房子 没审批", sender="wmh054x7Qe").triggers


# -- chat that looks like something (set l) ------------------------------------------------------------------------
def test_a_joke_with_a_done_question_is_no_progress_question(parse):
    assert parse("小年到了 灶君菩萨送了没 哈哈", sender="wmh025x7Qe").intent == "none"


def test_a_trouble_of_ones_own_not_yet_sorted_asked_about_is_a_request(parse):
    r = parse("孩子转学手续到现在还没办好 学校讲缺个证明 能不能帮我问问", sender="wmh022x7Qe")
    assert r.intent == "request"
    # a matter reported before and still not done is feedback on it
    assert parse("上次报的路灯到现在还没修好 能不能快点", sender="wmh022x7Qe").intent == "feedback"


def test_a_thing_to_be_brought_is_a_wish(parse):
    assert parse("小陈 侬下趟来帮我带个电饭煲 屋里格只用了十几年", sender="wmh056x7Qe").intent == "wish"


def test_two_homes_named_with_a_space_between(parse):
    r = parse("上礼拜四去陶建设 彭建军家 两户都在家", sender="chenyating", chat="group1")
    assert (r.intent, r.households, r.date) == ("visit", ["H056", "H060"], date(2026, 11, 19))


def test_what_was_heard_on_a_call_with_a_household_away(parse):
    r = parse("郭静 昨天电话里听你讲手术挺顺利的 好好休养", sender="linfang", chat="group2")
    assert (r.intent, r.households, r.date) == ("visit", ["H042"], date(2026, 11, 25))


def test_told_several_times_and_not_listened_is_a_quarrel(parse):
    r = parse("隔壁的鸡天天跑到阿拉菜地里 讲了几趟弗听", sender="wmh013x7Qe")
    assert "dispute" in r.triggers
