"""`lianhu assessment import FILE.xlsx`: the secretary's 村党组织评分 sheet (考评: 党员编号, 期间, 村党组织评分).

All or nothing: every problem is printed with its sheet, row and column, and then nothing is written.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.config import load_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "assessment",
        help="考评：导入村党组织评分表 / import the branch's assessment sheet",
        description="考评：导入村党组织评分表（工作表“考评”，列：党员编号、期间、村党组织评分）",
    )
    asub = p.add_subparsers(dest="assessment_command", required=True, metavar="ACTION")
    sp = asub.add_parser("import", help="导入评分，出错则什么都不写 / import scores, all or nothing")
    sp.add_argument("file")
    sp.add_argument("--branch", help="支部名称（有多个支部时必填）/ branch name")
    sp.add_argument("--actor", default="assessment-import", help="记在变更记录里的操作人 / actor in the audit trail")
    sp.add_argument("--config", metavar="FILE", help="配置文件（TOML）/ config file")
    sp.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    from storage.export_policy import read_assessment_sheet
    from storage.roster_file import RosterError

    settings = load_settings(args.config)
    try:
        sheet = read_assessment_sheet(args.file)
    except RosterError as exc:
        print(f"评分表有误，什么都没有导入：\n{exc}", file=sys.stderr)
        return 1
    return asyncio.run(_main(settings.database.url, sheet, args))


async def _main(url: str, sheet, args: argparse.Namespace) -> int:
    from storage import rhythm
    from storage.db import make_engine, make_sessionmaker
    from storage.export_policy import import_assessments
    from storage.roster_file import RosterError

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            branches = await rhythm.branches(session, args.branch)
            every = await rhythm.branches(session)
        if len(branches) != 1:
            print(f"请用 --branch 指定一个支部（现有：{'、'.join(b.name for b in every) or '无'}）", file=sys.stderr)
            return 1
        async with make_sessionmaker(engine)() as session, session.begin():  # an error rolls all of it back
            n = await import_assessments(session, branches[0], sheet, actor=args.actor)
    except RosterError as exc:
        print(f"评分表有误，什么都没有导入：\n{exc}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(f"已导入“{branches[0].name}”村党组织评分 {n} 条。")
    return 0
