"""The 智能机器人 long connection (WebSocket, wecom-platform.md §2.5): for deployments without a public HTTPS address.

Subscribe with bot_id + secret, ping every `ping_seconds` (two missed acks = a dead link), reconnect with
exponential backoff (1 s → 30 s). `aibot_msg_callback` goes through the same Runtime.handle as the callback mode;
the answer goes back with `aibot_respond_msg` under the callback's req_id (a finished markdown stream). If the link
is gone by then, the answer becomes an outbox row sent with `aibot_send_msg` once the link is back. The outbox
worker's "aibot" channel (proactive posts) is served from here. A `disconnected_event` means another connection
took over this bot: this one stops instead of kicking it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from bot.config import AiBotSettings
from bot.journal import JOURNAL_KEY, IntakeJournal
from bot.keys import RUNTIME_KEY, SETTINGS_KEY
from bot.outbox import OUTBOX_KEY, Transient
from bot.runtime import Runtime
from bot.wecom.callback import strip_mention
from bot.wecom.errors import WeComApiError
from handlers.context import Inbound
from storage import outbox
from storage.models import OutboundMessage

log = logging.getLogger(__name__)

ACK_TIMEOUT = 5.0  # the SDK waits 5 s for each ack


def req_id(cmd: str) -> str:
    return f"{cmd}_{int(time.time() * 1000)}_{secrets.token_hex(2)}"  # the SDK's generateReqId shape


class AiBotWs:
    def __init__(
        self,
        settings: AiBotSettings,
        runtime: Runtime,
        http: aiohttp.ClientSession,
        journal: IntakeJournal | None = None,
    ) -> None:
        self.settings = settings
        self.runtime = runtime
        self.journal = journal
        self.http = http
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.kicked = False
        self._stopping = False
        self.connects = 0
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self.connected = asyncio.Event()

    # --- life cycle ---------------------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self.kicked = self._stopping = True  # no reconnect while shutting down
        ws = self.ws
        if ws is not None and not ws.closed:
            with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError):
                await asyncio.wait_for(ws.close(), 1.0)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for t in list(self._handlers):
            t.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _run(self) -> None:
        s = self.settings
        backoff = s.reconnect_min_seconds
        while not self.kicked:
            try:
                async with self.http.ws_connect(
                    s.ws_url, heartbeat=None, timeout=aiohttp.ClientWSTimeout(ws_close=2.0)
                ) as ws:
                    if await self._subscribe(ws):
                        backoff = s.reconnect_min_seconds  # a good connection resets the backoff
                        await self._session(ws)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.warning("long connection failed: %s", exc)
            finally:
                self.ws = None
                self.connected.clear()
                self._fail_acks()
            if self.kicked:
                if not self._stopping:
                    log.error("另一个长连接顶替了本连接（disconnected_event），本实例不再重连")
                break
            await asyncio.sleep(backoff)
            backoff = min(s.reconnect_max_seconds, backoff * 2)

    async def _subscribe(self, ws: aiohttp.ClientWebSocketResponse) -> bool:
        rid = req_id("aibot_subscribe")
        await ws.send_json(
            {
                "cmd": "aibot_subscribe",
                "headers": {"req_id": rid},
                "body": {"bot_id": self.settings.bot_id, "secret": self.settings.secret},
            }
        )
        msg = await ws.receive(timeout=ACK_TIMEOUT)
        if msg.type != aiohttp.WSMsgType.TEXT:
            return False
        ack = msg.json()
        if ack.get("errcode") != 0:
            log.error("长连接订阅被拒绝：%s %s", ack.get("errcode"), ack.get("errmsg"))
            return False
        self.ws = ws
        self.connects += 1
        self.connected.set()
        return True

    async def _session(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        pinger = asyncio.get_running_loop().create_task(self._ping(ws))
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                try:
                    frame = msg.json()
                except ValueError:
                    continue
                self._on_frame(frame)
                if self.kicked:
                    break
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        missed = 0
        while True:
            await asyncio.sleep(self.settings.ping_seconds)
            try:
                await self.request("ping", None, ws=ws)
                missed = 0
            except (TimeoutError, ConnectionError, WeComApiError):
                missed += 1
                if missed >= 2:  # the SDK's rule: two missed acks = the link is dead
                    await ws.close()
                    return

    def _fail_acks(self) -> None:
        for fut in self._acks.values():
            if not fut.done():
                fut.set_exception(ConnectionError("long connection closed"))
        self._acks.clear()

    # --- frames -------------------------------------------------------------------------------------------
    def _on_frame(self, frame: dict[str, Any]) -> None:
        cmd = frame.get("cmd")
        rid = str((frame.get("headers") or {}).get("req_id") or "")
        if cmd is None:  # an ack
            fut = self._acks.pop(rid, None)
            if fut is not None and not fut.done():
                fut.set_result(frame)
            return
        body = frame.get("body") or {}
        if cmd == "aibot_event_callback":
            if (body.get("event") or {}).get("eventtype") == "disconnected_event":
                self.kicked = True
            return
        if cmd == "aibot_msg_callback":
            task = asyncio.get_running_loop().create_task(self._on_message(rid, body))
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)

    async def request(
        self,
        cmd: str,
        body: dict[str, Any] | None,
        *,
        rid: str | None = None,
        ws: aiohttp.ClientWebSocketResponse | None = None,
    ) -> dict[str, Any]:
        ws = ws or self.ws
        if ws is None or ws.closed:
            raise ConnectionError("long connection is down")
        rid = rid or req_id(cmd)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[rid] = fut
        frame: dict[str, Any] = {"cmd": cmd, "headers": {"req_id": rid}}
        if body is not None:
            frame["body"] = body
        try:
            await ws.send_json(frame)
            ack = await asyncio.wait_for(fut, ACK_TIMEOUT)
        finally:
            self._acks.pop(rid, None)
        if ack.get("errcode", 0) != 0:
            raise WeComApiError(int(ack["errcode"]), str(ack.get("errmsg", "")), cmd)
        return ack

    async def _on_message(self, rid: str, body: dict[str, Any]) -> None:
        try:
            inbound = self._inbound(body)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("long-connection message refused: %s", exc)
            return
        # WeCom does not push a message twice over the long connection either: on disk first, as the callbacks do
        # (bot/journal.py), so a kill -9 while the database is held loses nothing
        if self.journal is None:
            result = await self.runtime.handle(inbound)
        else:
            try:
                await self.journal.append(inbound)
            except OSError as exc:
                log.warning("intake journal not writable (%s): handling %s without it", exc, inbound.msg_id)
                result = await self.runtime.handle(inbound)
            else:
                result = await self.journal.handle(self.runtime, inbound)
        if not result.reply:
            return
        stream = {"id": hashlib.sha1(inbound.msg_id.encode()).hexdigest()[:16], "finish": True, "content": result.reply}
        try:
            await self.request("aibot_respond_msg", {"msgtype": "stream", "stream": stream}, rid=rid)
        except (ConnectionError, TimeoutError, WeComApiError) as exc:
            # the link dropped before the answer left: post it to the chat once the link is back
            log.warning("aibot_respond_msg failed (%s); answer queued for aibot_send_msg", exc)
            target = inbound.chat_id if inbound.chat_type == "group" else inbound.sender
            async with self.runtime.sessionmaker() as session, session.begin():
                outbox.enqueue(
                    session, channel="aibot", target=target, content=result.reply, key=f"wsreply:{inbound.msg_id}"
                )
            self.runtime._kick_outbox()

    def _inbound(self, body: dict[str, Any]) -> Inbound:
        chattype = body.get("chattype")
        if chattype not in ("group", "single"):
            raise ValueError("chattype")
        sender = str((body.get("from") or {})["userid"])[:64]
        content = str((body.get("text") or {}).get("content") or "") if body.get("msgtype") == "text" else ""
        created = body.get("create_time")
        sent_at = (
            dt.datetime.fromtimestamp(created, dt.UTC)
            if isinstance(created, int) and created > 0
            else dt.datetime.now(dt.UTC)
        )
        return Inbound(
            channel="ws",
            msg_id=str(body["msgid"])[:128],
            sender=sender,
            chat_id=str(body.get("chatid") or "")[:64] if chattype == "group" else "",
            chat_type=chattype,
            text=strip_mention(content.replace("\x00", "")[:8000], self.settings.name),
            sent_at=sent_at,
            meta={"aibotid": body.get("aibotid")},
        )

    # --- the outbox's "aibot" channel ---------------------------------------------------------------------
    async def send_row(self, row: OutboundMessage) -> None:
        if self.ws is None:
            raise Transient("长连接未连接")
        msgtype = row.msgtype if row.msgtype in ("markdown", "template_card") else "markdown"
        body: dict[str, Any] = {"chatid": row.target, "msgtype": msgtype}
        body[msgtype] = (
            (row.payload or {}).get("template_card") if msgtype == "template_card" else {"content": row.content}
        )
        try:
            await self.request("aibot_send_msg", body)
        except ConnectionError as exc:
            raise Transient(str(exc)) from exc


WS_KEY: web.AppKey[AiBotWs] = web.AppKey("aibot_ws")


async def ws_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: hold the long connection when [aibot] mode = "websocket"."""
    settings = app[SETTINGS_KEY].aibot
    if settings.mode != "websocket":
        yield
        return
    async with aiohttp.ClientSession() as http:
        client = AiBotWs(settings, app[RUNTIME_KEY], http, app.get(JOURNAL_KEY))
        app[WS_KEY] = client
        worker = app.get(OUTBOX_KEY)
        if worker is not None:
            worker.senders["aibot"] = client.send_row
        client.start()
        yield
        if worker is not None:
            worker.senders.pop("aibot", None)
        await client.stop()
