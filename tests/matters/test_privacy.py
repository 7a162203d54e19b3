"""Sensitive personal information (PIPL art. 28) never reaches a 二级 group; phone numbers are masked; coded tags,
not words, are stored; raw text is purged after the retention period while the matter stays."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from bot.keys import RUNTIME_KEY
from storage.db import make_engine, make_sessionmaker
from storage.models import ChatGroup, InboundMessage, Matter, MustVisitTask, OutboundMessage
from storage.retention import purge_old_texts
from tests.matters.helpers import AT, Db, bot_replies, resident_says
from tests.transport.conftest import eventually

HH_GROUP = "wrQYm04hh01"  # 张伟联户群 (二级)
SENSITIVE_WORDS = ("住院", "医药费", "交不起", "救助", "吵")


async def _make_internal(pair) -> None:
    engine = make_engine(pair.settings.database.url)
    async with make_sessionmaker(engine)() as s, s.begin():
        await s.execute(update(ChatGroup).where(ChatGroup.chat_id == HH_GROUP).values(internal=True))
    await engine.dispose()
    pair.emulator.world.chats[HH_GROUP].internal = True


async def test_sensitive_report_in_an_internal_household_group_gets_a_neutral_answer(pair):
    await _make_internal(pair)
    await pair.emulator.say("zhangwei", HH_GROUP, AT + "王大伯家里交不起医药费，想申请大病救助")
    said = bot_replies(pair, HH_GROUP)[-1]
    assert said.startswith("已登记 诉求1") and "私下" in said
    assert not any(w in said for w in SENSITIVE_WORDS), said
    db = Db(pair.settings.database.url)
    m = await db.matter("request", 1)
    assert m.sensitive and "交不起医药费" in m.summary  # the record keeps it; the group does not see it
    await db.close()


async def test_unvisited_list_in_a_household_group_hides_key_types(pair):
    await _make_internal(pair)
    await pair.emulator.say("zhangwei", HH_GROUP, AT + "本月未走访户")
    said = bot_replies(pair, HH_GROUP)[-1]
    assert "【重点户】" in said and not any(t in said for t in ("空巢老人", "危重病人", "留守儿童", "困难家庭"))


async def test_resident_in_external_group_reaches_member_privately_never_the_group(make_pair):
    def fast_archive(s):
        s.archive.poll_seconds = 0.03

    pair = await make_pair(fast_archive, archive=True)
    text = "我家老头子住院了，医药费实在交不起，能不能帮帮忙"
    await pair.emulator.say("wmh011x7Qe", HH_GROUP, text)
    url = pair.settings.database.url
    db = Db(url)
    await eventually(lambda: db.matter("request", 1))
    await eventually(lambda: db.outbox_to("zhangwei"))
    # the bot said nothing in the group, and queued nothing for it
    assert [e.sender for e in pair.emulator.timeline(HH_GROUP)] == ["wmh011x7Qe"]
    async with db.sm() as s:
        to_group = list(await s.scalars(select(OutboundMessage.content).where(OutboundMessage.target == HH_GROUP)))
        tasks = list(await s.scalars(select(MustVisitTask.trigger)))
    assert to_group == []
    assert sorted(tasks) == ["hardship", "illness"]  # coded tags only
    private = await db.outbox_to("zhangwei")
    assert any("住院" in t for t in private)  # the member gets the details privately
    await db.close()


async def test_phone_numbers_are_masked_in_records_and_replies(pair):
    reply = await resident_says(pair, "wmh011x7Qe", "门口路灯坏了，有事打我电话13812345678")
    assert "13812345678" not in reply and "138****5678" in reply
    db = Db(pair.settings.database.url)
    m = await db.matter("request", 1)
    assert "138****5678" in m.summary and "13812345678" not in m.summary
    await db.close()


async def test_raw_text_is_purged_after_retention_but_the_matter_stays(pair):
    await resident_says(pair, "wmh011x7Qe", "门口路灯坏了")
    engine = make_engine(pair.settings.database.url)
    sm = make_sessionmaker(engine)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=pair.settings.privacy.retention_days + 1)
    purged, _ = await purge_old_texts(sm, later - dt.timedelta(days=pair.settings.privacy.retention_days))
    async with sm() as s:
        texts = list(await s.scalars(select(InboundMessage.text)))
        matters = list(await s.scalars(select(Matter.summary)))
    await engine.dispose()
    assert purged == 1 and texts == [None]
    assert matters == ["门口路灯坏了"]
    assert pair.runners[-1].app[RUNTIME_KEY] is not None


async def test_sensitive_report_in_the_branch_group_stays_neutral_too(pair):
    await pair.emulator.say("zhangwei", "wrQYbranch0001", AT + "王大伯家里交不起医药费，想申请大病救助")
    said = bot_replies(pair, "wrQYbranch0001")[-1]
    assert said.startswith("已登记 诉求1") and not any(w in said for w in SENSITIVE_WORDS), said
