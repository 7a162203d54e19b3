"""The visit and 八必访 capabilities on the in-memory unit of work: no database, no sockets, the real route table.

The same rules run end to end through encrypted callbacks in tests/matters and tests/transport; here each case
takes microseconds, so the edge cases can be many.
"""

from __future__ import annotations

import datetime as dt

import pytest

from domain.time import TZ
from handlers import build_dispatcher, mustvisit
from handlers.events import VisitRecorded, VisitReported
from nlp.parser import Parser
from storage.models import ChatGroup
from storage.roster_file import load_roster
from tests.conftest import DEMO_ROSTER
from tests.fakes import FakeUnitOfWork, fake_context

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
BRANCH_GROUP = ChatGroup(chat_id="wrQYbranch0001", name="前洋村党员群", level=1, internal=True)


@pytest.fixture(scope="module")
def roster():
    return load_roster(DEMO_ROSTER)


@pytest.fixture(scope="module")
def parser(roster):
    return Parser(roster.to_nlp_roster())


@pytest.fixture
def uow(roster):
    return FakeUnitOfWork(roster)


async def say(uow, parser, sender, text, *, at=NOW, group=BRANCH_GROUP):
    ctx = fake_context(uow, parser, sender, text, at=at, group=group)
    await build_dispatcher().dispatch(ctx)
    return ctx


async def test_a_visit_is_written_once_and_announced_as_an_event(uow, parser):
    ctx = await say(uow, parser, "chenjianguo", "今天去看了阿土伯，送了一袋米")
    assert ctx.handled_by == "visit"
    assert [(v.household_id, v.visit_date) for v in uow.visit_rows] == [(uow.household_rows["H001"].id, NOW.date())]
    assert "已记录：11月26日 走访 陈阿土" in ctx.reply_text
    assert [type(e) for e in ctx.events] == [VisitRecorded, VisitReported]

    again = await say(uow, parser, "chenjianguo", "今天走访了阿土伯")
    assert len(uow.visit_rows) == 1
    assert "已经记过了" in again.reply_text


async def test_a_resident_who_says_their_member_came_records_the_linked_members_visit(uow, parser):
    household_group = ChatGroup(chat_id="wrQYm01hh01", name="陈建国联户群", level=2, internal=False)
    ctx = await say(uow, parser, "wmh001x7Qe", "陈书记今朝来过了", group=household_group)
    [v] = uow.visit_rows
    assert (v.member_id, v.household_id, v.recorded_by) == (
        uow.member("chenjianguo").id,
        uow.household_rows["H001"].id,
        "wmh001x7Qe",
    )
    assert ctx.msg.channel == "archive"  # read from the household group: the answer goes to the member privately


async def test_an_ambiguous_household_is_asked_and_the_number_records_the_choice(uow, parser):
    ctx = await say(uow, parser, "zhangwei", "昨天走访了王家")
    assert uow.visit_rows == []
    assert "1. 王根发" in ctx.reply_text and "2. 王彩娥" in ctx.reply_text
    assert "@联户小助手" in ctx.reply_text  # in a group a bare number never reaches the bot
    assert ("wrQYbranch0001", "zhangwei") in uow.question_rows

    answer = await say(uow, parser, "zhangwei", "2", at=NOW + dt.timedelta(minutes=1))
    assert answer.handled_by == "choose_household"
    assert [(v.household_id, v.visit_date) for v in uow.visit_rows] == [
        (uow.household_rows["H012"].id, NOW.date() - dt.timedelta(days=1))
    ]
    assert uow.question_rows == {}


async def test_an_expired_question_does_not_swallow_the_number(uow, parser):
    await say(uow, parser, "zhangwei", "昨天走访了王家")
    late = await say(uow, parser, "zhangwei", "2", at=NOW + dt.timedelta(hours=1))
    assert late.handled_by != "choose_household"
    assert uow.visit_rows == []


async def test_cancel_ends_the_question(uow, parser):
    await say(uow, parser, "zhangwei", "昨天走访了王家")
    ctx = await say(uow, parser, "zhangwei", "取消", at=NOW + dt.timedelta(minutes=1))
    assert "已取消" in ctx.reply_text
    assert uow.question_rows == {} and uow.visit_rows == []


async def test_a_situation_opens_a_task_told_privately_and_the_next_visit_closes_it(uow, parser):
    household_group = ChatGroup(chat_id="wrQYm01hh01", name="陈建国联户群", level=2, internal=False)
    ctx = fake_context(uow, parser, "wmh001x7Qe", "我前几天住院了 刚出院", at=NOW, group=household_group)
    await mustvisit.open_tasks_hook(ctx)
    [task] = uow.task_rows
    assert (task.trigger, task.closed_at) == ("illness", None)
    assert [t.userid for t in uow.sent] == ["chenjianguo"]  # the linked member, privately
    assert "生病住院" in uow.sent[0].text and "刚出院" not in uow.sent[0].text  # the situation, never the words
    assert ctx.reply_text == ""  # nothing in public

    visit = await say(uow, parser, "chenjianguo", "今天去看了阿土伯", at=NOW + dt.timedelta(hours=2))
    assert task.closed_at is not None and task.closed_by_visit_id == uow.visit_rows[0].id
    assert visit.reply_text.splitlines()[-1] == "陈阿土家的八必访提醒已了结。"  # one message, not two


async def test_a_report_that_is_itself_the_visit_opens_and_meets_the_task_at_once(uow, parser):
    await say(uow, parser, "chenjianguo", "今天去看了阿土伯，他前几天住院了刚回来")
    [task] = uow.task_rows
    assert task.closed_by_visit_id == uow.visit_rows[0].id
    assert uow.sent == []  # nobody is reminded of a visit already made


async def test_the_leader_hears_too_and_a_household_without_member_reaches_the_branch_head(uow, parser):
    household_group = ChatGroup(chat_id="wrQYm04hh01", name="张伟联户群", level=2, internal=False)
    await mustvisit.open_tasks_hook(fake_context(uow, parser, "wmh011x7Qe", "我住院了", at=NOW, group=household_group))
    assert [t.userid for t in uow.sent] == ["zhangwei", "wanghaifeng"]  # the member and their 中心户

    uow.sent.clear()
    uow.unlink("H012")
    await mustvisit.open_tasks_hook(fake_context(uow, parser, "wmh012x7Qe", "我住院了", at=NOW, group=household_group))
    assert [t.userid for t in uow.sent] == ["chenjianguo"]  # the 书记
    assert "没有联系党员" in uow.sent[0].text


async def test_without_a_secretary_the_committee_members_hear(uow, parser):
    uow.member_rows["M01"].roles = "党员"  # the branch has no 书记 now
    uow.unlink("H012")
    household_group = ChatGroup(chat_id="wrQYm04hh01", name="张伟联户群", level=2, internal=False)
    await mustvisit.open_tasks_hook(fake_context(uow, parser, "wmh012x7Qe", "我住院了", at=NOW, group=household_group))
    assert sorted(t.userid for t in uow.sent) == ["lixiulan", "wanghaifeng"]  # the 委员


async def test_my_households_lists_each_with_its_last_visit(uow, parser):
    await say(uow, parser, "zhangwei", "今天走访了王根发")
    ctx = await say(uow, parser, "zhangwei", "我联系了哪些户", group=None, at=NOW + dt.timedelta(minutes=1))
    assert ctx.handled_by == "my_households"
    lines = ctx.reply_text.splitlines()
    assert any("王根发" in line and "11月26日" in line for line in lines)
    assert any("王彩娥" in line and "11月26日" not in line for line in lines)


async def test_news_of_a_household_passed_on_by_a_member_opens_its_task_and_no_matter(uow, parser):
    ctx = await say(uow, parser, "zhangwei", "听讲蒋立新前两天在镇上被电瓶车撞了，手上缝了几针")
    await mustvisit.open_tasks_hook(ctx)
    [task] = uow.task_rows
    assert (task.household_id, task.trigger) == (uow.household_rows["H015"].id, "emergency")
    assert [t.userid for t in uow.sent] == ["zhangwei", "wanghaifeng"]  # privately: the member and their 中心户
    assert uow.matter_rows == []  # nothing to handle
    # the situation itself is never said in the group
    assert ctx.reply_text == "收到，已私下提醒联系这一户的党员抽空上门看看。"
