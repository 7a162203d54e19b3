"""Household groups through the chat archive (会话内容存档): a message the bridge (bot/archive_bridge/) opened
becomes an Inbound, strictly in seq order.

Each message's cursor write happens in the transaction of what the message produced (Runtime.handle's
before_commit), so a crash anywhere re-reads from the last committed seq and the (archive, msgid) key keeps a
message from being recorded twice. The archive also carries the internal groups' words (the archived members are
in them); which of those are handled is decided in bot/intake.py by domain/channels.py, not here.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from handlers.context import Inbound
from jobs.recall import apply_recall
from storage import repo
from storage.models import FeedCursor, utcnow

log = logging.getLogger(__name__)

CURSOR = "archive:seq"


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


class ArchiveInbound:
    """What the bridge opened, into the one inbound path: roster groups' text and recalls are handled, the rest
    (1:1 chats, rooms the roster does not bind, switch events, media alone) only moves the cursor."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

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
