"""微信客服 (kf): residents' 1:1 chats on WeChat (wecom-platform.md §4.4).

WeCom tells the app callback `kf_msg_or_event` (with a Token and the OpenKfId); the bot then pulls with
kf/sync_msg from its stored cursor. Each resident message goes through Runtime.handle (channel "kf"), which in the
same transaction opens the resident's 48-hour / 5-reply window (bot/outbox.py keeps it when replying). The cursor
is stored after the page's messages are handled; a crash in between re-reads the page and the (kf, msgid) key
keeps each message from being handled twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from bot.archive import read_cursor_text, write_cursor_text
from bot.keys import CLIENT_KEY, RUNTIME_KEY
from bot.runtime import Runtime
from bot.wecom.client import WeComClient
from bot.wecom.errors import WeComApiError
from handlers.context import Inbound
from jobs.kf_window import note_inbound

log = logging.getLogger(__name__)

ORIGIN_RESIDENT = 3  # 微信客户发送的消息


def cursor_name(open_kfid: str) -> str:
    return f"kf:cursor:{open_kfid}"


class KfSync:
    def __init__(self, runtime: Runtime, client: WeComClient) -> None:
        self.runtime = runtime
        self.client = client
        self._locks: dict[str, asyncio.Lock] = {}
        self._again: set[str] = set()
        self.tasks: set[asyncio.Task[Any]] = set()

    def on_event(self, fields: dict[str, str]) -> None:
        """The app callback must answer at once: pull in the background, one pull per account at a time."""
        open_kfid = fields.get("OpenKfId", "")
        if not open_kfid:
            return
        task = asyncio.get_running_loop().create_task(self.sync(open_kfid, fields.get("Token", "")))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def sync(self, open_kfid: str, token: str = "") -> int:
        lock = self._locks.setdefault(open_kfid, asyncio.Lock())
        if lock.locked():
            self._again.add(open_kfid)  # an event during a pull: pull once more afterwards
            return 0
        handled = 0
        async with lock:
            while True:
                self._again.discard(open_kfid)
                try:
                    handled += await self._pull(open_kfid, token)
                except (WeComApiError, TimeoutError, OSError) as exc:
                    log.warning("kf/sync_msg for %s failed (%s); the next event retries", open_kfid, exc)
                    break
                if open_kfid not in self._again:
                    break
        return handled

    async def _pull(self, open_kfid: str, token: str) -> int:
        handled = 0
        async with self.runtime.sessionmaker() as session:
            cursor = await read_cursor_text(session, cursor_name(open_kfid))
        while True:
            body: dict[str, Any] = {"cursor": cursor, "limit": 1000, "open_kfid": open_kfid}
            if token:
                body["token"] = token
            data = await self.client.call("kf/sync_msg", body)
            for item in data.get("msg_list") or []:
                if await self._handle(item, open_kfid):
                    handled += 1
            cursor = str(data.get("next_cursor") or cursor)
            async with self.runtime.sessionmaker() as session, session.begin():
                await write_cursor_text(session, cursor_name(open_kfid), cursor)
            if not data.get("has_more"):
                return handled

    async def _handle(self, item: dict[str, Any], open_kfid: str) -> bool:
        if not isinstance(item, dict) or item.get("origin") != ORIGIN_RESIDENT:
            return False  # system events, messages the staff typed themselves
        user = str(item.get("external_userid") or "")
        msgid = str(item.get("msgid") or "")
        if not user or not msgid:
            return False
        send_time = item.get("send_time")
        sent_at = (
            dt.datetime.fromtimestamp(send_time, dt.UTC) if isinstance(send_time, int) else dt.datetime.now(dt.UTC)
        )

        if item.get("msgtype") != "text":
            log.info("kf %s from %s: %s logged, not parsed", msgid, user, item.get("msgtype"))
            async with self.runtime.sessionmaker() as session, session.begin():
                await note_inbound(session, user, sent_at)  # any message opens the reply window
            return False
        text = str((item.get("text") or {}).get("content") or "").replace("\x00", "")[:8000]
        inbound = Inbound(
            channel="kf",
            msg_id=msgid[:128],
            sender=user[:64],
            chat_id="",
            chat_type="single",
            text=text,
            sent_at=sent_at,
            meta={"open_kfid": open_kfid},
        )
        result = await self.runtime.handle(inbound)  # the runtime opens the reply window
        return not result.duplicate


async def kf_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: listen for kf_msg_or_event on the app callback."""
    rt = app[RUNTIME_KEY]
    kf = KfSync(rt, app[CLIENT_KEY])
    rt.app_event_hooks["kf_msg_or_event"] = kf.on_event
    yield
    rt.app_event_hooks.pop("kf_msg_or_event", None)
    for task in list(kf.tasks):
        task.cancel()
    await asyncio.gather(*kf.tasks, return_exceptions=True)
