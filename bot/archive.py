"""Reading household groups through the chat archive (会话内容存档), by /work/shared/spec/archive-feed.md.

The poller asks the bridge for messages after the last handled seq and handles them strictly in seq order. Each
message's cursor write happens in the transaction of what the message produced (Runtime.handle's before_commit),
so a crash anywhere re-reads from the last committed seq and the (archive, msgid) key keeps a message from being
recorded twice. A non-zero errcode, a bad answer or a failure to store stops the round; the next round retries
from the same seq — nothing is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import ArchiveSettings
from bot.keys import RUNTIME_KEY, SETTINGS_KEY
from bot.runtime import Runtime
from handlers.context import Inbound
from jobs.recall import apply_recall
from storage import repo
from storage.models import FeedCursor, utcnow

log = logging.getLogger(__name__)

CURSOR = "archive:seq"


class FeedError(Exception):
    pass


async def read_cursor(session: AsyncSession, name: str = CURSOR) -> int:
    cur = await session.get(FeedCursor, name)
    return int(cur.value) if cur is not None and cur.value.isdigit() else 0


async def write_cursor(session: AsyncSession, seq: int, name: str = CURSOR) -> None:
    cur = await session.get(FeedCursor, name)
    if cur is None:
        session.add(FeedCursor(name=name, value=str(seq), updated_at=utcnow()))
    elif not cur.value.isdigit() or int(cur.value) < seq:  # never moves back
        cur.value, cur.updated_at = str(seq), utcnow()


async def read_cursor_text(session: AsyncSession, name: str) -> str:
    cur = await session.get(FeedCursor, name)
    return cur.value if cur is not None else ""


async def write_cursor_text(session: AsyncSession, name: str, value: str) -> None:
    cur = await session.get(FeedCursor, name)
    if cur is None:
        session.add(FeedCursor(name=name, value=value, updated_at=utcnow()))
    else:
        cur.value, cur.updated_at = value, utcnow()


def text_of(msg: dict[str, Any]) -> str | None:
    """The text of a `text` message, or the text parts of a `mixed` one; None for anything else."""
    kind = msg.get("msgtype")
    if kind == "text":
        body = msg.get("text")
        return str(body.get("content", "")) if isinstance(body, dict) else None
    if kind == "mixed":
        body = msg.get("mixed")
        items = body.get("item", []) if isinstance(body, dict) else []
        parts = []
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or item.get("type") != "text":
                continue
            content = item.get("content")
            if isinstance(content, str):  # the archive nests the part as a JSON string: {"content": "…"}
                try:
                    inner = json.loads(content)
                    content = inner.get("content", "") if isinstance(inner, dict) else content
                except ValueError:
                    pass
            elif isinstance(content, dict):
                content = content.get("content", "")
            if content:
                parts.append(str(content))
        return "\n".join(parts) if parts else None
    return None


class ArchivePoller:
    def __init__(self, settings: ArchiveSettings, runtime: Runtime, http: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.runtime = runtime
        self.http = http
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                while await self.poll_once() >= self.settings.batch_limit:
                    pass  # a full page: there is more right away
            except Exception:
                log.exception("archive poll failed; retrying from the same seq")
            await asyncio.sleep(self.settings.poll_seconds)

    async def fetch(self, seq: int) -> list[dict[str, Any]]:
        url = f"{self.settings.feed_url.rstrip('/')}/chatdata"
        try:
            async with self.http.get(
                url,
                params={"seq": str(seq), "limit": str(self.settings.batch_limit)},
                headers={"Authorization": f"Bearer {self.settings.feed_token}"},
                timeout=aiohttp.ClientTimeout(total=30),
            ) as resp:
                data = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise FeedError(f"chatdata: {type(exc).__name__}: {exc}") from exc
        if not isinstance(data, dict) or data.get("errcode", -1) != 0:
            raise FeedError(f"chatdata answered {data!r:.200}")
        items = data.get("chatdata") or []
        return items if isinstance(items, list) else []

    async def poll_once(self) -> int:
        """Handle one page; returns how many items it moved past. Errors leave the cursor where it was."""
        async with self._lock:
            async with self.runtime.sessionmaker() as session:
                seq = await read_cursor(session)
            try:
                items = await self.fetch(seq)
            except FeedError as exc:
                log.warning("%s; will retry", exc)
                return 0
            done = 0
            for item in items:
                item_seq = item.get("seq") if isinstance(item, dict) else None
                if not isinstance(item_seq, int) or item_seq <= seq:
                    log.warning("archive item out of order after seq %s: %r", seq, item)
                    break  # never skip: stop here and ask again next round
                await self.handle_item(item_seq, item.get("msg") or {})
                seq = item_seq
                done += 1
            return done

    async def handle_item(self, seq: int, msg: dict[str, Any]) -> None:
        rt = self.runtime

        async def move_cursor(session: AsyncSession, _row: Any = None) -> None:
            await write_cursor(session, seq)

        roomid = str(msg.get("roomid") or "")
        msgid = str(msg.get("msgid") or "")
        async with rt.sessionmaker() as session:
            group = await repo.group_by_chat_id(session, roomid) if roomid else None
        action = msg.get("action")
        if group is None or not msgid or action not in ("send", "recall"):
            # 1:1 chats, rooms the roster does not bind, switch events: moved past, nothing else
            async with rt.sessionmaker() as session, session.begin():
                await move_cursor(session)
            return
        if action == "recall" or msg.get("msgtype") == "revoke":
            await self._recall(msg, group.member_id, move_cursor)
            return
        text = text_of(msg)
        if text is None:
            log.info("archive %s: %s in %s logged, not parsed", seq, msg.get("msgtype"), roomid)
            async with rt.sessionmaker() as session, session.begin():
                await move_cursor(session)
            return
        msgtime = msg.get("msgtime")
        sent_at = dt.datetime.fromtimestamp(msgtime / 1000, dt.UTC) if isinstance(msgtime, int | float) else utcnow()
        inbound = Inbound(
            channel="archive",
            msg_id=msgid[:128],
            sender=str(msg.get("from") or "")[:64],
            chat_id=roomid,
            chat_type="group",
            text=text.replace("\x00", "")[:8000],
            sent_at=sent_at,
            meta={"seq": seq, "msgtype": msg.get("msgtype")},
        )
        result = await rt.handle(inbound, before_commit=move_cursor)
        if result.duplicate:  # handled before (another instance, or a replay): only the cursor moves
            async with rt.sessionmaker() as session, session.begin():
                await move_cursor(session)

    async def _recall(self, msg: dict[str, Any], member_id: int | None, move_cursor: Any) -> None:
        """A resident recalled a message: the rule (jobs/recall.py) runs with the cursor move, in one transaction."""
        pre = str((msg.get("revoke") or {}).get("pre_msgid") or "")
        resident = str(msg.get("from") or "")
        async with self.runtime.sessionmaker() as session, session.begin():
            await move_cursor(session)
            await apply_recall(
                session, recalled_msgid=pre, recall_msgid=str(msg.get("msgid")), resident=resident, member_id=member_id
            )
        self.runtime._kick_outbox()


ARCHIVE_KEY: web.AppKey[ArchivePoller] = web.AppKey("archive_poller")


async def archive_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: poll the archive bridge when [archive] feed_url is set."""
    settings = app[SETTINGS_KEY].archive
    if not settings.feed_url:
        yield
        return
    async with aiohttp.ClientSession() as http:
        poller = ArchivePoller(settings, app[RUNTIME_KEY], http)
        app[ARCHIVE_KEY] = poller
        poller.start()
        yield
        await poller.stop()
