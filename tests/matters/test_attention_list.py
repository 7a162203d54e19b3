"""Nothing a resident says is lost (issue 13): words in a 联户群 that made no record but may need someone go on the
linked member's private daily list, numbered; "登记 N" registers one, once; nothing is said in public."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.scheduler import Scheduler
from storage.models import AttentionItem, Branch, InboundMessage, Matter
from tests.conftest import make_settings
from tests.matters.helpers import AT, BRANCH, Db, resident_says

HH = "wrQYm02hh01"  # 王海峰联户群
RESIDENT = "wmh006x7Qe"  # 王秀英家, linked to 王海峰


async def _run_job(db: Db, url: str, when: dt.datetime):
    async with db.sm() as s:
        branch = await s.scalar(select(Branch))
    return await Scheduler(make_settings(url), db.sm, clock=lambda: when).run_job(
        "attention", branch, when.date().isoformat(), force=True
    )


async def test_unsure_words_reach_the_member_privately_and_register_once(pair, seeded_url):
    db = Db(seeded_url)
    try:
        # a question in the 联户群 (read by the archive): no record, and nothing said anywhere yet
        said = await resident_says(pair, RESIDENT, "啥辰光开会啊", channel="archive", chat_id=HH)
        assert said is None
        # the same resident asks in 微信客服: told it was passed on
        said = await resident_says(pair, RESIDENT, "村里最近有什么活动吗")
        assert said is not None and "已转给您的联系党员王海峰" in said
        async with db.sm() as s:
            items = list(await s.scalars(select(AttentionItem).order_by(AttentionItem.id)))
        assert [i.summary for i in items] == ["啥辰光开会啊", "村里最近有什么活动吗"]
        assert await db.scalar(select(Matter.id)) is None
        assert not [t for t in await db.outbox_to("wanghaifeng") if "啥辰光" in t]  # not before the list

        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        outcome = await _run_job(db, seeded_url, later)
        assert outcome.detail["items"] == 2, outcome
        [listing] = [t for t in await db.outbox_to("wanghaifeng") if "拿不准" in t]
        assert "1. 王秀英家" in listing and "啥辰光开会啊" in listing and "2. 王秀英家" in listing
        assert "登记 1" in listing

        r = await pair.emulator.say("wanghaifeng", BRANCH, AT + "登记 2")
        assert r.replies[-1].content.startswith("已登记 诉求1"), r.replies[-1].content
        m = await db.matter("request", 1)
        source = await db.scalar(select(InboundMessage.text).where(InboundMessage.id == m.source_inbound_id))
        assert source == "村里最近有什么活动吗"  # the resident's words, not the member's command
        r = await pair.emulator.say("wanghaifeng", BRANCH, AT + "登记 2")
        assert "已经登记过" in r.replies[-1].content
        r = await pair.emulator.say("zhangwei", BRANCH, AT + "登记 1")
        assert "没有第 1 条" in r.replies[-1].content  # another member's list, not theirs
        assert (await _run_job(db, seeded_url, later + dt.timedelta(days=1))).detail["items"] == 0
    finally:
        await db.close()
