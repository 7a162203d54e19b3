"""The summary's figures match the database, and long texts are split within WeCom's markdown limit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from jobs.context import MARKDOWN_MAX, nbytes, split_markdown
from jobs.summary import group_summary_text, member_part_text
from storage import rhythm
from storage.models import Household, Link, Member
from tests.rhythm.conftest import Db, at


async def test_month_report_matches_database(db: Db):
    await db.visit("M04", "H011", dt.date(2026, 11, 3))
    await db.visit("M04", "H012", dt.date(2026, 11, 3))  # key household
    await db.visit("M02", "H011", dt.date(2026, 11, 5))  # someone else went to H011 as well
    await db.visit("M04", "H013", dt.date(2026, 12, 1))  # December: not counted
    # requests: one new and closed in Nov (3 days), one new and open & overdue, one from October closed in Nov
    await db.matter(
        number=1,
        household="H011",
        member="M04",
        assignee="M04",
        state="已评价",
        state_type="closed",
        created=at(2026, 11, 2),
        closed=at(2026, 11, 5),
        due=dt.date(2026, 11, 7),
    )
    await db.matter(
        number=2, household="H012", member="M04", assignee="M04", created=at(2026, 11, 10), due=dt.date(2026, 11, 15)
    )
    await db.matter(
        number=3,
        household="H013",
        member="M04",
        assignee="M02",
        state="已办结",
        state_type="fixed",
        created=at(2026, 10, 20),
        closed=at(2026, 11, 1),
        due=dt.date(2026, 10, 25),
    )
    w = await db.matter(
        kind="wish", number=1, household="H014", member="M04", created=at(2026, 11, 12), state="已认领", assignee="M05"
    )
    await db.event(w, "认领", "已认领", at(2026, 11, 13))
    m1 = 1
    async with db.sm() as s:
        from storage.models import Matter

        m1 = await s.scalar(select(Matter.id).where(Matter.number == 1, Matter.kind == "request"))
    await db.event(m1, "评价", "已评价", at(2026, 11, 6), note="基本满意")
    v = await db.visit("M04", "H016", dt.date(2026, 11, 20))
    await db.task("H016", "M04", at(2026, 11, 18), closed_by_visit=v, closed=at(2026, 11, 20, 12))
    await db.task("H015", "M04", at(2026, 11, 25))  # still open

    b = await db.branch()
    async with db.sm() as s:
        r = await rhythm.month_report(s, b, "2026-11", today=dt.date(2026, 12, 5))
        due = await s.scalar(
            select(func.count())
            .select_from(Link)
            .join(Member, Member.id == Link.member_id)
            .join(Household, Household.id == Link.household_id)
            .where(Link.valid_to.is_(None), Member.status != "免联户", Household.active)
        )
        key_due = await s.scalar(
            select(func.count())
            .select_from(Link)
            .join(Member, Member.id == Link.member_id)
            .join(Household, Household.id == Link.household_id)
            .where(Link.valid_to.is_(None), Member.status != "免联户", Household.key_types != "")
        )
    assert (r.households_due, r.key_due) == (due, key_due) == (60, 26)
    assert r.households_visited == 3 and r.key_visited == 2  # H011, H012 (key), H016 (key)
    zw = next(mm for mm in r.members if mm.member.code == "M04")
    assert zw.visits == 3 and len(zw.visited_ids) == 3
    assert [h.code for h in zw.unvisited] == ["H014", "H013", "H015"]  # key household first
    wh = next(mm for mm in r.members if mm.member.code == "M02")
    assert wh.visits == 1 and len(wh.visited_ids) == 0  # visited someone else's household
    req = r.requests
    assert (req.new, req.closed, req.open_at_end, req.overdue) == (2, 2, 1, 2)  # #2 open late, #3 closed late
    assert req.ratings == {"基本满意": 1}
    assert (r.wishes.collected, r.wishes.claimed, r.wishes.fulfilled) == (1, 1, 0)
    assert (r.tasks.raised, r.tasks.visited, r.tasks.open_now) == (2, 1, 1)
    assert round(r.tasks.avg_days or 0, 2) == round((2 * 24 + 3) / 24, 2)

    text = group_summary_text(r)
    assert "联系户 3/60 户（5%），重点户 2/26 户（8%）" in text
    assert "新登记 2 件，办结 2 件，月底在办 1 件，超期 2 件" in text
    assert "基本满意 1" in text and "- 张伟：3/6 户，3 次" in text
    part = member_part_text(r, zw, dt.date(2026, 12, 5))
    assert part is not None and "诉求2" in part and "已超期" in part and "蒋立新" in part  # open 八必访 H015
    exempt = next(mm for mm in r.members if mm.member.code == "M12")
    assert member_part_text(r, exempt, dt.date(2026, 12, 5)) is None  # nothing to say, no message


def test_split_markdown_respects_the_byte_limit():
    lines = [f"- 第{i}位党员：走访联系户 {i % 7}/6 户，其中重点户已走访，诉求办理情况良好" for i in range(300)]
    text = "**标题**\n" + "\n".join(lines)
    parts = split_markdown(text)
    assert len(parts) > 1
    assert all(nbytes(p) <= MARKDOWN_MAX for p in parts)
    assert parts[0].startswith("**标题**") and parts[-1].endswith(f"（{len(parts)}/{len(parts)}）")
    body = "\n".join(p.rsplit("\n", 1)[0] for p in parts)
    assert body == text  # nothing lost, nothing repeated
    assert split_markdown("短消息") == ["短消息"]
    one_long = "走" * 3000  # one line longer than the limit is cut on a character boundary
    assert all(nbytes(p) <= MARKDOWN_MAX for p in split_markdown(one_long))
