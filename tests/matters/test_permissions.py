"""Who may do what (commands.md), table-driven: every command and every query for every role. A refused
command changes nothing; an allowed one moves the matter. Nobody sees a household outside their scope."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from handlers.context import Inbound
from storage import matters as mt
from storage.db import make_engine, make_sessionmaker
from storage.models import Household, Matter, Member
from tests.matters.helpers import runtime

# role → (sender, chat type). The member 王丽 (M05) is the household's member and the assignee below.
ROLES = {
    "resident": "wmh011x7Qe",  # 王根发家, the reporter
    "other_resident": "wmh030x7Qe",
    "member": "wangli",  # 党员;网格员 — assignee
    "other_member": "zhouzhiqiang",
    "center": "zhengguoping",  # 中心户
    "committee": "wanghaifeng",  # 委员;中心户
    "secretary": "chenjianguo",  # 书记
    "township": "zhenjie01",  # configured township staff
}

# command template, state the matter must be in first, roles allowed (commands.md; domain/commands.py is the table,
# tests/domain/test_commands_table.py its generated matrix). 镇街 staff act only on escalated (已上报) matters.
COMMANDS = [
    ("受理 {r} 梳理", "已登记", {"center", "committee", "secretary"}),
    ("商议 {r} 统一修", "已受理", {"committee", "secretary"}),
    ("派 {r} 王丽", "已商议", {"committee", "secretary"}),
    ("办结 {r} 修好了", "承办中", {"member", "committee", "secretary"}),
    ("评价 {r} 满意", "已办结", {"resident"}),
    ("不予受理 {r} 不归村里管", "已登记", {"committee", "secretary"}),
    ("重复 {r} 诉求1", "已登记", {"committee", "secretary"}),
    ("撤回 {r}", "已登记", {"resident"}),
    ("上报 {r} 12345", "已受理", {"committee", "secretary"}),
    ("延期 {r} 12月30日 等材料", "承办中", {"member", "committee", "secretary"}),
    ("重开 {r} 没修好", "已办结", {"resident", "committee", "secretary"}),
    ("派 {r} 王丽", "已上报", {"committee", "secretary", "township"}),
    ("办结 {r} 镇里已协调修好", "已上报", {"committee", "secretary", "township"}),
]

_ids = itertools.count(1)


@pytest.fixture
async def env(pair):
    runtime(pair).settings.roles.township_userids.append("zhenjie01")
    engine = make_engine(pair.settings.database.url)
    sm = make_sessionmaker(engine)
    yield pair, sm
    await engine.dispose()


async def _matter(sm, state: str) -> int:
    async with sm() as s, s.begin():
        h = (await s.execute(select(Household).where(Household.code == "H011"))).scalar_one()
        wangli = (await s.execute(select(Member).where(Member.code == "M05"))).scalar_one()
        m = await mt.create(
            s,
            branch_id=h.branch_id,
            kind="request",
            summary="门口路灯坏了",
            reporter="wmh011x7Qe",
            household_id=h.id,
            member_id=wangli.id,
            category="设施维修",
        )
        m.state, m.state_type = state, mt.STATES[state]
        if state in ("承办中", "已办结"):
            m.assignee_id = wangli.id
        return m.number


async def _say(pair, who: str, text: str) -> str:
    chat_type = "single"
    msg = Inbound(
        "kf" if who.startswith("wm") else "app", f"perm-{next(_ids)}", who, "", chat_type, text, dt.datetime.now(dt.UTC)
    )
    return (await runtime(pair).handle(msg)).reply or ""


@pytest.mark.parametrize(
    ("template", "state", "allowed"), COMMANDS, ids=[f"{c[0].split()[0]}-{c[1]}" for c in COMMANDS]
)
async def test_command_permission_matrix(env, template, state, allowed):
    pair, sm = env
    await _matter(sm, "已登记")  # 诉求1, the target of 重复
    for role, who in ROLES.items():
        number = await _matter(sm, state)
        reply = await _say(pair, who, template.format(r=f"诉求{number}"))
        async with sm() as s:
            now = (await s.execute(select(Matter.state).where(Matter.number == number))).scalar_one()
        if role in allowed:
            assert now != state or template.startswith("延期"), f"{role} should be able to: {template} → {reply}"
            assert "没有变化" not in reply, f"{role}: {reply}"
        else:
            assert now == state, f"{role} must not be able to: {template} ({reply})"
            assert "没有变化" in reply or "没有在名册" in reply, f"{role}: {reply}"


QUERIES = {
    "本月未走访户": {"resident": "只对本支部党员开放", "other_resident": "只对本支部党员开放"},
    "我联系了哪些户": {"resident": "只对本支部党员开放"},
    "本月重点户走访情况": {"resident": "只对本支部党员开放"},
    "本月汇总": {"resident": "只对本支部党员开放"},
}


@pytest.mark.parametrize("query", list(QUERIES))
async def test_query_scope_by_role(env, query):
    pair, _ = env
    for role, who in ROLES.items():
        reply = await _say(pair, who, query)
        refusal = QUERIES[query].get(role)
        if refusal:
            assert refusal in reply, f"{role}: {reply}"
            continue
        if role in ("member", "other_member") and query == "本月未走访户":
            # a plain member sees only their own households, never another member's
            own, other = ("鲍永康", "赵德明") if role == "member" else ("赵德明", "鲍永康")
            assert own in reply and other not in reply, f"{role}: {reply}"
        if role in ("secretary", "committee", "township") and query == "本月未走访户":
            assert "鲍永康" in reply and "赵德明" in reply, f"{role}: {reply}"


async def test_resident_sees_only_their_own_matters(env):
    pair, sm = env
    await _matter(sm, "已登记")
    assert "诉求1" in await _say(pair, "wmh011x7Qe", "我反映的事办得怎么样了")
    other = await _say(pair, "wmh030x7Qe", "我反映的事办得怎么样了")
    assert "诉求1" not in other and "还没有登记过" in other


async def test_township_staff_name_the_branch_when_there_are_several(env):
    pair, sm = env
    from storage.models import Branch

    async with sm() as s, s.begin():
        s.add(Branch(name="青溪镇后塘村党支部"))
    reply = await _say(pair, "zhenjie01", "本月未走访户")
    assert reply.startswith("请在前面写上支部名") and "前洋村" in reply and "后塘村" in reply
    reply = await _say(pair, "zhenjie01", "前洋村 本月未走访户")
    assert "全支部" in reply and "鲍永康" in reply
    reply = await _say(pair, "zhenjie01", "后塘村 本月未走访户")
    assert "都已走访" in reply and "鲍永康" not in reply
