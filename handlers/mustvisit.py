"""八必访: any message that reveals one of the must-visit situations for a household opens a task for the linked
member (told privately, and their 中心户); the next recorded visit of that household closes it.

Runs as a post-hook so that it sees every message whatever route handled it. Only the coded trigger is stored,
never the words (sensitive personal information).
"""

from __future__ import annotations

from domain.mustvisit import TRIGGER_LABEL
from handlers.common import household_label
from handlers.context import Context
from handlers.events import VisitRecorded
from storage.models import MustVisitTask, Visit


async def close_tasks(ctx: Context, event: VisitRecorded) -> None:
    """A reaction: the household's recorded visit meets its open 八必访 tasks; the answer says so."""
    household, visit = event.household, event.visit
    rows = await ctx.uow.tasks.open_for(household.id)
    for t in rows:
        t.closed_at, t.closed_by_visit_id = ctx.msg.sent_at, visit.id
    if rows:
        ctx.reply_more(f"{household.head_name}家的八必访提醒已了结。")


async def open_tasks_hook(ctx: Context) -> None:
    p = ctx.parsed
    if ctx.branch is None or p is None or not p.triggers or p.intent in ("query",):
        return
    codes = list(p.households)
    households = list((await ctx.uow.households.by_codes(ctx.branch.id, codes)).values()) if codes else []
    if not households and ctx.sender.household is not None:
        households = [ctx.sender.household]
    visited_now: dict[int, Visit] = {e.household.id: e.visit for e in ctx.events if isinstance(e, VisitRecorded)}
    for h in households:
        member = await ctx.uow.households.linked_member(h.id)
        for trigger in p.triggers:
            if await ctx.uow.tasks.open_with(h.id, trigger) is not None:
                continue
            task = MustVisitTask(
                branch_id=ctx.branch.id,
                household_id=h.id,
                member_id=member.id if member else None,
                trigger=trigger,
                source_inbound_id=ctx.inbound_id,
                created_at=ctx.msg.sent_at,
            )
            if h.id in visited_now:  # the report is itself the visit: opened and met at once
                task.closed_at, task.closed_by_visit_id = ctx.msg.sent_at, visited_now[h.id].id
            await ctx.uow.tasks.add(task)
            if task.closed_at is not None:
                continue
            label = TRIGGER_LABEL.get(trigger, trigger)
            text = f"八必访提醒：{household_label(h)} 有“{label}”的情况，请抽空上门看看。走访后告诉我一声就行。"
            told = ctx.uow.notices.tell(member, text, key=f"mustvisit:{task.id}", branch_id=ctx.branch.id)
            leader = await ctx.uow.members.get(member.leader_id) if member and member.leader_id else None
            if leader is not None:
                ctx.uow.notices.tell(
                    leader,
                    f"八必访提醒（中心户知悉）：{member.name}联系的{text[6:]}",
                    key=f"mustvisit:{task.id}:leader",
                    branch_id=ctx.branch.id,
                )
            if not told and member is None:
                for sec in await ctx.uow.members.heads(ctx.branch.id):
                    ctx.uow.notices.tell(
                        sec,
                        f"{text}（这一户没有联系党员）",
                        key=f"mustvisit:{task.id}:sec:{sec.id}",  # one per person: a shared key kept only one
                        branch_id=ctx.branch.id,
                    )


async def open_task_lines(ctx: Context, member_ids: list[int] | None) -> list[str]:
    assert ctx.branch is not None
    rows = await ctx.uow.tasks.open_in_branch(ctx.branch.id, member_ids)
    return [f"- {household_label(h)}：{TRIGGER_LABEL.get(t.trigger, t.trigger)}" for t, h in rows]
