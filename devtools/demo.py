"""`lianhu demo`: the bot and a local WeCom emulator in one process, on the sample village.

Also the glue tests use: the same world and settings, so the demo and the suite exercise one setup.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import secrets
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.app import create_app
from bot.config import ArchiveSettings, Settings
from emulator.server import Emulator, start_emulator
from emulator.world import Chat, EmulatorSettings, User, World
from storage import migrate
from storage.db import make_engine, make_sessionmaker
from storage.roster_file import RosterFile, load_roster
from storage.roster_sync import import_roster

DEMO_CORP_ID = "wwlianhudemo0001"
DEMO_AGENT_ID = 1000002


def demo_roster_path() -> Path:
    return Path(str(resources.files("devtools") / "demo_data" / "roster.xlsx"))


def random_aes_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()[:43]


def world_from_roster(rf: RosterFile) -> World:
    users = [User(m.userid, m.name) for m in rf.members if m.userid]
    users += [User(h.external_userid, f"{h.head_name}家", external=True) for h in rf.households if h.external_userid]
    member_userid = {m.code: m.userid for m in rf.members if m.userid}
    chats = []
    for g in rf.groups:
        if g.level == 1:
            members = [m.userid for m in rf.members if m.userid]
        else:
            members = [member_userid[g.member_code]] if g.member_code in member_userid else []
            members += [
                h.external_userid for h in rf.households if h.member_code == g.member_code and h.external_userid
            ]
        chats.append(Chat(g.chat_id, g.name, g.internal, members, g.webhook_key, "一级" if g.level == 1 else "二级"))
    return World(users, chats)


@dataclass
class Pair:
    """A running emulator and bot wired to each other."""

    emulator: Emulator
    emulator_url: str
    bot_url: str
    settings: Settings
    runners: list[web.AppRunner]
    closers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)  # run last

    async def close(self) -> None:
        await self.emulator.close()
        for r in reversed(self.runners):
            await r.cleanup()
        for done in reversed(self.closers):
            await done()


async def run_job_now(pair: Pair, name: str) -> str:
    """The page's "现在运行" buttons: the job as `lianhu jobs run NAME --force` runs it (the summary for this month
    so far, the digest for this week), through the running bot's scheduler and outbox. Says what happened."""
    from bot.keys import RUNTIME_KEY
    from bot.scheduler import Scheduler, period_now
    from storage import rhythm

    runtime = next(r.app[RUNTIME_KEY] for r in pair.runners if RUNTIME_KEY in r.app)
    sched = Scheduler(pair.settings, runtime.sessionmaker, instance="demo-page")
    now_local = sched.clock().astimezone(sched.tz)
    period = now_local.strftime("%Y-%m") if name == "summary" else period_now(name, now_local)
    async with runtime.sessionmaker() as s:
        branches = await rhythm.branches(s)
    lines = []
    for b in branches:
        o = await sched.run_job(name, b, period, force=True)
        lines.append(f"{b.name}：{'已运行' if o.status == 'ran' else '没有运行（' + o.status + '）'}")
    runtime.delivery.kick()
    title = "主题党日汇总（本月到今天）" if name == "summary" else "周二联合办公摘要（本周）"
    return f"{title}，{period}：" + "；".join(lines)


@functools.cache
def _archive_key() -> rsa.RSAPrivateKey:
    """The demo's 会话内容存档 key pair (one per process: 2048-bit keys take a moment to make)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def archive_settings(emulator: Emulator, emulator_url: str, corp_id: str, folder: Path, **kw) -> ArchiveSettings:
    """What a village configures in [archive], pointed at the emulator's archive-SDK mode: the private key in a
    file under `folder`, its public key given to the emulator's "admin console" as version 1. `lianhu serve`
    then reads the archive with the same bridge code a village runs on Tencent's SDK (only the SDK call differs:
    bot/archive_bridge/worker.py)."""
    key = _archive_key()
    pem = folder / "archive_v1.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    pem.chmod(0o600)
    emulator.set_archive_key(1, key.public_key())
    return ArchiveSettings(
        sdk="emulator",
        corp_id=corp_id,
        secret=emulator.settings.archive_secret,
        emulator_url=emulator_url,
        private_keys={"1": str(pem)},
        **kw,
    )


def paired_settings(base: Settings, emulator_url: str) -> Settings:
    """Point the bot at the emulator and give both sides the same fresh secrets."""
    s = base.model_copy(deep=True)
    s.wecom.corp_id = s.wecom.corp_id or DEMO_CORP_ID
    s.wecom.agent_id = s.wecom.agent_id or DEMO_AGENT_ID
    s.wecom.secret = s.wecom.secret or secrets.token_urlsafe(16)
    s.wecom.token = s.wecom.token or secrets.token_urlsafe(12)
    s.wecom.encoding_aes_key = s.wecom.encoding_aes_key or random_aes_key()
    s.wecom.api_base = emulator_url
    s.webhook.base_url = emulator_url
    s.console.oauth_base = emulator_url  # the console logs in through the emulator's 网页授权 / 扫码登录
    s.console.sso_base = emulator_url
    s.aibot.bot_id = s.aibot.bot_id or "aibot-demo"
    s.aibot.token = s.aibot.token or secrets.token_urlsafe(12)
    s.aibot.encoding_aes_key = s.aibot.encoding_aes_key or random_aes_key()
    s.aibot.secret = s.aibot.secret or secrets.token_urlsafe(16)
    return s


async def import_file(settings: Settings, path: Path) -> None:
    rf = load_roster(path)
    await asyncio.get_running_loop().run_in_executor(None, migrate.upgrade, settings.database.url)
    engine = make_engine(settings.database.url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await import_roster(session, rf, actor="demo")
    finally:
        await engine.dispose()


async def start_pair(
    base: Settings,
    roster: Path,
    *,
    host: str = "127.0.0.1",
    emulator_port: int = 0,
    bot_port: int = 0,
    callback_timeout: float = 5.0,
    import_roster_first: bool = True,
    archive: bool = False,
    aibot: bool = True,
    **app_kw,
) -> Pair:
    """`archive=True`: the bot reads the chat archive (every group, internal ones too) from the emulator's
    archive-SDK mode, as `lianhu demo` does; [aibot] mode = "websocket" in `base` connects the bot to the
    emulator's long-connection gateway. `aibot=False`: the bot has no 智能机器人 configured (a village with only
    the app and the archive), so the archive owns the internal groups too (domain/channels.py)."""
    rf = load_roster(roster)
    world = world_from_roster(rf)
    # The emulator must know the bot's URL and the bot the emulator's: bind the bot's socket first.
    bot_site_probe = web.AppRunner(web.Application())
    await bot_site_probe.setup()
    probe = web.TCPSite(bot_site_probe, host, bot_port)
    await probe.start()
    bot_port = probe._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await bot_site_probe.cleanup()
    bot_url = f"http://{host}:{bot_port}"

    placeholder = paired_settings(base, "http://placeholder")
    emu_settings = EmulatorSettings(
        corp_id=placeholder.wecom.corp_id,
        agent_id=placeholder.wecom.agent_id,
        app_secret=placeholder.wecom.secret,
        app_token=placeholder.wecom.token,
        app_aes_key=placeholder.wecom.encoding_aes_key,
        app_callback_url=f"{bot_url}/wecom/app",
        aibot_id=placeholder.aibot.bot_id,
        aibot_name=placeholder.aibot.name,
        aibot_token=placeholder.aibot.token,
        aibot_aes_key=placeholder.aibot.encoding_aes_key,
        aibot_callback_url=f"{bot_url}/wecom/aibot",
        callback_timeout=callback_timeout,
        aibot_secret=placeholder.aibot.secret,
        aibot_mode=placeholder.aibot.mode,
    )
    emulator, emu_runner, emulator_url = await start_emulator(emu_settings, world, host=host, port=emulator_port)
    settings = placeholder.model_copy(deep=True)
    settings.wecom.api_base = emulator_url
    settings.webhook.base_url = emulator_url
    settings.console.oauth_base = settings.console.sso_base = emulator_url
    settings.aibot.ws_url = emulator_url.replace("http://", "ws://", 1) + "/ws"
    if not aibot:
        settings.aibot.token = settings.aibot.encoding_aes_key = settings.aibot.bot_id = settings.aibot.secret = ""
    closers: list[Callable[[], Awaitable[object]]] = []
    if archive:
        folder = Path(tempfile.mkdtemp(prefix="lianhu-demo-archive-"))
        closers.append(lambda: asyncio.to_thread(shutil.rmtree, folder, True))  # the private key goes with it
        poll = min(base.archive.poll_seconds, 1.0)
        settings.archive = archive_settings(
            emulator,
            emulator_url,
            settings.wecom.corp_id,
            folder,
            poll_seconds=poll,
            batch_limit=base.archive.batch_limit,
            backoff_min_seconds=min(base.archive.backoff_min_seconds, poll * 10),
            backoff_max_seconds=base.archive.backoff_max_seconds,
            reader_lease_seconds=base.archive.reader_lease_seconds,
        )
    if import_roster_first:
        await import_file(settings, roster)
    app = create_app(settings, **app_kw)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, bot_port).start()
    pair = Pair(emulator, emulator_url, bot_url, settings, [emu_runner, runner], closers)
    emulator.job_runner = lambda name: run_job_now(pair, name)
    return pair
