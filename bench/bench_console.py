"""Console page speed: the pages a secretary opens most, served by the real app over HTTP, on synthetic villages
(bench/bench_summary.py's: 14 members, 60 households, a month of visits and matters per branch) in a temp SQLite
database with many branches, so the per-branch queries are shown not to grow with the county.

Timed per page: median and worst of N requests (a logged-in 书记 of branch 1, session cookie signed directly).
Run: .venv/bin/python bench/bench_console.py [--branches 360] [--runs 20]
Prints figures; it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from bench_summary import MONTH, build  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.console.auth import Signer  # noqa: E402
from storage import migrate  # noqa: E402

PAGES = [
    ("走访", f"/console/visits?month={MONTH}"),
    ("事项（办理中）", "/console/matters"),
    ("事项（全部）", "/console/matters?state=all"),
    ("一件事", "/console/matters/request/1"),
    ("名册", "/console/roster"),
    ("发送与定时任务", "/console/sending"),
    ("积分", "/console/points?year=2026"),
    ("走访台账 xlsx", f"/console/ledgers/visits.xlsx?month={MONTH}"),
]


async def run(n_branches: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await asyncio.get_running_loop().run_in_executor(None, migrate.upgrade, url)
        t = time.perf_counter()
        await build(url, n_branches)
        print(f"{n_branches} 个支部的合成数据：{time.perf_counter() - t:.1f} 秒")
        s = Settings()
        s.database.url, s.database.auto_migrate, s.schedule.enabled = url, False, False
        s.wecom.corp_id, s.wecom.secret = "wwbench", "bench-secret"
        token, _ = Signer(s).new_session("u1x0")  # the 书记 of branch 1
        async with TestClient(TestServer(create_app(s))) as client:
            cookies = {"lianhu_console": token}
            print(f"{'页面':<16}{'中位数 ms':>10}{'最慢 ms':>10}")
            for label, path in PAGES:
                times = []
                for _ in range(runs):
                    t = time.perf_counter()
                    r = await client.get(path, cookies=cookies)
                    await r.read()
                    times.append((time.perf_counter() - t) * 1000)
                    assert r.status == 200, (path, r.status)
                print(f"{label:<16}{statistics.median(times):>10.1f}{max(times):>10.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--branches", type=int, default=360)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    asyncio.run(run(args.branches, args.runs))


if __name__ == "__main__":
    main()
