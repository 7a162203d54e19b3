"""`lianhu seed`: fill the configured database with a synthetic county or village (benchmarks, load tests)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys


def cmd_seed(args: argparse.Namespace) -> int:
    from bot.config import load_settings
    from devtools import seed
    from storage import migrate
    from storage.db import make_engine

    settings = load_settings(args.config)
    branches = args.branches or seed.SCALES[args.scale]
    today = dt.date.fromisoformat(args.today) if args.today else None

    def progress(done: int, total: int) -> None:
        if total >= 20 and done % max(1, total // 10) == 0:
            print(f"  {done}/{total} 个支部", file=sys.stderr, flush=True)

    async def main() -> int:
        if settings.database.auto_migrate:
            await asyncio.get_running_loop().run_in_executor(None, migrate.upgrade, settings.database.url)
        engine = make_engine(settings.database.url)
        try:
            async with engine.connect() as conn:  # one short transaction per branch
                report = await seed.seed(
                    conn, branches=branches, seed=args.seed, today=today, progress=progress, commit=conn.commit
                )
                await conn.commit()
            async with engine.begin() as conn:
                await seed.analyze(conn)
        finally:
            await engine.dispose()
        print(f"已生成（种子 {args.seed}）：{settings.database.url}")
        for line in report.lines():
            print("  " + line)
        return 0

    return asyncio.run(main())


def register(sub: argparse._SubParsersAction) -> None:
    help_ = "生成模拟的县或村数据（压测用，可复现）/ generate a synthetic county or village (deterministic)"
    sp = sub.add_parser("seed", help=help_, description=help_)
    sp.add_argument("--config", metavar="FILE", help="配置文件（TOML）/ config file")
    sp.add_argument(
        "--scale",
        choices=sorted(seed_scales()),
        default="village",
        help="county = 360 个支部（约 2 万党员、20 万户）；village = 1 个支部 / county or village",
    )
    sp.add_argument("--branches", type=int, help="支部数，覆盖 --scale / number of branches (overrides --scale)")
    sp.add_argument("--seed", type=int, default=1, help="随机种子，同一种子同一结果 / random seed (default 1)")
    sp.add_argument("--today", help="以哪天为“今天”（YYYY-MM-DD），默认今天 / the date taken as today")
    sp.set_defaults(func=cmd_seed)


def seed_scales() -> tuple[str, ...]:
    return ("county", "village")
