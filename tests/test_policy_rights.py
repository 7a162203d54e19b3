"""The members' rights (issue 17 item 3) through real callbacks: a 把关 matter asks its linked member privately,
the branch's decision waits for the view (a few days at most), the view is recorded with who/when and reaches the
secretary; nominations go to the secretary only; both are in 变更记录 and the 意见推荐 export for the 党员大会."""

from __future__ import annotations

import datetime as dt

import openpyxl
from sqlalchemy import select, update

from handlers.context import TZ
from storage.export import export
from storage.models import Branch, MemberOpinion, Nomination
from tests.matters.helpers import AT, BRANCH, Db, bot_replies, resident_says


async def say(pair, who: str, text: str) -> str:
    await pair.emulator.say(who, BRANCH, AT + text)
    return bot_replies(pair, BRANCH)[-1]


async def test_opinion_is_asked_waited_for_recorded_and_exported(pair, tmp_path):
    db = Db(pair.settings.database.url)
    await resident_says(pair, "wmh019x7Qe", "老伴走了以后家里实在困难，想申请低保")  # 卢金水, linked to 王丽
    asked = [t for t in await db.outbox_to("wangli") if "把关" in t]
    assert len(asked) == 1 and "意见 诉求1 同意" in asked[0]
    await resident_says(pair, "wmh011x7Qe", "门口路灯坏了")  # not a 把关 matter: nobody is asked
    assert len([t for t in await db.outbox_to("zhangwei") if "把关" in t]) == 0

    # the branch cannot decide before the linked member has spoken (within the wait)
    reply = await say(pair, "chenjianguo", "商议 诉求1 符合条件，报镇里审批")
    assert reply.startswith("诉求1 没有变化") and "王丽还没有发表意见" in reply
    assert (await db.matter("request", 1)).state == "已登记"
    assert any("还在等您的意见" in t for t in await db.outbox_to("wangli"))

    # only the household's member may give it; 不同意 needs a reason
    assert "只有这一户的联系党员" in await say(pair, "zhangwei", "意见 诉求1 同意")
    assert "请写明理由" in await say(pair, "wangli", "意见 诉求1 不同意")
    assert "不是需要支部把关审批的事项" in await say(pair, "zhangwei", "意见 诉求2 同意 应该修")

    reply = await say(pair, "wangli", "意见 诉求1 同意 老人独居无收入，情况属实")
    assert reply == "诉求1 的意见已记录，详情已私信您。"  # the group never sees a household's hardship
    assert any("老人独居无收入" in t for t in await db.outbox_to("chenjianguo"))
    assert any(t.startswith("已记录您对 诉求1 的意见：同意") for t in await db.outbox_to("wangli"))

    r = await say(pair, "chenjianguo", "商议 诉求1 符合条件，报镇里审批")
    assert r.startswith("诉求1"), r
    assert (await db.matter("request", 1)).state == "已商议"
    assert "支部已经作出决定" in await say(pair, "wangli", "意见 诉求1 不同意 改主意了")

    async with db.sm() as s:
        op = (await s.execute(select(MemberOpinion))).scalar_one()
        branch = (await s.execute(select(Branch))).scalar_one()
        month = dt.datetime.now(TZ).strftime("%Y-%m")
        path = await export(s, "opinions", branch, month, tmp_path / "op.xlsx")
        audit = await export(s, "audit", branch, month, tmp_path / "audit.xlsx")
    await db.close()
    assert (op.opinion, op.reason) == ("同意", "老人独居无收入，情况属实") and op.given_at is not None
    rows = list(openpyxl.load_workbook(path)["把关意见"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[3], r[5], r[6]) for r in rows] == [
        ("诉求1", "卢金水", "王丽", "同意", "老人独居无收入，情况属实")
    ]
    trail = [
        (r[1], r[2], r[4]) for r in openpyxl.load_workbook(audit)["变更记录"].iter_rows(min_row=2, values_only=True)
    ]
    assert ("诉求1", "联户党员意见", "王丽") in trail


async def test_the_wait_is_bounded(pair):
    db = Db(pair.settings.database.url)
    await resident_says(pair, "wmh019x7Qe", "想申请宅基地建房")
    async with db.sm() as s, s.begin():
        await s.execute(update(MemberOpinion).values(asked_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=4)))
    assert (await say(pair, "chenjianguo", "商议 诉求1 符合条件，报镇里审批")).startswith("诉求1")
    assert (await db.matter("request", 1)).state == "已商议"
    await db.close()


async def test_nominations_reach_the_secretary_only(pair, tmp_path):
    db = Db(pair.settings.database.url)
    reply = await say(pair, "zhangwei", "推荐 王根发 入党积极分子 热心村里事务，常帮邻居")
    assert reply == "推荐已记录，已私下转给支部书记。" and "王根发" not in reply
    assert any("张伟推荐王根发为入党积极分子" in t for t in await db.outbox_to("chenjianguo"))
    await say(pair, "zhangwei", "推荐 王丽 入党积极分子")
    assert any("王丽已经是党员" in t for t in await db.outbox_to("zhangwei"))
    await say(pair, "zhangwei", "推荐 王丽 后备干部 群众工作做得好")
    async with db.sm() as s:
        noms = list(await s.scalars(select(Nomination).order_by(Nomination.id)))
        branch = (await s.execute(select(Branch))).scalar_one()
        month = dt.datetime.now(TZ).strftime("%Y-%m")
        path = await export(s, "opinions", branch, month, tmp_path / "op.xlsx")
        audit = await export(s, "audit", branch, month, tmp_path / "audit.xlsx")
    await db.close()
    trail = [
        (r[1], r[2], r[4]) for r in openpyxl.load_workbook(audit)["变更记录"].iter_rows(min_row=2, values_only=True)
    ]
    assert ("王根发", "推荐", "张伟") in trail
    assert [(n.nominee, n.kind, n.nominee_member_id is not None) for n in noms] == [
        ("王根发", "入党积极分子", False),
        ("王丽", "后备干部", True),
    ]
    rows = list(openpyxl.load_workbook(path)["推荐"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
        ("张伟", "王根发", "入党积极分子", None),
        ("张伟", "王丽", "后备干部", "是"),
    ]
    # the group heard nothing about whom
    assert not any("王根发" in t or "后备干部" in t for t in bot_replies(pair, BRANCH))
