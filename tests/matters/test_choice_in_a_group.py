"""A numbered question asked in a group says how to answer there: the bot hears only @-messages in a group, so a
bare "2" would never reach it. Answered with the @, the visit is recorded."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Visit
from tests.matters.helpers import AT, BRANCH, Db


async def test_the_question_in_a_group_asks_for_the_mention_and_the_mentioned_answer_records(pair, seeded_url):
    r = await pair.emulator.say("zhangwei", BRANCH, AT + "今天走访王家")
    asked = r.replies[-1].content
    assert "您说的是哪一户？" in asked and "回复“@联户小助手 序号”即可" in asked, asked
    bare = await pair.emulator.say("zhangwei", BRANCH, "2")
    assert not bare.delivered  # WeCom does not push it: that is why the question says so
    r = await pair.emulator.say("zhangwei", BRANCH, AT + "2")
    assert r.replies[-1].content.startswith("已记录"), r.replies[-1].content
    db = Db(seeded_url)
    try:
        assert await db.scalar(select(func.count()).select_from(Visit)) == 1
    finally:
        await db.close()


async def test_the_question_in_a_private_chat_asks_for_the_number_alone(pair):
    r = await pair.emulator.say("zhangwei", "bot", "今天走访王家")
    asked = r.replies[-1].content
    assert "回复序号即可" in asked and "@" not in asked, asked
