"""The holes issue 11 found, each through a real encrypted callback from the emulator: a 书记 of another branch
cannot move this branch's matters; a rating comes from the resident or is relayed by the linked member (代评), never
from the assignee."""

from __future__ import annotations

from sqlalchemy import select, update

from storage.models import Branch, Household, Matter, MatterEvent, Member
from tests.matters.helpers import AT, BRANCH, Db, bot_replies, resident_says


async def _set(db: Db, number: int, **values) -> None:
    async with db.sm() as s, s.begin():
        await s.execute(update(Matter).where(Matter.kind == "request", Matter.number == number).values(**values))


async def test_a_secretary_of_another_branch_is_refused_here(pair, seeded_url):
    await resident_says(pair, "wmh011x7Qe", "门口路灯坏了，晚上看不见")  # 诉求1 of 前洋村
    db = Db(seeded_url)
    try:
        async with db.sm() as s, s.begin():
            other = Branch(name="青溪镇后洋村党支部")
            s.add(other)
            await s.flush()
            # 王海峰 becomes 后洋村's 书记 but still sits in 前洋村's 党员群 (an old group nobody cleaned up)
            await s.execute(
                update(Member).where(Member.userid == "wanghaifeng").values(branch_id=other.id, roles="书记")
            )
            await s.execute(update(Branch).values(roster_version=Branch.roster_version + 1))
        await pair.emulator.say("wanghaifeng", BRANCH, AT + "不予受理 诉求1 不归村里管")
        await pair.emulator.say("wanghaifeng", BRANCH, AT + "受理 诉求1")
        m = await db.matter("request", 1)
        assert m is not None and m.state == "已登记"  # nothing moved
        assert [e[0] for e in await db.events(m.id)] == ["登记"]
        # this branch's own 书记 still can
        await pair.emulator.say("chenjianguo", BRANCH, AT + "受理 诉求1")
        assert (await db.matter("request", 1)).state == "已受理"
    finally:
        await db.close()


async def test_ratings_come_from_the_resident_or_are_relayed_by_the_linked_member(pair, seeded_url):
    await resident_says(pair, "wmh011x7Qe", "门口路灯坏了，晚上看不见")  # 诉求1, 王根发家 (H011), linked to 张伟
    db = Db(seeded_url)
    try:
        async with db.sm() as s:
            zhou = (await s.execute(select(Member).where(Member.userid == "zhouzhiqiang"))).scalar_one()
            h = (await s.execute(select(Household).where(Household.code == "H011"))).scalar_one()
        assert h is not None
        await _set(db, 1, state="已办结", state_type="fixed", assignee_id=zhou.id)
        # the assignee may not grade their own work
        await pair.emulator.say("zhouzhiqiang", BRANCH, AT + "评价 诉求1 满意")
        m = await db.matter("request", 1)
        assert m.rating in (None, "") and "评价" not in [e[0] for e in await db.events(m.id)]
        # the household's linked member relays the household's word: kept as 代评, and told it was passed on
        await pair.emulator.say("zhangwei", BRANCH, AT + "评价 诉求1 满意")
        m = await db.matter("request", 1)
        assert m.rating == "满意", bot_replies(pair, BRANCH)
        async with db.sm() as s:
            rated = (
                await s.execute(
                    select(MatterEvent.note, MatterEvent.actor).where(
                        MatterEvent.matter_id == m.id, MatterEvent.action == "评价"
                    )
                )
            ).all()
        assert len(rated) == 1 and "代评" in rated[0][0] and rated[0][1] == "zhangwei"
        said = bot_replies(pair, BRANCH)
        assert any("由您转达" in t for t in said) and not any("诉求1 已记下评价“满意”，谢谢您" in t for t in said)
    finally:
        await db.close()


async def test_a_reassigned_matter_tells_the_one_who_had_it(pair, seeded_url):
    await resident_says(pair, "wmh011x7Qe", "门口路灯坏了，晚上看不见")  # 诉求1
    db = Db(seeded_url)
    try:
        await pair.emulator.say("chenjianguo", BRANCH, AT + "受理 诉求1")
        await pair.emulator.say("chenjianguo", BRANCH, AT + "派 诉求1 周志强 12月20日前")
        await pair.emulator.say("chenjianguo", BRANCH, AT + "派 诉求1 王丽 12月20日前")
        told = await db.outbox_to("zhouzhiqiang")
        assert any("请您承办 诉求1" in t for t in told)
        assert any("诉求1" in t and "改由王丽承办" in t and "不用再办" in t for t in told), told
        assert any("请您承办 诉求1" in t for t in await db.outbox_to("wangli"))
        # the same assignee again (a new due date) is no re-assignment: nobody is told it left them
        await pair.emulator.say("chenjianguo", BRANCH, AT + "派 诉求1 王丽 12月25日前")
        assert not any("改由" in t for t in await db.outbox_to("wangli"))
    finally:
        await db.close()
