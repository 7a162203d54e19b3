"""The first-characters gate in front of the vocabulary's regex unions (nlp/prefilter.py) must be sound: a gated
pattern finds exactly what the bare pattern finds, on every labelled text we have."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nlp.prefilter import Gated, first_chars
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
        ("(?<!不)满意", None),  # a lookbehind: no gate
        (r"\d+号", None),  # a category: no gate
        ("x*", None),  # may match empty: no gate
    ],
)
def test_prefixes(pattern, prefixes):
    got = first_chars(re.compile(pattern))
    assert (None if got is None else set(got)) == prefixes


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
