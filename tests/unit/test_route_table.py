"""The one route table (handlers/__init__.py) and the dispatcher's event reactions (handlers/routing.py)."""

from __future__ import annotations

import dataclasses

import pytest

import handlers
from handlers import PRIORITIES, build_routes
from handlers.routing import Dispatcher, Route


def test_every_route_is_placed_once_and_tried_in_the_tables_order():
    names = [name for _, name in PRIORITIES]
    assert len(names) == len(set(names))
    routes = build_routes()
    assert [r.name for r in routes] == names
    assert [r.priority for r in routes] == sorted(r.priority for r in routes)
    assert routes[-1].name == "fallback"


def test_a_route_without_a_priority_stops_the_start(monkeypatch):
    class Extra:
        ROUTES = (("new_capability", lambda ctx: True, None, ""),)

    monkeypatch.setattr(handlers, "MODULES", (*handlers.MODULES, Extra))
    with pytest.raises(LookupError, match="new_capability"):
        build_routes()


@dataclasses.dataclass(frozen=True)
class Said:
    n: int


@dataclasses.dataclass(frozen=True)
class Echoed:
    n: int


class Ctx:
    def __init__(self) -> None:
        self.events: list = []
        self.log: list[str] = []
        self.handled_by = None

    def publish(self, event) -> None:
        self.events.append(event)


async def test_reactions_run_after_the_route_in_order_and_see_events_published_by_reactions():
    async def route(ctx):
        ctx.publish(Said(1))
        ctx.publish(Said(2))
        ctx.log.append("route")
        return True

    async def on_said(ctx, e):
        ctx.log.append(f"said {e.n}")
        ctx.publish(Echoed(e.n))

    async def on_echoed(ctx, e):
        ctx.log.append(f"echoed {e.n}")

    async def post(ctx):
        ctx.log.append("post")

    d = Dispatcher([Route("r", lambda ctx: True, route)], post=[post], reactions={Said: [on_said], Echoed: [on_echoed]})
    ctx = Ctx()
    assert await d.dispatch(ctx) == "r"
    assert ctx.log == ["route", "said 1", "said 2", "echoed 1", "echoed 2", "post"]
    assert ctx.handled_by == "r"
