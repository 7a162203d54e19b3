"""K-fold cross-validation of the parser with its n-gram model: how the model's bar changes the six figures.

    python -m devtools.parse_cv ROSTER SET.jsonl... [--folds 5] [--bars 0.9,0.95,0.98,1.01]

Every labelled row (the scorer's jsonl format) goes to one fold by a hash of its text, so the same words never sit
in the training and the test fold at once. For each fold the model is trained on the other folds only, and the
rows of the fold are parsed by the full parser (rules, then the model where the rules leave room) once per bar.
The figures are those of shared/tools/score_parse.py, pooled over the folds. A bar above 1 is the rules alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from datetime import date


def score(rows: list[dict], got: list[dict]) -> dict[str, float]:
    """The scorer's six figures (intent, query, households, date, trigger_f1, none_precision) and n."""
    ok: Counter[str] = Counter()
    tot: Counter[str] = Counter()
    tp = fp = fn = 0
    none_total = none_ok = 0
    for r, g in zip(rows, got, strict=True):
        e = r["expect"]
        tot["intent"] += 1
        ok["intent"] += g["intent"] == e["intent"]
        if e["intent"] == "none":
            none_total += 1
            none_ok += g["intent"] == "none"
        if e["intent"] == "query":
            tot["query"] += 1
            ok["query"] += g["query"] == e["query"] and g["month"] == e["month"]
        if e["intent"] not in ("none", "query"):
            tot["households"] += 1
            ok["households"] += sorted(g["households"]) == e["households"]
        if e["intent"] == "visit":
            tot["date"] += 1
            ok["date"] += g["date"] == e["date"]
        gt, et = set(g["triggers"]), set(e["triggers"])
        tp += len(gt & et)
        fp += len(gt - et)
        fn += len(et - gt)
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    out = {k: ok[k] / tot[k] if tot[k] else 1.0 for k in ("intent", "query", "households", "date")}
    out["trigger_f1"] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    out["none_precision"] = none_ok / none_total if none_total else 1.0
    out["n"] = len(rows)
    return out


def fold_of(text: str, k: int) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % k


def main(argv: list[str] | None = None) -> int:
    from nlp.model import IntentModel
    from nlp.parser import Parser
    from nlp.text import normalize
    from storage.roster_file import load_roster

    ap = argparse.ArgumentParser(prog="python -m devtools.parse_cv")
    ap.add_argument("roster")
    ap.add_argument("sets", nargs="+")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--bars", default="0.9,0.95,0.98,0.99,1.01")
    ap.add_argument("--modes", default="", help="comma-separated Parser.model_modes variants to compare ('' = default)")
    ap.add_argument("--per-set", action="store_true", help="figures for each input file as well")
    ap.add_argument("--show", type=int, default=0, help="print this many rows the model changed, per setting")
    a = ap.parse_args(argv)

    rows: list[dict] = []
    origin: list[str] = []
    for path in a.sets:
        with open(path, encoding="utf-8") as fh:
            new = [json.loads(x) for x in fh if x.strip()]
        rows += new
        origin += [path.rsplit("/", 1)[-1]] * len(new)
    parser = Parser(load_roster(a.roster).to_nlp_roster())
    members = {m.userid for m in parser.roster.members}

    def prep(s: str) -> str:
        return parser.rewrite(normalize(s))

    bars = [float(x) for x in a.bars.split(",")]
    modes = a.modes.split(";") if a.modes else [None]
    settings = [(mode, bar) for mode in modes for bar in bars]
    got: dict[tuple, list[dict | None]] = {s: [None] * len(rows) for s in settings}
    folds = [fold_of(r["text"], a.folds) for r in rows]
    model_ok = 0
    for k in range(a.folds):
        train = [
            (prep(r["text"]), "member" if r.get("sender") in members else "resident", r["expect"]["intent"])
            for r, f in zip(rows, folds, strict=True)
            if f != k
        ]
        parser._model = IntentModel(train)
        for r, f in zip(rows, folds, strict=True):
            if f == k:
                role = "member" if r.get("sender") in members else "resident"
                model_ok += parser._model.predict(prep(r["text"]), role)[0] == r["expect"]["intent"]
        for mode, bar in settings:
            parser.model_bar = bar
            if mode is not None:
                parser.model_modes = frozenset(x for x in mode.split(",") if x)
            for i, r in enumerate(rows):
                if folds[i] != k:
                    continue
                res = parser.parse(
                    r["text"],
                    sender=r.get("sender"),
                    chat=r.get("chat") or "group2",
                    today=date.fromisoformat(r["today"]),
                )
                got[(mode, bar)][i] = res.to_dict()
    print(f"model alone, {a.folds}-fold: intent {model_ok / len(rows):.3f} over {len(rows)} rows")
    base = got[settings[-1]]
    for s in settings:
        fig = score(rows, got[s])
        print(
            f"mode={s[0] or 'default'} bar={s[1]:.3f} n={fig['n']} intent={fig['intent']:.3f} "
            f"query={fig['query']:.3f} households={fig['households']:.3f} date={fig['date']:.3f} "
            f"trigger_f1={fig['trigger_f1']:.3f} none_precision={fig['none_precision']:.3f}"
        )
        for name in dict.fromkeys(origin) if len(set(origin)) > 1 and a.per_set else ():
            idx = [i for i, o in enumerate(origin) if o == name]
            f2 = score([rows[i] for i in idx], [got[s][i] for i in idx])
            print(
                f"    {name}: n={f2['n']} intent={f2['intent']:.3f} query={f2['query']:.3f} "
                f"households={f2['households']:.3f} date={f2['date']:.3f} trigger_f1={f2['trigger_f1']:.3f} "
                f"none_precision={f2['none_precision']:.3f}"
            )
        if a.show:
            shown = 0
            for r, g, b in zip(rows, got[s], base, strict=True):
                if g["intent"] != b["intent"] and shown < a.show:
                    gold = r["expect"]["intent"]
                    mark = "+" if g["intent"] == gold else ("-" if b["intent"] == gold else "~")
                    print(f"   {mark} {r['id']} {b['intent']}->{g['intent']} (gold {gold}) {r['text'][:50]}")
                    shown += 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
