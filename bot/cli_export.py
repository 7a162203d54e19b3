"""`lianhu export KIND --month 2026-11 [--branch NAME] -o FILE.xlsx`: the ledgers as Excel workbooks."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import sys

from bot.config import load_settings, policy_options


def register(sub: argparse._SubParsersAction) -> None:
    from storage.export import KINDS

    kinds = "、".join(f"{k}（{v}）" for k, v in KINDS.items())
    desc = f"导出台账为 Excel / export ledgers as xlsx：{kinds}"
    sp = sub.add_parser(
        "export", help="导出台账（走访、诉求心愿、亮相公示、积分、月度汇总）/ export ledgers", description=desc
    )
    sp.add_argument("kind", metavar="KIND", help=f"台账类型，也可写中文名 / kind: {', '.join(KINDS)}")
    sp.add_argument("--month", help="月份，如 2026-11；默认上个月 / month (default: last month)")
    sp.add_argument("--branch", help="支部名称（有多个支部时必填）/ branch name")
    sp.add_argument("-o", "--output", help="输出文件，默认 <台账>-<月份>.xlsx / output file")
    sp.add_argument("--config", metavar="FILE", help="配置文件（TOML）/ config file")
    sp.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from storage.export import KINDS, kind_of
    from storage.rhythm import TZ, month_of, previous_month

    kind = kind_of(args.kind)
    if kind is None:
        print(
            f"不认识的台账类型“{args.kind}”，可选：{'、'.join(f'{k}（{v}）' for k, v in KINDS.items())}",
            file=sys.stderr,
        )
        return 2
    month = args.month or previous_month(month_of(dt.datetime.now(TZ).date()))
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        print(f"月份格式应为 2026-11，收到“{month}”", file=sys.stderr)
        return 2
    settings = load_settings(args.config)
    return asyncio.run(_main(settings.database.url, kind, month, args, policy_options(settings)))


async def _main(url: str, kind: str, month: str, args: argparse.Namespace, options=None) -> int:
    from storage import export_policy, rhythm
    from storage.db import make_engine, make_sessionmaker
    from storage.export import KINDS, export

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            branches = await rhythm.branches(session, args.branch)
            if len(branches) != 1:
                names = "、".join(b.name for b in await rhythm.branches(session)) or "无"
                print(f"请用 --branch 指定一个支部（现有：{names}）", file=sys.stderr)
                return 1
            out = args.output or f"{KINDS[kind]}-{month}.xlsx"
            extra = {"options": options} if kind in export_policy.KINDS else {}  # the branch's [duties] etc.
            path = await export(session, kind, branches[0], month, out, **extra)
    finally:
        await engine.dispose()
    print(f"已导出“{branches[0].name}”{month} {KINDS[kind]}到 {path}")
    return 0
