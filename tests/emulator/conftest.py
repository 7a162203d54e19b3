"""A tiny fake bot (decrypts WeCom's callbacks and answers as scripted) and an emulator wired to it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from defusedxml import ElementTree

from bot.wecom.crypto import CallbackCrypto
from emulator.server import Emulator
from emulator.world import Chat, EmulatorSettings, User, World

CORP = "wwemulatortest0001"
AGENT = 1000002
APP_TOKEN = "appToken123"
APP_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
AIBOT_TOKEN = "aibotToken456"
AIBOT_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
BRANCH = "wrQYbranch0001"
HH_GROUP = "wrQYm04hh01"
WEBHOOK_KEY = "demo-branch-key"


class FakeClock:
    def __init__(self, now: float = 1_764_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Hit:
    """One request the fake bot received."""

    kind: str
    query: dict[str, str]
    body: bytes
    plain: Any  # decrypted JSON dict (aibot) or XML string (app)


@dataclass
class FakeBot:
    aibot: CallbackCrypto = field(default_factory=lambda: CallbackCrypto(AIBOT_TOKEN, AIBOT_KEY, ""))
    app: CallbackCrypto = field(default_factory=lambda: CallbackCrypto(APP_TOKEN, APP_KEY, CORP))
    hits: list[Hit] = field(default_factory=list)
    delay: float = 0.0  # sleep before answering (to break the 5-second rule)
    status: int = 200
    status_seq: list[int] = field(default_factory=list)  # per-hit statuses, then `status`
    reply_crypto: CallbackCrypto | None = None  # sign passive replies with other credentials
    # What to answer: plaintext dict for the aibot / XML for the app, or None for an empty 200.
    aibot_reply: Callable[[dict[str, Any]], dict[str, Any] | None] = lambda _p: None
    app_reply: Callable[[str], str | None] = lambda _p: None
    echo_mangle: Callable[[str], str] = lambda s: s

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/aibot", self._aibot)
        app.router.add_route("*", "/app", self._app)
        return app

    def _verify(self, crypto: CallbackCrypto, request: web.Request) -> web.Response:
        q = request.query
        echo = crypto.decrypt(q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"])
        return web.Response(text=self.echo_mangle(echo))

    async def _aibot(self, request: web.Request) -> web.Response:
        if request.method == "GET":
            return self._verify(self.aibot, request)
        body = await request.read()
        q = dict(request.query)
        plain = json.loads(
            self.aibot.decrypt(q["msg_signature"], q["timestamp"], q["nonce"], json.loads(body)["encrypt"])
        )
        self.hits.append(Hit("aibot", q, body, plain))
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self._next_status()
        reply = self.aibot_reply(plain)
        if reply is None:
            return web.Response(status=status, text="")
        crypto = self.reply_crypto or self.aibot
        envelope = crypto.encrypt_json(json.dumps(reply, ensure_ascii=False), "n0nce", q["timestamp"])
        return web.json_response(envelope, status=status)

    def _next_status(self) -> int:
        return self.status_seq.pop(0) if self.status_seq else self.status

    async def _app(self, request: web.Request) -> web.Response:
        if request.method == "GET":
            return self._verify(self.app, request)
        body = await request.read()
        q = dict(request.query)
        encrypt = ElementTree.fromstring(body).findtext("Encrypt")
        plain = self.app.decrypt(q["msg_signature"], q["timestamp"], q["nonce"], encrypt)
        self.hits.append(Hit("app", q, body, plain))
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self._next_status()
        reply = self.app_reply(plain)
        if reply is None:
            return web.Response(status=status, text="")
        return web.Response(text=self.app.encrypt_xml(reply, "n0nce", q["timestamp"]), status=status)


def make_world() -> World:
    users = [
        User("chenjianguo", "陈建国", False),
        User("zhangwei", "张伟", False),
        User("wangli", "王丽", False),
        User("wmh011x7Qe", "赵大妈", True),
    ]
    chats = [
        Chat(BRANCH, "前洋村党员群", True, ["chenjianguo", "zhangwei", "wangli"], WEBHOOK_KEY, "一级"),
        Chat(HH_GROUP, "张伟联户群", False, ["zhangwei", "wmh011x7Qe"], None, "二级"),
    ]
    return World(users, chats)


def make_settings(bot_base: str, **overrides: Any) -> EmulatorSettings:
    values: dict[str, Any] = dict(
        corp_id=CORP,
        agent_id=AGENT,
        app_secret="appSecret",
        app_token=APP_TOKEN,
        app_aes_key=APP_KEY,
        app_callback_url=f"{bot_base}/app",
        aibot_id="aibAAAA",
        aibot_name="联户小助手",
        aibot_token=AIBOT_TOKEN,
        aibot_aes_key=AIBOT_KEY,
        aibot_callback_url=f"{bot_base}/aibot",
        callback_timeout=0.3,
        callback_retries=3,
        stream_refresh_interval=0.01,
    )
    values.update(overrides)
    return EmulatorSettings(**values)


@dataclass
class Env:
    emu: Emulator
    bot: FakeBot
    clock: FakeClock
    client: Any  # aiohttp TestClient on the emulator


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def env(aiohttp_server, aiohttp_client, clock) -> Env:
    bot = FakeBot()
    bot_server = await aiohttp_server(bot.make_app())
    settings = make_settings(str(bot_server.make_url("")).rstrip("/"))
    emu = Emulator(settings, make_world(), clock=clock)
    emu_server = await aiohttp_server(emu.make_app())
    emu.base_url = str(emu_server.make_url("")).rstrip("/")
    client = await aiohttp_client(emu_server)
    return Env(emu, bot, clock, client)
