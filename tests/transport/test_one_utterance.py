"""Every channel on at once (智能机器人, the archive covering every group, 微信客服): one utterance makes one record
and one answer. The archive copy of an @-message in the 党员群 is ignored (docs/channels.md), so commands never
become 微心愿 and the first visit report gets its full answer; a resident's words that reach the bot by the
联户群 and by 微信客服 stay one matter."""

from __future__ import annotations

from sqlalchemy import func, select, update

from storage.db import make_engine, make_sessionmaker
from storage.models import ChatGroup, FeedCursor, InboundMessage, Matter, MatterEvent, OutboundMessage, Visit
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


def _private(emu, userid: str) -> list[str]:
    return [e.content for e in emu.timeline(f"app:{userid}") if e.direction == "out"]


async def test_commands_in_the_branch_group_are_answered_once_and_never_become_wishes(make_pair):
    # the archive reader is the bridge on the emulator's SDK mode (bot/archive_bridge/), as in `lianhu demo`
    pair = await make_pair(_archive, archive=True)
    url, emu = pair.settings.database.url, pair.emulator
    first = await emu.say("zhangwei", BRANCH, AT + "昨天走访了王大伯，路灯坏了")
    await eventually(lambda: _archive_caught_up(pair))
    # the archive copy was seen too (and was in the archive before the callback came), but the first report still
    # gets its full answer: the visit and the 诉求 it carries, not "已经记过了"
    [full] = [r.content for r in first.replies]
    assert full.startswith("已记录") and "已登记 诉求1" in full and "记过了" not in full, full
    commands = ("心愿清单", "我的积分", "积分排名", "本月汇总", "受理 诉求1", "派 诉求1 周志强", "受理 心愿1")
    for text in commands:
        r = await emu.say("chenjianguo", BRANCH, AT + text)
        assert r.delivered and len(r.replies) == 1, (text, r.replies)
    await eventually(lambda: _archive_caught_up(pair))
    # 我的积分 and 积分排名 go privately: once each, though the archive brought both again (the archive is read to
    # its end, and a copy would have queued its answer in the transaction that moved the cursor)
    queued = await _q(url, select(OutboundMessage.content).where(OutboundMessage.target == "chenjianguo"))
    assert len(queued) == 2 and "积分排名" in queued[1][0], queued
    await eventually(lambda: len(_private(emu, "chenjianguo")) == 2)
    # the 诉求 of the visit report is the only matter: no command became a 微心愿
    assert await _q(url, select(Matter.kind, Matter.number, Matter.state)) == [("request", 1, "承办中")]
    events = await _q(url, select(MatterEvent.action).order_by(MatterEvent.id))
    assert [e for (e,) in events] == ["登记", "受理", "派"]  # each command moved it once
    assert await _q(url, select(func.count()).select_from(Visit)) == [(1,)]
    statuses = dict(
        await _q(
            url,
            select(InboundMessage.channel, func.count())
            .where(InboundMessage.status == "copy")
            .group_by(InboundMessage.channel),
        )
    )
    assert statuses == {"archive": 1 + len(commands)}  # every archive copy kept as seen, none handled
    # the reporter hears of each change once, and nobody is told privately about a copy
    told = await eventually(lambda: _private(emu, "zhangwei") if len(_private(emu, "zhangwei")) >= 2 else None)
    assert len(told) == 2 and "已受理" in told[0] and "周志强" in told[1], told
    assert not [t for t in told if "里您说" in t]


async def test_a_residents_words_by_two_doors_stay_one_matter(make_pair):
    pair = await make_pair(_archive, archive=True)
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


async def test_without_a_bot_the_archive_owns_the_branch_group_and_answers_privately(make_pair):
    # a village with the app and the archive but no 智能机器人: nobody else hears the 党员群, so the archive does
    pair = await make_pair(_archive, archive=True, aibot=False)
    url, emu = pair.settings.database.url, pair.emulator
    said = await emu.say("zhangwei", BRANCH, "今天走访了严德富")  # no @: there is no bot to @
    assert not said.delivered
    await eventually(lambda: _archive_caught_up(pair))
    assert await _q(url, select(func.count()).select_from(Visit)) == [(1,)]
    assert await _q(url, select(InboundMessage.channel, InboundMessage.status)) == [("archive", "done")]
    # the bot cannot speak there: the member who said it hears back privately
    [note] = await eventually(lambda: _private(emu, "zhangwei"))
    assert "里您说：今天走访了严德富" in note and "已记录" in note, note
    assert [e.sender for e in emu.timeline(BRANCH)] == ["zhangwei"]


async def test_a_resident_in_a_group_with_no_linked_member_reaches_the_secretary(make_pair, seeded_url):
    engine = make_engine(seeded_url)
    async with make_sessionmaker(engine)() as s, s.begin():
        await s.execute(update(ChatGroup).where(ChatGroup.chat_id == HH).values(member_id=None))
    await engine.dispose()
    pair = await make_pair(_archive, archive=True)
    emu = pair.emulator
    await emu.say(RESIDENT, HH, "村口那个路灯坏了好几天了，晚上黑乎乎的")
    # the answer meant for the resident goes to the 书记 (the household's own member still hears of the matter)
    [note] = await eventually(lambda: [t for t in _private(emu, "chenjianguo") if "请您转告" in t])
    assert "请您转告王秀英家" in note and "已登记 诉求1" in note, note
    assert not [t for t in _private(emu, "wanghaifeng") if "请您转告" in t]
