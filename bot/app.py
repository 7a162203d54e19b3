"""The app factory: explicit settings in, a web.Application out; every resource lives in a cleanup_ctx."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web

from bot.config import Settings
from bot.console import setup_console
from bot.journal import JOURNAL_KEY, journal_ctx, replay_ctx
from bot.keys import CLIENT_KEY, ENGINE_KEY, RUNTIME_KEY, SESSIONMAKER_KEY, SETTINGS_KEY
from bot.runtime import Runtime
from bot.scheduler import scheduler_ctx
from bot.sweeper import sweep_forever
from bot.wecom.callback import AiBotCallback, AppCallback
from bot.wecom.client import WeComClient
from bot.wecom.crypto import CallbackCrypto
from handlers import build_dispatcher
from nlp.parser import Parser
from nlp.roster import Roster
from storage import migrate
from storage.db import make_engine, make_sessionmaker
from storage.models import utcnow

log = logging.getLogger(__name__)

SWEEP_SECONDS = 15


def create_app(
    settings: Settings, *, clock: Callable[[], dt.datetime] = utcnow, sweep_seconds: float = SWEEP_SECONDS
) -> web.Application:
    app = web.Application(client_max_size=settings.server.max_body_bytes)
    app[SETTINGS_KEY] = settings

    async def database(app: web.Application) -> AsyncIterator[None]:
        if settings.database.auto_migrate:
            await asyncio.get_running_loop().run_in_executor(None, migrate.upgrade, settings.database.url)
        engine = make_engine(settings.database.url, echo=settings.database.echo)
        app[ENGINE_KEY] = engine
        app[SESSIONMAKER_KEY] = make_sessionmaker(engine)
        yield
        await engine.dispose()

    async def http_client(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as http:
            w = settings.wecom
            app[CLIENT_KEY] = WeComClient(
                http,
                api_base=w.api_base,
                corp_id=w.corp_id,
                secret=w.secret,
                agent_id=w.agent_id,
                webhook_base=settings.webhook.base_url,
            )
            yield

    async def nlp(app: web.Application) -> AsyncIterator[None]:
        # jieba's dictionary takes ~0.7 s to build: do it once, off the event loop, before traffic.
        await asyncio.get_running_loop().run_in_executor(None, Parser, Roster())
        yield

    async def runtime(app: web.Application) -> AsyncIterator[None]:
        rt = Runtime(settings, app[SESSIONMAKER_KEY], build_dispatcher(), app[CLIENT_KEY], clock=clock)
        app[RUNTIME_KEY] = rt
        _add_callback_routes(app, settings, rt)
        sweeper = asyncio.create_task(sweep_forever(rt.sweep_conversations, sweep_seconds))
        yield
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await rt.settle()

    # the intake journal opens before the callbacks and closes after the runtime has settled (bot/journal.py)
    app.cleanup_ctx.extend([database, http_client, nlp, journal_ctx, runtime, replay_ctx, *_transport_ctxs()])
    app.cleanup_ctx.append(scheduler_ctx)  # issue 6: the branch's rhythm, after the runtime and the outbox
    app.router.add_get("/healthz", _healthz)
    setup_console(app, settings)  # issue 16: the secretary's console under /console/
    for name in ("aibot", "app"):  # GET = URL verification, POST = messages; anything else is a 405
        app.router.add_get(f"/wecom/{name}", _late(name))
        app.router.add_post(f"/wecom/{name}", _late(name))
    return app


def _transport_ctxs() -> list:
    """Issue-5 transport: the outbox worker, the chat-archive reader, 微信客服, the long connection."""
    from bot.archive_bridge.bridge import archive_ctx
    from bot.kf import kf_ctx
    from bot.outbox import outbox_ctx
    from bot.ws import ws_ctx

    return [outbox_ctx, archive_ctx, kf_ctx, ws_ctx]


def _late(name: str):
    """The callback objects need the runtime, which exists only after start-up: look them up per request."""

    async def view(request: web.Request) -> web.Response:
        cb = request.app.get(_CALLBACKS_KEY, {}).get(name)
        if cb is None:
            return web.Response(status=404, text=f"{name} 回调未配置")
        return await (cb.verify(request) if request.method == "GET" else cb.post(request))

    return view


_CALLBACKS_KEY = web.AppKey("callbacks", dict)


def _add_callback_routes(app: web.Application, settings: Settings, rt: Runtime) -> None:
    s = settings.server
    common = dict(max_body=s.max_body_bytes, replay_window=s.replay_window_seconds, budget=s.reply_budget_seconds)
    common["journal"] = app.get(JOURNAL_KEY)
    callbacks: dict[str, object] = {}
    if settings.aibot.token and settings.aibot.encoding_aes_key:
        crypto = CallbackCrypto(settings.aibot.token, settings.aibot.encoding_aes_key, "")
        callbacks["aibot"] = AiBotCallback(crypto, rt, bot_name=settings.aibot.name, **common)
    if settings.wecom.token and settings.wecom.encoding_aes_key:
        crypto = CallbackCrypto(settings.wecom.token, settings.wecom.encoding_aes_key, settings.wecom.corp_id)
        callbacks["app"] = AppCallback(crypto, rt, corp_id=settings.wecom.corp_id, **common)
    app[_CALLBACKS_KEY] = callbacks


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})
