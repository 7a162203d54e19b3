"""诉求 from intake to the household's rating on the in-memory unit of work: the state machine, its history rows,
who may act (the one command table) and who is told — no database, no sockets, the real route table."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.time import TZ
from handlers import build_dispatcher
from handlers.events import MatterRegistered
from nlp.parser import Parser
from storage.models import ChatGroup
from storage.roster_file import load_roster
from tests.conftest import DEMO_ROSTER
from tests.fakes import FakeUnitOfWork, fake_context

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
BRANCH_GROUP = ChatGroup(chat_id="wrQYbranch0001", name="前洋村党员群", level=1, internal=True)
WANG_GROUP = ChatGroup(chat_id="wrQYm04hh01", name="张伟联户群", level=2, internal=False, member_id=None)


@pytest.fixture(scope="module")
def parser():
    return Parser(load_roster(DEMO_ROSTER).to_nlp_roster())


@pytest.fixture
def uow():
    return FakeUnitOfWork(load_roster(DEMO_ROSTER))


class Village:
    def __init__(self, uow, parser):
        self.uow, self.parser, self.minutes = uow, parser, 0

    async def say(self, sender, text, group=BRANCH_GROUP):
        self.minutes += 1
        at = NOW + dt.timedelta(minutes=self.minutes)
        ctx = fake_context(self.uow, self.parser, sender, text, at=at, group=group)
        await build_dispatcher().dispatch(ctx)
        return ctx

    def history(self, n=1):
        m = next(m for m in self.uow.matter_rows if m.kind == "request" and m.number == n)
        return m, [(e.action, e.from_state, e.to_state, e.actor) for e in self.uow.event_rows if e.matter_id == m.id]

    def told(self, userid):
        return [t.text for t in self.uow.sent if t.userid == userid]


@pytest.fixture
def village(uow, parser):
    return Village(uow, parser)


async def test_a_request_from_intake_to_a_satisfied_rating(village):
    ctx = await village.say("zhangwei", "王根发家门口的路灯坏了，晚上看不见")
    assert ctx.reply_text.startswith("已登记 诉求1（设施维修）：王根发家")
    assert [type(e) for e in ctx.events] == [MatterRegistered]

    assert "没有变化" in (await village.say("wangli", "受理 诉求1")).reply_text  # a plain member may not
    assert (await village.say("wanghaifeng", "受理 诉求1")).reply_text == "诉求1 已受理。"
    assigned = await village.say("chenjianguo", "派 诉求1 王丽 12月3日前")
    assert assigned.reply_text.startswith("诉求1 已派给王丽承办，12月3日前办结")
    assert any("请您承办 诉求1" in t for t in village.told("wangli"))
    assert (await village.say("wangli", "办结 诉求1 换了新灯泡")).reply_text.startswith("诉求1 已办结")

    refused = await village.say("wangli", "评价 诉求1 满意")  # the one who did the work never rates it
    assert "没有变化" in refused.reply_text
    rated = await village.say("wmh011x7Qe", "满意", group=WANG_GROUP)
    m, history = village.history()
    assert (m.state, m.state_type, m.rating) == ("已评价", "fixed", "满意")  # done and rated: 评事 is the last step
    assert [h[0] for h in history] == ["登记", "受理", "派", "办结", "评价"]
    assert history[-1][3] == "wmh011x7Qe"  # who, for every change
    assert "满意" in rated.reply_text


async def test_an_unhappy_rating_reopens_it_and_tells_the_heads_and_the_assignee(village):
    await village.say("zhangwei", "王根发家门口的路灯坏了，晚上看不见")
    await village.say("chenjianguo", "派 诉求1 王丽")
    await village.say("wangli", "办结 诉求1 修好了")
    village.uow.sent.clear()
    await village.say("wmh011x7Qe", "不满意 还是不亮", group=WANG_GROUP)
    m, history = village.history()
    assert [h[0] for h in history][-2:] == ["评价", "重开"]
    assert m.state_type == "open" and m.rating == "不满意"
    assert any("不满意" in t for t in village.told("chenjianguo"))
    assert any("不满意" in t for t in village.told("wangli"))


async def test_the_same_trouble_said_again_is_added_to_the_open_one_not_doubled(village):
    await village.say("wmh011x7Qe", "门口路灯坏了 晚上看不见", group=WANG_GROUP)
    again = await village.say("wmh011x7Qe", "门口那个路灯坏了好几天了", group=WANG_GROUP)
    assert "已经登记过（诉求1" in again.reply_text
    assert len(village.uow.matter_rows) == 1
    assert [h[0] for h in village.history()[1]] == ["登记", "补充"]


async def test_a_command_on_a_matter_in_the_wrong_state_changes_nothing(village):
    await village.say("zhangwei", "王根发家门口的路灯坏了，晚上看不见")
    reply = await village.say("chenjianguo", "办结 诉求1 修好了")
    assert "没有变化" in reply.reply_text
    m, history = village.history()
    assert m.state == "已登记" and [h[0] for h in history] == ["登记"]


async def test_a_wish_is_listed_without_the_name_and_claimed(village):
    await village.say("wmh011x7Qe", "想要一副老花镜", group=WANG_GROUP)
    listing = await village.say("zhouzhiqiang", "心愿清单")
    assert "心愿1" in listing.reply_text and "王根发" not in listing.reply_text
    claimed = await village.say("zhouzhiqiang", "认领 心愿1")
    assert claimed.reply_text.startswith("心愿1 已由您认领")
    wish = village.uow.matter_rows[0]
    assert (wish.state, wish.assignee_id) == ("承办中", village.uow.member("zhouzhiqiang").id)
