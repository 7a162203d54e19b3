"""The one path every inbound message takes: dedupe → resolve who and where → dispatch → store → answer.

Everything a message produces (its log row, visits, conversation state, outgoing messages) is written in one
transaction whose first statement claims the (channel, msg_id) key, so a message redelivered by WeCom, or raced
by a second instance, is answered again but never recorded twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.wecom.client import WeComClient
from bot.wecom.errors import WeComApiError
from handlers.context import ChatInfo, Context, Inbound, Sender
from handlers.routing import Dispatcher
from nlp.parser import Parser
from storage import outbox, repo
from storage.models import Branch, ConversationState, InboundMessage, OutboundMessage, utcnow

log = logging.getLogger(__name__)

APOLOGY = "抱歉，处理这条消息时出错了，什么都没有记录。请稍后再发一次。"


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
        self._outbox_lock = asyncio.Lock()

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
    async def handle(self, msg: Inbound) -> HandleResult:
        key = (msg.channel, msg.msg_id)
        running = self._inflight.get(key)
        if running is not None:  # WeCom retried while we are still working on it: answer with the same result
            result = await asyncio.shield(running)
            return HandleResult(result.reply, duplicate=True, handled_by=result.handled_by)
        fut: asyncio.Future[HandleResult] = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            result = await self._handle(msg)
            fut.set_result(result)
            return result
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # mark retrieved
            raise
        finally:
            self._inflight.pop(key, None)
            asyncio.get_running_loop().call_soon(self._kick_outbox)

    async def _handle(self, msg: Inbound) -> HandleResult:
        try:
            async with self.sessionmaker() as session, session.begin():
                row = InboundMessage(
                    channel=msg.channel, msg_id=msg.msg_id, sender=msg.sender, chat_id=msg.chat_id,
                    chat_type=msg.chat_type, text=msg.text, sent_at=msg.sent_at, status="pending",
                    meta={k: v for k, v in msg.meta.items() if k != "response_url"},
                )
                session.add(row)
                await session.flush()  # claims the dedup key now; a racing duplicate fails here or at commit
                ctx = await self._context(session, msg, row.id)
                row.branch_id = ctx.branch.id if ctx.branch else None
                handled_by = await self.dispatcher.dispatch(ctx)
                reply = ctx.reply_text or None
                self._queue_outgoing(session, ctx, row)
                row.status, row.reply = "done", reply
                return HandleResult(reply, handled_by=handled_by)
        except IntegrityError:
            return await self._duplicate(msg)
        except Exception:
            log.exception("handler failed for %s/%s", msg.channel, msg.msg_id)
            return await self._record_failure(msg)

    async def _duplicate(self, msg: Inbound) -> HandleResult:
        async with self.sessionmaker() as session:
            row = (await session.execute(
                select(InboundMessage).where(InboundMessage.channel == msg.channel,
                                             InboundMessage.msg_id == msg.msg_id)
            )).scalar_one_or_none()
        return HandleResult(row.reply if row else None, duplicate=True)

    async def _record_failure(self, msg: Inbound) -> HandleResult:
        try:
            async with self.sessionmaker() as session, session.begin():
                session.add(InboundMessage(
                    channel=msg.channel, msg_id=msg.msg_id, sender=msg.sender, chat_id=msg.chat_id,
                    chat_type=msg.chat_type, text=msg.text, sent_at=msg.sent_at, status="failed", reply=APOLOGY,
                ))
        except IntegrityError:
            return await self._duplicate(msg)
        return HandleResult(APOLOGY, handled_by="error")

    async def _context(self, session: AsyncSession, msg: Inbound, inbound_id: int) -> Context:
        group = await repo.group_by_chat_id(session, msg.chat_id) if msg.chat_type == "group" else None
        sender = await self.resolve_sender(session, msg.sender)
        branch_id = group.branch_id if group is not None else sender.branch_id
        if branch_id is None and sender.kind == "township":
            branch_id = await session.scalar(select(Branch.id).order_by(Branch.id).limit(1))
        branch = await session.get(Branch, branch_id) if branch_id is not None else None
        if sender.kind == "township" and branch is not None:
            sender.branch_id = branch.id
        parser = await self.parser_for(session, branch) if branch is not None else None
        return Context(msg, sender, ChatInfo(msg.chat_key, msg.chat_type, group), session, branch, parser,
                       inbound_id=inbound_id, conversation_timeout=self.settings.conversation.timeout_seconds)

    async def resolve_sender(self, session: AsyncSession, userid: str) -> Sender:
        member = await repo.member_by_userid(session, userid)
        if member is not None:
            kind = "township" if userid in self.settings.roles.township_userids else "member"
            return Sender(userid, kind, member=member, branch_id=member.branch_id, roles=member.role_set)
        if userid in self.settings.roles.township_userids:
            return Sender(userid, "township", roles=frozenset({"镇街"}))
        household = await repo.household_by_external(session, userid)
        if household is not None:
            return Sender(userid, "resident", household=household, branch_id=household.branch_id,
                          roles=frozenset({"居民"}))
        return Sender(userid, "unknown")

    # --- outgoing -----------------------------------------------------------------------------------------
    def _queue_outgoing(self, session: AsyncSession, ctx: Context, row: InboundMessage) -> None:
        branch_id = ctx.branch.id if ctx.branch else None
        for out in ctx.outgoing:
            if out.kind == "reply" and ctx.msg.channel == "aibot":
                # answered in the HTTP response itself (passive reply); logged for the record
                session.add(OutboundMessage(branch_id=branch_id, channel="passive", target=out.to, msgtype="markdown",
                                            content=out.text, status="sent", inbound_id=row.id))
                continue
            target = ctx.msg.sender if out.kind == "reply" else out.to
            outbox.enqueue(session, channel="app", target=target, content=out.text, branch_id=branch_id,
                           inbound_id=row.id)

    def _kick_outbox(self) -> None:
        if self.client is not None:
            asyncio.get_running_loop().create_task(self.flush_outbox())

    async def flush_outbox(self) -> int:
        """Send pending private messages (app message/send). Issue-5's outbox worker replaces this loop."""
        if self.client is None:
            return 0
        sent = 0
        async with self._outbox_lock:
            async with self.sessionmaker() as session:
                rows = list(await session.scalars(
                    select(OutboundMessage).where(OutboundMessage.status == "pending").order_by(OutboundMessage.id)
                ))
            for row in rows:
                try:
                    await self.client.send_app_message(row.target, row.content, msgtype=row.msgtype)
                    status, error = "sent", ""
                    sent += 1
                except (TimeoutError, WeComApiError, OSError) as exc:
                    status, error = "failed", str(exc)[:200]
                    log.warning("send to %s failed: %s", row.target, exc)
                async with self.sessionmaker() as session, session.begin():
                    r = await session.get(OutboundMessage, row.id)
                    if r is not None:
                        r.status, r.error = status, error
        return sent

    # --- conversation expiry ------------------------------------------------------------------------------
    async def sweep_conversations(self) -> int:
        """Expire open questions and tell the person, once (the delete decides who tells)."""
        now = self.clock()
        async with self.sessionmaker() as session:
            expired = list(await session.scalars(
                select(ConversationState).where(ConversationState.expires_at <= now)
            ))
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
