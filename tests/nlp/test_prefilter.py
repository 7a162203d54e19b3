"""The gate in front of the vocabulary's regex unions (nlp/prefilter.py) must be sound: a gated pattern finds
exactly what the bare pattern finds, on every labelled text we have, whole or from a clause's bounds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nlp.prefilter import _SPACES, Gated, first_chars, required_grams
from nlp.text import normalize
from nlp.vocab import load_vocab

HERE = Path(__file__).parent


@pytest.mark.parametrize(
    ("pattern", "prefixes"),
    [
        ("王大伯|老王", {"王大", "老王"}),
        ("(?:住院|生病)了", {"住院", "生病"}),
        ("[甲乙]丙", {"甲丙", "乙丙"}),
        ("(?:去|到)?看了", {"去看", "到看", "看了"}),
        ("王.?伯", {"王", "王伯"}),
        ("^去", {"去"}),
        (".*x", None),  # anything may come first: no gate
        ("(?<!不)满意", {"满意"}),  # a look-behind is zero width
        (r"\s*去了", {"去了"} | {c + "去" for c in _SPACES}),  # \s is a short list
        (r"\d+号", None),  # a category: no gate
        ("x*", None),  # may match empty: no gate
    ],
)
def test_prefixes(pattern, prefixes):
    got = first_chars(re.compile(pattern))
    assert (None if got is None else set(got)) == prefixes


def test_the_listed_spaces_are_what_backslash_s_matches():
    assert _SPACES == {chr(c) for c in range(0x110000) if re.match(r"\s", chr(c))}


@pytest.mark.parametrize(
    ("pattern", "grams"),
    [
        ("(办|弄|修)好了(吗|没)|进度", {"好了", "进度"}),  # a gram inside beats three first characters
        ("(?<!自)家[^,]{0,6}镇上", {"镇上"}),  # a look-behind and a class: the literal run after them
        ("[^,]{0,4}好了|老酒", {"好了", "老酒"}),  # a gram where no first character is known
        ("[^,]{0,4}(好|行)|老酒", None),  # an alternative with nothing listable: no gate
    ],
)
def test_required_grams(pattern, grams):
    got = required_grams(re.compile(pattern))
    assert (None if got is None else set(got)) == grams


def test_gated_patterns_find_what_the_bare_ones_find():
    texts = [normalize(json.loads(line)["text"]) for f in sorted(HERE.rglob("*.jsonl")) for line in open(f)]
    assert len(texts) > 500
    v = load_vocab(None)
    patterns = [p for p in v.rx.values() if p is not None] + [t.rx for t in v.triggers]
    gated = [p for p in patterns if isinstance(p, Gated)]
    assert len(gated) > len(patterns) / 2  # the gate is in front of most of them
    for p in gated:
        for t in texts:
            bare, with_gate = p.pattern.search(t), p.search(t)
            assert (bare and bare.span()) == (with_gate and with_gate.span()), (p.pattern.pattern[:60], t)
            assert [m.span() for m in p.pattern.finditer(t)] == [m.span() for m in p.finditer(t)]
            # from inside the text, as the parser searches a clause: look-behinds still see what comes before
            a, b = len(t) // 3, 2 * len(t) // 3 + 1
            bare, with_gate = p.pattern.search(t, a, b), p.search(t, a, b)
            assert (bare and bare.span()) == (with_gate and with_gate.span()), (p.pattern.pattern[:60], t, a, b)
