"""The `lianhu parse` contract: plain and --jsonl modes, error objects, xlsx and CSV rosters."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.nlp.conftest import DEMO_ROSTER, SHARED

CMD = [sys.executable, "-m", "bot.parse_cmd"]
REPO = Path(__file__).resolve().parents[2]


def run(args: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        CMD + args, input=stdin, capture_output=True, text=True, encoding="utf-8", cwd=REPO, timeout=120
    )


def lines(p: subprocess.CompletedProcess[str]) -> list[dict]:
    assert p.returncode == 0, p.stderr
    return [json.loads(x) for x in p.stdout.splitlines()]


def test_plain_mode_one_object_per_line():
    p = run(
        ["--roster", str(DEMO_ROSTER), "--sender", "zhangwei", "--chat", "group1", "--today", "2026-03-02"],
        "上周五去王家走访了\n收到\n\n今天上午去老王家坐了坐\n",
    )
    out = lines(p)
    assert len(out) == 4
    assert out[0]["intent"] == "visit" and out[0]["households"] == [] and out[0]["date"] == "2026-02-27"
    assert out[1]["intent"] == "none"
    assert out[2]["intent"] == "none"
    assert out[3]["households"] == ["H011"] and out[3]["date"] == "2026-03-02"
    for o in out:
        assert {"intent", "query", "month", "households", "date", "triggers"} <= set(o)


def test_jsonl_mode_falls_back_to_flags_and_reports_bad_lines():
    rows = [
        json.dumps({"text": "昨天去蒋立新家看了看", "sender": "zhangwei", "today": "2026-05-18"}, ensure_ascii=False),
        "{not json",
        json.dumps({"text": "今天去了", "today": "2026-13-40"}),
        json.dumps({"text": "我的积分多少"}, ensure_ascii=False),
        json.dumps(["a list"]),
        json.dumps({"text": "屋顶漏水了 能不能叫人来看看", "sender": "wmh026x7Qe"}, ensure_ascii=False),
    ]
    p = run(
        ["--roster", str(DEMO_ROSTER), "--jsonl", "--sender", "wangli", "--today", "2026-03-02"], "\n".join(rows) + "\n"
    )
    out = lines(p)
    assert len(out) == len(rows)
    assert out[0]["households"] == ["H015"] and out[0]["date"] == "2026-05-17"
    assert "error" in out[1] and "error" in out[2] and "error" in out[4]
    assert out[3]["query"] == "points" and out[3]["month"] == "2026-03"  # --today used
    assert out[5]["intent"] == "request" and out[5]["households"] == ["H026"]


def test_csv_roster(tmp_path):
    src = SHARED / "fixtures"
    if not (src / "roster_members.csv").exists():
        pytest.skip(f"shared fixtures not found at {src}")
    for name in ("roster_members.csv", "roster_households.csv", "roster_groups.csv"):
        shutil.copy(src / name, tmp_path / name.replace("roster_", "village_"))
    p = run(
        ["--roster", str(tmp_path / "village_members.csv"), "--sender", "wanghaifeng", "--today", "2026-03-02"],
        "28号去王大妈家走访\n",
    )
    out = lines(p)
    assert out[0]["households"] == ["H006"] and out[0]["date"] == "2026-02-28"


def test_bad_roster_is_an_error_exit(tmp_path):
    p = run(["--roster", str(tmp_path / "missing.xlsx")], "收到\n")
    assert p.returncode != 0
    assert "roster" in p.stderr
