"""Group commit: messages that arrive together are written in one transaction, in arrival order, and behave exactly
as if handled one by one — a message that fails takes nothing of the others with it."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import event, func, select

from bot.runtime import APOLOGY, Runtime
from handlers import build_dispatcher
from handlers.context import Inbound
from handlers.routing import Route
from storage.db import make_engine, make_sessionmaker
from storage.models import ConversationState, Household, InboundMessage, Visit
from tests.conftest import make_settings

BRANCH = "wrQYbranch0001"


@pytest.fixture
async def runtime(seeded_url):
    engine = make_engine(seeded_url)
    rt = Runtime(make_settings(seeded_url), make_sessionmaker(engine), build_dispatcher(), None)
    commits: list[int] = []
    event.listen(engine.sync_engine, "commit", lambda _conn: commits.append(1))
    rt.commits = commits  # type: ignore[attr-defined]
    try:
        yield rt
    finally:
        await engine.dispose()


def msg(n: int, userid: str, text: str) -> Inbound:
    return Inbound("aibot", f"gc-{n}", userid, BRANCH, "group", text, dt.datetime.now(dt.UTC))


async def visited(rt: Runtime) -> dict[str, int]:
    async with rt.sessionmaker() as s:
        rows = await s.execute(
            select(Household.code, func.count(Visit.id))
            .join(Visit, Visit.household_id == Household.id)
            .group_by(Household.code)
        )
        return dict(rows.all())


async def test_messages_arriving_together_share_one_commit(runtime):
    texts = ["今天走访了王根发", "今天走访了王彩娥", "本月未走访户", "收到", "昨天走访了王根发"]
    results = await asyncio.gather(*(runtime.handle(msg(i, "zhangwei", t)) for i, t in enumerate(texts)))
    assert [r.handled_by for r in results] == ["visit", "visit", "unvisited", "fallback", "visit"]
    assert len(runtime.commits) == 1  # five messages, one transaction
    assert await visited(runtime) == {"H011": 2, "H012": 1}
    # the 未走访户 answer, handled third, already saw the two visits recorded before it in the same transaction
    assert "共 4 户" in results[2].reply and "严德富" in results[2].reply
    assert "王根发" not in results[2].reply and "王彩娥" not in results[2].reply
    async with runtime.sessionmaker() as s:
        statuses = (await s.scalars(select(InboundMessage.status).order_by(InboundMessage.id))).all()
    assert statuses == ["done"] * 5


async def test_a_question_and_its_answer_in_one_batch_behave_as_in_sequence(runtime):
    results = await asyncio.gather(
        runtime.handle(msg(1, "zhangwei", "今天走访王家")), runtime.handle(msg(2, "zhangwei", "2"))
    )
    assert "哪一户" in results[0].reply
    assert "王彩娥" in results[1].reply
    assert await visited(runtime) == {"H012": 1}
    async with runtime.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(ConversationState)) == 0


async def test_one_failing_message_does_not_take_the_batch_with_it(runtime):
    async def explode(ctx):
        await ctx.uow.visits.add(  # something is written (and flushed) before it fails: it must not survive
            branch_id=ctx.branch.id,
            member_id=ctx.sender.member.id,
            household_id=1,
            day=dt.date(2020, 1, 1),
            inbound_id=None,
            by="boom",
        )
        raise RuntimeError("boom")

    runtime.dispatcher.routes.insert(0, Route("boom", lambda ctx: "爆炸" in ctx.msg.text, explode))
    texts = ["今天走访了王根发", "爆炸", "今天走访了王彩娥"]
    results = await asyncio.gather(*(runtime.handle(msg(i, "zhangwei", t)) for i, t in enumerate(texts)))
    assert [r.reply == APOLOGY for r in results] == [False, True, False]
    assert await visited(runtime) == {"H011": 1, "H012": 1}  # and no 2020 visit from the failed one
    async with runtime.sessionmaker() as s:
        rows = (
            await s.execute(select(InboundMessage.msg_id, InboundMessage.status).order_by(InboundMessage.msg_id))
        ).all()
    assert rows == [("gc-0", "done"), ("gc-1", "failed"), ("gc-2", "done")]


async def test_a_redelivery_inside_the_same_batch_is_answered_and_recorded_once(runtime):
    m = msg(7, "zhangwei", "今天走访了王根发")
    first, again = await asyncio.gather(runtime.handle(m), runtime.handle(m))
    assert not first.duplicate and again.duplicate and again.reply == first.reply
    assert await visited(runtime) == {"H011": 1}
    # redelivered later, among new messages: answered from the record, and the others still share one commit
    before = len(runtime.commits)
    later, *new = await asyncio.gather(
        runtime.handle(m),
        runtime.handle(msg(8, "zhangwei", "今天走访了王彩娥")),
        runtime.handle(msg(9, "zhangwei", "收到")),
    )
    assert later.duplicate and later.reply == first.reply
    assert [r.handled_by for r in new] == ["visit", "fallback"]
    assert len(runtime.commits) == before + 1
    assert await visited(runtime) == {"H011": 1, "H012": 1}


async def test_a_message_queued_as_the_drainer_finishes_is_not_stranded(runtime):
    """The drainer used to leave its set a loop turn after it saw the queue empty (a done-callback). A task woken
    by the drainer's last batch — the archive poller, whose previous message had just been answered — queued its
    next message in that turn, found "a drainer running" and waited forever (seen: a visit report never answered
    while the poller handled a copy)."""
    intake = runtime.intake
    woken = asyncio.Event()
    real_batch = intake._run_batch

    async def batch_then_wake(jobs):
        out = await real_batch(jobs)
        woken.set()  # the waiter's wake-up is queued now, before the drainer's task finishes
        return out

    async def next_message():
        await woken.wait()
        return await runtime.handle(msg(91, "zhangwei", "收到"))

    waiter = asyncio.ensure_future(next_message())
    intake._run_batch = batch_then_wake
    await runtime.handle(msg(90, "zhangwei", "今天走访了王根发"))
    result = await asyncio.wait_for(waiter, 10)  # bounded: stranded, it would never finish
    assert result.handled_by == "fallback"
