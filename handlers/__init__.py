"""The route table: every capability's routes in one ordered list. Priorities live here and nowhere else."""

from __future__ import annotations

from handlers import (
    assessment,
    attention,
    corrections,
    fallback,
    links,
    matters,
    mustvisit,
    opinions,
    pledges,
    points,
    queries,
    visits,
)
from handlers.routing import Dispatcher, Hook, Route

# Order of the modules is the tie-break inside one priority.
MODULES = (corrections, visits, matters, links, queries, points, pledges, opinions, assessment, attention)


def build_routes() -> list[Route]:
    specs = [spec for module in MODULES for spec in module.ROUTES_SPEC]
    routes = [Route(name, rule, handler, priority, help_) for name, rule, handler, priority, help_ in specs]
    help_route = fallback.make_help_route(routes)
    return [*routes, help_route, fallback.FALLBACK]


def build_dispatcher(pre: list[Hook] | None = None, post: list[Hook] | None = None) -> Dispatcher:
    return Dispatcher(
        build_routes(),
        pre=[fallback.township_needs_branch, opinions.wait_for_opinion, *(pre or [])],
        post=[mustvisit.open_tasks_hook, opinions.ask_linked_member, *(post or [])],
    )
