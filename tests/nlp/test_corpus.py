"""The labelled dev corpus through the real command, scored by shared/tools/score_parse.py."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# the shared material sits beside the repository, or beside the worktrees' folder (as bench/bench_parse.py looks)
SHARED = next(
    (p for p in (REPO / ".." / "shared", REPO / ".." / ".." / "shared") if (p / "tools" / "score_parse.py").exists()),
    REPO / ".." / "shared",
).resolve()
CORPUS = SHARED / "corpus" / "dev.jsonl"
SCORER = SHARED / "tools" / "score_parse.py"
ROSTER = SHARED / "fixtures" / "roster.xlsx"
THRESHOLDS = {
    "--min-intent": 0.95,
    "--min-query": 0.95,
    "--min-households": 0.95,
    "--min-date": 0.98,
    "--min-trigger-f1": 0.90,
    "--min-none-precision": 0.97,
}


def _env() -> dict[str, str]:
    """The scored command reads this checkout's code: the venv's `lianhu` script may be an editable install of
    another checkout (a worktree shares the main venv), which would be scored instead."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def _command() -> str:
    lianhu = Path(sys.executable).parent / "lianhu"
    if lianhu.exists():
        probe = subprocess.run([str(lianhu), "parse", "--help"], capture_output=True, text=True, env=_env())
        if probe.returncode == 0:
            return f"{shlex.quote(str(lianhu))} parse"
    return f"{shlex.quote(sys.executable)} -m bot.parse_cmd"


def test_dev_corpus_meets_thresholds():
    missing = [p for p in (CORPUS, SCORER, ROSTER) if not p.exists()]
    if missing:
        pytest.skip(f"shared material not found beside the repo ({', '.join(map(str, missing))})")
    args = [sys.executable, str(SCORER), str(CORPUS), str(ROSTER), "--cmd", _command(), "--show", "40"]
    for k, v in THRESHOLDS.items():
        args += [k, str(v)]
    p = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=300, env=_env())
    print(p.stdout)
    print(p.stderr[-2000:])
    assert p.returncode == 0, f"dev corpus below thresholds:\n{p.stdout[-4000:]}"
