"""The route table: every capability's routes in one ordered list. Priorities live here and nowhere else."""

from __future__ import annotations

from handlers import fallback, queries, visits
from handlers.routing import Dispatcher, Hook, Route


def build_routes() -> list[Route]:
    specs = [*visits.ROUTES_SPEC, *queries.ROUTES_SPEC]
    routes = [Route(name, rule, handler, priority, help_) for name, rule, handler, priority, help_ in specs]
    help_route = fallback.make_help_route(routes)
    return [*routes, help_route, fallback.FALLBACK]


def build_dispatcher(pre: list[Hook] | None = None, post: list[Hook] | None = None) -> Dispatcher:
    return Dispatcher(build_routes(), pre=pre or [], post=post or [])
