"""The runtime caches who is who (member by userid, group by chat id) per branch roster_version: a roster import
must be seen by the very next message, by the same running bot."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select

from handlers.context import TZ
from storage.db import make_engine, make_sessionmaker
from storage.models import Visit
from storage.roster_file import load_roster
from storage.roster_sync import import_roster
from tests.conftest import DEMO_ROSTER

BRANCH = "wrQYbranch0001"
AT = "@联户小助手 "


async def _visits(url: str) -> int:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return int(await s.scalar(select(func.count()).select_from(Visit)))
    finally:
        await engine.dispose()


async def test_roster_import_is_seen_by_the_next_message(pair):
    url = pair.settings.database.url
    for day in ("今天", "昨天", "前天"):  # the first messages fill the cache, the later ones are served from it
        r = await pair.emulator.say("zhangwei", BRANCH, AT + f"{day}走访了王大伯")
        assert r.ok
    assert await _visits(url) == 3

    # the roster now gives 张伟's member row another WeCom userid: "zhangwei" is nobody any more
    rf = load_roster(DEMO_ROSTER)
    rf.members = [dataclasses.replace(m, userid="zhangwei-new") if m.userid == "zhangwei" else m for m in rf.members]
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            await import_roster(s, rf, actor="test")
    finally:
        await engine.dispose()

    day = dt.datetime.now(TZ).date() - dt.timedelta(days=3)
    await pair.emulator.say("zhangwei", BRANCH, AT + f"{day.month}月{day.day}日走访了王大伯")
    reply = [e.content for e in pair.emulator.timeline(BRANCH) if e.direction == "out"][-1]
    assert "没有在名册里找到您" in reply
    assert await _visits(url) == 3
