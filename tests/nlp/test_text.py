"""PII masking, @mention stripping and the clarification reply helper."""

import pytest

from nlp.parser import parse_choice
from nlp.pii import find_pii, mask_pii
from nlp.text import cn_to_int, strip_mentions


def test_mask_mobile():
    assert mask_pii("13812345678") == "138****5678"
    assert mask_pii("电话 138-1234-5678 找我") == "电话 138-****-5678 找我"
    assert mask_pii("+8613812345678") == "+86138****5678"


def test_mask_id_and_landline():
    assert mask_pii("身份证330226195203041234") == "身份证**************1234"
    assert mask_pii("座机0574-65123456") == "座机0574-****3456"


def test_find_pii_kinds_and_no_false_hits():
    kinds = [p.kind for p in find_pii("手机13912345678，身份证33022619520304123X，电话0574-65123456")]
    assert kinds == ["mobile", "id_card", "landline"]
    assert find_pii("2026年11月26日 订单号 202611261234567890123") == []
    assert find_pii("打了5分 43码 八组3号") == []


def test_strip_mentions():
    assert strip_mentions("@联户小助手 本月汇总") == "本月汇总"
    assert strip_mentions("本月汇总 @联户小助手") == "本月汇总"
    assert strip_mentions("@联户小助手\u2005怎么用") == "怎么用"
    assert strip_mentions("邮箱 a@b.com 发我") == "邮箱 a@b.com 发我"


@pytest.mark.parametrize(
    ("reply", "n", "k"),
    [
        ("2", 3, 2),
        ("第二个", 3, 2),
        ("2号", 3, 2),
        ("二", 3, 2),
        ("第1户", 2, 1),
        ("选3", 3, 3),
        ("２", 2, 2),
        ("就第一个吧", 2, 1),
        ("4", 3, None),
        ("0", 3, None),
        ("王大妈", 3, None),
        ("第二个和第三个", 3, None),
    ],
)
def test_parse_choice(reply, n, k):
    assert parse_choice(reply, n) == k


@pytest.mark.parametrize(
    ("s", "n"), [("3", 3), ("十", 10), ("十二", 12), ("二十一", 21), ("三十", 30), ("两", 2), ("abc", None)]
)
def test_cn_to_int(s, n):
    assert cn_to_int(s) == n
