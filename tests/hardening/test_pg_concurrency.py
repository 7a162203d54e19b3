"""Two bot instances on one PostgreSQL database: the same callback delivered to both at once is recorded once."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import create_app
from storage.db import make_engine, make_sessionmaker
from storage.models import InboundMessage, Visit
from tests import conftest
from tests.hardening._common import aibot_request, app_request, bot_settings, count_rows, visit_payload

pytestmark = pytest.mark.skipif(
    conftest.test_db_kind() != "postgresql",
    reason="needs PostgreSQL: set LIANHU_TEST_DATABASE_URL (SQLite has one writer)",
)

ROUNDS = 12


async def test_same_callback_to_two_instances_is_recorded_once(aiohttp_server, seeded_url):
    s = bot_settings(seeded_url)
    servers = [await aiohttp_server(create_app(s)) for _ in range(2)]
    texts = ["@联户小助手 " + t for t in ("今天走访了方奶奶", "今天走访了严德富", "本月未走访户", "收到")]

    async def deliver(http: aiohttp.ClientSession, server, path: str, body: str) -> tuple[int, bytes]:
        async with http.post(server.make_url(path), data=body) as r:
            return r.status, await r.read()

    async with aiohttp.ClientSession() as http:
        for i in range(ROUNDS):
            sender = "chenjianguo" if "未走访" in texts[i % 4] else "zhangwei"
            path, body = aibot_request(s, visit_payload(f"CAIQrace{i}", texts[i % len(texts)], sender))
            xml = (
                f"<xml><ToUserName>{s.wecom.corp_id}</ToUserName><FromUserName>zhangwei</FromUserName>"
                f"<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType>"
                f"<Content>今天走访了蒋立新</Content><MsgId>{7000 + i}</MsgId><AgentID>1</AgentID></xml>"
            )
            app_path, app_body = app_request(s, xml)
            # each message reaches both instances twice, all at the same moment
            results = await asyncio.gather(
                *(
                    deliver(http, srv, p, b)
                    for srv in servers
                    for _ in range(2)
                    for p, b in ((path, body), (app_path, app_body))
                )
            )
            assert all(st == 200 for st, _ in results)

    assert await count_rows(seeded_url, InboundMessage) == 2 * ROUNDS
    engine = make_engine(seeded_url)
    try:
        async with make_sessionmaker(engine)() as session:
            per_msg = (
                await session.execute(
                    select(InboundMessage.channel, InboundMessage.msg_id, func.count())
                    .group_by(InboundMessage.channel, InboundMessage.msg_id)
                    .having(func.count() > 1)
                )
            ).all()
            dup_visits = (
                await session.execute(
                    select(Visit.household_id, Visit.visit_date, func.count())
                    .group_by(Visit.household_id, Visit.visit_date)
                    .having(func.count() > 1)
                )
            ).all()
            statuses = set(await session.scalars(select(InboundMessage.status)))
    finally:
        await engine.dispose()
    assert per_msg == [] and dup_visits == []
    assert statuses == {"done"}
    assert await count_rows(seeded_url, Visit) == 3  # 方奶奶, 严德富 (group) and 蒋立新 (app), once each
