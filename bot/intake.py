"""Intake: the one path every inbound message takes — dedupe → who and where → dispatch → store → answer — with
group commit.

Everything a message produces (its log row, visits, conversation state, outgoing messages) is written in one
transaction whose first statement claims the (channel, msg_id) key, so a message redelivered by WeCom, or raced
by a second instance, is answered again but never recorded twice. Messages queue and are written in batches, one
transaction each: SQLite has one writer, so one drainer (waiting here beats sleep-polling in SQLite's busy
handler); PostgreSQL a few.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import Delivery
from bot.whois import WhoIsWho
from domain import channels
from handlers.context import ChatInfo, Context, Inbound, Options
from handlers.routing import Dispatcher
from jobs import kf_window, township
from storage import outbox
from storage.models import Branch, InboundMessage

log = logging.getLogger(__name__)

# Runs inside the message's transaction just before commit (e.g. a feed cursor that must move with what the
# message produced). Gets the session and the stored InboundMessage row.
BeforeCommit = Callable[[AsyncSession, InboundMessage], Awaitable[None]]

APOLOGY = "抱歉，处理这条消息时出错了，什么都没有记录。请稍后再发一次。"

# the message's own row, written with Core (see Intake.process)
_INBOUND = InboundMessage.__table__
_CLAIM = insert(_INBOUND).returning(_INBOUND.c.id)
_FINISH = (
    update(_INBOUND)
    .where(_INBOUND.c.id == bindparam("row_id"))
    .values(branch_id=bindparam("b_branch"), status=bindparam("b_status"), reply=bindparam("b_reply"))
)


CHANNELS = frozenset({"aibot", "ws", "app", "archive", "kf", "console"})  # every Inbound.channel
# Where the same words can legitimately arrive twice, both copies owned: a resident's 联户群 (the archive) and their
# 微信客服. Messages to the 智能机器人 or the app skip the look-up (copies of those are the archive's, which the
# ownership rule drops); an archive or 微信客服 message looks at every other channel.
TWO_DOORS = frozenset({"archive", "kf"})
_MENTION = re.compile(r"^\s*@\S+\s*")
_SPACE = re.compile(r"\s+")


def words_key(text: str) -> str | None:
    """What two copies of one utterance share: a digest of the text without a leading @mention and spacing."""
    words = _SPACE.sub("", _MENTION.sub("", text))
    return hashlib.blake2b(words.encode(), digest_size=8).hexdigest() if words else None


def _lock_key(sender: str) -> int:
    return int.from_bytes(hashlib.blake2b(sender.encode(), digest_size=8).digest(), "big", signed=True)


@dataclass(frozen=True)
class _Job:
    msg: Inbound
    before_commit: BeforeCommit | None
    fut: asyncio.Future[HandleResult]


@dataclass
class HandleResult:
    reply: str | None  # what to answer in the chat the message came from (None = stay silent)
    duplicate: bool = False
    handled_by: str | None = None


class Intake:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        dispatcher: Dispatcher,
        whois: WhoIsWho,
        delivery: Delivery,
        options: Options,
        *,
        bot_listens: bool = True,
        same_words_seconds: float = 600,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.dispatcher = dispatcher
        self.whois = whois
        self.delivery = delivery
        self.options = options
        self.bot_listens = bot_listens  # a 智能机器人 is configured: it owns internal groups (domain/channels.py)
        self.same_words = dt.timedelta(seconds=same_words_seconds)
        self._inflight: dict[tuple[str, str], asyncio.Future[HandleResult]] = {}
        bind = sessionmaker.kw.get("bind")
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._queue: deque[_Job] = deque()
        self._drainers: set[asyncio.Task[None]] = set()
        self._max_drainers = 1 if sqlite else 4
        self._max_batch = 64

    async def handle(self, msg: Inbound, *, before_commit: BeforeCommit | None = None) -> HandleResult:
        key = (msg.channel, msg.msg_id)
        running = self._inflight.get(key)
        if running is not None:  # WeCom retried while we are still working on it: answer with the same result
            result = await asyncio.shield(running)
            return HandleResult(result.reply, duplicate=True, handled_by=result.handled_by)
        fut: asyncio.Future[HandleResult] = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        self._queue.append(_Job(msg, before_commit, fut))
        if len(self._drainers) < self._max_drainers:
            task = asyncio.get_running_loop().create_task(self._drain())
            self._drainers.add(task)
            task.add_done_callback(self._drainers.discard)
        return await asyncio.shield(fut)  # the drainer forgets the key when it sets the result

    async def settle(self) -> None:
        """Wait until every queued message is written (shutdown: before the engine goes away)."""
        while self._drainers:
            await asyncio.gather(*self._drainers, return_exceptions=True)

    # --- group commit ---------------------------------------------------------------------------------------
    async def _drain(self) -> None:
        """Work off the queue in batches: every message waiting when a transaction ends goes into the next one.
        One commit then carries many messages (SQLite: one writer, so exactly one drainer)."""
        try:
            await self._drain_queue()
        finally:
            # leave the set the moment the queue is seen empty, with no await in between: a done-callback would
            # run a loop turn later, and a message queued in that turn found "a drainer running" and waited forever
            task = asyncio.current_task()
            if task is not None:
                self._drainers.discard(task)

    async def _drain_queue(self) -> None:
        while self._queue:
            jobs = [self._queue.popleft() for _ in range(min(len(self._queue), self._max_batch))]
            queued = False
            try:
                results, queued = await self._run_batch(jobs)
            except BaseException as exc:  # even the failure record could not be written (database down?)
                for job in jobs:
                    self._inflight.pop((job.msg.channel, job.msg.msg_id), None)
                    if not job.fut.done():
                        job.fut.set_exception(exc)
                        job.fut.exception()  # retrieved: each caller gets it from its own await
                if not isinstance(exc, Exception):
                    raise  # cancelled: shutting down
                continue  # the rest of the queue still gets its turn
            for job, result in zip(jobs, results, strict=True):
                self._inflight.pop((job.msg.channel, job.msg.msg_id), None)
                job.fut.set_result(result)
            if queued:  # only when messages left pending outbox rows behind (most answers go back passively)
                self.delivery.kick()

    async def _run_batch(self, jobs: list[_Job]) -> tuple[list[HandleResult], bool]:
        results: dict[int, HandleResult] = {}
        fresh = list(enumerate(jobs))
        if len(jobs) > 1:
            # Redeliveries of messages already on record are answered from the record: a duplicate claim inside
            # the batch would roll all of it back (WeCom retries most when we are slowest).
            seen = await self._recorded([j.msg for j in jobs])
            for n, j in fresh:
                if (j.msg.channel, j.msg.msg_id) in seen:
                    results[n] = HandleResult(seen[(j.msg.channel, j.msg.msg_id)], duplicate=True)
            fresh = [(n, j) for n, j in fresh if n not in results]
        queued = False
        if len(fresh) > 1:
            try:
                async with self.sessionmaker() as session, session.begin():
                    await self._one_at_a_time(session, [j.msg for _, j in fresh])
                    for n, j in fresh:
                        results[n] = await self.process(session, j.msg, j.before_commit)
                    queued = bool(session.info.get(outbox.QUEUED_KEY))
                fresh = []
            except Exception:
                # one message failed (or raced another instance): nothing of the batch was written; go one by
                # one so the others are recorded and only that one gets the apology
                log.info("batch of %d rolled back; handling its messages one by one", len(fresh))
        for n, j in fresh:
            flag: list[bool] = []
            results[n] = await self._handle_one(j.msg, j.before_commit, flag)
            queued = queued or bool(flag)
        return [results[n] for n in range(len(jobs))], queued

    async def _recorded(self, msgs: list[Inbound]) -> dict[tuple[str, str], str | None]:
        """(channel, msg_id) → stored reply, for those of `msgs` already on record."""
        async with self.sessionmaker() as session:
            rows = await session.execute(
                select(_INBOUND.c.channel, _INBOUND.c.msg_id, _INBOUND.c.reply).where(
                    _INBOUND.c.channel.in_({m.channel for m in msgs}), _INBOUND.c.msg_id.in_({m.msg_id for m in msgs})
                )
            )
            return {(c, m): r for c, m, r in rows}

    async def _handle_one(
        self, msg: Inbound, before_commit: BeforeCommit | None = None, queued: list[bool] | None = None
    ) -> HandleResult:
        """One message in its own transaction, with the failure answers."""
        try:
            async with self.sessionmaker() as session, session.begin():
                await self._one_at_a_time(session, [msg])
                result = await self.process(session, msg, before_commit)
                if queued is not None and session.info.get(outbox.QUEUED_KEY):
                    queued.append(True)
                return result
        except IntegrityError:
            dup = await self._duplicate(msg)
            if dup.duplicate:
                return dup
            # some other constraint: a bug, not a redelivery; nothing was written, say so
            log.exception("integrity error handling %s/%s", msg.channel, msg.msg_id)
            return await self._record_failure(msg, before_commit)
        except Exception:
            log.exception("handler failed for %s/%s", msg.channel, msg.msg_id)
            return await self._record_failure(msg, before_commit)

    async def process(
        self, session: AsyncSession, msg: Inbound, before_commit: BeforeCommit | None = None
    ) -> HandleResult:
        """Everything one message does, inside the caller's transaction; raises on failure."""
        # Core statements for the message's own row (one INSERT, one UPDATE): the ORM unit of work around
        # them cost more CPU than SQLite took to run them. The INSERT claims the dedup key now; a racing
        # duplicate fails here or at commit.
        row_id = (
            await session.execute(
                _CLAIM,
                {
                    "channel": msg.channel,
                    "msg_id": msg.msg_id,
                    "sender": msg.sender,
                    "chat_id": msg.chat_id,
                    "chat_type": msg.chat_type,
                    "text": msg.text,
                    "sent_at": msg.sent_at,
                    "status": "pending",
                    "meta": {k: v for k, v in msg.meta.items() if k != "response_url"},
                    "words_key": words_key(msg.text),
                },
            )
        ).scalar_one()
        ctx = await self._context(session, msg, row_id)
        status = "done"
        group = ctx.chat.group
        if not channels.owns(
            msg.channel, msg.chat_type, group.internal if group is not None else None, bot_listens=self.bot_listens
        ):
            status, reply, handled_by = "copy", None, "copy"  # another channel brings (brought) these words
        elif (earlier := await self._same_words(session, msg, row_id)) is not None:
            status, reply, handled_by = "same", earlier, "same"  # recorded once, where it was first heard
            if msg.channel == "kf" and earlier:
                # the resident asked in their own 1:1 chat: they hear what was done with their words there too
                ctx.reply(earlier)
                await self.delivery.queue_outgoing(session, ctx, row_id)
        else:
            handled_by = await self.dispatcher.dispatch(ctx)
            reply = ctx.reply_text or None
            await self.delivery.queue_outgoing(session, ctx, row_id)
        if msg.channel == "kf":  # the resident wrote: 48 hours and 5 replies from now (§4.4)
            await kf_window.note_inbound(session, msg.sender, msg.sent_at)
        await session.execute(
            _FINISH,
            {"row_id": row_id, "b_branch": ctx.branch.id if ctx.branch else None, "b_status": status, "b_reply": reply},
        )
        if before_commit is not None:
            row = await session.get(InboundMessage, row_id)
            assert row is not None
            await before_commit(session, row)
        return HandleResult(reply, handled_by=handled_by)

    # --- one utterance, however many channels bring it ------------------------------------------------------
    async def _one_at_a_time(self, session: AsyncSession, msgs: list[Inbound]) -> None:
        """PostgreSQL: two transactions carrying the same person's words must not both miss each other; hold a
        lock per sender until commit, taken in a fixed order (no deadlock between batches). SQLite has one writer."""
        if session.bind.dialect.name != "postgresql":
            return
        for key in sorted({_lock_key(m.sender) for m in msgs if m.channel in TWO_DOORS and m.text.strip()}):
            await session.execute(select(func.pg_advisory_xact_lock(key)))

    async def _same_words(self, session: AsyncSession, msg: Inbound, row_id: int) -> str | None:
        """The stored answer when the same person's same words were handled from another channel within the
        window (checked for TWO_DOORS messages); None when these words are new. A repeat by the same channel is
        a new message (people do say a thing twice); a message WeCom retried is caught earlier, by msg_id."""
        key = words_key(msg.text)
        if key is None or msg.channel not in TWO_DOORS:
            return None
        rows = await session.execute(
            select(_INBOUND.c.reply)
            .where(
                _INBOUND.c.sender == msg.sender,
                _INBOUND.c.words_key == key,
                # one probe per other channel (an IN on the index), not a scan of this channel's repeats
                _INBOUND.c.channel.in_(sorted(CHANNELS - {msg.channel})),
                _INBOUND.c.status == "done",
                _INBOUND.c.id != row_id,
                _INBOUND.c.sent_at.between(msg.sent_at - self.same_words, msg.sent_at + self.same_words),
            )
            .order_by(_INBOUND.c.id)
            .limit(1)
        )
        found = rows.first()
        return None if found is None else (found[0] or "")

    async def _duplicate(self, msg: Inbound) -> HandleResult:
        async with self.sessionmaker() as session:
            row = (
                await session.execute(
                    select(InboundMessage).where(
                        InboundMessage.channel == msg.channel, InboundMessage.msg_id == msg.msg_id
                    )
                )
            ).scalar_one_or_none()
        if row is None:
            return HandleResult(None, duplicate=False)
        return HandleResult(row.reply, duplicate=True)

    async def _record_failure(self, msg: Inbound, before_commit: BeforeCommit | None = None) -> HandleResult:
        try:
            async with self.sessionmaker() as session, session.begin():
                row = InboundMessage(
                    channel=msg.channel,
                    msg_id=msg.msg_id,
                    sender=msg.sender,
                    chat_id=msg.chat_id,
                    chat_type=msg.chat_type,
                    text=msg.text,
                    sent_at=msg.sent_at,
                    status="failed",
                    reply=APOLOGY,
                )
                session.add(row)
                if before_commit is not None:  # a feed moves past a message that failed: it is on record
                    await session.flush()
                    await before_commit(session, row)
        except IntegrityError:
            return await self._duplicate(msg)
        return HandleResult(APOLOGY, handled_by="error")

    async def _context(self, session: AsyncSession, msg: Inbound, inbound_id: int) -> Context:
        who = self.whois
        is_group = msg.chat_type == "group"
        # The branch is read first (where the cache says to look): its roster_version validates the cached rows,
        # and the same statement tells whether this person has an open question here.
        branch: Branch | None = None
        open_question: bool | None = None
        if (hint := who.branch_hint(msg)) is not None:
            branch, open_question = await who.branch_and_question(session, hint, msg)
        group = await who.group(session, msg.chat_id, branch) if is_group else None
        sender = await who.sender(session, msg.sender, branch)
        branch_id = group.branch_id if group is not None else sender.branch_id
        township_choices: tuple[str, ...] = ()
        if branch_id is None and sender.kind == "township":
            choice = await township.choose_branch(session, msg.text)
            branch_id, township_choices = choice.branch_id, choice.choices
            if choice.text != msg.text:
                msg = dataclasses.replace(msg, text=choice.text)
        if branch is None or branch.id != branch_id:
            branch = await session.get(Branch, branch_id) if branch_id is not None else None
            open_question = None
        if sender.kind == "township" and branch is not None:
            sender.branch_id = branch.id
        parser = await who.parser_for(session, branch) if branch is not None else None
        ctx = Context(
            msg,
            sender,
            ChatInfo(msg.chat_key, msg.chat_type, group),
            session,
            branch,
            parser,
            inbound_id=inbound_id,
            options=self.options,
        )
        ctx.no_open_question = open_question is False  # get_state need not look
        ctx.township_choices = tuple(township_choices)
        return ctx
