"""The one path every inbound message takes: dedupe → resolve who and where → dispatch → store → answer.

Everything a message produces (its log row, visits, conversation state, outgoing messages) is written in one
transaction whose first statement claims the (channel, msg_id) key, so a message redelivered by WeCom, or raced
by a second instance, is answered again but never recorded twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from bot.config import Settings
from bot.wecom.client import WeComClient
from handlers.context import ChatInfo, Context, Inbound, Options, Sender
from handlers.conversation import OPEN_HINT, open_state_exists
from handlers.routing import Dispatcher
from nlp.parser import Parser
from storage import outbox, repo
from storage.models import (
    Branch,
    ChatGroup,
    ConversationState,
    Household,
    InboundMessage,
    Member,
    OutboundMessage,
    utcnow,
)

if TYPE_CHECKING:
    from bot.outbox import OutboxWorker

log = logging.getLogger(__name__)

# Runs inside the message's transaction just before commit (e.g. a feed cursor that must move with what the
# message produced). Gets the session and the stored InboundMessage row.
BeforeCommit = Callable[[AsyncSession, InboundMessage], Awaitable[None]]

APOLOGY = "抱歉，处理这条消息时出错了，什么都没有记录。请稍后再发一次。"


# the message's own row and its passive replies, written with Core (see Runtime._handle)
_INBOUND = InboundMessage.__table__
_CLAIM = insert(_INBOUND).returning(_INBOUND.c.id)
_FINISH = (
    update(_INBOUND)
    .where(_INBOUND.c.id == bindparam("row_id"))
    .values(branch_id=bindparam("b_branch"), status=bindparam("b_status"), reply=bindparam("b_reply"))
)
_PASSIVE = insert(OutboundMessage.__table__)
# the branch (whose roster_version validates the cached roster rows) and whether the sender has a question open
_BRANCH_AND_QUESTION = select(Branch, open_state_exists()).where(Branch.id == bindparam("branch_id"))


@dataclass(frozen=True)
class _Cached:
    """A roster row (Member / Household / ChatGroup) as of one roster_version of its branch, detached; every
    message gets its own session-bound copy with `session.merge(obj, load=False)` (no SQL)."""

    branch_id: int
    version: int | None  # None: only a hint where to look (the row was read before its branch's version)
    obj: Any


def _detached_copy(obj: Any) -> Any:
    """A detached twin of a loaded ORM row (column attributes only; relationships are lazy="raise" anyway)."""
    mapper = obj.__mapper__
    copy = mapper.class_manager.new_instance()
    for attr in mapper.column_attrs:
        set_committed_value(copy, attr.key, getattr(obj, attr.key))
    make_transient_to_detached(copy)
    return copy


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


class Runtime:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        dispatcher: Dispatcher,
        client: WeComClient | None,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.dispatcher = dispatcher
        self.client = client
        self.clock = clock
        self._parsers: dict[int, tuple[int, Parser]] = {}
        self._inflight: dict[tuple[str, str], asyncio.Future[HandleResult]] = {}
        # Who is who, per branch roster_version: ("m", userid) / ("h", external userid) / ("g", chat id). Members'
        # roles/status, households' external ids and groups change only through a roster import, which bumps the
        # branch's roster_version (storage/roster_sync.py); the branch row is read on every message anyway.
        self._roster_cache: dict[tuple[str, str], _Cached] = {}
        # Group commit: messages queue here and are written in batches, one transaction each. SQLite has one
        # writer, so one drainer (waiting here beats sleep-polling in SQLite's busy handler); PostgreSQL a few.
        bind = sessionmaker.kw.get("bind")
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._queue: deque[_Job] = deque()
        self._drainers: set[asyncio.Task[None]] = set()
        self._max_drainers = 1 if sqlite else 4
        self._max_batch = 64
        self.options = Options(
            conversation_timeout=settings.conversation.timeout_seconds,
            volunteers=frozenset(settings.roles.volunteer_userids),
            close_days=settings.matters.close_days,
            duplicate_similarity=settings.matters.duplicate_similarity,
        )
        self.outbox: OutboxWorker | None = None  # set by bot/outbox.py when the worker runs
        # app-callback events by Event name (e.g. kf_msg_or_event → the 微信客服 sync), set by their modules
        self.app_event_hooks: dict[str, Callable[[dict[str, str]], Any]] = {}

    # --- parsers ------------------------------------------------------------------------------------------
    async def parser_for(self, session: AsyncSession, branch: Branch) -> Parser:
        cached = self._parsers.get(branch.id)
        if cached is not None and cached[0] == branch.roster_version:
            return cached[1]
        roster = await repo.nlp_roster_for_branch(session, branch.id)
        if cached is not None:
            parser = cached[1]
            parser.update_roster(roster)
        else:
            parser = Parser(roster, vocab_path=self.settings.nlp.vocab_path or None)
        self._parsers[branch.id] = (branch.roster_version, parser)
        return parser

    # --- the main path ------------------------------------------------------------------------------------
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
                self._kick_outbox()

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
                    for n, j in fresh:
                        results[n] = await self._process(session, j.msg, j.before_commit)
                    queued = bool(session.info.get(outbox.QUEUED_KEY))
                fresh = []
            except Exception:
                # one message failed (or raced another instance): nothing of the batch was written; go one by
                # one so the others are recorded and only that one gets the apology
                log.info("batch of %d rolled back; handling its messages one by one", len(fresh))
        for n, j in fresh:
            flag: list[bool] = []
            results[n] = await self._handle(j.msg, j.before_commit, flag)
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

    async def _handle(
        self, msg: Inbound, before_commit: BeforeCommit | None = None, queued: list[bool] | None = None
    ) -> HandleResult:
        """One message in its own transaction, with the failure answers."""
        try:
            async with self.sessionmaker() as session, session.begin():
                result = await self._process(session, msg, before_commit)
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

    async def _process(
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
                },
            )
        ).scalar_one()
        ctx = await self._context(session, msg, row_id)
        handled_by = await self.dispatcher.dispatch(ctx)
        reply = ctx.reply_text or None
        await self._queue_outgoing(session, ctx, row_id)
        if msg.channel == "kf":  # the resident wrote: 48 hours and 5 replies from now (§4.4)
            from bot.outbox import kf_note_inbound

            await kf_note_inbound(session, msg.sender, msg.sent_at)
        await session.execute(
            _FINISH,
            {"row_id": row_id, "b_branch": ctx.branch.id if ctx.branch else None, "b_status": "done", "b_reply": reply},
        )
        if before_commit is not None:
            row = await session.get(InboundMessage, row_id)
            assert row is not None
            await before_commit(session, row)
        return HandleResult(reply, handled_by=handled_by)

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
        is_group = msg.chat_type == "group"
        # The branch is read first (where the cache says to look): its roster_version validates the cached rows,
        # and the same statement tells whether this person has an open question here.
        hint = self._cached(("g", msg.chat_id)) if is_group else None
        hint = hint or self._cached(("m", msg.sender)) or self._cached(("h", msg.sender))
        branch: Branch | None = None
        open_question: bool | None = None
        if hint is not None:
            branch, open_question = await self._branch_and_question(session, hint.branch_id, msg)
        group = await self._group(session, msg.chat_id, branch) if is_group else None
        sender = await self.resolve_sender(session, msg.sender, branch)
        branch_id = group.branch_id if group is not None else sender.branch_id
        township_choices: list[str] = []
        if branch_id is None and sender.kind == "township":
            branch_id, msg, township_choices = await self._township_branch(session, msg)
        if branch is None or branch.id != branch_id:
            branch = await session.get(Branch, branch_id) if branch_id is not None else None
            open_question = None
        if sender.kind == "township" and branch is not None:
            sender.branch_id = branch.id
        parser = await self.parser_for(session, branch) if branch is not None else None
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
        if open_question is False:
            ctx.state[OPEN_HINT] = False  # get_state need not look
        if township_choices:
            ctx.state["township_choices"] = township_choices
        return ctx

    @staticmethod
    async def _township_branch(session: AsyncSession, msg: Inbound) -> tuple[int | None, Inbound, list[str]]:
        """Township staff see every branch: 1:1 they name it first ("前洋村 本月未走访户"); one branch needs no name."""
        branches = (await session.execute(select(Branch.id, Branch.name).order_by(Branch.id))).all()
        if len(branches) == 1:
            return branches[0][0], msg, []
        head, _, rest = msg.text.strip().partition(" ")
        hits = [b for b in branches if head and head in b.name]
        if len(hits) == 1 and rest.strip():
            return hits[0][0], dataclasses.replace(msg, text=rest.strip()), []
        return None, msg, [name for _, name in branches]

    # --- who is who, cached per roster_version --------------------------------------------------------------
    def _cached(self, key: tuple[str, str]) -> _Cached | None:
        return self._roster_cache.get(key) if key[1] else None

    async def _branch_and_question(
        self, session: AsyncSession, branch_id: int, msg: Inbound
    ) -> tuple[Branch | None, bool | None]:
        found = (
            await session.execute(
                _BRANCH_AND_QUESTION, {"branch_id": branch_id, "chat_key": msg.chat_key, "userid": msg.sender}
            )
        ).first()
        return (found[0], bool(found[1])) if found is not None else (None, None)

    async def _from_cache(
        self, session: AsyncSession, key: tuple[str, str], branch: Branch | None, load: Callable[[], Awaitable[Any]]
    ) -> Any:
        """The row for `key`: a session-bound copy of the cached one when it is of `branch`'s current
        roster_version, else loaded (and cached when `branch`, read before it, is its branch)."""
        hit = self._cached(key)
        if (
            hit is not None
            and branch is not None
            and hit.version is not None
            and hit.branch_id == branch.id
            and hit.version == branch.roster_version
        ):
            return await session.merge(hit.obj, load=False)
        obj = await load()
        if obj is None:
            self._roster_cache.pop(key, None)
        elif key[1]:
            if len(self._roster_cache) > 200_000:  # a county is ~20 000 members; bounded all the same
                self._roster_cache.clear()
            exact = branch is not None and obj.branch_id == branch.id
            self._roster_cache[key] = _Cached(
                obj.branch_id, branch.roster_version if exact else None, _detached_copy(obj) if exact else None
            )
        return obj

    async def _group(self, session: AsyncSession, chat_id: str, branch: Branch | None) -> ChatGroup | None:
        return await self._from_cache(session, ("g", chat_id), branch, lambda: repo.group_by_chat_id(session, chat_id))

    async def resolve_sender(self, session: AsyncSession, userid: str, branch: Branch | None = None) -> Sender:
        member: Member | None = await self._from_cache(
            session, ("m", userid), branch, lambda: repo.member_by_userid(session, userid)
        )
        if member is not None:
            kind = "township" if userid in self.settings.roles.township_userids else "member"
            return Sender(userid, kind, member=member, branch_id=member.branch_id, roles=member.role_set)
        if userid in self.settings.roles.township_userids:
            return Sender(userid, "township", roles=frozenset({"镇街"}))
        household: Household | None = await self._from_cache(
            session, ("h", userid), branch, lambda: repo.household_by_external(session, userid)
        )
        if household is not None:
            return Sender(
                userid, "resident", household=household, branch_id=household.branch_id, roles=frozenset({"居民"})
            )
        return Sender(userid, "unknown")

    # --- outgoing -----------------------------------------------------------------------------------------
    async def _queue_outgoing(self, session: AsyncSession, ctx: Context, inbound_id: int) -> None:
        """Every answer becomes an outbox row, routed back the way the message came."""
        branch_id = ctx.branch.id if ctx.branch else None
        passive: list[dict[str, Any]] = []
        for n, out in enumerate(ctx.outgoing):
            key = f"in:{inbound_id}:{n}"
            if out.kind == "reply" and ctx.msg.channel in ("aibot", "ws", "console"):
                # answered in the HTTP response / aibot_respond_msg / the console page itself (passive reply);
                # logged for the record
                passive.append(
                    {
                        "branch_id": branch_id,
                        "channel": "passive",
                        "target": out.to,
                        "msgtype": "markdown",
                        "content": out.text,
                        "status": "sent",
                        "inbound_id": inbound_id,
                    }
                )
                continue
            if out.kind == "reply" and ctx.msg.channel == "kf":
                outbox.enqueue(
                    session,
                    channel="kf",
                    target=ctx.msg.sender,
                    content=out.text,
                    msgtype="text",
                    key=key,
                    branch_id=branch_id,
                    inbound_id=inbound_id,
                    payload={"open_kfid": ctx.msg.meta.get("open_kfid", "")},
                )
                continue
            if out.kind == "reply" and ctx.msg.channel == "archive":
                # the bot cannot speak in a household group: the group's member gets it privately
                await self._reply_to_group_member(session, ctx, out.text, key, branch_id, inbound_id)
                continue
            if out.kind == "group":
                group = await repo.group_by_chat_id(session, out.to)
                if group is not None:
                    await outbox.enqueue_group_post(
                        session, group, out.text, key=key, branch_id=branch_id, inbound_id=inbound_id
                    )
                else:
                    log.warning("group post to unknown chat %s dropped", out.to)
                continue
            target = ctx.msg.sender if out.kind == "reply" else out.to
            outbox.enqueue(
                session,
                channel="app",
                target=target,
                content=out.text,
                branch_id=branch_id,
                inbound_id=inbound_id,
                key=key,
            )
        if passive:
            await session.execute(_PASSIVE, passive)

    async def _reply_to_group_member(
        self, session: AsyncSession, ctx: Context, text: str, key: str, branch_id: int | None, inbound_id: int
    ) -> None:
        group = ctx.chat.group
        member = await session.get(Member, group.member_id) if group is not None and group.member_id else None
        if member is None or not member.userid:
            log.warning("no member to tell about %s in %s", ctx.msg.msg_id, ctx.msg.chat_id)
            return
        said = ctx.msg.text if len(ctx.msg.text) <= 60 else ctx.msg.text[:60] + "…"
        note = f"「{group.name}」里{ctx.sender.display}说：{said}\n\n{text}"
        outbox.enqueue(
            session,
            channel="app",
            target=member.userid,
            content=note,
            branch_id=branch_id,
            inbound_id=inbound_id,
            key=key,
        )

    def _kick_outbox(self) -> None:
        if self.outbox is not None:
            self.outbox.wake()

    async def flush_outbox(self) -> int:
        """Send what is due now (the worker does this on its own; callers that want it at once may ask)."""
        if self.outbox is None:
            return 0
        return await self.outbox.run_once()

    # --- conversation expiry ------------------------------------------------------------------------------
    async def sweep_conversations(self) -> int:
        """Expire open questions and tell the person, once (the delete decides who tells)."""
        now = self.clock()
        async with self.sessionmaker() as session:
            expired = list(await session.scalars(select(ConversationState).where(ConversationState.expires_at <= now)))
        told = 0
        for st in expired:
            async with self.sessionmaker() as session, session.begin():
                res = await session.execute(delete(ConversationState).where(ConversationState.id == st.id))
                if res.rowcount != 1:
                    continue
                note = "刚才的问题已超时，那条走访没有记录。需要的话请重新发一次，并写上户主姓名。"
                outbox.enqueue(session, channel="app", target=st.userid, content=note, key=f"expired:{st.id}")
            told += 1
        if told:
            await self.flush_outbox()
        return told
