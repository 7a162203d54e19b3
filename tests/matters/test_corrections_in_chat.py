"""A member corrects their own visit report in chat (parse.md, commands.md: corrections). Each change is kept
(AuditEvent: who, when, the words), a 八必访 task the visit closed opens again, and nothing else is touched."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEvent, Household, Visit
from tests.matters.helpers import AT, BRANCH, Db


async def _visits(db: Db) -> list[str]:
    async with db.sm() as s:
        rows = await s.execute(
            select(Household.code).join(Visit, Visit.household_id == Household.id).order_by(Visit.id)
        )
        return [c for (c,) in rows]


async def _audit(db: Db) -> list[tuple[str, str, str]]:
    async with db.sm() as s:
        return [
            (a, su, ac)
            for a, su, ac in await s.execute(select(AuditEvent.action, AuditEvent.subject, AuditEvent.actor))
        ]


async def test_not_a_visit_undoes_the_last_report_and_keeps_a_record(pair, seeded_url):
    db = Db(seeded_url)
    try:
        await pair.emulator.say("zhangwei", BRANCH, AT + "今天走访了严德富")
        await pair.emulator.say("zhangwei", BRANCH, AT + "昨天走访了王根发")
        assert await _visits(db) == ["H013", "H011"]
        r = await pair.emulator.say("zhangwei", BRANCH, AT + "刚才那条不是走访")
        assert r.replies[-1].content.startswith("已撤销走访：") and "王根发" in r.replies[-1].content
        assert await _visits(db) == ["H013"]  # only the last report, the earlier one stays
        assert ("撤销走访", "H011", "zhangwei") in await _audit(db)
        # another member's "撤销" touches only their own records
        r = await pair.emulator.say("wangli", BRANCH, AT + "撤销")
        assert "没有找到" in r.replies[-1].content and await _visits(db) == ["H013"]
    finally:
        await db.close()


async def test_wrong_household_is_moved_to_the_right_one(pair, seeded_url):
    db = Db(seeded_url)
    try:
        await pair.emulator.say("zhangwei", BRANCH, AT + "今天走访了王根发")
        r = await pair.emulator.say("zhangwei", BRANCH, AT + "记错了，不是王根发是王彩娥")
        assert r.replies[-1].content.startswith("已更正：") and "王彩娥" in r.replies[-1].content, r.replies[-1].content
        assert await _visits(db) == ["H012"]
        assert ("更正走访", "H011→H012", "zhangwei") in await _audit(db)
    finally:
        await db.close()


async def test_an_undone_visit_reopens_the_must_visit_task_it_closed(pair, seeded_url):
    from storage.models import MustVisitTask
    from tests.matters.helpers import resident_says

    db = Db(seeded_url)
    try:
        await resident_says(pair, "wmh011x7Qe", "我老伴昨天摔了一跤住院了")  # 王根发家: a 八必访 task for 张伟
        await pair.emulator.say("zhangwei", BRANCH, AT + "今天走访了王根发")
        async with db.sm() as s:
            closed = [t.closed_by_visit_id for t in await s.scalars(select(MustVisitTask))]
        assert closed and all(c is not None for c in closed)
        await pair.emulator.say("zhangwei", BRANCH, AT + "刚才那条不是走访")
        async with db.sm() as s:
            tasks = list(await s.scalars(select(MustVisitTask)))
        assert tasks and all(t.closed_at is None and t.closed_by_visit_id is None for t in tasks)
    finally:
        await db.close()
