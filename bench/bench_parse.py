"""Parser speed: messages/s in one warm process, and cold start (import + jieba + roster) in a fresh one.

Run: .venv/bin/python bench/bench_parse.py [--roster PATH] [--corpus dev.jsonl] [--seconds 3]
Prints figures; it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# measure this checkout's parser: run as a script, the venv's editable install may point at another checkout
sys.path.insert(0, str(REPO))
DEMO_ROSTER = REPO / "devtools" / "demo_data" / "roster.xlsx"
# the shared corpus sits beside the repository (or beside the worktrees' folder)
DEV = (
    next(
        (p for p in (REPO / ".." / "shared", REPO / ".." / ".." / "shared") if (p / "corpus" / "dev.jsonl").exists()),
        REPO / ".." / "shared",
    ).resolve()
    / "corpus"
    / "dev.jsonl"
)

FALLBACK = [
    {"text": "12月30日走访阿土伯，送了一桶油两袋米，老人蛮开心的", "sender": "chenjianguo", "today": "2026-01-02"},
    {"text": "收到", "sender": "wanghaifeng", "today": "2026-01-02"},
    {"text": "上周五去王家走访了，老人家都挺好的，没啥事", "sender": "zhangwei", "today": "2026-03-02"},
    {"text": "陈书记，我家门口的路灯坏了好几天了，麻烦找人修一下", "sender": "wmh003x7Qe", "today": "2026-01-02"},
    {"text": "@联户小助手 12月份还有哪些户没走访到", "sender": "chenjianguo", "today": "2026-01-02"},
]

COLD = """
import time, sys
t0 = time.perf_counter()
from storage.roster_file import load_roster
from nlp.parser import Parser
t1 = time.perf_counter()
roster = load_roster(sys.argv[1]).to_nlp_roster()
t2 = time.perf_counter()
p = Parser(roster)
p.parse("今天去王大妈家看了看", sender="wanghaifeng")
t3 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {t3 - t2:.3f} {t3 - t0:.3f}")
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--roster", default=str(DEMO_ROSTER))
    ap.add_argument("--corpus", default=str(DEV))
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--cold-runs", type=int, default=3)
    a = ap.parse_args()

    cold = []
    for _ in range(a.cold_runs):
        out = subprocess.run(
            [sys.executable, "-c", COLD, a.roster], capture_output=True, text=True, cwd=REPO, check=True
        ).stdout.split()
        cold.append([float(x) for x in out])
    med = [statistics.median(c[i] for c in cold) for i in range(4)]
    print(
        f"cold start (median of {a.cold_runs} fresh processes): total {med[3]:.2f} s "
        f"= imports {med[0]:.2f} s + roster {med[1]:.2f} s + jieba/parser init and first parse {med[2]:.2f} s"
    )

    from nlp.parser import Parser
    from storage.roster_file import load_roster

    parser = Parser(load_roster(a.roster).to_nlp_roster())
    p = Path(a.corpus)
    msgs = [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines() if x.strip()] if p.exists() else FALLBACK
    items = [(m["text"], m.get("sender"), m.get("chat", "group2"), date.fromisoformat(m["today"])) for m in msgs]
    for text, sender, chat, today in items:  # warm-up: lazy imports, caches
        parser.parse(text, sender=sender, chat=chat, today=today)

    n = 0
    lat = []
    t_end = time.perf_counter() + a.seconds
    t0 = time.perf_counter()
    while time.perf_counter() < t_end:
        for text, sender, chat, today in items:
            s = time.perf_counter()
            parser.parse(text, sender=sender, chat=chat, today=today)
            lat.append(time.perf_counter() - s)
        n += len(items)
    wall = time.perf_counter() - t0
    lat.sort()
    print(
        f"throughput: {n / wall:,.0f} msg/s over {n} parses of {len(items)} messages "
        f"({p.name if p.exists() else 'built-in sample'}); latency median {lat[len(lat) // 2] * 1e3:.3f} ms, "
        f"p95 {lat[int(len(lat) * 0.95)] * 1e3:.3f} ms, max {lat[-1] * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    main()
