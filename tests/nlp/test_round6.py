"""Issue 13, round 6: what four new sets written blind (older speakers' voice-to-text, visits and days, 八必访 and
the edge of chat, residents' own words) showed, checked with sentences written for this test (not copied from any
labelled set). Demo roster; today is 2026-11-26 (a Thursday)."""

from __future__ import annotations

from datetime import date

import pytest


# -- visits ---------------------------------------------------------------------------------------------------
def test_eating_at_a_households_home_is_a_visit_on_the_festival_day(parse):
    r = parse("冬至前一天没去，重阳那天在方奶奶屋里吃的中饭", sender="zhangwei")
    assert (r.intent, r.households, r.date) == ("visit", ["H016"], date(2026, 10, 18))


def test_going_up_to_a_home_after_a_bare_date(parse):
    r = parse("11/20 上蒋立新屋里 伊讲腰疼得睡不着", sender="zhangwei")
    assert (r.intent, r.households, r.date) == ("visit", ["H015"], date(2026, 11, 20))
    assert r.triggers == ["illness"]


def test_a_day_to_come_in_what_the_household_said_does_not_make_the_visit_a_plan(parse):
    # the visit is today; "下个月" belongs to the wedding the household told of
    r = parse("今天上午到严德富屋里，伊讲孙子下个月办满月酒", sender="zhangwei")
    assert (r.intent, r.households, r.date) == ("visit", ["H013"], date(2026, 11, 26))
    assert r.triggers == ["wedding_funeral"]


def test_hurrying_over_after_a_call_is_a_visit(parse):
    r = parse("王彩娥昨天傍晚跌了一跤，我接到电话马上赶过去，陪到卫生院包扎好", sender="zhangwei")
    assert (r.intent, r.households, r.date) == ("visit", ["H012"], date(2026, 11, 25))
    assert "emergency" in r.triggers


def test_going_over_to_settle_a_quarrel_is_a_visit(parse):
    r = parse("严小红家昨天跟隔壁吵起来 我晚上过去调解了", sender="zhangwei")
    assert (r.intent, r.households) == ("visit", ["H014"])
    assert r.triggers == ["dispute"]


def test_a_resident_names_the_member_by_xiao_and_surname(parse):
    # 小孙 is how residents call 孙小军 (M09); the resident names their sister's household by full name
    r = parse("阿拉阿妹汪丽萍前天住院 小孙昨天去医院看过伊了", sender="wmh047x7Qe")
    assert (r.intent, r.households, r.date) == ("visit", ["H048"], date(2026, 11, 25))


@pytest.mark.parametrize(
    "text, why",
    [
        ("王根发 王彩娥 你们两家这个星期我都会上门", "planned"),
        ("蒋立新 我今天去你家你不在 明天再来", "failed"),
        ("去了严德富那边，伊去杭州看病还没回来，等伊回来再去", "failed"),
    ],
)
def test_visits_not_made(parse, text, why):
    r = parse(text, sender="zhangwei")
    assert (r.intent, r.not_visit) == ("none", why)


def test_a_member_going_to_your_home_is_no_instruction_to_you(parse):
    # "我去你家" is the member's own plan, not words telling "你" to go: a plan, no matter opened
    r = parse("王大伯 下午我去你家看看那个漏水", sender="zhangwei")
    assert (r.intent, r.not_visit) == ("none", "planned")


def test_a_call_with_a_household_living_away_takes_the_day_said_with_it(parse):
    r = parse("林芳，谢谢你前天夜里跟我视频，工地上都好", sender="wmh041x7Qe")
    assert (r.intent, r.households, r.date) == ("visit", ["H041"], date(2026, 11, 24))


def test_a_call_made_is_not_turned_into_a_plan_by_a_later_question(parse):
    r = parse("昨天跟郭静视频了一刻钟，伊问医保怎么转过去", sender="linfang")
    assert (r.intent, r.households, r.date) == ("visit", ["H042"], date(2026, 11, 25))


def test_a_relative_coming_to_make_trouble_is_no_visit(parse):
    r = parse("我兄弟昨夜吃醉了跑到阿拉屋里来闹 侬来劝劝", sender="wmh035x7Qe")
    assert r.intent == "request"


# -- wishes, requests, feedback ----------------------------------------------------------------------------------
def test_a_wish_written_down_by_a_member_for_everyone_to_take_up(parse):
    r = parse("金爷爷有个心愿 想要一根好点的拐杖 大家看看谁能帮忙", sender="wumin")
    assert (r.intent, r.households) == ("wish", ["H037"])


def test_a_wish_for_a_craftsman_to_come_is_no_visit(parse):
    r = parse("帮方奶奶记个微心愿，伊想请裁缝上门改两件衣裳", sender="zhangwei")
    assert (r.intent, r.households) == ("wish", ["H016"])


@pytest.mark.parametrize("text", ["我想去看场戏 镇里下礼拜有 能弗能帮我弄张票", "过年想吃只八宝鸭 自家弄弗来了"])
def test_wishes_said_as_wanting_to_go_or_to_eat(parse, text):
    assert parse(text, sender="wmh016x7Qe").intent == "wish"


def test_a_worry_is_no_loss(parse):
    r = parse("希望有人帮我把老照片弄到手机里 我怕弄丢了", sender="wmh016x7Qe")
    assert r.intent == "wish"


def test_asking_to_borrow_the_hall_beside_a_feast_is_a_request(parse):
    r = parse("下个月孙子满月，请大家吃满月酒，村里礼堂能借来用一下伐", sender="wmh013x7Qe")
    assert (r.intent, r.triggers) == ("request", ["wedding_funeral"])


def test_a_quarrel_settled_with_thanks_is_feedback(parse):
    r = parse("建国，上趟阿拉跟隔壁吵相骂，侬来劝好了，现在太平了，谢谢侬", sender="wmh002x7Qe")
    assert r.intent == "feedback"


def test_a_wish_fulfilled_is_feedback(parse):
    assert parse("拐杖收到 心愿满足了 谢谢", sender="wmh037x7Qe").intent == "feedback"


def test_still_broken_and_nobody_came_is_feedback(parse):
    assert parse("井水还是浑的，也没人来看过", sender="wmh011x7Qe").intent == "feedback"


def test_told_for_months_and_still_going_on_is_feedback(parse):
    r = parse("河边烧垃圾的事讲了好几个月了，还是天天有人烧，你们到底管弗管", sender="wmh011x7Qe")
    assert r.intent == "feedback"
    assert "discontent" in r.triggers


# -- queries --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["我交上去的那个低保申请 现在办到哪一步了", "我上回报的心愿 有消息了哇", "建国 我那个心愿啥辰光有消息"],
)
def test_a_resident_asking_after_their_own_matter(parse, text):
    r = parse(text, sender="wmh001x7Qe")
    assert (r.intent, r.query) == ("query", "request_status")


def test_hesitations_of_voice_to_text_are_read_once(parse):
    r = parse("嗯 那个 我 我想 想去看看阿拉老家的老房子", sender="wmh016x7Qe")
    assert r.intent == "wish"


# -- 八必访 and the edge of chat --------------------------------------------------------------------------------
def test_a_member_passing_on_news_of_a_household_keeps_the_situation_and_opens_no_matter(parse):
    r = parse("听讲严德富前天在镇上被电瓶车撞了，手上缝了几针", sender="zhangwei")
    assert (r.intent, r.triggers) == ("none", ["emergency"])


def test_a_member_reporting_a_plea_of_difficulty_is_still_a_request(parse):
    r = parse("王彩娥家孙子读高中 学费有困难", sender="zhangwei")
    assert (r.intent, r.triggers) == ("request", ["hardship"])


def test_an_instruction_to_the_grid_worker_about_a_fault_is_a_request(parse):
    r = parse("王大伯屋后头水沟堵牢了，落雨水漫进屋里，网格员明天去看一下", sender="chenjianguo")
    assert (r.intent, r.households) == ("request", ["H011"])


def test_someone_unreachable_and_the_member_asks_the_group_is_a_request(parse):
    r = parse("郭静两天联系不上了，电话关机，谁有伊厂里同事的电话？", sender="linfang")
    assert (r.intent, r.households, r.triggers) == ("request", ["H042"], ["emergency"])


@pytest.mark.parametrize(
    "text",
    [
        "王大伯节哀顺变 有啥要帮忙的跟我讲一声",  # condolence and an offer: nothing asked
        "天热了 老人家多喝水 空调覅开得太低",  # advice
        "跟大家讲一声，覅在河边乱倒垃圾，镇里要来查的",  # a warning to everyone
        "台风过去了，各网格统计一下受损情况报给我",  # an instruction to the grid workers
        "新闻上讲邻县一家仓库着火烧了一夜 大家注意用电",  # news
        "[图片]你们看看阿拉屋后头的桃花",  # showing off a photo
    ],
)
def test_chat_that_needs_nothing(parse, text):
    assert parse(text, sender="zhangwei").intent == "none"


def test_a_condolence_reveals_the_funeral(parse):
    assert parse("王大伯节哀顺变", sender="zhangwei").triggers == ["wedding_funeral"]


@pytest.mark.parametrize(
    "text, trigger",
    [
        ("老公昨夜出去到现在没回来，电话打了十几个都弗接", "emergency"),
        ("伊从梯子上摔下来了", "emergency"),
        ("屋顶瓦片被风吹落了一大片", "emergency"),
        ("住院费还欠着两万多，交不出", "hardship"),
        ("屋里没啥收入", "hardship"),
        ("五组有人在承包田里偷偷造房子", "violation"),
        ("再弗批我就到县里去反映", "petition"),
        ("老太婆走了以后屋里就我一个人", "wedding_funeral"),
        ("我这个病就这样了", "illness"),
    ],
)
def test_situations_said_in_villagers_words(parse, text, trigger):
    assert trigger in parse(text, sender="wmh011x7Qe").triggers


@pytest.mark.parametrize(
    "text",
    [
        "路口的反光镜被车撞歪了",  # a thing hit, nobody hurt
        "村口的站牌被风吹倒了",
        "我看这样下去要出事情",  # a fear, nothing happened
        "这两天降温，村里感冒的人多起来了",  # nobody in particular
        "大家出门当心中暑",  # a caution
        "儿子跟伊吵了一架，好几天没回来了",  # no one missing
    ],
)
def test_no_situation_where_nothing_befell_a_household(parse, text):
    r = parse(text, sender="wmh011x7Qe")
    assert not {"emergency", "illness"} & set(r.triggers)


# -- second batch: questions (blind6_e) and a mixed month (blind6_f) -------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "年前报的井盖松了 进度呢",
        "我那个轮椅的心愿现在啥情况",
        "我帮王大伯登记的那个心愿 现在什么状态",
        "我上个礼拜反映的水沟堵了 现在处理了吗",
        "你好，请问我交的那个申请现在到哪一步了",
    ],
)
def test_progress_asked_every_way(parse, text):
    r = parse(text, sender="wmh011x7Qe")
    assert (r.intent, r.query) == ("query", "request_status")


def test_a_progress_question_keeps_news_of_the_household_but_not_the_matters_own_kind(parse):
    r = parse("我报的低保的事办得怎么样了？屋里实在没钱了", sender="wmh011x7Qe")
    assert (r.query, r.triggers) == ("request_status", ["hardship"])
    r = parse("我反映的河边违建的事有结果了吗", sender="wmh011x7Qe")
    assert (r.query, r.triggers) == ("request_status", [])


@pytest.mark.parametrize(
    "text, query",
    [
        ("重点户这个月走了几户", "key_households"),
        ("发一下这个月全村重点户的走访进度", "key_households"),
        ("空巢老人 危重病人那几户 本月有没有都上门过", "key_households"),
        ("我联户联的是哪几户啊", "my_households"),
        ("查一下我的联系对象", "my_households"),
    ],
)
def test_members_questions_in_other_words(parse, text, query):
    assert parse(text, sender="zhangwei", chat="group1").query == query


@pytest.mark.parametrize(
    "text",
    [
        "谁还没交11月份的走访汇总？下班前报给王海峰",  # to the members
        "王丽你这个月积分比我还高，咋弄的？😂",  # to another member
        "向大家汇报一下：今天上午我和王丽一起到三组把几户重点户都走了。王大伯身体还可以，就是一个人住，"
        "煤饼我们帮他搬进屋了；蒋立新刚从医院回来，吃不落东西；严德富屋里过年的东西都备好了。其他几户明天再去。",
    ],
)
def test_not_a_question_to_the_bot(parse, text):
    assert parse(text, sender="zhangwei", chat="group1").intent != "query"


def test_a_round_where_one_home_was_shut_records_the_others(parse):
    r = parse("上午把三组跑了一遍 王大伯 王彩娥 严德富 都好的 蒋立新屋里没人", sender="zhangwei")
    assert (r.intent, r.households) == ("visit", ["H011", "H012", "H013"])
    r = parse("上周六去租房那边转了一圈 罗勇 贺文斌 都在 田海燕上班去了没碰到", sender="panxiaodong")
    assert (r.intent, r.households, r.date) == ("visit", ["H022", "H024"], date(2026, 11, 21))


def test_a_single_home_not_met_is_still_no_visit(parse):
    assert parse("上午去了蒋立新家 屋里没人", sender="zhangwei").intent == "none"


def test_a_call_told_with_what_was_asked(parse):
    # a call to a household at home: what it settled is no matter, and the question asked is no query
    r = parse("给王大伯打电话问水管修得怎么样，伊讲修好了，打5分", sender="zhangwei")
    assert (r.intent, r.households) == ("feedback", ["H011"])
    assert parse("给严德富打电话问他孙子上学的事，讲都弄好了", sender="zhangwei").intent == "none"


def test_money_arriving_at_a_household_is_no_visit(parse):
    r = parse("王彩娥家补助的钱已经到了，她讲蛮满意的", sender="zhangwei")
    assert r.intent == "feedback"


def test_someone_came_and_nothing_changed_is_a_complaint(parse):
    r = parse("墙上那条缝来看过了讲要修 到现在一个多月了还是老样子", sender="wmh011x7Qe")
    assert r.intent == "feedback"


@pytest.mark.parametrize(
    "text, trigger",
    [("隔壁在搭彩钢棚，都搭到阿拉田里来了", "violation"), ("有人私自占了集体的地盖猪棚", "violation")],
)
def test_land_taken(parse, text, trigger):
    assert trigger in parse(text, sender="wmh011x7Qe").triggers


def test_a_shed_to_be_approved_is_no_violation(parse):
    assert parse("伊讲想在院子里搭个棚养鸡 问要不要审批", sender="wmh011x7Qe").triggers == []


def test_a_fault_mended_by_oneself_needs_nothing(parse):
    r = parse("田埂冲坏了一段，自己弄弄好了，夜饭老酒吃了两碗", sender="wmh011x7Qe")
    assert r.intent == "none"


def test_a_homophone_of_the_surname_by_voice(parse):
    r = parse("今天去割素芬屋里坐了坐", sender="wanghaifeng")  # 葛素芬
    assert (r.intent, r.households) == ("visit", ["H008"])


@pytest.mark.parametrize(
    "text", ["我想那个买个助听器 耳朵不好使了", "过年回来想跟老党员一起去参观红色基地 能不能带我一个"]
)
def test_more_wishes(parse, text):
    assert parse(text, sender="wmh011x7Qe").intent == "wish"


# -- third batch: questions in members' words (blind6_g) and 八必访 in villagers' words (blind6_h) ---------------
@pytest.mark.parametrize(
    "text, query",
    [
        ("上个月我扣分了没？扣了几分", "points"),
        ("把王丽上个月的分数发我看看", "points"),
        ("查下我积份", "points"),
        ("在外地给联系户打视频，这种要怎么报给你？", "help"),
        ("微心愿要怎么登记进去，直接打字发给你就行了吗", "help"),
        ("我那几个困难户这个月还差哪家", "key_households"),
        ("中点户这个月走访情况怎么样了", "key_households"),
        ("上个月有没有漏走的户", "unvisited"),
        ("本月为走访户", "unvisited"),
        ("过年这个月谁家还没上过门，给我拉个单子", "unvisited"),
        ("我的联户有几家", "my_households"),
        ("我是联系哪五户的？忘记了😂", "my_households"),
    ],
)
def test_members_questions_every_way(parse, text, query):
    assert parse(text, sender="zhangwei", chat="group1").query == query


@pytest.mark.parametrize(
    "text",
    [
        "前两天报的厕所漏水，排上了没有？",
        "孩子入学那个证明代办好了吗",
        "查一下我反映的问题",
        "阿拉屋里电视机修的事体 有消息伐",
    ],
)
def test_residents_asking_after_their_matter_in_few_words(parse, text):
    assert parse(text, sender="wmh011x7Qe").query == "request_status"


@pytest.mark.parametrize(
    "text",
    [
        "新来的几个党员不会用机器人，谁把用法再发一遍到群里？",
        "月报交了没有啊大家？",
        "重点户那张表格谁有？发我一份",
        "过年前重点户都要走一遍，名单我稍后发",
        "下周一前各网格把本月汇总报给我",
        "汇总汇总，数字好看有啥用？",
        "阿姐侬晓得积分超市几点钟开门伐",
        "下个月主题党日定在5号，会上通报积分",
    ],
)
def test_words_among_members_are_no_query(parse, text):
    assert parse(text, sender="zhangwei", chat="group1").intent == "none"


def test_a_member_at_ing_another_member_with_an_offer_opens_nothing(parse):
    assert parse("@王丽 你那边四组还有几户没去？我明天顺路帮你带一下", sender="zhangwei").intent == "none"


def test_what_the_household_asked_during_the_visit_is_no_query(parse):
    r = parse("上周四去了老王家，坐了一个多钟头，他问积分怎么兑换", sender="zhangwei")
    assert (r.intent, r.households) == ("visit", ["H011"])


def test_checking_anothers_visits_is_no_visit(parse):
    assert parse("王丽上个月的走访我核过了，没问题", sender="chenjianguo", chat="group1").intent == "none"


def test_going_over_that_night_is_a_visit_on_the_festival(parse):
    r = parse("元宵那天夜里王大伯屋里电瓶车充电起火，人没事，我当夜就过去了", sender="zhangwei")
    assert (r.intent, r.households, r.date) == ("visit", ["H011"], date(2026, 3, 3))
    assert r.triggers == ["emergency"]


@pytest.mark.parametrize(
    "text, trigger",
    [
        ("伊老头子上个月刚过辈，一个人过冬至心里难过", "wedding_funeral"),
        ("阿拉老娘上半年走的", "wedding_funeral"),
        ("自留地被人私自圈去种树了", "violation"),
        ("隔壁在院子里搭了两层彩钢房 没审批的", "violation"),
        ("台风一过屋里后门水还没退 灶间里都是水", "emergency"),
        ("我腿肿得走弗动路", "illness"),
        ("腰摔断了，还躺在二院", "illness"),
    ],
)
def test_more_situations_in_villagers_words(parse, text, trigger):
    assert trigger in parse(text, sender="wmh011x7Qe").triggers


@pytest.mark.parametrize(
    "text", ["邻村老书记昨日过辈了，明朝出殡，有空的同志一道去送送", "赌博害人害己 大家在群里多宣传宣传"]
)
def test_what_befell_nobody_here(parse, text):
    r = parse(text, sender="zhangwei", chat="group1")
    assert (r.intent, r.triggers) == ("none", [])


# -- fourth batch: residents in their own group over a month (blind6_i) -------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "陈书记 我那个救助的单子交上去一个多月了 到现在一点消息都没有",
        "建国 上趟讲的补助到现在还是没消息 催了几趟都是叫我等",
    ],
)
def test_still_no_news_of_a_matter_is_feedback(parse, text):
    assert parse(text, sender="wmh001x7Qe").intent == "feedback"


@pytest.mark.parametrize(
    "text",
    [
        "建国 新年好 给侬拜年了🧧",
        "收到 谢谢建国通知",
        "阿拉囡下个月生宝宝 到时候满月酒请你来",
    ],
)
def test_greetings_and_invitations_to_the_member(parse, text):
    assert parse(text, sender="wmh001x7Qe").intent == "none"


def test_the_members_reply_with_comfort_is_no_request(parse):
    assert parse("王大伯 别急 我今天下午就过来 一起想办法", sender="zhangwei").intent == "none"


def test_thanks_to_the_member_with_no_matter_handled_is_chat(parse):
    # the contract's feedback answers a handled request; a scare that came to nothing handled none
    assert parse("谢谢建国 吓死我了 原来是手机没电了😅", sender="wmh001x7Qe").intent == "none"


def test_come_and_talk_to_the_neighbour_is_a_request(parse):
    r = parse(
        "建国啊 隔壁屋里个狗天天半夜里叫 我觉都困弗着 讲了伊两趟 今朝又吵起来了 侬来帮阿拉讲讲", sender="wmh001x7Qe"
    )
    assert (r.intent, r.triggers) == ("request", ["dispute"])


def test_nobody_in_is_no_visit(parse):
    assert parse("去了王彩娥家 没人在 下午再去", sender="zhangwei").intent == "none"


def test_mended_for_nothing_is_discontent(parse):
    assert "discontent" in parse("上次修的路灯才亮了三天又不亮了 修了等于白修", sender="wmh001x7Qe").triggers


@pytest.mark.parametrize(
    "text, day",
    [
        ("大年初二去王根发家拜年了", date(2026, 2, 18)),  # 春节 2026-02-17
        ("年初五去王根发家拜年了", date(2026, 2, 21)),
        ("中秋节前一天去了王根发家", date(2026, 9, 24)),  # 中秋 2026-09-25
    ],
)
def test_days_of_the_new_year_and_around_a_festival(parse, text, day):
    r = parse(text, sender="zhangwei")
    assert (r.intent, r.date) == ("visit", day)


def test_around_a_festival_the_nearer_one_is_meant(parse):
    r = parse("除夕第二天去了王根发家", sender="zhangwei", today=date(2026, 2, 20))
    assert r.date == date(2026, 2, 17)
    # said a fortnight before this year's 中秋: not last year's; a day to come is no visit's, so today
    r = parse("中秋前一天去了王根发家", sender="zhangwei", today=date(2026, 9, 10))
    assert r.date == date(2026, 9, 10)


# -- fifth batch: members' visit reports (blind6_j) ------------------------------------------------------------
def test_one_home_empty_in_a_round_said_as_jia_mei_ren(parse):
    r = parse("今天上午把三组跑了一遍：王大伯、王彩娥、严德富都挺好，蒋立新家没人", sender="zhangwei")
    assert (r.intent, r.households) == ("visit", ["H011", "H012", "H013"])


def test_out_at_work_is_a_visit_that_failed(parse):
    assert parse("去了蒋立新家 他上班去了不在 晚上再去", sender="zhangwei").intent == "none"


def test_told_today_with_what_was_done_there(parse):
    r = parse("王大伯今朝我去望望伊 老兄弟两个吃了杯老酒 伊身体还健", sender="zhangwei")
    assert (r.intent, r.households, r.date) == ("visit", ["H011"], date(2026, 11, 26))


def test_a_walk_by_the_reservoir_is_no_visit(parse):
    assert parse("今朝天气交关好 阿拉几个老党员去水库边走了一圈", sender="zhangwei").intent == "none"


def test_a_wechat_video_with_a_household_at_home_is_no_visit(parse):
    r = parse("微信视频跟王大伯聊了会天，伊在屋里都好", sender="zhangwei")
    assert (r.intent, r.not_visit) == ("none", "call_at_home")


# -- sixth batch: a mixed fortnight (blind6_k), the request/feedback boundary (blind6_m), the members' group (n) --
@pytest.mark.parametrize(
    "text",
    [
        "上回通好的下水道 这两天又堵了 水倒灌到院子里",  # a repair that failed
        "电是来了，不过电压还是不稳",
        "门口那个坑 上回说了 到现在还没填",
        "申请了半个月还没回音，意见很大",
        "居住证明开好了 谢谢建国",
        "上次吵架那个事，村里调解过后现在好多了，谢谢",
    ],
)
def test_answers_about_a_handled_matter(parse, text):
    assert parse(text, sender="wmh001x7Qe").intent == "feedback"


def test_a_score_given(parse):
    r = parse("王大伯说水沟清得不彻底，给了3分", sender="zhangwei")
    assert (r.intent, r.rating) == ("feedback", "基本满意")


@pytest.mark.parametrize(
    "text",
    ["锄头柄断了，自家削了根新的装上", "今朝自家去镇里把医保交掉了，蛮快的", "老电视机坏了三年了，早就弗看了"],
)
def test_troubles_that_ended_by_themselves(parse, text):
    assert parse(text, sender="wmh001x7Qe").intent == "none"


@pytest.mark.parametrize(
    "text",
    [
        "就想跟老太婆拍一张婚纱照",
        "希望有人教教我在手机上交电费",
        "想给他弄根好点的拐杖",
        "我的心愿是过年前有人上门给我理个发",
    ],
)
def test_wishes_said_as_longings(parse, text):
    assert parse(text, sender="wmh001x7Qe").intent == "wish"


def test_a_residents_own_family_accident_keeps_its_situation(parse):
    r = parse("各位，我儿子前日骑车摔伤了，去医院看过了，没啥大事，谢谢关心", sender="wmh001x7Qe")
    assert (r.intent, r.triggers) == ("none", ["emergency"])


def test_a_call_not_through_to_be_tried_again_is_no_emergency(parse):
    assert parse("今天太忙了 蒋立新电话没打通 明天再打", sender="zhangwei").triggers == []


def test_someone_elses_landlord_unreachable_is_no_emergency(parse):
    assert parse("我屋里电表跳闸了，房东联系不上，能不能帮忙找个电工", sender="wmh001x7Qe").triggers == []


@pytest.mark.parametrize(
    "text, day",
    [
        ("蒋立新屋里去过了，11/20号，帮伊把材料填好了", date(2026, 11, 20)),
        ("走访情况：11月20日去了王大伯家", date(2026, 11, 20)),
    ],
)
def test_the_visits_own_day(parse, text, day):
    r = parse(text, sender="zhangwei")
    assert (r.intent, r.date) == ("visit", day)


def test_respectively_is_no_dont(parse):
    r = parse("王大伯跟严德富闹矛盾，我今朝分别上门去做了工作", sender="zhangwei")
    assert (r.intent, r.households) == ("visit", ["H011", "H013"])


@pytest.mark.parametrize(
    "text",
    [
        "王大伯生日，买了个蛋糕过去，老人开心得不得了",
        "严德富家办满月酒，我去吃了，顺便把材料带过去签了字",
        "帮方奶奶把院子扫了一遍，顺便看看她，药还有",
    ],
)
def test_visits_said_through_what_was_brought_or_done(parse, text):
    assert parse(text, sender="zhangwei").intent == "visit"


def test_a_dispute_said_as_quarrelling_hard(parse):
    r = parse("今朝去了王大伯屋里，两口子昨天夜里吵得凶，我劝了半天", sender="zhangwei")
    assert (r.intent, r.triggers) == ("visit", ["dispute"])


def test_the_two_households_no_longer_speak_is_no_repair_done(parse):
    r = parse("王大伯和严德富为了晒谷场吵了一架，两个人见面都不响了，想请书记出面调解一下", sender="zhangwei")
    assert r.intent == "request"


# -- seventh batch: older speakers' voice-to-text (blind6_l) -----------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["低保批下来嘞 谢谢书记", "电工来过嘞 开关换过嘞 蛮好 谢谢", "医保报销个事体办好嘞 钞票打到卡里嘞 谢谢 五分"],
)
def test_lei_is_le(parse, text):
    assert parse(text, sender="wmh001x7Qe").intent == "feedback"


@pytest.mark.parametrize("text", ["我上趟讲个收音机个事体 办得哪能嘞", "我个被头心愿 有消息伐"])
def test_progress_asked_in_dialect(parse, text):
    assert parse(text, sender="wmh001x7Qe").query == "request_status"


def test_someone_missing_is_no_complaint_about_a_matter(parse):
    r = parse("建国 我老公还是没消息 电话一直关机 要不要报警", sender="wmh001x7Qe")
    assert (r.intent, r.triggers) == ("request", ["emergency"])


def test_a_fear_of_falling_is_no_fall(parse):
    r = parse("阿拉门口个路灯又弗亮嘞 夜里厢黑洞洞 跌倒嘞哪能弄 叫人来修修看", sender="wmh001x7Qe")
    assert (r.intent, r.triggers) == ("request", [])


def test_money_that_cannot_be_borrowed_is_hardship(parse):
    r = parse("上礼拜二到王大伯屋里 伊讲儿子结婚钞票借弗着 愁煞嘞", sender="zhangwei")
    assert (r.intent, r.triggers) == ("visit", ["hardship", "wedding_funeral"])


def test_share_my_joy_is_no_request(parse):
    assert parse("女儿录取通知书到了 大家帮我高兴高兴 😄", sender="wmh001x7Qe").intent == "none"


# -- last batch: older members' reports (blind6_o), 八必访 and look-alikes (p), fast typing (r) -----------------
def test_teaching_a_household_to_use_something_is_a_visit_not_a_question(parse):
    r = parse("上周日去了王大伯家 教他手机上医保码怎么用", sender="zhangwei")
    assert (r.intent, r.households) == ("visit", ["H011"])


def test_a_festival_round_of_gifts_is_a_visit(parse):
    r = parse("重阳节给三组老人送重阳糕 王大伯 严德富两户 都在屋里", sender="zhangwei")
    assert (r.intent, r.households, r.date) == ("visit", ["H011", "H013"], date(2026, 10, 18))


def test_asking_another_member_to_go_is_an_instruction(parse):
    r = parse("我年纪大了走弗动了 王大伯那边麻烦王丽多去看看", sender="zhangwei")
    assert r.intent == "none"


def test_new_year_greetings_by_phone_with_a_household_at_home_is_no_visit(parse):
    assert parse("打电话给王大伯拜了个年", sender="zhangwei").intent == "none"


def test_visiting_the_hardship_households_names_no_hardship(parse):
    assert parse("下礼拜我带队去三组走访困难户 名单今朝发群里", sender="zhangwei").triggers == []


def test_not_finished_installing_is_feedback(parse):
    assert parse("扶手还没装好", sender="wmh011x7Qe").intent == "feedback"


@pytest.mark.parametrize(
    "text",
    [
        "医保今年交了没？还没交的抓紧，月底截止",
        "月底了，还有几个同志重点户没走访的，今明两天抓紧",
        "上个月的积分表已经发群里了，大家自己看看",
    ],
)
def test_reminders_to_the_members_are_no_query(parse, text):
    assert parse(text, sender="chenjianguo", chat="group1").intent == "none"


def test_hens_quarrelling_is_a_joke(parse):
    assert parse("我屋里两只鸡又吵相骂了😂😂", sender="wmh011x7Qe").triggers == []


def test_catching_up_two_households(parse):
    r = parse("今天补了两户：王大伯 严德富 都正常", sender="zhangwei")
    assert (r.intent, r.households) == ("visit", ["H011", "H013"])


def test_nobody_seen_for_days_is_an_emergency(parse):
    r = parse("建国 隔壁老头好几天没看到人了 敲门也没人应 侬快去看看", sender="wmh001x7Qe")
    assert "emergency" in r.triggers


def test_a_household_member_out_keeps_the_visit_to_the_other(parse):
    r = parse("今天上昼王彩娥家去过了 王大伯不在", sender="zhangwei")
    assert (r.intent, r.households) == ("visit", ["H012"])


def test_a_link_posted_is_no_request(parse):
    assert parse("[链接] 宁海县2026年度城乡居民医保开始缴费啦", sender="wmh011x7Qe").intent == "none"
