"""Shared helpers for the 事有回应 tests: speak as anyone, read the database."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import select

from bot.keys import RUNTIME_KEY
from handlers.context import Inbound
from storage.db import make_engine, make_sessionmaker
from storage.models import Matter, MatterEvent, OutboundMessage

BRANCH = "wrQYbranch0001"
AT = "@联户小助手 "
_ids = itertools.count(1)


def runtime(pair):
    return pair.runners[-1].app[RUNTIME_KEY]


async def resident_says(pair, external_userid: str, text: str, *, channel: str = "kf", chat_id: str = "") -> str | None:
    """A resident's message through the one inbound model (kf 1:1 by default; archive for a 二级 group)."""
    msg = Inbound(
        channel=channel,
        msg_id=f"test-{next(_ids)}",
        sender=external_userid,
        chat_id=chat_id,
        chat_type="group" if chat_id else "single",
        text=text,
        sent_at=dt.datetime.now(dt.UTC),
        meta={"open_kfid": "wkTEST"} if channel == "kf" else {},
    )
    result = await runtime(pair).handle(msg)
    return result.reply


class Db:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sm = make_sessionmaker(self.engine)

    async def matter(self, kind: str, number: int) -> Matter | None:
        async with self.sm() as s:
            return (
                await s.execute(select(Matter).where(Matter.kind == kind, Matter.number == number))
            ).scalar_one_or_none()

    async def events(self, matter_id: int) -> list[tuple[str, str, str]]:
        async with self.sm() as s:
            rows = await s.execute(
                select(MatterEvent.action, MatterEvent.to_state, MatterEvent.actor)
                .where(MatterEvent.matter_id == matter_id)
                .order_by(MatterEvent.id)
            )
            return [tuple(r) for r in rows.all()]

    async def outbox_to(self, target: str) -> list[str]:
        async with self.sm() as s:
            rows = await s.scalars(
                select(OutboundMessage.content).where(OutboundMessage.target == target).order_by(OutboundMessage.id)
            )
            return list(rows)

    async def scalar(self, q):
        async with self.sm() as s:
            return await s.scalar(q)

    async def close(self) -> None:
        await self.engine.dispose()


def bot_replies(pair, chat: str) -> list[str]:
    return [e.content for e in pair.emulator.timeline(chat) if e.direction == "out"]
