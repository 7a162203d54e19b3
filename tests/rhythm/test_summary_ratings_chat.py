"""本月汇总 in chat counts a 心愿's rating (issue 12: it said "满意 0" right after a 满意 on 心愿1), and the figure
is the one the 主题党日 pack shows."""

from __future__ import annotations

from tests.matters.helpers import bot_replies, resident_says


async def say(pair, who: str, text: str) -> str:
    await pair.emulator.say(who, "bot", text)
    return bot_replies(pair, f"single:{who}")[-1]


async def test_a_wish_rated_satisfied_is_counted_in_the_month_summary(pair):
    assert (await resident_says(pair, "wmh019x7Qe", "想要一副老花镜，报纸看不清了")).startswith("已登记 心愿1")
    assert (await say(pair, "wangli", "认领 心愿1")).startswith("心愿1 已由您认领")
    assert (await say(pair, "wangli", "办结 心愿1 老花镜已送到")).startswith("心愿1 已办结")
    before = await say(pair, "chenjianguo", "本月汇总")
    assert "群众评价：满意 0，基本满意 0，不满意 0" in before

    assert "满意" in (await resident_says(pair, "wmh019x7Qe", "满意") or "")
    after = await say(pair, "chenjianguo", "本月汇总")
    assert "群众评价：满意 1，基本满意 0，不满意 0" in after
