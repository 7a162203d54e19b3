"""The second reader: a linear (multinomial logistic) model over character 1-3-grams, shipped as weights.

The parser's rules decide; where they are weakest (parser.SECOND_OPINION) a sure disagreement of this model wins.
Why a linear model beside the naive Bayes one (nlp/model.py): read leave-one-set-out over 40 labelled sets, each
set by a model trained without it, it gets 0.958 of intents right alone where naive Bayes gets 0.930, and its
posteriors are not crowded near 1, so a bar of 0.8 or 0.9 still tells sure from unsure (docs/parse.md, "Round 10").

Training needs numpy and takes a few seconds, so it is done once, offline, and the weights are a file in the
package (nlp/data/intent_linear.json, about 2.9 MB); reading them needs nothing but the standard library:

    python -m nlp.linear            # retrain from nlp/data/intent_train.jsonl and nlp/data/dialect.toml

The file records a digest of both inputs; tests/nlp/test_linear.py fails when either changed without a retrain.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

LABELS = ("none", "request", "feedback", "wish", "visit", "query")
WEIGHTS = "data/intent_linear.json"
# a phone or ID number is one token: its digits say nothing of intent
_LONG_NUMBER = re.compile(r"[0-9*]{5,}")
# training: epochs of AdaGrad over shuffled rows (fixed seed), step, L2; chosen leave-one-set-out (docs/parse.md)
EPOCHS, STEP, L2, SEED = 4, 0.5, 1e-5, 0
# weights smaller than this in every label are dropped from the file (they never move a decision)
_PRUNE = 0.05


def grams(text: str, role: str) -> set[str]:
    text = _LONG_NUMBER.sub("#", text)
    out = {f"\x00role={role}"}
    for n in (1, 2, 3):
        out.update(text[i : i + n] for i in range(len(text) - n + 1))
    return out


class LinearModel:
    def __init__(self, bias: list[float], weights: dict[str, list[float]]) -> None:
        self._bias = tuple(bias)
        self._w = {g: tuple(w) for g, w in weights.items()}

    def predict(self, text: str, role: str) -> tuple[str, float]:
        """The likeliest intent and its probability."""
        w = self._w
        rows = [w[g] for g in grams(text, role) if g in w]
        # (the rows summed label by label in C: zip(*rows) transposes, map(sum) adds)
        sums = map(sum, zip(*rows, strict=True)) if rows else [0.0] * len(LABELS)
        score = [b + s for b, s in zip(self._bias, sums, strict=True)]
        top = max(score)
        exp = [math.exp(s - top) for s in score]
        best = exp.index(1.0)
        return LABELS[best], exp[best] / sum(exp)


def fit(rows: Iterable[tuple[str, str, str]]) -> tuple[list[float], dict[str, list[float]]]:
    """Train on (prepared text, role, intent) rows; returns (bias, weights). Needs numpy (dev only)."""
    import numpy as np

    index: dict[str, int] = {}
    xs, ys = [], []
    for text, role, intent in rows:
        if intent in LABELS:
            xs.append(np.array(sorted(index.setdefault(g, len(index)) for g in grams(text, role))))
            ys.append(LABELS.index(intent))
    k = len(LABELS)
    w, b = np.zeros((len(index), k)), np.zeros(k)
    gw, gb = np.full((len(index), k), 1e-8), np.full(k, 1e-8)
    order = np.arange(len(xs))
    rng = np.random.default_rng(SEED)
    for _ in range(EPOCHS):
        rng.shuffle(order)
        for j in order:
            f = xs[j]
            s = w[f].sum(0) + b
            p = np.exp(s - s.max())
            p /= p.sum()
            p[ys[j]] -= 1.0
            g = p[None, :] + L2 * w[f]
            gw[f] += g * g
            w[f] -= STEP * g / np.sqrt(gw[f])
            gb += p * p
            b -= STEP * p / np.sqrt(gb)
    names = sorted(index, key=index.__getitem__)
    weights = {
        n: [round(float(x), 3) for x in w[i]] for i, n in enumerate(names) if float(np.abs(w[i]).max()) >= _PRUNE
    }
    return [round(float(x), 3) for x in b], weights


def inputs_digest(train: bytes, dialect: bytes) -> str:
    return hashlib.sha256(train + b"\x00" + dialect).hexdigest()


def _package_bytes(name: str) -> bytes:
    return resources.files("nlp").joinpath(name).read_bytes()


def load_default() -> LinearModel:
    """The shipped weights (nlp/data/intent_linear.json)."""
    data = json.loads(_package_bytes(WEIGHTS))
    return LinearModel(data["bias"], data["weights"])


def shipped_digest() -> str:
    return json.loads(_package_bytes(WEIGHTS))["inputs"]


def current_digest() -> str:
    return inputs_digest(_package_bytes("data/intent_train.jsonl"), _package_bytes("data/dialect.toml"))


def training_rows(prepare: Callable[[str], str]) -> list[tuple[str, str, str]]:
    raw = _package_bytes("data/intent_train.jsonl").decode("utf-8")
    rows = [json.loads(x) for x in raw.splitlines() if x.strip()]
    return [(prepare(r["text"]), r["role"], r["intent"]) for r in rows]


def main() -> int:
    """Retrain from the package's training file and write the weights beside it."""
    from nlp.parser import Parser
    from nlp.roster import Roster
    from nlp.text import normalize

    # the parser's own clean-up, with no roster (so no name is kept from the dialect rewrite)
    parser = Parser(Roster())
    bias, weights = fit(training_rows(lambda s: parser.rewrite(normalize(s))))
    out = Path(__file__).with_name("data") / "intent_linear.json"
    doc = {"labels": list(LABELS), "inputs": current_digest(), "bias": bias, "weights": weights}
    out.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n", "utf-8")
    print(f"{out}: {len(weights)} features")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
