"""The runtime: wiring only. One object the transports (callbacks, long connection, archive, 微信客服) hand
messages to, built from four parts, each in its own module:

- bot/intake.py — the path every inbound message takes, and group commit;
- bot/whois.py — who is who (sender, group, parser), cached per roster_version;
- bot/delivery.py — where each answer goes (passive reply, 微信客服, group member, group post, app message);
- bot/sweeper.py — expired questions, told once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import sweeper
from bot.config import Settings, policy_options
from bot.delivery import Delivery
from bot.intake import APOLOGY, BeforeCommit, HandleResult, Intake
from bot.wecom.client import WeComClient
from bot.whois import WhoIsWho
from handlers.context import Inbound, Options, Sender
from handlers.routing import Dispatcher
from nlp.parser import Parser
from storage.models import Branch, utcnow

if TYPE_CHECKING:
    from bot.outbox import OutboxWorker

__all__ = ["APOLOGY", "BeforeCommit", "HandleResult", "Runtime"]


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
        self.options = Options(
            conversation_timeout=settings.conversation.timeout_seconds,
            volunteers=frozenset(settings.roles.volunteer_userids),
            close_days=settings.matters.close_days,
            duplicate_similarity=settings.matters.duplicate_similarity,
            policy=policy_options(settings),
            bot_name=settings.aibot.name,
            public_ranking=settings.points.public_ranking,
            year_end_threshold=settings.points.year_end_threshold,
        )
        self.whois = WhoIsWho(settings.roles.township_userids, settings.nlp.vocab_path or None)
        self.delivery = Delivery()
        ai = settings.aibot
        # the 智能机器人 can hear (so it owns internal groups): its callback can be opened (callback routes exist
        # whenever token and key are set, whatever the mode), or the long connection is configured
        bot_listens = bool(ai.token and ai.encoding_aes_key) or (
            ai.mode == "websocket" and bool(ai.bot_id and ai.secret)
        )
        self.intake = Intake(
            sessionmaker,
            dispatcher,
            self.whois,
            self.delivery,
            self.options,
            bot_listens=bot_listens,
            same_words_seconds=settings.intake.same_words_seconds,
        )
        # app-callback events by Event name (e.g. kf_msg_or_event → the 微信客服 sync), set by their modules
        self.app_event_hooks: dict[str, Callable[[dict[str, str]], Any]] = {}

    # --- intake -------------------------------------------------------------------------------------------
    async def handle(self, msg: Inbound, *, before_commit: BeforeCommit | None = None) -> HandleResult:
        return await self.intake.handle(msg, before_commit=before_commit)

    async def settle(self) -> None:
        """Wait until every queued message is written (shutdown: before the engine goes away)."""
        await self.intake.settle()

    # --- who is who ---------------------------------------------------------------------------------------
    async def resolve_sender(self, session: AsyncSession, userid: str, branch: Branch | None = None) -> Sender:
        return await self.whois.sender(session, userid, branch)

    async def parser_for(self, session: AsyncSession, branch: Branch) -> Parser:
        return await self.whois.parser_for(session, branch)

    # --- outgoing -----------------------------------------------------------------------------------------
    @property
    def outbox(self) -> OutboxWorker | None:
        return self.delivery.outbox

    @outbox.setter
    def outbox(self, worker: OutboxWorker | None) -> None:  # set by bot/outbox.py when the worker runs
        self.delivery.outbox = worker

    def _kick_outbox(self) -> None:
        self.delivery.kick()

    async def flush_outbox(self) -> int:
        """Send what is due now (the worker does this on its own; callers that want it at once may ask)."""
        return await self.delivery.flush()

    # --- conversation expiry ------------------------------------------------------------------------------
    async def sweep_conversations(self) -> int:
        """Expire open questions and tell the person, once."""
        return await sweeper.sweep_conversations(self.sessionmaker, self.clock(), flush=self.flush_outbox)
