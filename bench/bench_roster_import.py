"""Roster import at village, town and county size: wall time and peak memory of `lianhu roster import`.

Run: .venv/bin/python bench/bench_roster_import.py [--sizes 5000,20000,county] [--timeout 600]
Each size is one branch roster xlsx with N 联系户 and N/11.25 党员 (the county shape of `lianhu seed --scale
county`: ~20 000 members, ~225 000 households), written once to a cache directory. The import runs as its own
process (`python -m bot.cli roster import`) on a fresh SQLite file; its peak RSS comes from the kernel
(os.wait4 rusage), the time from the parent's clock. A run past --timeout is killed and shown as "> N s".
Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COUNTY_HOUSEHOLDS = 225_000
SURNAMES = "王陈李张胡叶应杨林徐吴周葛俞童邬严楼娄蒋方郑金朱孙潘何戴袁毛赵刘黄"
GIVEN = "建国海峰秀兰伟丽明华军平英芳志强春燕根发彩娥德富立新阿土美娟雪梅红霞永康金水桂香玉莲宏伟海燕文斌"


def _name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)] + GIVEN[(i * 13 + 5) % len(GIVEN)]


def write_roster(path: Path, households: int) -> None:
    """One branch: members M0001…, every 10th a 中心户 leading the next nine; households spread over members."""
    from openpyxl import Workbook

    from storage.roster_file import GROUP_COLUMNS, HOUSEHOLD_COLUMNS, MEMBER_COLUMNS, ORG_COLUMNS

    members = max(10, round(households / 11.25))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("党员")
    ws.append(MEMBER_COLUMNS)
    for i in range(members):
        leader = i - i % 10
        role = "中心户" if i == leader else "党员"
        lead = f"M{leader + 1:05d}" if i != leader else None
        g = f"第{i % 8 + 1}网格"
        ws.append(
            [f"M{i + 1:05d}", _name(i), f"u{i + 1:05d}", "男女"[i % 2], 1950 + i % 50, g, role, "在村", lead, None]
        )
    ws = wb.create_sheet("联系户")
    ws.append(HOUSEHOLD_COLUMNS)
    for j in range(households):
        m = j % members
        key = "空巢老人" if j % 5 == 0 else None
        addr = f"{j // 100 + 1}弄{j % 100 + 1}号"
        ws.append([f"H{j + 1:06d}", _name(j + 3), "男女"[j % 2], 1930 + j % 70, addr, f"第{m % 8 + 1}网格",
                   f"M{m + 1:05d}", key, None, None])  # fmt: skip
    ws = wb.create_sheet("群聊")
    ws.append(GROUP_COLUMNS)
    ws = wb.create_sheet("组织")
    ws.append(ORG_COLUMNS)
    ws.append(["压测村党支部", "每月5日"])
    wb.save(path)


def run_import(roster: Path, timeout: float) -> tuple[float, float | None, bool, str]:
    """(seconds, peak RSS MB, finished, last stderr line) of one import into a fresh SQLite file."""
    tmp = Path(tempfile.mkdtemp(prefix="lianhu-rbench-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "LIANHU_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db",
    }
    cmd = [sys.executable, "-m", "bot.cli", "roster", "import", str(roster)]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        proc.send_signal(signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr or []), daemon=True)
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - t0
    timer.cancel()
    reader.join(5)
    proc.returncode = os.waitstatus_to_exitcode(status)
    last = next((ln.strip() for ln in reversed(lines) if ln.strip()), "")
    ok = not killed.is_set() and proc.returncode == 0
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    return seconds, usage.ru_maxrss / 1024, ok, last


def main() -> None:
    ap = argparse.ArgumentParser(description="roster import time and peak RSS")
    ap.add_argument("--sizes", default="5000,20000,county", help="households per roster; 'county' = 225000")
    ap.add_argument("--timeout", type=float, default=600, help="kill an import after this many seconds")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "lianhu-roster-bench"))
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    print(f"{'联系户':>8} {'党员':>6}  {'用时':>10}  {'峰值内存':>9}")
    for size in args.sizes.split(","):
        n = COUNTY_HOUSEHOLDS if size.strip() == "county" else int(size)
        roster = cache / f"roster-{n}.xlsx"
        if not roster.exists():
            t0 = time.monotonic()
            write_roster(roster, n)
            print(f"  (wrote {roster} in {time.monotonic() - t0:.1f} s)", flush=True)
        seconds, rss, ok, last = run_import(roster, args.timeout)
        shown = f"{seconds:8.1f} s" if ok else f"> {seconds:6.1f} s"
        note = "" if ok else f"  未完成：{last[:80] or '超时被终止'}"
        print(f"{n:>10} {max(10, round(n / 11.25)):>7}  {shown}  {rss:7.0f} MB{note}", flush=True)


if __name__ == "__main__":
    main()
