"""微信客服 bookkeeping: a resident's message opens a 48-hour window in which the bot may answer at most 5 times
(wecom-platform.md §4.4). The window is a FeedCursor row per resident, written in the transaction of the message
that opened it (bot/intake.py, bot/kf.py) and of the reply that used it (bot/outbox.py); the rule whether a reply
may still go out is `refusal` below.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FeedCursor, utcnow

WINDOW = dt.timedelta(hours=48)  # "仅当微信客户在主动发送消息给客服后的48小时内"
MAX_REPLIES = 5  # "最多可发送5条消息"


def window_name(external_userid: str) -> str:
    return f"kf:window:{external_userid}"


async def read_window(session: AsyncSession, external_userid: str) -> dict[str, Any]:
    cur = await session.get(FeedCursor, window_name(external_userid))
    if cur is None or not cur.value:
        return {}
    try:
        return dict(json.loads(cur.value))
    except ValueError:
        return {}


def refusal(window: dict[str, Any], now: dt.datetime) -> str | None:
    """Why a reply may not go out now (plain Chinese for the dead-letter list), or None when it may."""
    last_in = window.get("last_in")
    if last_in is None or now - dt.datetime.fromisoformat(last_in) > WINDOW:
        return "居民 48 小时内没有发过消息，微信客服不能再回复"
    if int(window.get("sent", 0)) >= MAX_REPLIES:
        return f"居民上次发消息后已回复 {MAX_REPLIES} 条，微信客服不能再回复"
    return None


async def note_inbound(session: AsyncSession, external_userid: str, at: dt.datetime) -> None:
    """A resident wrote: a new 48-hour window with 5 replies opens (called in the message's transaction)."""
    cur = await session.get(FeedCursor, window_name(external_userid))
    value = json.dumps({"last_in": at.astimezone(dt.UTC).isoformat(), "sent": 0})
    if cur is None:
        session.add(FeedCursor(name=window_name(external_userid), value=value, updated_at=utcnow()))
    else:
        old = await read_window(session, external_userid)
        if old.get("last_in") and dt.datetime.fromisoformat(old["last_in"]) > at:
            return  # an older message handled late does not reopen the window
        cur.value, cur.updated_at = value, utcnow()


async def count_reply(session: AsyncSession, external_userid: str) -> None:
    cur = await session.get(FeedCursor, window_name(external_userid))
    if cur is None:
        return
    window = await read_window(session, external_userid)
    window["sent"] = int(window.get("sent", 0)) + 1
    cur.value, cur.updated_at = json.dumps(window), utcnow()
