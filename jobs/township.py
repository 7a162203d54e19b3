"""The township branch choice: township staff (镇街) belong to no branch and may ask about any. In a branch's group
the group decides; one-to-one they name the branch first ("前洋村 本月未走访户"). A deployment with one branch needs
no name; a name that fits no branch or several gets the list of names back (handlers/fallback.py says it).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Branch


@dataclass(frozen=True)
class Choice:
    branch_id: int | None
    text: str  # the message without the branch name
    choices: tuple[str, ...] = ()  # every branch name, when none could be chosen


def choose(branches: list[tuple[int, str]], text: str) -> Choice:
    """The rule, on (id, name) pairs in id order."""
    if len(branches) == 1:
        return Choice(branches[0][0], text)
    head, _, rest = text.strip().partition(" ")
    hits = [b for b in branches if head and head in b[1]]
    if len(hits) == 1 and rest.strip():
        return Choice(hits[0][0], rest.strip())
    return Choice(None, text, tuple(name for _, name in branches))


async def choose_branch(session: AsyncSession, text: str) -> Choice:
    branches = (await session.execute(select(Branch.id, Branch.name).order_by(Branch.id))).all()
    return choose([(i, n) for i, n in branches], text)
