"""“我的积分” in chat: own points 1:1, privately when asked in a group; the ranking only for the 书记, privately,
unless the branch turned public rankings on."""

from __future__ import annotations

import datetime as dt

from bot.keys import RUNTIME_KEY
from devtools.demo import start_pair
from storage import points
from tests.conftest import DEMO_ROSTER, make_settings
from tests.rhythm.conftest import BRANCH_CHAT, TZ, Db

AT = "@联户小助手 "


def out(pair, chat: str) -> list[str]:
    return [e.content for e in pair.emulator.timeline(chat) if e.direction == "out"]


async def give_points(db: Db) -> None:
    today = dt.datetime.now(TZ).date()
    await db.visit("M04", "H011", today)  # 张伟 +1
    await db.visit("M04", "H012", today)  # 张伟 +2 (key household)
    await db.visit("M05", "H017", today)  # 王丽 +1
    b = await db.branch()
    async with db.sm() as s, s.begin():
        await points.sync_points(s, b.id, rules=points.PointsRules(), today=today)


async def test_my_points_privately_and_in_group(pair, db: Db):
    await give_points(db)
    await pair.emulator.say("zhangwei", "bot", "我的积分")
    mine = out(pair, "single:zhangwei")[-1]
    assert "积分：3 分" in mine and "王彩娥（重点户）" in mine

    await pair.emulator.say("wangli", BRANCH_CHAT, AT + "我的积分")
    assert out(pair, BRANCH_CHAT)[-1] == "积分情况已私信发给您。"
    await pair.runners[1].app[RUNTIME_KEY].flush_outbox()
    private = out(pair, "app:wangli")
    assert private and "积分：1 分" in private[-1]
    assert "张伟" not in out(pair, BRANCH_CHAT)[-1]


async def test_ranking_only_for_the_secretary_and_not_in_the_group(pair, db: Db):
    await give_points(db)
    await pair.emulator.say("zhangwei", "bot", "积分排名")
    reply = out(pair, "single:zhangwei")[-1]
    assert "只发给支部书记" in reply and "王丽" not in reply

    await pair.emulator.say("chenjianguo", BRANCH_CHAT, AT + "全支部积分排名")
    assert out(pair, BRANCH_CHAT)[-1] == "积分情况已私信发给您。"
    await pair.runners[1].app[RUNTIME_KEY].flush_outbox()
    ranking = out(pair, "app:chenjianguo")[-1]
    assert ranking.index("1. 张伟：3 分") < ranking.index("2. 王丽：1 分")
    assert "叶根土" not in ranking  # 免联户


async def test_public_ranking_when_the_branch_turns_it_on(seeded_url: str):
    db = Db(seeded_url)
    await give_points(db)
    settings = make_settings(seeded_url)
    settings.points.public_ranking = True
    p = await start_pair(settings, DEMO_ROSTER, import_roster_first=False)
    try:
        await p.emulator.say("chenjianguo", BRANCH_CHAT, AT + "积分排名")
        assert "1. 张伟：3 分" in out(p, BRANCH_CHAT)[-1]
    finally:
        await p.close()
        await db.close()
