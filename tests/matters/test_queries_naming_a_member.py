"""A query that names a member (parse key `member`: "张伟这个月走访了几户", "王丽上个月的未走访户") is about that member
alone, answered for the branch's 书记/委员 and for the member themself; anyone else is told in one line that they may
not see it, and nothing of that member is shown (docs/commands.md, 查看). Through real encrypted callbacks."""

from __future__ import annotations

from tests.matters.helpers import AT, BRANCH


async def _ask(pair, who: str, text: str, chat: str = BRANCH) -> str:
    r = await pair.emulator.say(who, chat, (AT + text) if chat == BRANCH else text)
    assert r.delivered, r
    return r.replies[-1].content


async def test_the_secretary_and_the_member_see_it_others_are_refused(pair):
    said = await _ask(pair, "zhangwei", "今天走访了蒋立新")
    assert said.startswith("已记录"), said

    # 书记: the month's figures of 张伟 alone (one visit, six households), not the branch's
    answer = await _ask(pair, "chenjianguo", "张伟这个月走访了几户")
    assert "汇总（张伟）" in answer, answer
    assert "走访 1 次，覆盖联系户 1/6" in answer, answer

    # a 委员 sees it too; 张伟's own unvisited households, none of 王丽's
    answer = await _ask(pair, "lixiulan", "张伟本月未走访户")
    assert "未走访户（张伟，共 5 户）" in answer, answer
    assert "王根发" in answer and "蒋立新" not in answer and "鲍永康" not in answer, answer

    # the member themself, in a private chat
    answer = await _ask(pair, "zhangwei", "张伟这个月走访了几户", chat="bot")
    assert "汇总（您）" in answer and "走访 1 次" in answer, answer

    # another member: refused politely, nothing of 张伟 shown
    answer = await _ask(pair, "wangli", "张伟这个月走访了几户")
    assert answer.startswith("抱歉，张伟的汇总不能给您看："), answer
    assert "只有支部书记、委员和这位党员本人可以看" in answer and "走访 1 次" not in answer, answer

    # a 中心户 is not a 书记/委员: 孙小军 is led by 郑国平, still refused
    answer = await _ask(pair, "zhengguoping", "孙小军本月未走访户")
    assert answer.startswith("抱歉，孙小军的未走访户不能给您看"), answer
    assert "汪建平" not in answer, answer

    # 王丽 asks about herself for last month: hers, not the branch's
    answer = await _ask(pair, "wangli", "王丽上个月的未走访户")
    assert "（您，共 5 户）" in answer and "鲍永康" in answer and "王根发" not in answer, answer


async def test_a_query_naming_nobody_keeps_the_senders_own_scope(pair):
    answer = await _ask(pair, "zhangwei", "本月未走访户")
    assert "（您，共 6 户）" in answer, answer
    answer = await _ask(pair, "chenjianguo", "本月未走访户")
    assert "（全支部，" in answer, answer


async def test_points_of_a_named_member_for_the_secretary_privately_and_refused_to_others(pair):
    answer = await _ask(pair, "chenjianguo", "张伟的积分多少", chat="bot")
    assert answer.startswith("**张伟同志 "), answer  # 张伟's, not the 书记's own
    answer = await _ask(pair, "wangli", "张伟的积分多少", chat="bot")
    assert answer.startswith("抱歉，张伟的积分不能给您看"), answer
    answer = await _ask(pair, "zhangwei", "张伟的积分多少", chat="bot")
    assert answer.startswith("**张伟同志 "), answer
