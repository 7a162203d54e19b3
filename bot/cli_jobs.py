"""`lianhu jobs`: run one of the branch's rhythm jobs now, or list each job's last and next run."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from bot.config import Settings, load_settings


def register(sub: argparse._SubParsersAction) -> None:
    desc = "支部工作节奏：主题党日汇总、周二摘要、提醒、积分 / the branch's rhythm jobs"
    jobs = sub.add_parser("jobs", help=desc, description=desc)
    jsub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")

    from jobs import JOBS

    names = ", ".join(f"{n}（{j.title}，周期如 {j.example_period}）" for n, j in JOBS.items())
    sp = jsub.add_parser("run", help="立即运行一个任务 / run a job now", description=f"任务 / jobs: {names}")
    sp.add_argument("name", choices=list(JOBS), metavar="NAME", help=names)
    sp.add_argument(
        "--period",
        help="周期：汇总为所汇总的月份（2026-10），摘要为周（2026-W48），提醒和积分为日期，"
        "年终为年份；默认为现在对应的周期 / period (default: the current one)",
    )
    sp.add_argument("--branch", help="只运行这个支部 / only this branch")
    sp.add_argument(
        "--force",
        action="store_true",
        help="本周期已运行过也再运行（已发过的消息不会重发）/ run again (messages already sent are not)",
    )
    sp.add_argument(
        "--no-send", action="store_true", help="只写入发件箱，由运行中的机器人发送 / only queue; the running bot sends"
    )
    sp.add_argument("--config", metavar="FILE", help="配置文件（TOML）/ config file")
    sp.set_defaults(func=cmd_jobs_run)

    sp = jsub.add_parser("list", help="各任务上次和下次运行时间 / last and next run of each job")
    sp.add_argument("--branch", help="只看这个支部 / only this branch")
    sp.add_argument("--config", metavar="FILE", help="配置文件（TOML）/ config file")
    sp.set_defaults(func=cmd_jobs_list)


def cmd_jobs_run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(load_settings(args.config), args))


def cmd_jobs_list(args: argparse.Namespace) -> int:
    return asyncio.run(_list(load_settings(args.config), args))


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    import aiohttp

    from bot.outbox import OutboxWorker
    from bot.scheduler import Scheduler, period_now
    from bot.wecom.client import WeComClient
    from storage import migrate, rhythm
    from storage import outbox as outbox_store
    from storage.db import make_engine, make_sessionmaker

    if settings.database.auto_migrate:
        await asyncio.get_running_loop().run_in_executor(None, migrate.upgrade, settings.database.url)
    engine = make_engine(settings.database.url)
    sm = make_sessionmaker(engine)
    try:
        sched = Scheduler(settings, sm)
        period = args.period or period_now(args.name, sched.clock().astimezone(sched.tz))
        async with sm() as s:
            branches = await rhythm.branches(s, args.branch)
        if not branches:
            print(f"没有找到支部{('“' + args.branch + '”') if args.branch else ''}", file=sys.stderr)
            return 1
        failed = False
        for b in branches:
            o = await sched.run_job(args.name, b, period, force=args.force)
            words = {
                "ran": "已运行",
                "done-before": "本周期已运行过（要再运行请加 --force）",
                "busy": "另一个实例正在运行",
                "failed": "运行失败",
                "gave-up": "多次失败，请加 --force 重试",
            }
            extra = f"：{o.detail}" if o.detail else ""
            print(f"{b.name} · {args.name} · {period}：{words.get(o.status, o.status)}{extra}")
            failed |= o.status == "failed"
        w = settings.wecom
        async with sm() as s:
            running = await outbox_store.live_sender(s, sched.clock())
        if running is not None:
            # a server is sending from this database: two senders could send the same message twice
            print("消息已写入发件箱，正在运行的机器人会发送（这里不再重复发送）。")
        elif args.no_send or not (w.corp_id and w.secret):
            print("消息已写入发件箱，由运行中的机器人发送。")
        else:
            async with aiohttp.ClientSession() as http:
                client = WeComClient(
                    http,
                    api_base=w.api_base,
                    corp_id=w.corp_id,
                    secret=w.secret,
                    agent_id=w.agent_id,
                    webhook_base=settings.webhook.base_url,
                )
                worker = OutboxWorker(settings.outbox, sm, client, instance=f"jobs-run:{os.getpid()}")
                try:
                    sent = await worker.run_once()
                finally:
                    await worker.drop()
            print(f"已发送 {sent} 条消息。")
        return 1 if failed else 0
    finally:
        await engine.dispose()


def _fmt(t) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t is not None else "—"


async def _list(settings: Settings, args: argparse.Namespace) -> int:
    from bot.scheduler import Scheduler
    from storage import migrate
    from storage.db import make_engine, make_sessionmaker

    if settings.database.auto_migrate:  # as every other command: an empty default database gets its tables
        await asyncio.get_running_loop().run_in_executor(None, migrate.upgrade, settings.database.url)
    engine = make_engine(settings.database.url)
    try:
        rows = await Scheduler(settings, make_sessionmaker(engine)).status()
    finally:
        await engine.dispose()
    if args.branch:
        rows = [r for r in rows if r["branch"] == args.branch]
    if not rows:
        print("还没有支部（先导入名册：lianhu roster import）")
        return 0
    status_words = {"done": "完成", "running": "运行中", "failed": "失败", None: ""}
    print(
        f"计划{'已开启' if settings.schedule.enabled else '已关闭（[schedule] enabled = false）'}，"
        f"时区 {settings.schedule.timezone}"
    )
    for r in rows:
        last = (
            f"{r['last_period']} {status_words.get(r['last_status'], r['last_status'])} {_fmt(r['last_at'])}"
            if r["last_period"]
            else "从未运行"
        )
        print(
            f"{r['branch']}  {r['job']:<9} {r['title']:<10} 上次：{last:<32} 下次：{_fmt(r['next_at'])}  ({r['cron']})"
        )
    return 0
