"""The conversation sweeper (bot/sweeper.py): an expired question is told once, in the words of the handler that
asked it; two sweepers racing tell once between them; a question not yet expired is left alone."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select

from bot import sweeper
from handlers.visits import CHOOSE_HOUSEHOLD, TIMEOUT_NOTES
from storage.db import make_engine, make_sessionmaker
from storage.models import ConversationState, OutboundMessage

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


async def test_expired_questions_are_told_once_in_the_handlers_words(seeded_url):
    engine = make_engine(seeded_url)
    sm = make_sessionmaker(engine)
    try:
        async with sm() as s, s.begin():
            for userid, state, expires in (
                ("zhangwei", CHOOSE_HOUSEHOLD, NOW - dt.timedelta(seconds=1)),
                ("wangli", "some_other_question", NOW - dt.timedelta(minutes=5)),
                ("chenjianguo", CHOOSE_HOUSEHOLD, NOW + dt.timedelta(minutes=1)),  # still open
            ):
                s.add(
                    ConversationState(
                        chat_key=f"single:{userid}", userid=userid, state=state, data={}, expires_at=expires
                    )
                )
        told = await asyncio.gather(sweeper.sweep_conversations(sm, NOW), sweeper.sweep_conversations(sm, NOW))
        assert sum(told) == 2
        async with sm() as s:
            notes = dict((await s.execute(select(OutboundMessage.target, OutboundMessage.content))).all())
            left = await s.scalar(select(func.count()).select_from(ConversationState))
        assert notes == {"zhangwei": TIMEOUT_NOTES[CHOOSE_HOUSEHOLD], "wangli": sweeper.DEFAULT_NOTE}
        assert "走访没有记录" in notes["zhangwei"] and "走访" not in notes["wangli"]
        assert left == 1
        assert await sweeper.sweep_conversations(sm, NOW) == 0  # nothing more to tell
    finally:
        await engine.dispose()
