"""联户关系 on the in-memory unit of work: a change is asked for, the branch decides, the old link is closed and
both steps are audited; who may ask or decide comes from the one command table (domain/commands.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.time import TZ
from handlers import build_dispatcher
from nlp.parser import Parser
from storage.models import ChatGroup
from storage.roster_file import load_roster
from tests.conftest import DEMO_ROSTER
from tests.fakes import FakeUnitOfWork, fake_context

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
BRANCH_GROUP = ChatGroup(chat_id="wrQYbranch0001", name="前洋村党员群", level=1, internal=True)


@pytest.fixture(scope="module")
def parser():
    return Parser(load_roster(DEMO_ROSTER).to_nlp_roster())


@pytest.fixture
def uow():
    return FakeUnitOfWork(load_roster(DEMO_ROSTER))


async def say(uow, parser, sender, text, *, minutes=0):
    ctx = fake_context(uow, parser, sender, text, at=NOW + dt.timedelta(minutes=minutes), group=BRANCH_GROUP)
    await build_dispatcher().dispatch(ctx)
    return ctx


def linked(uow, code):
    mid = uow.current_links().get(uow.household_rows[code].id)
    return next((m.name for m in uow.member_rows.values() if m.id == mid), None)


async def test_a_change_is_asked_for_then_approved_the_old_link_closed_and_everyone_told(uow, parser):
    asked = await say(uow, parser, "zhangwei", "调整联户 H011 王丽 她住得近")
    assert asked.handled_by == "link_request"
    assert "已提出 调整1" in asked.reply_text
    assert linked(uow, "H011") == "张伟"  # nothing changes before the branch decides
    cadres = {"chenjianguo", "wanghaifeng", "lixiulan"}
    assert {t.userid for t in uow.sent} == cadres and all("同意 调整1" in t.text for t in uow.sent)

    uow.sent.clear()
    decided = await say(uow, parser, "chenjianguo", "同意 调整1", minutes=5)
    assert "已同意" in decided.reply_text and "原为张伟" in decided.reply_text
    assert linked(uow, "H011") == "王丽"
    closed = [k for k in uow.link_rows if k.household_id == uow.household_rows["H011"].id and k.valid_to is not None]
    assert len(closed) == 1  # closed, never overwritten
    assert [(e.action, e.actor, e.subject) for e in uow.audit_rows] == [("link_change", "chenjianguo", "H011")]
    assert {t.userid for t in uow.sent} == {"zhangwei", "wangli"}  # the one who asked (also the old member), the new


async def test_a_plain_member_cannot_decide_and_a_rejection_needs_a_reason(uow, parser):
    await say(uow, parser, "zhangwei", "调整联户 H011 王丽")
    refused = await say(uow, parser, "wangli", "同意 调整1", minutes=1)
    assert "没有变化" in refused.reply_text and linked(uow, "H011") == "张伟"
    no_reason = await say(uow, parser, "chenjianguo", "驳回 调整1", minutes=2)
    assert "请写明原因" in no_reason.reply_text
    assert uow.change_rows[0].state == "待审批"
    rejected = await say(uow, parser, "chenjianguo", "驳回 调整1 王丽已联系20户", minutes=3)
    assert "已驳回" in rejected.reply_text
    assert (uow.change_rows[0].state, linked(uow, "H011")) == ("已驳回", "张伟")
    assert [e.action for e in uow.audit_rows] == ["link_change_rejected"]


async def test_no_change_to_the_same_member_nor_to_an_exempt_one(uow, parser):
    same = await say(uow, parser, "zhangwei", "调整联户 H011 张伟")
    assert "不用调整" in same.reply_text
    exempt = await say(uow, parser, "zhangwei", "调整联户 H011 叶根土")
    assert "免联户" in exempt.reply_text
    assert uow.change_rows == []


async def test_gaps_show_households_without_member_to_cadres_only(uow, parser):
    uow.unlink("H012")
    gaps = await say(uow, parser, "chenjianguo", "联户缺口")
    assert "王彩娥" in gaps.reply_text and "没有联系党员" in gaps.reply_text
    assert "叶根土" not in gaps.reply_text  # exempt members are not short of households
    refused = await say(uow, parser, "wangli", "联户缺口")
    assert "只给支部书记、委员看" in refused.reply_text
