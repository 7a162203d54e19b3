"""The gate's search plan (nlp/prefilter.py: a union tried per start character with the alternatives that can start
there, ^-anchored ones at 0 only, the rest searched as one) must return the very match the bare pattern returns:
same span, same groups."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nlp.prefilter import Gated, _parse_part, _start_kind, first_chars, gate, split_alternatives
from nlp.text import normalize
from nlp.vocab import load_vocab

HERE = Path(__file__).parent


def _texts() -> list[str]:
    return [normalize(json.loads(line)["text"]) for f in sorted(HERE.rglob("*.jsonl")) for line in open(f)]


def _same(a: re.Match[str] | None, b: re.Match[str] | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.span(), a.groups(), a.groupdict(), a.lastindex, a.lastgroup) == (
        b.span(),
        b.groups(),
        b.groupdict(),
        b.lastindex,
        b.lastgroup,
    )


def _check(p: Gated, t: str) -> None:
    for pos, endpos in ((0, len(t)), (len(t) // 3, 2 * len(t) // 3 + 1)):
        assert _same(p.pattern.search(t, pos, endpos), p.search(t, pos, endpos)), (p.pattern.pattern[:60], t, pos)
        bare, with_gate = list(p.pattern.finditer(t, pos, endpos)), list(p.finditer(t, pos, endpos))
        assert len(bare) == len(with_gate) and all(map(_same, bare, with_gate)), (p.pattern.pattern[:60], t, pos)


@pytest.mark.parametrize(
    ("pattern", "parts"),
    [
        ("a|(b|c)", ["a", "(b|c)"]),
        ("[|]|x", ["[|]", "x"]),  # a bar inside a class
        (r"\||y", [r"\|", "y"]),  # an escaped bar
        ("[]|]a|b", ["[]|]a", "b"]),  # a "]" right after "[" is a literal
        (r"[^\]|]a|b", [r"[^\]|]a", "b"]),
        (r"(a)\1|b", None),  # a back reference: the groups of a part alone would be numbered otherwise
        ("(?P<x>a)(?P=x)|b", None),
    ],
)
def test_split_alternatives(pattern, parts):
    assert split_alternatives(re.compile(pattern)) == parts


@pytest.mark.parametrize(
    ("part", "kind"),
    [
        ("^去", "at0"),
        ("(?:^去)", "at0"),
        ("(^去)看", "at0"),
        ("(?:^去|来)", frozenset("去来")),
        ("(?:去|到)看了?", frozenset({"去看", "到看"})),  # two characters where known
        (".*x", "any"),
        ("[0-9]号", frozenset(c + "号" for c in "0123456789")),  # a short range is listed
        ("(?<!不)满意", frozenset({"满意"})),
        ("月(廿[一]?)", frozenset({"月廿"})),  # an optional tail after a group: not empty
        ("哈+笑", frozenset({"哈哈", "哈笑"})),  # a repeat may start its own second character
        ("(", "any"),  # (does not parse alone)
    ],
)
def test_start_kind(part, kind):
    flags = re.compile("").flags
    assert _start_kind(_parse_part(part, flags), flags) == kind


def test_case_folding_inside_a_group_is_not_listed():
    assert first_chars(re.compile("(?i:a)b")) is None


@pytest.mark.parametrize(
    "alternatives",
    [
        # anchored, anywhere and listed alternatives mixed, with groups in each
        [r"^\s*(新闻|通知):", r"(?P<who>[^,]{0,2})去看了", r"(昨天|今天)[^,]{0,2}来(我|我们)家", "走访(了|过)"],
        [r"^(?!.*重点).*(走访|走)得(怎么样|咋样)", "(本月|[0-9]+月)[^,]{0,4}走访(的)?情况", "(?<!不)满意"],
        ["(几|两|[0-9]+)天(都|也)?没(人)?接", "好了[^?]{0,16}(谢|感谢)", r"\s*去了"],
    ],
)
def test_mixed_unions_match_as_the_bare_pattern(alternatives):
    p = gate(re.compile("|".join(f"(?:{a})" for a in alternatives)))
    assert isinstance(p, Gated)
    texts = [
        *_texts(),
        "新闻: 走访了",
        "我家 昨天老张来我家了",
        "本月走访的情况 走访得咋样",
        "两天都没人接 好了 谢谢",
        "天 去了 满意 不满意",
    ]
    for t in texts:
        _check(p, t)


def test_vocabulary_patterns_match_as_the_bare_ones_groups_included():
    texts = _texts()
    v = load_vocab(None)
    patterns = [p for p in v.rx.values() if p is not None] + [t.rx for t in v.triggers]
    patterns += [t.exclude for t in v.triggers if t.exclude is not None]
    for p in patterns:
        if isinstance(p, Gated):
            for t in texts:
                _check(p, t)


def test_grams_are_every_character_and_pair():
    from nlp.prefilter import _grams

    assert _grams("老王家") == {"老", "王", "家", "老王", "王家"}
    assert _grams("") == frozenset()
    assert _grams("a") == {"a"}


def test_the_day_pattern_matches_as_the_bare_one():
    from nlp import dates

    assert isinstance(dates._DAY_RX, Gated)  # the gate is in front of it
    for t in [*_texts(), "10.1号 12/30 上上周三 腊月廿八 中秋前一天 3天前 上个月5号"]:
        _check(dates._DAY_RX, t)
