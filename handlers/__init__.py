"""The route table: every chat route with its priority, the reactions to events, and the hooks — here and nowhere else.

A capability module declares its routes as (name, rule, handler, help); this table decides the order they are
tried in (lower priority first; equal priorities in the order written) and which reactions follow which event.
"""

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
    unsure,
    visits,
)
from handlers.events import MatterRegistered, VisitRecorded, VisitReported
from handlers.routing import Dispatcher, Hook, Route

# The order of 帮助's lines (and of the modules' question-timeout notes).
MODULES = (corrections, visits, matters, links, queries, points, pledges, opinions, assessment, attention, unsure)

PRIORITIES: tuple[tuple[int, str], ...] = (
    (5, "choose_household"),  # the answer to 您说的是哪一户？ before anything else reads the number
    (5, "confirm_record"),  # the answer to 要记为走访吗？ (handlers/unsure.py), likewise
    (10, "command"),  # 受理/派/办结 诉求N …: exact commands, before free text
    (10, "pledge"),
    (10, "opinion"),
    (10, "nominate"),
    (10, "assessment_score"),
    (11, "link_request"),
    (11, "link_decide"),
    (11, "register_item"),
    (12, "wish_list"),
    (13, "link_gaps"),
    (13, "assessment_candidates"),
    (15, "correct_visit"),  # before the visit route, so "刚才那条不是走访" never records one
    (15, "link_resident_ask"),
    (18, "unsure"),  # a reading between ASK and ACT: a member is asked back, a resident's words go on the daily list
    (20, "visit"),
    (21, "not_visit"),  # a member's visit that did not happen, said to the bot: one line on why nothing was recorded
    (30, "my_households"),
    (30, "request_status"),
    (30, "key_households"),
    (30, "summary"),
    (30, "unvisited"),
    (30, "points"),
    (40, "intake"),  # wishes and requests in plain words
    (45, "feedback"),
    (48, "attention"),  # a resident's words nobody else took: the member's private daily list
    (90, "help"),
    (100, "fallback"),  # said what was not understood (or silence for words read from a household group)
)

# What follows what a message did (handlers/events.py), in order.
REACTIONS = {
    VisitRecorded: (mustvisit.close_tasks,),
    VisitReported: (matters.problems_in_visit,),
    MatterRegistered: (opinions.ask_linked_member,),
}


def build_routes() -> list[Route]:
    declared = {name: (rule, handler, help_) for m in MODULES for name, rule, handler, help_ in m.ROUTES}
    listed = [Route(name, *declared[name][:2], 0, declared[name][2]) for name in declared]  # 帮助's order
    declared["help"] = (fallback.IS_HELP, fallback.make_help(listed), fallback.HELP_LINE)
    declared["fallback"] = (fallback.anything, fallback.handle_unknown, "")
    missing = declared.keys() - {name for _, name in PRIORITIES}
    if missing:  # a route nobody placed would silently never run
        raise LookupError(f"routes without a priority in handlers/__init__.py: {sorted(missing)}")
    return [Route(name, *declared[name][:2], priority, declared[name][2]) for priority, name in PRIORITIES]


def build_dispatcher(pre: list[Hook] | None = None, post: list[Hook] | None = None) -> Dispatcher:
    return Dispatcher(
        build_routes(),
        pre=[fallback.township_needs_branch, opinions.wait_for_opinion, *(pre or [])],
        post=[mustvisit.open_tasks_hook, *(post or [])],
        reactions=REACTIONS,
    )
