"""`lianhu outbox`: what the bot could not send (dead letters), and sending one again after fixing the cause."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.config import load_settings

_CHANNEL = {
    "app": "应用消息",
    "webhook": "群机器人",
    "aibot": "智能机器人",
    "template": "群发任务",
    "kf": "微信客服",
    "response_url": "机器人回复",
}


def register(sub: argparse._SubParsersAction) -> None:
    sp = sub.add_parser(
        "outbox",
        help="发件箱：查看没发出去的消息，重发 / the outbox: dead letters, resend",
        description="发件箱：查看没发出去的消息，重发 / the outbox: dead letters, resend",
    )
    sp.add_argument("--config", metavar="FILE", help="配置文件（TOML）/ config file")
    sp.add_argument(
        "action",
        nargs="?",
        default="list",
        choices=["list", "pending", "retry"],
        help="list 没发出去的（默认）/ dead letters; pending 待发送 / waiting; retry ID 重发 / resend",
    )
    sp.add_argument("ids", nargs="*", type=int, help="retry 的消息编号 / ids for retry")
    sp.add_argument("--limit", type=int, default=50)
    sp.set_defaults(func=cmd_outbox)


def cmd_outbox(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    return asyncio.run(_main(settings.database.url, args))


async def _main(url: str, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from storage import outbox
    from storage.db import make_engine, make_sessionmaker
    from storage.models import OutboundMessage

    engine = make_engine(url)
    try:
        if args.action == "retry":
            if not args.ids:
                print("请给出要重发的消息编号，例如：lianhu outbox retry 12", file=sys.stderr)
                return 2
            async with make_sessionmaker(engine)() as session, session.begin():
                done = [i for i in args.ids if await outbox.requeue(session, i)]
            for i in args.ids:
                print(f"#{i} 已放回发件箱，稍后发送" if i in done else f"#{i} 不是没发出去的消息，没有改动")
            return 0 if len(done) == len(args.ids) else 1
        async with make_sessionmaker(engine)() as session:
            if args.action == "pending":
                rows = list(
                    await session.scalars(
                        select(OutboundMessage)
                        .where(OutboundMessage.status.in_(outbox.ACTIVE))
                        .order_by(OutboundMessage.id)
                        .limit(args.limit)
                    )
                )
                title = "待发送"
            else:
                rows = await outbox.dead_letters(session, limit=args.limit)
                title = "没发出去"
    finally:
        await engine.dispose()
    if not rows:
        print(f"没有{title}的消息。")
        return 0
    print(f"{title}的消息（{len(rows)} 条）：")
    for r in rows:
        when = r.created_at.strftime("%m-%d %H:%M") if r.created_at else ""
        text = r.content.replace("\n", " ")
        text = text if len(text) <= 40 else text[:40] + "…"
        print(f"#{r.id} {when} {_CHANNEL.get(r.channel, r.channel)} → {r.target}  尝试 {r.attempts} 次")
        print(f"    内容：{text}")
        if r.error:
            print(f"    原因：{r.error}")
    if args.action == "list":
        print("处理好原因后（如改正名册里的账号），用 lianhu outbox retry 编号 重发。")
    return 0
