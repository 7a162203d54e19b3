"""八必访 triggers and their nuances (parse.md "triggers")."""

import pytest


@pytest.mark.parametrize(
    ("text", "triggers"),
    [
        ("31号去邬国庆家看了看，化疗刚做完，家里说医药费快交不起了", ["hardship", "illness"]),
        ("昨天去看了何小梅，她老公骑电瓶车摔了，腿上缝了七八针", ["emergency"]),
        ("今天去施月娥家，她跟隔壁为了排水沟吵了一架", ["dispute"]),
        ("范国栋家今天去了，下礼拜要办升学酒", ["wedding_funeral"]),
        ("昨天去韩冬梅家，她婆婆上周去世了", ["wedding_funeral"]),
        ("到蔡明德家，他说村里评低保不公平，意见很大，扬言要到县里去告", ["discontent", "petition"]),
        ("上周二走访陶建设，他反映屋后有人私自占地种菜", ["violation"]),
        ("今天去看了楼志明，厂子倒闭了，现在没工作在家待着", ["hardship"]),
    ],
)
def test_visit_triggers(parse, text, triggers):
    sender = {
        "邬": "chenjianguo",
        "何": "wangli",
        "施": "lixiulan",
        "范": "hujianhua",
        "韩": "wumin",
        "蔡": "zhengguoping",
        "陶": "chenyating",
        "楼": "chenjianguo",
    }
    who = next(v for k, v in sender.items() if k in text)
    assert parse(text, sender=who).triggers == triggers


def test_get_well_wish_is_illness_but_weather_care_is_not(parse):
    assert "illness" in parse("听说王大妈住院了，祝她早日康复", sender="wanghaifeng").triggers
    assert parse("今天冷死了 天冷大家注意身体", sender="wmh017x7Qe").triggers == []


def test_discontent_needs_voiced_dissatisfaction(parse):
    assert parse("屋顶上礼拜修过了，昨天一落雨又漏了，还没修好", sender="wmh026x7Qe").triggers == []
    assert parse("路灯又不亮了，修了没两天，这不是糊弄人嘛😡", sender="wmh021x7Qe").triggers == ["discontent"]


def test_dibao_alone_is_not_hardship(parse):
    assert parse("低保的事多亏海峰跑前跑后，打5分！", sender="wmh008x7Qe").triggers == []
    assert "hardship" not in parse("看望了葛素芬，她问低保年审的事", sender="wanghaifeng").triggers


def test_unreachable_is_emergency(parse):
    r = parse("我儿子在外面打工，三天了电话打不通，人联系不上，急死了", sender="wmh012x7Qe")
    assert r.triggers == ["emergency"]
    r = parse("隔壁老太太两天没出门了，电话也不接", sender="wmh007x7Qe")
    assert r.triggers == ["emergency"]


def test_noise_is_not_a_dispute_and_negation_counts(parse):
    assert parse("隔壁天天半夜聚在一起赌钱 吵得人睡不着觉", sender="wmh046x7Qe").triggers == ["violation"]
    assert parse("今天去了王大妈家，她说没生病，就是想儿子", sender="wanghaifeng").triggers == []


def test_planned_events_count(parse):
    r = parse("上周六在宁波看望了郭静，她说下个月结婚要回村办酒", sender="linfang")
    assert r.triggers == ["wedding_funeral"]


def test_jokes_forwards_and_queries_carry_no_triggers(parse):
    assert parse("讲个笑话：医生说你这个得住院😂", sender="wmh052x7Qe").triggers == []
    assert parse("【转发】气象台发布台风蓝色预警", sender="wmh034x7Qe").triggers == []
    assert parse("本月重点户走访情况怎么样", sender="chenjianguo").triggers == []


def test_trigger_list_is_data(roster, tmp_path):
    """A deployment replaces the list (四必访) in its own vocabulary file without touching code."""
    from nlp.parser import Parser

    f = tmp_path / "vocab.toml"
    f.write_text(
        '[triggers.sick]\nlabel = "生病"\npatterns = ["住院", "生病"]\n'
        '[triggers.poor]\nlabel = "困难"\npatterns = ["没钱"]\n',
        encoding="utf-8",
    )
    p = Parser(roster, vocab_path=f)
    r = p.parse("今天去看了邬国庆，住院回来了，家里没钱，两家还吵架了", sender="chenjianguo")
    assert r.triggers == ["poor", "sick"]
    assert r.households == ["H005"]
