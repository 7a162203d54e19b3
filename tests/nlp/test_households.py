"""Which households a message is about: names, 别称, 称谓, address, near-misses, ambiguity (parse.md)."""

import pytest


@pytest.mark.parametrize(
    ("sender", "text", "households"),
    [
        # member's own households: full name, 别称, surname + 称谓 with sex, address, given name + 称谓
        ("zhangwei", "今天去了蒋立新家", ["H015"]),
        ("zhangwei", "昨天去王大伯家坐了坐", ["H011"]),
        ("zhangwei", "今天上午去老王家坐了坐", ["H011"]),
        ("zhangwei", "上个星期三到王大妈家看了一下", ["H012"]),  # own 王 woman beats the branch 别称 王大妈
        ("zhangwei", "昨天去王奶奶家看了看", ["H012"]),
        ("zhangwei", "今天走访了严叔和严小红家", ["H013", "H014"]),
        ("zhangwei", "上周三去了三组9号", ["H015"]),
        ("sunxiaojun", "汪阿姨家我昨天去过了", ["H048"]),
        ("wanghaifeng", "昨天去看了素芬阿姨", ["H008"]),
        ("zhengguoping", "昨天去八组3号和许爱华家坐了坐", ["H044", "H046"]),
        ("wangli", "昨日走访卢金水、鲍永康两户，都正常。", ["H017", "H019"]),
        # typo / voice slip with the same surname
        ("chenjianguo", "今天去看了邬国清，化疗刚做完", ["H005"]),
        # outside own links: branch-wide by full name or 别称 only
        ("chenjianguo", "今天跟海峰一起去王大妈家看了看", ["H006"]),
        ("chenjianguo", "今天去看了王秀英", ["H006"]),
        ("chenjianguo", "今天去汪阿姨家看了看", []),  # a bare 称谓 outside one's own is too weak
    ],
)
def test_member_mentions(parse, sender, text, households):
    assert parse(text, sender=sender).households == households


@pytest.mark.parametrize(
    ("sender", "text", "candidates"),
    [
        ("zhangwei", "上周五去王家走访了，老人家都挺好的", ("H011", "H012")),
        ("sunxiaojun", "前天去汪家坐了会", ("H047", "H048")),
        ("zhouzhiqiang", "上周日去老袁家看了看", ("H034", "H035")),
        ("zhangwei", "严家今天去看过了 没啥事", ("H013", "H014")),
    ],
)
def test_ambiguous_mentions_resolve_to_nothing(parse, sender, text, candidates):
    r = parse(text, sender=sender)
    assert r.households == []
    assert r.ambiguous == [candidates]


def test_clear_mention_next_to_ambiguous_one_is_kept(parse):
    r = parse("上周四走访了姜阿姨和黄家，姜阿姨身体挺好的", sender="chenyating")
    assert r.households == ["H057"]
    assert r.ambiguous == [("H058", "H059")]


def test_sex_and_age_of_the_term_tell_households_apart(parse):
    assert parse("今天去严叔家看了看", sender="zhangwei").households == ["H013"]
    assert parse("今天去王大爷家看了看", sender="zhangwei").households == ["H011"]


def test_resident_own_household_unless_another_named_by_full_name(parse):
    assert parse("屋顶漏水了，能不能叫人来看看", sender="wmh026x7Qe").households == ["H026"]
    assert parse("张伟前天来过我家了", sender="wmh012x7Qe").households == ["H012"]  # a member's name
    r = parse("海峰，隔壁王秀英老太太两天没见她出门了，打电话也不接，你去看看吧", sender="wmh007x7Qe")
    assert r.households == ["H006"]
    # a resident's 称谓 for someone else is not enough
    assert parse("隔壁王大妈家水管爆了 能不能找人修一下", sender="wmh007x7Qe").households == ["H007"]


def test_unknown_sender_has_no_household(parse):
    assert parse("门口下水道堵了，污水都冒出来了，找谁修啊", sender="wmhZr82kLp").households == []
    assert parse("我也想许个心愿 想要一箱牛奶", sender=None).households == []


def test_query_and_none_have_no_households(parse):
    assert parse("收到", sender="zhangwei").households == []
    assert parse("我联系了哪些户", sender="zhangwei").households == []


def test_update_roster_takes_new_names(parser, roster):
    from nlp.roster import Household, Roster

    extra = Household(
        id="H099",
        head_name="欧阳春花",
        gender="女",
        birth_year=1950,
        address="前洋村二组20号",
        member_id="M02",
        aliases=("春花婆",),
    )
    bigger = Roster(members=roster.members, households=(*roster.households, extra))
    try:
        parser.update_roster(bigger)
        r = parser.parse("今天去欧阳春花家看了看", sender="wanghaifeng")
        assert r.households == ["H099"]
        assert parser.parse("春花婆家今天去过了", sender="wanghaifeng").households == ["H099"]
        assert parser.parse("今天去欧阳奶奶家坐了坐", sender="wanghaifeng").households == ["H099"]
    finally:
        parser.update_roster(roster)
    assert parser.parse("今天去欧阳春花家看了看", sender="wanghaifeng").households == []
