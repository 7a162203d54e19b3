"""`lianhu` command line. 中文说明在前，English after the slash."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from importlib.metadata import entry_points

from bot.config import ConfigError, Settings, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


# --- serve ------------------------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.app import create_app

    settings = _settings(args)
    if not (settings.aibot.token or settings.wecom.token):
        print("配置里没有 [aibot] 或 [wecom] 的 token/encoding_aes_key，机器人收不到任何消息。", file=sys.stderr)
        return 2
    if settings.archive.sdk:  # `lianhu serve` reads the chat archive too: say now what keeps it from reading
        from bot.archive_bridge.bridge import config_problem

        if (problem := config_problem(settings.archive)) is not None:
            print(problem, file=sys.stderr)
            return 2
    web.run_app(create_app(settings), host=args.host or settings.server.host, port=args.port or settings.server.port)
    return 0


# --- roster -----------------------------------------------------------------------------------------------
def cmd_roster_import(args: argparse.Namespace) -> int:
    from storage import migrate
    from storage.db import make_engine, make_sessionmaker
    from storage.roster_file import RosterError, load_roster
    from storage.roster_sync import import_roster

    settings = _settings(args)
    try:
        print(f"  读取名册 {args.file} …", file=sys.stderr, flush=True)
        rf = load_roster(args.file, branch_name=args.branch)
    except RosterError as exc:
        print(f"名册有误，什么都没有导入：\n{exc}", file=sys.stderr)
        return 1

    async def main() -> int:
        if settings.database.auto_migrate:
            await asyncio.get_running_loop().run_in_executor(None, migrate.upgrade, settings.database.url)
        engine = make_engine(settings.database.url)
        try:
            async with make_sessionmaker(engine)() as session:
                # a new branch goes in in short committed chunks (the bot keeps writing meanwhile); changes to an
                # existing one in one transaction (storage/roster_sync.py)
                report = await import_roster(
                    session,
                    rf,
                    actor=args.actor,
                    progress=lambda line: print(f"  {line}", file=sys.stderr, flush=True),
                    commit=session.commit,
                )
                await session.commit()
        except RosterError as exc:
            print(f"名册有误，什么都没有导入：\n{exc}", file=sys.stderr)
            return 1
        finally:
            await engine.dispose()
        print(
            f"{'新建' if report.created else '更新'}支部“{report.branch_name}”：党员 {report.members} 名，"
            f"联系户 {report.households} 户，群聊 {report.groups} 个。"
        )
        for line in report.links_changed:
            print(f"  联户关系变更：{line}")
        for line in report.deactivated:
            print(f"  已停用：{line}")
        if report.warnings:
            print("需要支部关注的缺口：")
            for w in report.warnings:
                print(f"  - {w}")
        return 0

    return asyncio.run(main())


def cmd_roster_export(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from storage.db import make_engine, make_sessionmaker
    from storage.models import Branch
    from storage.roster_file import write_roster_xlsx
    from storage.roster_sync import export_roster

    settings = _settings(args)

    async def main() -> int:
        engine = make_engine(settings.database.url)
        try:
            async with make_sessionmaker(engine)() as session:
                q = select(Branch).order_by(Branch.id)
                if args.branch:
                    q = q.where(Branch.name == args.branch)
                branches = list(await session.scalars(q))
                if len(branches) != 1:
                    names = "、".join(b.name for b in branches) or "无"
                    print(f"请用 --branch 指定一个支部（现有：{names}）", file=sys.stderr)
                    return 1
                rf = await export_roster(session, branches[0].id)
        finally:
            await engine.dispose()
        write_roster_xlsx(rf, args.file)
        print(f"已导出“{rf.branch_name}”到 {args.file}")
        return 0

    return asyncio.run(main())


# --- parse ------------------------------------------------------------------------------------------------
def cmd_parse(args: argparse.Namespace) -> int:
    from bot import parse_cmd

    return parse_cmd.run(args)


# --- db ---------------------------------------------------------------------------------------------------
def cmd_db(args: argparse.Namespace) -> int:
    from storage import migrate

    url = _settings(args).database.url
    if args.action == "upgrade":
        migrate.upgrade(url, args.revision or "head")
    else:
        migrate.downgrade(url, args.revision or "-1")
    print(f"数据库 {args.action} 完成：{url}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lianhu",
        description="联户助手：党员联户机制的企业微信机器人 / a WeCom bot for the 党员联户 mechanism",
    )
    p.add_argument("--log-level", default="WARNING", help="日志级别 / log level (DEBUG, INFO, WARNING)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_: str, func) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.add_argument("--config", metavar="FILE", help="配置文件（TOML），见 config.example.toml / config file")
        sp.set_defaults(func=func)
        return sp

    sp = add("serve", "启动机器人服务（正式部署）/ run the bot for a real deployment", cmd_serve)
    sp.add_argument("--host")
    sp.add_argument("--port", type=int)

    roster = sub.add_parser(
        "roster", help="名册导入导出 / roster import and export", description="名册导入导出 / roster import and export"
    )
    rsub = roster.add_subparsers(dest="roster_command", required=True, metavar="ACTION")
    sp = rsub.add_parser(
        "import", help="导入名册（xlsx 或 *_members.csv），出错则什么都不写 / import a roster, all or nothing"
    )
    sp.add_argument("file")
    sp.add_argument("--branch", help="CSV 名册的党组织名称 / branch name for a CSV roster")
    sp.add_argument("--actor", default="roster-import", help="记在变更记录里的操作人 / who is recorded as the actor")
    sp.add_argument("--config", metavar="FILE")
    sp.set_defaults(func=cmd_roster_import)
    sp = rsub.add_parser("export", help="导出名册为 xlsx（与导入同格式）/ export the roster as xlsx")
    sp.add_argument("file")
    sp.add_argument("--branch", help="支部名称（有多个支部时必填）/ branch name")
    sp.add_argument("--config", metavar="FILE")
    sp.set_defaults(func=cmd_roster_export)

    sp = add("parse", "看机器人怎么理解一句话（每行一条，输出 JSON）/ show how messages are understood", cmd_parse)
    from bot import parse_cmd

    parse_cmd.add_arguments(sp)

    sp = add("db", "数据库迁移 / database migrations", cmd_db)
    sp.add_argument("action", choices=["upgrade", "downgrade"])
    sp.add_argument("revision", nargs="?")
    __import__("bot.cli_outbox", fromlist=["register"]).register(sub)
    __import__("bot.cli_jobs", fromlist=["register"]).register(sub)
    __import__("bot.cli_export", fromlist=["register"]).register(sub)
    __import__("bot.cli_archive", fromlist=["register"]).register(sub)
    __import__("bot.cli_policy", fromlist=["register"]).register(sub)
    # Developer tools (demo, seed) plug in through an entry point so the product never imports them.
    for ep in sorted(entry_points(group="lianhu.cli"), key=lambda e: e.name):
        ep.load()(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from sqlalchemy.exc import DBAPIError, OperationalError

    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (OperationalError, DBAPIError) as exc:
        # an operator's first run: a database not created, not reachable or not upgraded — say so, not a traceback
        cause = str(exc.orig if exc.orig is not None else exc).splitlines()[0]
        print(
            f"数据库用不了：{cause}\n请检查配置里的 [database] url，或先运行 lianhu db upgrade 建表。",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
