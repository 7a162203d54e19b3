"""A visit report that carries a need registers a 诉求 too, told in the same answer (parse key `need`; issue 13
item 4): also when nothing splits the need from the visit but spaces, and when the report covers several households
(the need goes to the one its words name). Through real encrypted callbacks."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Household, InboundMessage, Matter, Visit
from tests.matters.helpers import AT, BRANCH, Db


async def test_a_need_said_with_only_spaces_is_registered_in_the_same_answer(pair, seeded_url):
    r = await pair.emulator.say("zhangwei", BRANCH, AT + "昨天走访了王大伯 他家柴间的棚子塌了一半 想请村里找人帮忙")
    answer = r.replies[-1].content
    assert answer.startswith("已记录："), answer
    assert "王根发" in answer and "已登记 诉求1" in answer, answer  # one answer: the visit and the 诉求
    db = Db(seeded_url)
    try:
        m = await db.matter("request", 1)
        assert m is not None
        assert m.summary == "他家柴间的棚子塌了一半，想请村里找人帮忙", m.summary  # the need, not the visit
        assert await db.scalar(select(Household.code).where(Household.id == m.household_id)) == "H011"
        words = await db.scalar(select(InboundMessage.text).where(InboundMessage.id == m.source_inbound_id))
        assert "棚子塌了一半" in words
        assert await db.scalar(select(func.count()).select_from(Visit)) == 1
    finally:
        await db.close()


async def test_a_report_of_two_households_registers_the_need_for_the_one_it_names(pair, seeded_url):
    r = await pair.emulator.say(
        "zhangwei", BRANCH, AT + "今天走访了蒋立新和严德富，蒋家柴间的棚子塌了一半，想请村里找人帮忙"
    )
    answer = r.replies[-1].content
    assert answer.startswith("已记录：") and "蒋立新" in answer and "严德富" in answer, answer
    assert "已登记 诉求1" in answer, answer
    db = Db(seeded_url)
    try:
        m = await db.matter("request", 1)
        assert await db.scalar(select(Household.code).where(Household.id == m.household_id)) == "H015"
        assert await db.scalar(select(func.count()).select_from(Matter)) == 1
    finally:
        await db.close()


async def test_a_visit_with_no_need_registers_nothing(pair, seeded_url):
    r = await pair.emulator.say("zhangwei", BRANCH, AT + "今天走访了蒋立新 老人身体挺好 聊了聊家常")
    assert r.replies[-1].content.startswith("已记录："), r.replies[-1].content
    assert "诉求" not in r.replies[-1].content
    db = Db(seeded_url)
    try:
        assert await db.scalar(select(func.count()).select_from(Matter)) == 0
    finally:
        await db.close()
