"""`lianhu archive bridge|check|quarantine` and `lianhu kf link` (issue 14)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from bot.config import Settings, load_settings

EXIT_SDK_MISSING = 3


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


# --- archive check -------------------------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace) -> int:
    from bot.archive_bridge.bridge import worker_for
    from bot.archive_bridge.codes import advice, meaning
    from bot.archive_bridge.keys import KeyProblem, PrivateKeys
    from bot.archive_bridge.supervisor import SdkFailure, WorkerDied

    settings = _settings(args).model_copy(deep=True)
    a = settings.archive
    if not a.sdk:
        a.sdk = "pywecomarchive"  # check is about Tencent's SDK unless the emulator is configured
    print(f"SDK：{a.sdk}")
    print(f"企业 ID：{a.corp_id or '（未填）'}；Secret：{'已填' if a.secret.get_secret_value() else '（未填）'}")
    try:
        keys = PrivateKeys.from_files(a.private_keys)
        print(f"私钥版本：{'、'.join(map(str, keys.versions)) or '（未配置 private_keys）'}")
    except KeyProblem as exc:
        print(f"私钥有问题：{exc}")

    async def main() -> int:
        worker = worker_for(a)
        try:
            try:
                answer = await worker.call("chatdata", seq=0, limit=1)
            except SdkFailure as exc:
                if exc.code == "load":
                    print(f"SDK 加载失败：{exc.error}")
                    return EXIT_SDK_MISSING
                print(f"SDK 已加载：{worker.sdk_name or a.sdk}" if worker.sdk_name else "SDK 已加载，Init 未通过")
                op = "GetChatData" if worker.sdk_name else "Init"
                detail = "" if worker.sdk_name else f"（{exc.error}）"
                print(f"{op} 返回错误码 {exc.code}：{meaning(exc.code)}{detail}")
                print(f"处理建议：{advice(exc.code)}")
                return 0
            except WorkerDied as exc:
                print(f"SDK 子进程异常退出：{exc}")
                return 1
            print(f"SDK 已加载：{worker.sdk_name}")
            print(f"GetChatData 返回错误码 0：{meaning(0)}（取到 {len(answer.get('chatdata') or [])} 条）")
            return 0
        finally:
            await worker.close()

    return asyncio.run(main())


# --- archive bridge ------------------------------------------------------------------------------------------
def cmd_bridge(args: argparse.Namespace) -> int:
    import aiohttp

    from bot.archive_bridge.bridge import ArchiveBridge, config_problem, worker_for
    from bot.archive_bridge.keys import KeyProblem, PrivateKeys
    from bot.runtime import Runtime
    from bot.wecom.client import WeComClient
    from handlers import build_dispatcher
    from storage import migrate
    from storage.db import make_engine, make_sessionmaker

    settings = _settings(args)
    a = settings.archive
    problem = config_problem(a)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    keys = PrivateKeys.from_files(a.private_keys)

    async def main() -> int:
        if settings.database.auto_migrate:
            await asyncio.get_running_loop().run_in_executor(None, migrate.upgrade, settings.database.url)
        engine = make_engine(settings.database.url)
        worker = worker_for(a)
        try:
            async with aiohttp.ClientSession() as http:
                w = settings.wecom
                client = WeComClient(
                    http,
                    api_base=w.api_base,
                    corp_id=w.corp_id,
                    secret=w.secret,
                    agent_id=w.agent_id,
                    webhook_base=settings.webhook.base_url,
                )
                # Replies to members go to the outbox table; the running `lianhu serve` sends them.
                rt = Runtime(settings, make_sessionmaker(engine), build_dispatcher(), client)
                bridge = ArchiveBridge(a, rt, worker, keys)
                if args.once:
                    total = 0
                    while (moved := await bridge.pull_once()) > 0:
                        total += moved
                    print(f"已处理到最新：本次 {total} 条。")
                    return 0
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(NotImplementedError):
                        loop.add_signal_handler(sig, stop.set)
                print(
                    f"会话存档桥接服务已启动（{a.sdk}，私钥版本 {'、'.join(map(str, keys.versions))}），Ctrl+C 停止。"
                )
                await bridge.run(stop)
                await rt.settle()
                return 0
        finally:
            await worker.close()
            await engine.dispose()

    from bot.archive_bridge.supervisor import SdkFailure, WorkerDied

    try:
        return asyncio.run(main())
    except (SdkFailure, WorkerDied, KeyProblem) as exc:  # --once: say why it stopped, without a traceback
        print(f"桥接服务停止：{exc}", file=sys.stderr)
        return EXIT_SDK_MISSING if isinstance(exc, SdkFailure) and exc.code == "load" else 1


# --- archive quarantine --------------------------------------------------------------------------------------
def cmd_quarantine(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from storage.db import make_engine, make_sessionmaker
    from storage.models import ArchiveQuarantine

    settings = _settings(args)

    async def main() -> int:
        engine = make_engine(settings.database.url)
        try:
            async with make_sessionmaker(engine)() as session:
                rows = list(await session.scalars(select(ArchiveQuarantine).order_by(ArchiveQuarantine.seq)))
        finally:
            await engine.dispose()
        if not rows:
            print("没有被隔离的存档记录。")
            return 0
        print(f"被隔离的存档记录 {len(rows)} 条（读取已越过它们继续）：")
        for r in rows:
            when = r.at.astimezone().strftime("%Y-%m-%d %H:%M")
            print(f"  seq {r.seq}  消息 {r.msgid or '-'}  公钥版本 {r.publickey_ver}  {when}  {r.reason}")
        return 0

    return asyncio.run(main())


# --- kf link -------------------------------------------------------------------------------------------------
def cmd_kf_link(args: argparse.Namespace) -> int:
    import aiohttp

    from bot.archive import read_cursor_text, write_cursor_text
    from bot.wecom.client import WeComClient
    from bot.wecom.errors import WeComApiError
    from storage import migrate
    from storage.db import make_engine, make_sessionmaker

    settings = _settings(args)
    open_kfid = args.open_kfid or settings.kf.open_kfid
    scene = args.scene or settings.kf.scene
    if not open_kfid:
        print("请在 [kf] open_kfid 填上微信客服账号（管理后台“微信客服”里查），或用 --open-kfid。", file=sys.stderr)
        return 2
    name = f"kf:contact_way:{open_kfid}:{scene}"[:80]

    async def main() -> tuple[str, bool] | None:
        if settings.database.auto_migrate:
            await asyncio.get_running_loop().run_in_executor(None, migrate.upgrade, settings.database.url)
        engine = make_engine(settings.database.url)
        try:
            sm = make_sessionmaker(engine)
            async with sm() as session:
                url = "" if args.new else await read_cursor_text(session, name)
            if url:
                return url, False
            w = settings.wecom
            async with aiohttp.ClientSession() as http:
                client = WeComClient(http, api_base=w.api_base, corp_id=w.corp_id, secret=w.secret, agent_id=0)
                try:
                    data = await client.call("kf/add_contact_way", {"open_kfid": open_kfid, "scene": scene})
                except WeComApiError as exc:
                    print(f"企业微信拒绝了：{exc}", file=sys.stderr)
                    return None
            url = str(data.get("url") or "")
            if not url:
                print("企业微信没有返回链接。", file=sys.stderr)
                return None
            async with sm() as session, session.begin():
                await write_cursor_text(session, name, url)  # shown again next time instead of a new one
            return url, True
        finally:
            await engine.dispose()

    got = asyncio.run(main())
    if got is None:
        return 1
    url, created = got
    out = Path(args.out or f"var/kf_{scene}.png")
    print(f"微信客服链接{'（新建）' if created else '（已有）'}：{url}")
    try:
        write_qr_png(url, out)
    except ImportError:
        print("没有安装 segno，生成不了二维码：pip install segno", file=sys.stderr)
        return 1
    print(f"二维码图片：{out.resolve()}（党员可以把它发到联户群，居民扫码就能一对一找村里）")
    return 0


def write_qr_png(url: str, out: Path) -> None:
    import segno

    out.parent.mkdir(parents=True, exist_ok=True)
    segno.make(url, error="m").save(str(out), kind="png", scale=8, border=4)


def register(sub: argparse._SubParsersAction) -> None:
    archive = sub.add_parser(
        "archive",
        help="会话内容存档桥接（腾讯 SDK）/ the chat-archive bridge on Tencent's SDK",
        description="会话内容存档桥接（腾讯 SDK）/ the chat-archive bridge on Tencent's SDK",
    )
    asub = archive.add_subparsers(dest="archive_command", required=True, metavar="ACTION")
    sp = asub.add_parser("bridge", help="持续读取存档消息并交给机器人处理 / read the archive and deliver messages")
    sp.add_argument("--once", action="store_true", help="读到最新就退出 / stop when caught up")
    sp.add_argument("--config", metavar="FILE")
    sp.set_defaults(func=cmd_bridge)
    sp = asub.add_parser("check", help="检查 SDK、Secret、私钥是否可用 / check the SDK, secret and keys")
    sp.add_argument("--config", metavar="FILE")
    sp.set_defaults(func=cmd_check)
    sp = asub.add_parser("quarantine", help="列出解不开而被隔离的记录 / list quarantined records")
    sp.add_argument("--config", metavar="FILE")
    sp.set_defaults(func=cmd_quarantine)

    kf = sub.add_parser(
        "kf", help="微信客服 / WeChat customer service", description="微信客服 / WeChat customer service"
    )
    ksub = kf.add_subparsers(dest="kf_command", required=True, metavar="ACTION")
    sp = ksub.add_parser("link", help="生成给居民扫的微信客服二维码 / the contact link as a QR-code PNG")
    sp.add_argument("--open-kfid", help="微信客服账号 / the 微信客服 account (default: [kf] open_kfid)")
    sp.add_argument("--scene", help="场景值 / scene (default: [kf] scene)")
    sp.add_argument("--out", help="二维码 PNG 存到哪里 / where to write the PNG (default: var/kf_<scene>.png)")
    sp.add_argument("--new", action="store_true", help="不用已保存的链接，重新申请 / ask WeCom for a new link")
    sp.add_argument("--config", metavar="FILE")
    sp.set_defaults(func=cmd_kf_link)
