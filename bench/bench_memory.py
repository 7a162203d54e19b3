"""Resident memory of the running bot (jieba loaded, sample village, after traffic).

Run: .venv/bin/python bench/bench_memory.py [--messages 1000]
Starts `lianhu serve` as a subprocess on a temporary SQLite database with the sample village, reads VmRSS from
/proc/PID/status after start-up and after the traffic. Target: < 300 MB. Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_callback as cb


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def hwm_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def main() -> None:
    ap = argparse.ArgumentParser(description="bot RSS")
    ap.add_argument("--messages", type=int, default=1000)
    args = ap.parse_args()
    from devtools.demo import import_file

    tmp = Path(tempfile.mkdtemp(prefix="lianhu-mem-"))
    bot = None
    try:
        s = cb.bench_settings(f"sqlite+aiosqlite:///{tmp}/mem.db")
        await import_file(s, cb.REPO / "devtools" / "demo_data" / "roster.xlsx")
        port = cb.free_port()
        cb.write_config(s, tmp / "bot.toml", port)
        env = {**os.environ, "PYTHONPATH": str(cb.REPO)}
        bot = cb.spawn([sys.executable, "-m", "bot.cli", "serve", "--config", str(tmp / "bot.toml")], env)
        base = f"http://127.0.0.1:{port}"
        await cb.wait_up(base, bot)
        idle = rss_mb(bot.pid)
        msgs = cb.village_messages(args.messages, random.Random(3))
        r = await cb.closed_loop(base, cb.make_requests(s, msgs, "m"), 8, 120)
        after = rss_mb(bot.pid)
        print(
            f"bot RSS after start-up (jieba loaded): {idle:.0f} MB; after {r['done']} messages: {after:.0f} MB; "
            f"peak (VmHWM): {hwm_mb(bot.pid):.0f} MB  (target < 300 MB)"
        )
    finally:
        if bot is not None:
            cb.stop(bot)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
