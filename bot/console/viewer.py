"""Who is looking at the console, and what they may see — decided by the same code as the chat commands.

The person is resolved by `Runtime.resolve_sender` (the resolution every chat message gets), and their scope by
`handlers.queries._scope` (what "本月未走访户" answers with): 书记/委员 and township staff the branch, a 中心户
themselves and the members they lead, any other member themselves. Actions are not decided here at all: they
are sent through the runtime as the chat command they stand for (bot/console/views.py, `act`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from handlers import queries
from handlers.context import ChatInfo, Context, Inbound, Sender
from storage.models import Branch, Member


@dataclass
class Viewer:
    userid: str
    sender: Sender
    branch: Branch | None  # the branch on screen
    branches: list[Branch] = field(default_factory=list)  # what a township person may switch between
    scope_label: str = ""
    member_ids: list[int] | None = None  # None: the whole branch

    @property
    def name(self) -> str:
        return self.sender.member.name if self.sender.member is not None else self.userid

    @property
    def township(self) -> bool:
        return self.sender.kind == "township"

    @property
    def cadre(self) -> bool:
        """书记/委员 of the branch, or township staff: they see and run the branch's books."""
        return self.sender.is_cadre

    @property
    def member(self) -> Member | None:
        return self.sender.member

    @property
    def role_label(self) -> str:
        if self.township:
            return "镇街"
        roles = [r for r in ("书记", "委员", "中心户") if r in self.sender.roles]
        return "、".join(roles) or "党员"


def view_context(session: AsyncSession, sender: Sender, branch: Branch | None, now: dt.datetime) -> Context:
    """A handler context for reading (nothing is dispatched or written through it)."""
    msg = Inbound("console", "view", sender.userid, "", "single", "", now)
    return Context(msg, sender, ChatInfo(msg.chat_key, "single"), session, branch, None)


async def resolve_viewer(
    rt: Runtime, session: AsyncSession, userid: str, *, want_branch: int | None, now: dt.datetime
) -> Viewer | None:
    """The viewer, or None when this person may not use the console (not in any roster)."""
    sender = await rt.resolve_sender(session, userid)
    if sender.kind == "township":
        branches = list(await session.scalars(select(Branch).order_by(Branch.id)))
        branch = next((b for b in branches if b.id == want_branch), branches[0] if branches else None)
        if branch is not None:
            sender.branch_id = branch.id
    elif sender.kind == "member" and sender.branch_id is not None:
        branch = await session.get(Branch, sender.branch_id)
        branches = [branch] if branch is not None else []
    else:
        return None  # residents use 微信客服; people outside the roster get the refusal page
    v = Viewer(userid, sender, branch, branches)
    if branch is not None:
        scope = await queries._scope(view_context(session, sender, branch, now))
        if scope is not None:
            v.scope_label, v.member_ids = scope
        else:
            v.scope_label, v.member_ids = "您", []
    return v
