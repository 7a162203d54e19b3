"""Every channel on at once (智能机器人, the archive covering every group, 微信客服): one utterance makes one record
and one answer. The archive copy of an @-message in the 党员群 is ignored (docs/channels.md), so commands never
become 微心愿 and the first visit report gets its full answer; a resident's words that reach the bot by the
联户群 and by 微信客服 stay one matter."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.db import make_engine, make_sessionmaker
from storage.models import FeedCursor, InboundMessage, Matter, Visit
from tests.transport.conftest import eventually

BRANCH = "wrQYbranch0001"  # 党员群 (internal)
HH = "wrQYm02hh01"  # 王海峰联户群 (external)
RESIDENT = "wmh006x7Qe"
AT = "@联户小助手 "


def _archive(s):
    s.archive.poll_seconds = 0.03


async def _q(url: str, stmt):
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return (await s.execute(stmt)).all()
    finally:
        await engine.dispose()


async def _archive_caught_up(pair) -> bool:
    seq = len(pair.emulator.archive)
    rows = await _q(pair.settings.database.url, select(FeedCursor.value).where(FeedCursor.name == "archive:seq"))
    return bool(rows) and int(rows[0][0]) >= seq


# the feed of a bridge service beside the bot, and the SDK bridge the demo runs (bot/archive_bridge/)
ARCHIVE_MODES = pytest.mark.parametrize("mode", ["feed", "bridge"])


@ARCHIVE_MODES
async def test_commands_in_the_branch_group_are_answered_once_and_never_become_wishes(make_pair, mode):
    pair = await make_pair(_archive, archive=mode)
    url, emu = pair.settings.database.url, pair.emulator
    first = await emu.say("zhangwei", BRANCH, AT + "今天走访了严德富")
    await eventually(lambda: _archive_caught_up(pair))
    # the archive copy was seen too, but the first report still gets its full answer
    assert first.replies and first.replies[0].content.startswith("已记录"), first.replies
    for text in ("心愿清单", "我的积分", "本月汇总", "受理 心愿1"):
        r = await emu.say("chenjianguo", BRANCH, AT + text)
        assert r.delivered and len(r.replies) == 1, (text, r.replies)
    await eventually(lambda: _archive_caught_up(pair))
    assert await _q(url, select(func.count()).select_from(Matter)) == [(0,)]
    assert await _q(url, select(func.count()).select_from(Visit)) == [(1,)]
    statuses = dict(
        await _q(
            url,
            select(InboundMessage.channel, func.count())
            .where(InboundMessage.status == "copy")
            .group_by(InboundMessage.channel),
        )
    )
    assert statuses == {"archive": 5}  # every archive copy kept as seen, none handled
    # nobody was told privately about a copy
    assert not [e for e in emu.timeline("app:zhangwei") if e.direction == "out"]


@ARCHIVE_MODES
async def test_a_residents_words_by_two_doors_stay_one_matter(make_pair, mode):
    pair = await make_pair(_archive, archive=mode)
    url, emu = pair.settings.database.url, pair.emulator
    words = "村口那个路灯坏了好几天了，晚上黑乎乎的"
    await emu.say(RESIDENT, HH, words)
    await eventually(lambda: _archive_caught_up(pair))
    # the bot cannot speak in the 联户群: the member gets the answer, plainly marked as the resident's to pass on
    await eventually(lambda: [e for e in emu.timeline("app:wanghaifeng") if e.direction == "out"])
    [note] = [e.content for e in emu.timeline("app:wanghaifeng") if e.direction == "out"]
    assert "请您转告" in note and "已登记 诉求1" in note, note
    said = await emu.say(RESIDENT, "kf", words)  # the same resident, the same words, to 微信客服
    assert said.ok, said
    await eventually(lambda: _q(url, select(InboundMessage.id).where(InboundMessage.channel == "kf")))
    assert await _q(url, select(func.count()).select_from(Matter)) == [(1,)]
    rows = await _q(url, select(InboundMessage.channel, InboundMessage.status).order_by(InboundMessage.id))
    assert rows == [("archive", "done"), ("kf", "same")]
    # the resident, who asked again in 微信客服, is answered there with what was done the first time
    await eventually(lambda: [e for e in emu.timeline(f"kf:{RESIDENT}") if e.direction == "out"])
    [answer] = [e.content for e in emu.timeline(f"kf:{RESIDENT}") if e.direction == "out"]
    assert answer.startswith("已登记 诉求1"), answer
    # something new said by the second door is new
    await emu.say(RESIDENT, "kf", "微心愿：想要一个老年手机")
    await eventually(lambda: _q(url, select(Matter.id).where(Matter.kind == "wish")))
    assert await _q(url, select(func.count()).select_from(Matter)) == [(2,)]
