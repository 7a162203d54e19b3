"""The second reader (nlp/linear.py): trained offline, shipped as weights, read with the standard library."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from nlp import linear


def test_the_shipped_weights_were_trained_on_the_current_training_file_and_dialect():
    # retrain with `python -m nlp.linear` after changing nlp/data/intent_train.jsonl or nlp/data/dialect.toml
    assert linear.shipped_digest() == linear.current_digest()


def test_the_weights_file_names_its_labels_and_every_weight_has_one_per_label():
    doc = json.loads(resources.files("nlp").joinpath(linear.WEIGHTS).read_bytes())
    assert tuple(doc["labels"]) == linear.LABELS and len(doc["bias"]) == len(linear.LABELS)
    assert len(doc["weights"]) > 10_000
    assert all(len(w) == len(linear.LABELS) for w in doc["weights"].values())


def test_fit_learns_a_toy_set_and_predict_reads_it_back():
    pytest.importorskip("numpy")
    rows = [("路灯坏了没人修", "resident", "request"), ("水管漏水了", "resident", "request")] * 4
    rows += [("修好了谢谢", "resident", "feedback"), ("今天天气好", "resident", "none")] * 4
    model = linear.LinearModel(*linear.fit(rows))
    assert model.predict("路灯又坏了", "resident")[0] == "request"
    assert model.predict("谢谢 修好了", "resident")[0] == "feedback"
    label, p = model.predict("完全没见过的字", "resident")
    assert label in linear.LABELS and 0.0 < p <= 1.0


def test_a_phone_number_is_one_token():
    assert linear.grams("打我电话13812345678", "resident") == linear.grams("打我电话13900001111", "resident")
    assert "138" not in linear.grams("打我电话13812345678", "resident")


def test_the_shipped_model_reads_its_own_training_rows():
    from nlp.parser import Parser
    from nlp.roster import Roster
    from nlp.text import normalize

    parser = Parser(Roster())
    rows = linear.training_rows(lambda s: parser.rewrite(normalize(s)))
    model = linear.load_default()
    right = sum(model.predict(t, role)[0] == intent for t, role, intent in rows)
    assert right / len(rows) > 0.98
