"""The member's private daily list (issue 13: nothing a resident says is lost): residents' words in a 联户群 that
made no record but may need someone, kept until the list is sent, numbered there, registered with "登记 N"."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.privacy import mask
from storage.models import AttentionItem, Household, Member


def add_item(
    s: AsyncSession,
    *,
    branch_id: int,
    member_id: int | None,
    household_id: int | None,
    inbound_id: int | None,
    text: str,
    said_at: dt.datetime,
) -> AttentionItem:
    item = AttentionItem(
        branch_id=branch_id,
        member_id=member_id,
        household_id=household_id,
        inbound_id=inbound_id,
        summary=mask(text)[:200],  # masked before it is cut
        said_at=said_at,
    )
    s.add(item)
    return item


async def unlisted(s: AsyncSession, branch_id: int, before: dt.datetime) -> list[tuple[AttentionItem, Household]]:
    rows = await s.execute(
        select(AttentionItem, Household)
        .join(Household, Household.id == AttentionItem.household_id)
        .where(
            AttentionItem.branch_id == branch_id,
            AttentionItem.listed_at.is_(None),
            AttentionItem.member_id.is_not(None),
            AttentionItem.said_at < before,
        )
        .order_by(AttentionItem.member_id, AttentionItem.said_at, AttentionItem.id)
    )
    return [(i, h) for i, h in rows.all()]


async def next_number(s: AsyncSession, member_id: int) -> int:
    """Numbers never repeat for a member: "登记 3" always means the same words."""
    return (
        int(await s.scalar(select(func.max(AttentionItem.number)).where(AttentionItem.member_id == member_id)) or 0) + 1
    )


async def by_number(s: AsyncSession, member: Member, number: int) -> tuple[AttentionItem, Household | None] | None:
    item = await s.scalar(
        select(AttentionItem).where(AttentionItem.member_id == member.id, AttentionItem.number == number)
    )
    if item is None:
        return None
    return item, (await s.get(Household, item.household_id) if item.household_id else None)
