"""Ordered dispatch in the manner of NoneBot2: routes by priority, a rule each, explicit stop, pre/post hooks.

A handler returns True ("handled, stop") or False ("not mine, go on"). Exceptions in one handler are logged and
stop the dispatch with a plain apology, never silence and never a half-written record (the caller rolls back).
After the route, the events it published go to their reactions (handlers/events.py), then the post-hooks run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from handlers.context import Context

log = logging.getLogger(__name__)

Rule = Callable[[Context], bool]
Handler = Callable[[Context], Awaitable[bool]]
Hook = Callable[[Context], Awaitable[bool | None]]  # a pre-hook returning False stops the dispatch
Reaction = Callable[[Context, Any], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    name: str
    rule: Rule
    handler: Handler
    priority: int = 50  # lower runs first
    help: str = ""  # one line for 帮助; empty = not listed
    roles: frozenset[str] = field(default_factory=frozenset)  # who sees it in 帮助 (empty = everyone)


class Dispatcher:
    def __init__(
        self,
        routes: Sequence[Route],
        pre: Sequence[Hook] = (),
        post: Sequence[Hook] = (),
        reactions: Mapping[type, Sequence[Reaction]] | None = None,
    ) -> None:
        self.routes = sorted(routes, key=lambda r: r.priority)  # stable: table order breaks ties
        self.pre = list(pre)
        self.post = list(post)
        self.reactions = {kind: tuple(fns) for kind, fns in (reactions or {}).items()}

    async def dispatch(self, ctx: Context) -> str | None:
        """Run the first matching route chain; return the name of the route that handled it."""
        for hook in self.pre:
            if await hook(ctx) is False:
                return "pre-hook"
        handled_by = None
        for route in self.routes:
            if not route.rule(ctx):
                continue
            if await route.handler(ctx):
                handled_by = route.name
                break
        ctx.handled_by = handled_by
        await self.react(ctx)
        for hook in self.post:
            await hook(ctx)
        return handled_by

    async def react(self, ctx: Context) -> None:
        """Hand every event of this message to its reactions, in order; events they publish join the queue."""
        done = 0
        while done < len(ctx.events):
            event = ctx.events[done]
            done += 1
            for reaction in self.reactions.get(type(event), ()):
                await reaction(ctx, event)
