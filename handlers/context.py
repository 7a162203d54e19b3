"""What a handler sees: one inbound model for every ingress, the resolved sender and chat, and ways to answer.

Handlers never touch transport: they call `ctx.reply()` / `ctx.notify()`, which become rows the runtime sends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from domain.policy import PolicyOptions
from domain.privacy import mask
from domain.time import TZ
from storage.uow import SqlUnitOfWork, UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from handlers.events import Event
    from nlp.parser import Parser, ParseResult
    from storage.models import Branch, ChatGroup, ConversationState, Household, MatterEvent, Member


@dataclass(frozen=True)
class Inbound:
    """One message from any channel (智能机器人 callback or long connection, app callback, archive, kf)."""

    channel: str  # aibot / app / archive / kf / ws
    msg_id: str
    sender: str  # WeCom userid or external userid (wm…)
    chat_id: str  # group chat id; "" for 1:1
    chat_type: str  # "group" / "single"
    text: str  # with @mentions already stripped
    sent_at: dt.datetime  # aware
    meta: dict[str, Any] = field(default_factory=dict)  # channel details (response_url, req_id, …)

    @property
    def chat_key(self) -> str:
        """Where a reply to this message shows up; also the conversation-state key."""
        if self.chat_type == "group":
            return self.chat_id
        if self.channel == "console":  # its own key: a question open in a chat never swallows a console button
            return f"console:{self.sender}"
        return f"{'app' if self.channel == 'app' else 'single'}:{self.sender}"

    @property
    def local_date(self) -> dt.date:
        return self.sent_at.astimezone(TZ).date()


@dataclass
class Sender:
    userid: str
    kind: str  # member / resident / township / unknown
    member: Member | None = None
    household: Household | None = None
    branch_id: int | None = None
    roles: frozenset[str] = frozenset()

    @property
    def is_cadre(self) -> bool:
        """书记/委员 (and township staff) act for the whole branch."""
        return self.kind == "township" or bool(self.roles & {"书记", "委员"})

    @property
    def display(self) -> str:
        if self.member is not None:
            return self.member.name
        if self.household is not None:
            return f"{self.household.head_name}家"
        # never the raw account id: people read this
        return "镇街工作人员" if self.kind == "township" else "一位名册里没有的人"


@dataclass
class ChatInfo:
    key: str
    kind: str  # group / single
    group: ChatGroup | None = None

    @property
    def level(self) -> int | None:
        return self.group.level if self.group is not None else None


@dataclass(frozen=True)
class Options:
    """The settings handlers may read (handlers never see bot.config)."""

    conversation_timeout: int = 300
    volunteers: frozenset[str] = frozenset()
    close_days: int = 5
    duplicate_similarity: int = 80
    policy: PolicyOptions = field(default_factory=PolicyOptions)  # articles 3, 7–9 (domain/policy.py)
    bot_name: str = "联户小助手"  # how people @ the bot in a group (told when an answer must be @-ed)
    public_ranking: bool = False  # 积分排名 in a group (off by default: 基层减负, no public rankings)
    year_end_threshold: int = 60  # below this at year end a member is named to the 书记 privately


@dataclass
class Outgoing:
    """A message a handler wants sent. `to` is a chat key (see Inbound.chat_key) or a member's userid."""

    kind: str  # reply / private / group
    to: str
    text: str

    def __post_init__(self) -> None:
        # everything a handler says goes through the one masking rule (domain/privacy.py), whatever it quotes
        self.text = mask(self.text)


class Context:
    def __init__(
        self,
        msg: Inbound,
        sender: Sender,
        chat: ChatInfo,
        session: AsyncSession,
        branch: Branch | None,
        parser: Parser | None,
        inbound_id: int | None = None,
        options: Options | None = None,
        uow: UnitOfWork | None = None,
    ) -> None:
        self.msg = msg
        self.sender = sender
        self.chat = chat
        self.branch = branch
        self.parser = parser
        self.inbound_id = inbound_id
        self.options = options or Options()
        # everything a handler reads or writes goes through these repositories, never through the session itself
        # (storage/uow.py; an in-memory one in tests/fakes.py)
        self.uow: UnitOfWork = uow if uow is not None else SqlUnitOfWork(session)
        self.outgoing: list[Outgoing] = []
        # what this message did, for the reactions after the route (handlers/events.py)
        self.events: list[Event] = []
        # the last change a command made to a matter: notices are keyed by it, so never sent twice for one change
        self.last_change: MatterEvent | None = None
        # the question this person has open in this chat, once looked up (handlers/conversation.py)
        self.open_question: ConversationState | None = None
        # True when the runtime already knows, from the statement that read the branch, that no question is open
        self.no_open_question = False
        # township staff in a deployment of many branches who named none: the branches they may name
        self.township_choices: tuple[str, ...] = ()
        self.handled_by: str | None = None  # the route that answered (set by the dispatcher)

    @property
    def conversation_timeout(self) -> int:
        return self.options.conversation_timeout

    @property
    def today(self) -> dt.date:
        return self.msg.local_date

    @cached_property
    def parsed(self) -> ParseResult | None:
        if self.parser is None:
            return None
        chat = "private" if self.msg.chat_type == "single" else ("group1" if self.chat.level == 1 else "group2")
        if self.msg.chat_type == "group" and self.chat.group is None:
            chat = "group1"  # an internal group the roster does not list: treat like the branch group
        return self.parser.parse(self.msg.text, sender=self.sender.userid, chat=chat, today=self.today)

    def publish(self, event: Event) -> None:
        self.events.append(event)

    def reply(self, text: str) -> None:
        self.outgoing.append(Outgoing("reply", self.msg.chat_key, text))

    def reply_more(self, line: str) -> None:
        """Add a line to the answer already given (one message, not two), or answer with it."""
        for out in reversed(self.outgoing):
            if out.kind == "reply":
                out.text = mask(f"{out.text}\n{line}")
                return
        self.reply(line)

    def notify(self, userid: str, text: str) -> None:
        """Tell one person privately (reminders, sensitive details)."""
        self.outgoing.append(Outgoing("private", userid, text))

    @property
    def reply_text(self) -> str:
        return "\n\n".join(o.text for o in self.outgoing if o.kind == "reply")
