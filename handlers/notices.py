"""Who hears about what, and by which route. Everything here becomes outbox rows; nothing is sent inline.

Residents live on WeChat: the bot can reach them 1:1 only through 微信客服 within 48 h of their last message;
otherwise their member gets the notice privately to pass on (the policy's 联户 is exactly that person).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from domain.roles import branch_heads
from domain.time import aware
from storage import outbox, repo
from storage.models import Household, Member

KF_WINDOW = dt.timedelta(hours=48)


async def secretaries(session: AsyncSession, branch_id: int) -> list[Member]:
    """Who answers for the branch: its 书记, or its 委员 when it has none (domain.roles.branch_heads)."""
    return branch_heads(await repo.active_members(session, branch_id))


tell_member = outbox.tell_member


async def tell_household(
    session: AsyncSession, household: Household | None, text: str, *, now: dt.datetime, key: str | None = None
) -> str:
    """Reach a household: 微信客服 if they wrote to it lately, else through their member. Returns the route."""
    if household is None:
        return "none"
    if household.external_userid:
        last = await repo.last_kf_message(session, household.external_userid)
        # kf/send_msg needs the 微信客服 account the resident wrote to (without it WeCom answers 95000)
        open_kfid = str(last[1].get("open_kfid") or "") if last is not None else ""
        if last is not None and open_kfid and now - aware(last[0]) < KF_WINDOW:
            outbox.enqueue(
                session,
                channel="kf",
                target=household.external_userid,
                content=text,
                key=key,
                branch_id=household.branch_id,
                payload={"open_kfid": open_kfid},
            )
            return "kf"
    member = await repo.current_member_of(session, household.id)
    if tell_member(
        session,
        member,
        f"请转告{household.head_name}家：{text}",
        key=key and f"{key}:via-member",
        branch_id=household.branch_id,
    ):
        return "member"
    return "none"
