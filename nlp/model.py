"""A small statistical reader of intent: naive Bayes over character 1-3-grams, trained on the labelled sets.

The rules decide whenever one of them fires. Only when none did (the parse would be a default `none`) and the
sender is a resident is this model asked; if it is very sure that the message is a request, feedback or wish, the
parse takes that intent with a confidence in the ask-back band (the bot asks or lists it, never answers in public).
Why: each fresh labelled set showed that most remaining misses were residents describing a fault or a result in
words no list had ("电线杆斜得厉害 风一吹就晃", "电线杆扶正了 这下安心了"), and character n-grams carry those.
Measured on a set written after the rules and not used for training: intent 0.833 → 0.889 (docs/parse.md).

Training data: nlp/data/intent_train.jsonl ({"text", "role", "intent"}; add a set with
`python -m nlp.model SET.jsonl... --members roster_members.csv >> nlp/data/intent_train.jsonl`, then drop repeats
and retrain the second reader with `python -m nlp.linear`).
Since round 9 it holds every labelled set in tests/nlp/data and the dev corpus (8,678 rows since round 10; the
second reader, nlp/linear.py, trains on the same file). The model is trained
lazily the first time it is needed (about 0.6 s), so it costs nothing at cold start.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable
from importlib import resources

# the same features as the second reader (a phone number is one token) and the same labels
from nlp.linear import LABELS
from nlp.linear import grams as _grams

_SMOOTH = 0.5


class IntentModel:
    def __init__(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """rows: (text as the parser sees it, role "member"/"resident", intent)."""
        counts = {lab: Counter() for lab in LABELS}
        prior: Counter[str] = Counter()
        for text, role, intent in rows:
            if intent not in counts:
                continue
            prior[intent] += 1
            counts[intent].update(_grams(text, role))
        vocab = set().union(*counts.values())
        n = sum(prior.values()) or 1
        self._prior = tuple(math.log((prior[lab] + 1) / (n + len(LABELS))) for lab in LABELS)
        denom = [sum(counts[lab].values()) + _SMOOTH * len(vocab) for lab in LABELS]
        # one dict of log-likelihoods per label, str -> float only: such dicts are not tracked by the garbage
        # collector, so the ~24k features cost nothing at each full collection (a dict of tuples slowed every parse)
        self._w = [
            {f: math.log((counts[lab][f] + _SMOOTH) / d) for f in vocab} for lab, d in zip(LABELS, denom, strict=True)
        ]

    def predict(self, text: str, role: str) -> tuple[str, float]:
        """The likeliest intent and its posterior (naive Bayes posteriors run high: compare to a high bar)."""
        first = self._w[0]
        known = [f for f in _grams(text, role) if f in first]
        score = [p + sum(map(w.__getitem__, known)) for p, w in zip(self._prior, self._w, strict=True)]
        top = max(score)
        exp = [math.exp(s - top) for s in score]
        best = max(range(len(LABELS)), key=lambda i: score[i])
        return LABELS[best], exp[best] / sum(exp)


def load_default(prepare: Callable[[str], str]) -> IntentModel:
    """The model trained on the bundled nlp/data/intent_train.jsonl; `prepare` is the parser's text clean-up."""
    raw = resources.files("nlp").joinpath("data/intent_train.jsonl").read_text(encoding="utf-8")
    rows = []
    for line in raw.splitlines():
        if line.strip():
            r = json.loads(line)
            rows.append((prepare(r["text"]), r["role"], r["intent"]))
    return IntentModel(rows)


def main(argv: list[str] | None = None) -> int:
    """Write the training file from labelled sets (the scorer's jsonl format) to standard output."""
    import argparse
    import csv
    import sys

    ap = argparse.ArgumentParser(prog="python -m nlp.model")
    ap.add_argument("sets", nargs="+")
    ap.add_argument("--members", required=True, help="the roster's members CSV (to tell members from residents)")
    a = ap.parse_args(argv)
    with open(a.members, encoding="utf-8") as fh:
        members = {r["企业微信账号"] for r in csv.DictReader(fh)}
    for path in a.sets:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    r = json.loads(line)
                    role = "member" if r.get("sender") in members else "resident"
                    row = {"text": r["text"], "role": role, "intent": r["expect"]["intent"]}
                    sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
