"""Issue 13, round 4: questions to the bot in the forms the query-focused training set (train_t3) showed missing,
checked with sentences written for this test (not copied from any labelled set). Demo roster; today 2026-11-26."""

from __future__ import annotations

import pytest

# (sender, text, query, month)
ASKED = [
    # asked as a request to be shown, with no question word
    ("chenjianguo", "十月份的汇总再给我发一份", "summary", "2026-10"),
    ("lixiulan", "把上个月的情况总结一下", "summary", "2026-10"),
    ("chenjianguo", "这个月小结", "summary", "2026-11"),
    ("zhangwei", "我结对的那几户列个清单", "my_households", None),
    ("wangli", "联系户名单", "my_households", None),
    # who is left, said with 啥/什么
    ("zhangwei", "这个月还有啥人家没去过", "unvisited", "2026-11"),
    # the progress of one's matter, in more shapes
    ("wmh011x7Qe", "上次反映的水管办到什么地步了", "request_status", None),
    ("wmh011x7Qe", "诉求2 现在啥状态", "request_status", None),
    ("wmh011x7Qe", "帮我看一下我的诉求", "request_status", None),
    ("wmh011x7Qe", "前几天讲的那个栏杆装了没有", "request_status", None),
    # key households alone, and their figures
    ("chenjianguo", "重点户", "key_households", "2026-11"),
    ("chenjianguo", "本月重点户走访统计", "key_households", "2026-11"),
    # what the bot can do
    ("wangli", "你都有哪些功能", "help", None),
    ("wmh011x7Qe", "这个是干什么的", "help", None),
    # voice-to-text homophones of the bot's own words
    ("chenjianguo", "十月份会总发一下", "summary", "2026-10"),
    ("zhangwei", "我的基分多少", "points", "2026-11"),
]


@pytest.mark.parametrize(("sender", "text", "query", "month"), ASKED)
def test_questions_to_the_bot(parse, sender, text, query, month):
    r = parse(text, sender=sender)
    assert (r.intent, r.query, r.month) == ("query", query, month)


NOT_ASKED = [
    # the sender says it is done
    ("chenjianguo", "这个月的汇总我已经报到镇里了"),
    # telling everyone what not to do
    ("chenjianguo", "汇总的表大家不用再自己改了"),
    # a member asking another member, by @
    ("chenjianguo", "@王丽 你那几户这个月走完了吗"),
]


@pytest.mark.parametrize(("sender", "text"), NOT_ASKED)
def test_not_questions_to_the_bot(parse, sender, text):
    assert parse(text, sender=sender).intent != "query"


def test_a_resident_naming_a_members_question_is_told_it_is_for_members(parse):
    """Named outright, a members' question from a resident is read as one (the bot answers that it is for members);
    a resident's chat that merely looks like one is not ("好几天没看到你了")."""
    assert parse("本月未走访户", sender="wmh011x7Qe").query == "unvisited"
    assert parse("好几天没看到你了", sender="wmh011x7Qe").intent != "query"


def test_a_resident_asking_their_member_by_at_still_asks_for_progress(parse):
    assert parse("@张伟 上回说的低保那事咋样了", sender="wmh011x7Qe").query == "request_status"
