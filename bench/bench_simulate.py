"""A month in the village, full size: `lianhu simulate` with ≥ 2,000 messages (devtools/simulate.py) on SQLite, or
on PostgreSQL with --database-url. Prints the figures and whether every invariant held.

    .venv/bin/python bench/bench_simulate.py [--messages 2000] [--database-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from devtools.simulate import simulate


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--database-url")
    a = ap.parse_args()
    report = asyncio.run(simulate(a.messages, seed=a.seed, database_url=a.database_url))
    return 0 if not report.failures else 1


if __name__ == "__main__":
    sys.exit(main())
