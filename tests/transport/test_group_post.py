"""enqueue_group_post: one call picks the route — webhook for an internal group, an add_msg_template task the
owner confirms for an external one (monthly cap), and always a private copy for the member."""

from __future__ import annotations

from sqlalchemy import select

from bot.keys import RUNTIME_KEY
from storage import outbox, repo
from storage.db import make_engine, make_sessionmaker
from storage.models import OutboundMessage
from tests.transport.conftest import eventually

HH = "wrQYm02hh01"
BRANCH = "wrQYbranch0001"


async def _post(url: str, chat_id: str, content: str, key: str) -> None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            group = await repo.group_by_chat_id(s, chat_id)
            await outbox.enqueue_group_post(s, group, content, key=key)
    finally:
        await engine.dispose()


async def _statuses(url: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return list(
                (
                    await s.execute(
                        select(OutboundMessage.channel, OutboundMessage.status).order_by(OutboundMessage.id)
                    )
                ).all()
            )
    finally:
        await engine.dispose()


async def test_external_group_post_is_a_task_the_owner_confirms(tpair):
    url, emu = tpair.settings.database.url, tpair.emulator
    await _post(url, HH, "本周六上午村委会免费量血压", "notice:1")
    tpair.runners[1].app[RUNTIME_KEY].outbox.wake()
    await eventually(lambda: emu.templates)
    await eventually(lambda: [e for e in emu.timeline("app:wanghaifeng") if "请转发" in e.content])
    assert not [e for e in emu.timeline(HH) if e.direction == "out"]  # not in the group until confirmed
    (msgid,) = emu.templates
    emu.confirm_template(msgid)
    emu.confirm_template(msgid)  # tapping twice sends once
    posted = [e for e in emu.timeline(HH) if e.direction == "out"]
    assert [(e.sender, e.content) for e in posted] == [("wanghaifeng", "本周六上午村委会免费量血压")]
    assert await _statuses(url) == [("template", "sent"), ("app", "sent")]


async def test_internal_group_post_uses_the_webhook(tpair):
    url, emu = tpair.settings.database.url, tpair.emulator
    await _post(url, BRANCH, "**主题党日** 本月5日", "theme:1")
    tpair.runners[1].app[RUNTIME_KEY].outbox.wake()
    await eventually(lambda: [e for e in emu.timeline(BRANCH) if e.channel == "webhook"])
    assert await _statuses(url) == [("webhook", "sent")]


async def test_monthly_cap_per_external_group(make_pair):
    # the member's private copies would otherwise wait for the per-chat minute limit (30): not tested here
    tpair = await make_pair(lambda s: setattr(s.outbox, "per_chat_per_minute", 100))
    url, emu = tpair.settings.database.url, tpair.emulator
    import calendar
    import datetime as dt

    from handlers.context import TZ

    now = dt.datetime.now(TZ)
    cap = calendar.monthrange(now.year, now.month)[1]
    for i in range(cap + 1):
        await _post(url, HH, f"通知{i}", f"cap:{i}")
    tpair.runners[1].app[RUNTIME_KEY].outbox.wake()

    async def settled():
        rows = await _statuses(url)
        return all(s in ("sent", "dead") for _, s in rows)

    await eventually(settled, within=30)
    templates = [s for c, s in await _statuses(url) if c == "template"]
    assert templates.count("sent") == cap and templates.count("dead") == 1
    assert len(emu.templates) == cap  # the bot did not even ask for the one over the cap
