"""`lianhu demo`: the bot beside a local WeCom emulator, on the sample village."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.config import load_settings
    from devtools.demo import demo_roster_path, start_pair

    settings = load_settings(args.config)
    if args.config is None and "LIANHU_DATABASE_URL" not in os.environ:
        settings.database.url = "sqlite+aiosqlite:///var/demo.db"
    roster = Path(args.roster) if args.roster else demo_roster_path()

    async def main() -> None:
        # Household groups are external: the demo reads them the only official way, through the chat archive,
        # with the reader a village runs (bot/archive_bridge/, inside `lianhu serve`) on the emulator's archive-SDK
        # mode; every other channel is on too (智能机器人, app, 微信客服), so docs/channels.md's ownership rule is
        # what you see.
        settings.archive.poll_seconds = min(settings.archive.poll_seconds, 1.0)
        pair = await start_pair(settings, roster, emulator_port=args.port, bot_port=args.bot_port, archive=True)
        print(
            f"联户助手演示已启动 / demo running\n  打开 / open: {pair.emulator_url}/\n"
            f"  书记工作台 / console: {pair.bot_url}/console/\n"
            f"  机器人 / bot: {pair.bot_url}  数据库 / database: {settings.database.url}\n"
            "  按 Ctrl+C 退出 / Ctrl+C to stop",
            flush=True,
        )
        try:
            if args.exit_after is not None:
                await asyncio.sleep(args.exit_after)
            else:
                await asyncio.Event().wait()
        finally:
            await pair.close()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    return 0


def register(sub) -> None:
    help_ = "启动机器人和本地企业微信模拟器，打开网页即可试用 / run the bot with a local WeCom emulator"
    sp = sub.add_parser("demo", help=help_, description=help_)
    sp.add_argument("--config", metavar="FILE", help="配置文件（TOML），见 config.example.toml / config file")
    sp.add_argument("--port", type=int, default=8700, help="模拟器网页端口 / emulator port (default 8700)")
    sp.add_argument("--bot-port", type=int, default=8701, help="机器人端口 / bot port (default 8701)")
    sp.add_argument("--roster", help="名册文件，默认用示例村 / roster file (default: the sample village)")
    sp.add_argument("--exit-after", type=float, help=argparse.SUPPRESS)
    sp.set_defaults(func=cmd_demo)
