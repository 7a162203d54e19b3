"""Who is who: the sender (member / resident / township staff / unknown), the group a message came from and the
branch's parser, cached per branch roster_version.

Members' roles/status, households' external ids and groups change only through a roster import, which bumps the
branch's roster_version (storage/roster_sync.py). The branch row is read on every message anyway, with the same
statement telling whether the sender has a question open here; a cached row is used only when it is of that
version, so an import is seen by the very next message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from handlers.context import Inbound, Sender
from nlp.parser import Parser
from storage import repo
from storage.models import Branch, ChatGroup, Household, Member
from storage.uow import open_state_exists

# the branch (whose roster_version validates the cached roster rows) and whether the sender has a question open
_BRANCH_AND_QUESTION = select(Branch, open_state_exists()).where(Branch.id == bindparam("branch_id"))
CACHE_MAX = 200_000  # a county is ~20 000 members; bounded all the same


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


class WhoIsWho:
    def __init__(self, township_userids: Collection[str], vocab_path: str | None = None) -> None:
        self.township_userids = township_userids  # the live settings list: staff added at run time count at once
        self.vocab_path = vocab_path
        # ("m", userid) / ("h", external userid) / ("g", chat id) → the row as of its branch's roster_version
        self.cache: dict[tuple[str, str], _Cached] = {}
        self._parsers: dict[int, tuple[int, Parser]] = {}

    # --- where to look first ------------------------------------------------------------------------------
    def branch_hint(self, msg: Inbound) -> int | None:
        """The branch the cache says this message belongs to (its group's, else its sender's), if known."""
        hint = self._cached(("g", msg.chat_id)) if msg.chat_type == "group" else None
        hint = hint or self._cached(("m", msg.sender)) or self._cached(("h", msg.sender))
        return hint.branch_id if hint is not None else None

    async def branch_and_question(
        self, session: AsyncSession, branch_id: int, msg: Inbound
    ) -> tuple[Branch | None, bool | None]:
        found = (
            await session.execute(
                _BRANCH_AND_QUESTION, {"branch_id": branch_id, "chat_key": msg.chat_key, "userid": msg.sender}
            )
        ).first()
        return (found[0], bool(found[1])) if found is not None else (None, None)

    # --- rows ---------------------------------------------------------------------------------------------
    async def group(self, session: AsyncSession, chat_id: str, branch: Branch | None) -> ChatGroup | None:
        return await self._from_cache(session, ("g", chat_id), branch, lambda: repo.group_by_chat_id(session, chat_id))

    async def sender(self, session: AsyncSession, userid: str, branch: Branch | None = None) -> Sender:
        member: Member | None = await self._from_cache(
            session, ("m", userid), branch, lambda: repo.member_by_userid(session, userid)
        )
        if member is not None:
            kind = "township" if userid in self.township_userids else "member"
            return Sender(userid, kind, member=member, branch_id=member.branch_id, roles=member.role_set)
        if userid in self.township_userids:
            return Sender(userid, "township", roles=frozenset({"镇街"}))
        household: Household | None = await self._from_cache(
            session, ("h", userid), branch, lambda: repo.household_by_external(session, userid)
        )
        if household is not None:
            return Sender(
                userid, "resident", household=household, branch_id=household.branch_id, roles=frozenset({"居民"})
            )
        return Sender(userid, "unknown")

    async def parser_for(self, session: AsyncSession, branch: Branch) -> Parser:
        """The branch's parser, its roster (names, nicknames) refreshed when the roster_version moved."""
        cached = self._parsers.get(branch.id)
        if cached is not None and cached[0] == branch.roster_version:
            return cached[1]
        roster = await repo.nlp_roster_for_branch(session, branch.id)
        if cached is not None:
            parser = cached[1]
            parser.update_roster(roster)
        else:
            parser = Parser(roster, vocab_path=self.vocab_path)
        self._parsers[branch.id] = (branch.roster_version, parser)
        return parser

    # --- the cache ----------------------------------------------------------------------------------------
    def _cached(self, key: tuple[str, str]) -> _Cached | None:
        return self.cache.get(key) if key[1] else None

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
            self.cache.pop(key, None)
        elif key[1]:
            if len(self.cache) > CACHE_MAX:
                self.cache.clear()
            exact = branch is not None and obj.branch_id == branch.id
            self.cache[key] = _Cached(
                obj.branch_id, branch.roster_version if exact else None, _detached_copy(obj) if exact else None
            )
        return obj
