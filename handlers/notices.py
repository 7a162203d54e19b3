"""Who hears about what, and by which route. Everything here becomes outbox rows; nothing is sent inline.

Residents live on WeChat: the bot can reach them 1:1 only through 微信客服 within 48 h of their last message;
otherwise their member gets the notice privately to pass on (the policy's 联户 is exactly that person).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from domain.roles import branch_heads
from storage import outbox, repo
from storage.models import Member


async def secretaries(session: AsyncSession, branch_id: int) -> list[Member]:
    """Who answers for the branch: its 书记, or its 委员 when it has none (domain.roles.branch_heads)."""
    return branch_heads(await repo.active_members(session, branch_id))


tell_member = outbox.tell_member
tell_household = outbox.tell_household
