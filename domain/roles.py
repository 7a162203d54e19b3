"""Who is who in a branch: roles, the exempt status, and who answers for the branch when it has no 书记."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

SECRETARY = "书记"
COMMITTEE = "委员"
CENTRAL = "中心户"
TOWNSHIP = "镇街"
CADRES = frozenset({SECRETARY, COMMITTEE})
EXEMPT = "免联户"  # a member's status: excused from linking households (age, illness, working away)


class HasRoles(Protocol):
    role_set: set[str] | frozenset[str]
    userid: str | None


P = TypeVar("P", bound=HasRoles)


def branch_heads(members: Iterable[P]) -> list[P]:
    """Who answers for the branch: its 书记; a branch without one has its 委员 (someone must always be told)."""
    reachable = [m for m in members if m.userid]
    return [m for m in reachable if SECRETARY in m.role_set] or [m for m in reachable if COMMITTEE in m.role_set]
