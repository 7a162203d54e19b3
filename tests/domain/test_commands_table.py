"""The permission matrix, generated from the one command table (domain/commands.py): every action × every kind of
actor × every state. No database, no sockets: `may` is pure."""

from __future__ import annotations

import itertools

import pytest

from domain import commands as c
from domain.matters import MOVES, STATES, target_of

BRANCH, OTHER = 1, 2
HOUSEHOLD, MEMBER_ID, ASSIGNEE_ID, SELF_ID = 11, 5, 6, 7
LINK_STATES = list(c.LINK_STATES)
READING = ["—"]  # a reading (查看) has no state: it changes nothing


def subject(action: str, state: str) -> c.Subject:
    kind = sorted(c.COMMANDS[action].kinds)[0]
    return c.Subject(
        branch_id=BRANCH,
        kind=kind,
        number=3,
        state=state,
        reporter="reporter",
        household_id=HOUSEHOLD,
        assignee_id=ASSIGNEE_ID,
        linked_member_id=MEMBER_ID,
        member_id=SELF_ID if kind == "member" else None,
    )


# One actor per role or relation of the table, holding that one and nothing else (beyond being a member).
def actor_holding(who: str, branch: int = BRANCH) -> c.Actor:
    if who in (c.SECRETARY, c.COMMITTEE, c.CENTRAL):
        return c.Actor("cadre", branch, frozenset({who}), member_id=99)
    return {
        c.RESIDENT: c.Actor("resident", branch, household_id=HOUSEHOLD),
        c.LINKED: c.Actor("linked", branch, member_id=MEMBER_ID),
        c.REPORTER: c.Actor("reporter", branch),
        c.AUTHOR: c.Actor("reporter", branch),
        c.SELF: c.Actor("self", branch, member_id=SELF_ID),
        c.ASSIGNEE: c.Actor("assignee", branch, member_id=ASSIGNEE_ID),
        c.MEMBER: c.Actor("member", branch, member_id=98),
        c.VOLUNTEER: c.Actor("volunteer", None, volunteer=True),
    }[who]


def states_for(action: str) -> list[str]:
    if c.COMMANDS[action].reads:
        return READING
    return LINK_STATES if c.COMMANDS[action].kinds == {"link"} else list(STATES)


def state_allows(action: str, state: str) -> bool:
    if c.COMMANDS[action].reads:
        return True
    if c.COMMANDS[action].kinds == {"link"}:
        starts, _ = c.LINK_MOVES[action]
        return not starts or state in starts
    return target_of(action, state) is not None


GRANTS = [(a, who, s) for a, cmd in c.COMMANDS.items() for who in sorted(cmd.who) for s in states_for(a)]


@pytest.mark.parametrize(("action", "who", "state"), GRANTS)
def test_each_role_or_relation_in_the_table_may_act_where_the_state_allows(action, who, state):
    d = c.may(actor_holding(who), action, subject(action, state))
    assert d.allowed == state_allows(action, state), (action, who, state, d)
    if not d.allowed:
        assert d.reason_zh.startswith("现在是") or d.reason_zh.startswith("已经"), d.reason_zh


REFUSALS = [
    (a, who, s)
    for a, cmd in c.COMMANDS.items()
    for who in (c.SECRETARY, c.COMMITTEE, c.CENTRAL, c.RESIDENT, c.LINKED, c.REPORTER, c.ASSIGNEE, c.MEMBER, c.SELF)
    for s in states_for(a)
    if not c.relations(actor_holding(who), subject(a, s)) & cmd.who  # e.g. the linked member is also a 党员
]


@pytest.mark.parametrize(("action", "who", "state"), REFUSALS)
def test_anyone_the_row_does_not_name_is_refused_with_its_reason(action, who, state):
    d = c.may(actor_holding(who), action, subject(action, state))
    assert not d.allowed
    assert d.reason_zh in (c.COMMANDS[action].refusal,) or "承办人不能" in d.reason_zh


ALL = sorted({w for cmd in c.COMMANDS.values() for w in cmd.who})


@pytest.mark.parametrize(
    ("action", "who", "state"), [(a, w, s) for a in c.COMMANDS for w in ALL for s in states_for(a)]
)
def test_roles_from_another_branch_count_for_nothing(action, who, state):
    """后洋村's 书记 (or anyone of another branch) writing about 前洋村's matter is an outsider."""
    actor = actor_holding(who, branch=OTHER)
    d = c.may(actor, action, subject(action, state))
    if who == c.VOLUNTEER:  # volunteers belong to no branch: the table lets them 认领 any wish
        return
    assert not d.allowed, (action, who, state)


@pytest.mark.parametrize(("action", "state"), [(a, s) for a in c.COMMANDS for s in states_for(a)])
def test_township_staff_act_only_on_escalated_matters(action, state):
    d = c.may(c.Actor("zhenjie", None, frozenset({"镇街"}), township=True), action, subject(action, state))
    cmd = c.COMMANDS[action]
    expected = cmd.reads or (cmd.township and state == "已上报" and state_allows(action, state))
    assert d.allowed == expected, (action, state, d)
    if not d.allowed:
        assert "镇街" in d.reason_zh or d.reason_zh.startswith("现在是")


def test_township_may_do_exactly_what_commands_md_gives_them():
    assert {a for a, cmd in c.COMMANDS.items() if cmd.township} == {"受理", "派", "办结", "延期"}
    assert {a for a, cmd in c.COMMANDS.items() if cmd.reads} == {"查看"}  # "镇街 staff may read every branch"


# --- 查看: a query that names a member (parse key `member`) -----------------------------------------------------


def test_a_reading_about_a_member_is_for_the_branch_heads_and_that_member_only():
    about = c.Subject(BRANCH, "member", 0, "—", member_id=SELF_ID)
    allowed = {
        "书记": c.Actor("shuji", BRANCH, frozenset({c.SECRETARY}), member_id=1),
        "委员": c.Actor("weiyuan", BRANCH, frozenset({c.COMMITTEE}), member_id=2),
        "本人": c.Actor("self", BRANCH, frozenset(), member_id=SELF_ID),
        "镇街": c.Actor("zhenjie", None, township=True),
    }
    for who, actor in allowed.items():
        assert c.may(actor, "查看", about).allowed, who
    refused = {
        "另一位党员": c.Actor("other", BRANCH, member_id=SELF_ID + 1),
        "他带的中心户": c.Actor("central", BRANCH, frozenset({c.CENTRAL}), member_id=3),
        "群众": c.Actor("resident", BRANCH, household_id=HOUSEHOLD),
        "别的支部的书记": c.Actor("other-shuji", OTHER, frozenset({c.SECRETARY}), member_id=500),
        "别的支部里同号的党员": c.Actor("other-self", OTHER, member_id=SELF_ID),
    }
    for who, actor in refused.items():
        d = c.may(actor, "查看", about)
        assert not d.allowed, who
        assert "书记、委员" in d.reason_zh or "不是本支部" in d.reason_zh, (who, d.reason_zh)


# --- the holes of issue 11, by hand ------------------------------------------------------------------------


def test_another_branchs_secretary_cannot_refuse_or_reopen_our_matters():
    outsider = c.Actor("houyang-shuji", OTHER, frozenset({c.SECRETARY}), member_id=500)
    for action, state in (("不予受理", "已登记"), ("重开", "已办结"), ("派", "已受理")):
        d = c.may(outsider, action, subject(action, state))
        assert not d.allowed and d.reason_zh == "您不是本支部的人，不能操作本支部的事项。"


def test_a_member_who_merely_reported_cannot_rate():
    reporter = c.Actor("reporter", BRANCH, member_id=77)
    d = c.may(reporter, "评价", subject("评价", "已办结"))
    assert not d.allowed and "群众本人" in d.reason_zh


def test_the_linked_member_relays_a_rating_as_daiping_but_the_resident_rates_directly():
    relayed = c.may(actor_holding(c.LINKED), "评价", subject("评价", "已办结"))
    assert relayed.allowed and relayed.relayed
    direct = c.may(actor_holding(c.RESIDENT), "评价", subject("评价", "已办结"))
    assert direct.allowed and not direct.relayed


def test_the_assignee_never_rates_even_when_also_the_linked_member():
    both = c.Actor("wangli", BRANCH, member_id=MEMBER_ID)
    s = subject("评价", "已办结")
    s = c.Subject(**{**s.__dict__, "assignee_id": MEMBER_ID})
    d = c.may(both, "评价", s)
    assert not d.allowed and "承办人不能" in d.reason_zh


def test_a_secretary_who_is_not_linked_cannot_rate_for_the_household():
    d = c.may(actor_holding(c.SECRETARY), "评价", subject("评价", "已办结"))
    assert not d.allowed


def test_township_cannot_assign_a_matter_that_was_not_escalated():
    d = c.may(c.Actor("zhenjie", None, township=True), "派", subject("派", "已受理"))
    assert not d.allowed and "还没有上报" in d.reason_zh


def test_only_the_author_or_heads_may_undo():
    s = subject("撤销", "已登记")
    assert c.may(actor_holding(c.AUTHOR), "撤销", s).allowed
    assert c.may(actor_holding(c.COMMITTEE), "撤销", s).allowed
    assert not c.may(actor_holding(c.LINKED), "撤销", s).allowed
    assert not c.may(actor_holding(c.CENTRAL), "撤销", s).allowed


def test_only_wishes_are_claimed():
    d = c.may(actor_holding(c.MEMBER), "认领", c.Subject(BRANCH, "request", 1, "已登记"))
    assert not d.allowed and "只有微心愿" in d.reason_zh


def test_every_matter_action_of_the_state_machine_is_in_the_table():
    assert set(MOVES) <= set(c.COMMANDS)
    for cmd in c.COMMANDS.values():
        assert cmd.refusal and cmd.reply and cmd.usage.startswith(cmd.action)


def test_the_matrix_is_large_enough_to_mean_something():
    n = sum(1 for _ in itertools.product(c.COMMANDS, ALL, STATES))
    assert len(GRANTS) > 100 and n > 1000
