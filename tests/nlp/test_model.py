"""The n-gram intent model (nlp/model.py) and where the parser lets it speak."""

from __future__ import annotations

import json
from importlib import resources

from nlp.model import LABELS, IntentModel
from nlp.parser import ACT, ASK


def test_model_learns_from_its_rows():
    rows = [("路灯坏了没人修", "resident", "request"), ("水管漏水了", "resident", "request")] * 3
    rows += [("修好了谢谢", "resident", "feedback"), ("好的收到", "resident", "none")] * 3
    m = IntentModel(rows)
    assert m.predict("路灯又坏了", "resident")[0] == "request"
    assert m.predict("谢谢 修好了", "resident")[0] == "feedback"
    label, p = m.predict("完全没见过的字", "resident")
    assert label in LABELS and 0.0 < p <= 1.0


def test_bundled_training_file_is_large_and_covers_every_intent():
    raw = resources.files("nlp").joinpath("data/intent_train.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(x) for x in raw.splitlines() if x.strip()]
    assert len(rows) >= 1000
    assert {r["intent"] for r in rows} == set(LABELS)
    assert {r["role"] for r in rows} == {"member", "resident"}


def test_a_resident_fault_no_rule_knows_is_taken_from_the_model_in_the_ask_band(parse):
    text = "阿拉门前头那根电线杆斜得厉害 风一吹就晃"
    r = parse(text, sender="wmh047x7Qe")
    assert r.intent == "request" and ASK <= r.confidence < ACT
    # a member's message, and a joke, are never read by the model
    assert parse(text, sender="sunxiaojun").intent == "none"
    assert parse("哈哈 侬讲得对 阿拉屋里也是", sender="wmh047x7Qe").intent == "none"
