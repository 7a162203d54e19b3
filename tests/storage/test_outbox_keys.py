"""An idempotency key makes a second enqueue a no-op — in a later transaction or in the same flush — instead of
failing the whole transaction (a 派 said twice for a matter still waiting for an opinion got the apology)."""

from __future__ import annotations

from sqlalchemy import func, select

from storage import outbox
from storage.db import make_engine, make_sessionmaker
from storage.models import OutboundMessage


async def test_a_known_key_is_dropped_not_an_error(seeded_url):
    engine = make_engine(seeded_url)
    sm = make_sessionmaker(engine)
    try:
        for text in ("第一次", "第二次"):
            async with sm() as s, s.begin():
                outbox.enqueue(s, channel="app", target="zhangwei", content=text, key="remind:1")
                outbox.enqueue(s, channel="app", target="wangli", content=text, key=f"other:{text}")
        async with sm() as s, s.begin():
            outbox.enqueue(s, channel="app", target="zhangwei", content="同一次里两遍", key="twice")
            outbox.enqueue(s, channel="app", target="zhangwei", content="同一次里两遍", key="twice")
        async with sm() as s:
            rows = dict((await s.execute(select(OutboundMessage.idempotency_key, OutboundMessage.content))).all())
            n = await s.scalar(select(func.count()).select_from(OutboundMessage))
        assert rows["remind:1"] == "第一次" and rows["twice"] == "同一次里两遍"
        assert n == 4  # remind:1, other:第一次, other:第二次, twice
    finally:
        await engine.dispose()
