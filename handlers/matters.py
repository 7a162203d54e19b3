"""事有回应: 诉求 and 心愿 from intake to the household's rating (policy article 6; spec commands.md).

Intake comes from plain words (a resident's wish, a member's report, a problem mentioned in a visit report).
Moving a matter on is done with the canonical short commands of commands.md, each checked against the sender's
role; every reply names the matter's number and says what changed, or plainly why nothing did.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from domain import commands
from domain.matters import RELAYED, UNHAPPY, rating_in
from domain.mustvisit import SENSITIVE
from handlers.common import actor_of, intent_is, md, subject_of
from handlers.context import Context
from handlers.events import MatterRegistered, VisitReported
from nlp.pii import mask_pii
from storage import matters as mt
from storage.models import Household, Matter, MatterEvent, Member

if TYPE_CHECKING:
    from nlp.parser import ParseResult

SENSITIVE_TRIGGERS = SENSITIVE  # the 八必访 situations never detailed in a group (domain/mustvisit.py)

# Request categories: data, first match wins. 红色代办 = errands run for a household.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("红色代办", ("代办", "帮忙办", "帮我办", "社保", "医保", "低保", "养老金", "证明", "补贴", "申请", "跑腿")),
    ("矛盾调解", ("吵架", "纠纷", "矛盾", "调解", "闹", "打架")),
    ("设施维修", ("路灯", "水管", "漏水", "停水", "停电", "电线", "修", "坏了", "堵", "塌")),
    ("环境卫生", ("垃圾", "卫生", "臭", "污水", "清理", "杂草")),
    ("安全隐患", ("隐患", "危险", "安全", "火灾", "漏气")),
)

# The verbs come from the one command table; longest first so 不予受理 is not read as 受理.
_VERBS = sorted((a for a, c in commands.COMMANDS.items() if c.kinds & {"request", "wish"}), key=len, reverse=True)
COMMAND = re.compile(rf"^\s*({'|'.join(_VERBS)})\s*(诉求|心愿)\s*([0-9０-９]+)\s*(.*)$", re.S)
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_DUE = re.compile(r"(\d{1,2})月(\d{1,2})[日号]")


def category_of(text: str) -> str:
    for name, words in CATEGORIES:
        if any(w in text for w in words):
            return name
    return "其他"


def short(text: str, n: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def is_cadre(ctx: Context) -> bool:
    return ctx.sender.is_cadre


def _date_in_text(text: str, today: dt.date) -> dt.date | None:
    m = _DUE.search(text)
    if not m:
        return None
    month, day = int(m.group(1)), int(m.group(2))
    try:
        d = dt.date(today.year, month, day)
    except ValueError:
        return None
    return d if d >= today else d.replace(year=today.year + 1)


# --- intake -----------------------------------------------------------------------------------------------


async def _household_for(ctx: Context) -> Household | None:
    assert ctx.branch is not None
    p = ctx.parsed
    codes = list(p.households) if p else []
    if codes:
        found = await ctx.uow.households.by_codes(ctx.branch.id, codes[:1])
        return found.get(codes[0])
    return ctx.sender.household


async def intake(ctx: Context, kind: str, text: str, household: Household | None) -> Matter | None:
    """Record (or link to an open duplicate) one 诉求/心愿; tell the member; return the matter."""
    assert ctx.branch is not None
    p = ctx.parsed
    triggers = set(p.triggers) if p else set()
    summary = short(mask_pii(text), 200)  # masked, then cut: never half a number
    category = category_of(text) if kind == "request" else "微心愿"
    sensitive = bool(triggers & SENSITIVE_TRIGGERS) or category == "矛盾调解"
    member = await ctx.uow.households.linked_member(household.id) if household else ctx.sender.member
    now = ctx.msg.sent_at

    if household is not None:  # a duplicate of an open item is linked, not doubled
        threshold = ctx.options.duplicate_similarity
        for other in await ctx.uow.matters.open_for_household(household.id, kind):
            if fuzz.partial_ratio(other.summary, summary) >= threshold or (
                kind == "request" and category != "其他" and other.category == category
            ):
                ctx.uow.matters.add_event(
                    MatterEvent(
                        matter_id=other.id,
                        action="补充",
                        from_state=other.state,
                        to_state=other.state,
                        actor=ctx.msg.sender,
                        note=summary,
                        at=now,
                    )
                )
                other.updated_at = now
                ctx.reply(f"这件事已经登记过（{mt.ref(other)}，现在“{other.state}”），您的话已补充进去，没有重复登记。")
                return other

    m = await ctx.uow.matters.create(
        branch_id=ctx.branch.id,
        kind=kind,
        summary=summary,
        reporter=ctx.msg.sender,
        household_id=household.id if household else None,
        member_id=member.id if member else None,
        category=category,
        sensitive=sensitive,
        source_inbound_id=ctx.inbound_id,
        source_chat=ctx.msg.chat_key,
        now=now,
    )
    ctx.publish(MatterRegistered(m))  # reactions: 把关 asks the member (handlers/opinions.py)
    who = f"{household.head_name}家" if household else ctx.sender.display
    detail = f"{mt.ref(m)}（{category}）：{who}——{summary}"
    told = False
    group = ctx.chat.group
    if ctx.msg.channel == "archive" and member is not None and group is not None and group.member_id == member.id:
        told = True  # our answer to a household group goes to this very member privately: one note, not two
    elif member is not None and member.userid != ctx.msg.sender:
        told = ctx.uow.notices.tell(
            member,
            f"新登记 {detail}\n请跟进；支部受理后会派单。",
            key=f"intake:{m.id}:member",
            branch_id=ctx.branch.id,
        )
    if member is not None and member.userid == ctx.msg.sender:
        follow = "您跟进"
    else:
        follow = f"联系党员{member.name}跟进" if member is not None else "支部跟进"
    public = f"已登记 {mt.ref(m)}，{follow}。"
    if sensitive and ctx.msg.chat_type == "group":
        # health, hardship, disputes stay out of every group (neighbours read 二级 groups; 一级 needs no detail)
        ctx.reply(public + "详情只私下给联系党员，不在群里显示。")
    else:
        ctx.reply(f"已登记 {detail}\n由{follow}" + ("，已告知。" if told else "。"))
    return m


async def handle_intake(ctx: Context) -> bool:
    p = ctx.parsed
    assert p is not None
    if ctx.branch is None or ctx.sender.kind == "unknown":
        ctx.reply("没有在名册里找到您，暂时不能登记。请联系村里的党员或支部书记。")
        return True
    kind = "wish" if p.intent == "wish" else "request"
    household = await _household_for(ctx)
    if household is None and ctx.sender.kind == "member" and p.ambiguous:
        ctx.reply("您说的是哪一户？请写上户主姓名再发一次。")
        return True
    await intake(ctx, kind, ctx.msg.text, household)
    return True


_CLAUSES = re.compile(r"[，,。；;！!？?\n]+")
_PARTS = re.compile(r"[，,。；;！!？?\s]+")


async def problems_in_visit(ctx: Context, event: VisitReported) -> None:
    """A visit report that also carries a problem stays a visit; the problem becomes a matter (a reaction), told in
    the same answer. A clause that reads as a request or wish on its own is registered; failing that, the parser's
    `need` (the report as a whole carries one: "…棚子塌了一半 想请村里找人帮忙", with no comma to split on) still is.
    """
    households = event.households
    if ctx.parser is None or not households:
        return
    text = ctx.msg.text
    for clause in [c for c in _CLAUSES.split(text) if c.strip()][1:]:
        if ctx.options.policy.catalog.reports_own_work(clause):  # 五联到户 done, not a need (domain/duties.py)
            continue
        r = ctx.parser.parse(clause, sender=ctx.msg.sender, chat="group1", today=ctx.today, rules_only=True)
        if r.intent in ("request", "wish"):
            await intake(ctx, "wish" if r.intent == "wish" else "request", clause, _household_of(r, households))
            return
    p = ctx.parsed
    if p is None or not p.need:
        return
    parts = [x for x in _PARTS.split(text) if x.strip()]
    need = "，".join(parts[1:]) if len(parts) > 1 else text  # the words after the visit itself, when they stand apart
    r = ctx.parser.parse(need, sender=ctx.msg.sender, chat="group1", today=ctx.today, rules_only=True)
    await intake(ctx, "request", need, _household_of(r, households))


def _household_of(r: ParseResult, households: tuple[Household, ...]) -> Household | None:
    """Whose need it is: the one household of the report, or the one the need's own words name; else nobody's."""
    if len(households) == 1:
        return households[0]
    named = [h for h in households if h.code in r.households]
    return named[0] if len(named) == 1 else None


# --- feedback (评事) ----------------------------------------------------------------------------------------


async def _move(ctx: Context, m: Matter, action: str, actor: str, note: str = "", *, now: dt.datetime) -> MatterEvent:
    """One change of state, remembering its event so notices are keyed by it (never twice for one change)."""
    event = await ctx.uow.matters.transition(m, action, actor, note, now=now)
    ctx.last_change = event
    return event


def _change_id(ctx: Context) -> int:
    assert ctx.last_change is not None  # set by _move just before
    return ctx.last_change.id


async def _rate(ctx: Context, m: Matter, rating: str, *, relayed: bool = False) -> None:
    """Record a rating. Relayed by the household's linked member it is kept as 代评, with who relayed it."""
    assert ctx.branch is not None
    now = ctx.msg.sent_at
    note = f"{rating}（{RELAYED}：{ctx.sender.display}转达）" if relayed else rating
    await _move(ctx, m, "评价", ctx.msg.sender, note, now=now)
    m.rating = rating
    if rating == UNHAPPY:
        await _move(ctx, m, "重开", ctx.msg.sender, "群众不满意，重新办理", now=now)
        assignee = await ctx.uow.members.get(m.assignee_id) if m.assignee_id else None
        for person in {
            x.id: x for x in [*(await ctx.uow.members.heads(ctx.branch.id)), *([assignee] if assignee else [])]
        }.values():
            ctx.uow.notices.tell(
                person,
                f"{mt.ref(m)} 群众评价“不满意”，已重新打开，请重新办理：{m.summary}",
                key=f"unhappy:{_change_id(ctx)}:{person.id}",
                branch_id=ctx.branch.id,
            )
        ctx.reply(f"{mt.ref(m)} 已记下“不满意”，这件事已重新打开，支部会重新办理。")
    elif relayed:  # the member passed on the household's word: tell them so, the thanks are not theirs
        ctx.reply(f"{mt.ref(m)} 已记下群众的评价“{rating}”（由您转达，记为代评）。请代我们谢谢他们！")
    else:
        ctx.reply(f"{mt.ref(m)} 已记下评价“{rating}”，谢谢您！")


async def handle_feedback(ctx: Context) -> bool:
    p = ctx.parsed
    assert p is not None
    if ctx.branch is None:
        return False
    household = await _household_for(ctx)
    if household is None:
        ctx.reply("没找到是哪一户的事项。可以回复“评价 诉求N 满意/基本满意/不满意”。")
        return True
    if ctx.sender.kind == "member":
        linked = await ctx.uow.households.linked_member(household.id)
        if not (linked and ctx.sender.member and linked.id == ctx.sender.member.id) and not is_cadre(ctx):
            ctx.reply("只能替自己联系的户转达评价。")
            return True
    waiting = await ctx.uow.matters.awaiting_rating(household.id)
    if p.rating is None or not waiting:
        still_open = await ctx.uow.matters.open_for_household(household.id)
        if still_open:  # "还没修好": chase the open matter instead of losing the words
            m = still_open[-1]
            ctx.uow.matters.add_event(
                MatterEvent(
                    matter_id=m.id,
                    action="补充",
                    from_state=m.state,
                    to_state=m.state,
                    actor=ctx.msg.sender,
                    note=short(mask_pii(ctx.msg.text), 200),
                    at=ctx.msg.sent_at,
                )
            )
            member = await ctx.uow.households.linked_member(household.id)
            if member is not None and member.userid != ctx.msg.sender:
                ctx.uow.notices.tell(
                    member,
                    f"{household.head_name}家又问起 {mt.ref(m)}（{m.state}）：{short(mask_pii(ctx.msg.text), 60)}",
                    branch_id=ctx.branch.id,
                )
            ctx.reply(f"{mt.ref(m)} 现在“{m.state}”，您的话已转给联系党员。")
        elif waiting:
            ctx.reply(f"收到。{mt.ref(waiting[0])} 已办结，请回复 满意 / 基本满意 / 不满意。")
        elif p.rating is not None:
            ctx.reply("您家现在没有等待评价的事项。有新的事可以直接说。")
        else:
            ctx.reply("收到，谢谢！")
        return True
    if len(waiting) > 1:
        refs = "、".join(mt.ref(m) for m in waiting)
        ctx.reply(f"您家有几件事在等评价（{refs}），请回复“评价 {mt.ref(waiting[0])} {p.rating}”这样的格式。")
        return True
    decision = commands.may(actor_of(ctx), "评价", await subject_of(ctx, waiting[0]))
    if not decision.allowed:
        ctx.reply(f"{mt.ref(waiting[0])} 没有变化：{decision.reason_zh}")
        return True
    await _rate(ctx, waiting[0], p.rating, relayed=decision.relayed)
    return True


# --- commands -----------------------------------------------------------------------------------------------


async def _member_by_name(ctx: Context, name: str) -> Member | None:
    assert ctx.branch is not None
    return await ctx.uow.members.by_name(ctx.branch.id, name)


async def _notify_change(ctx: Context, m: Matter, text: str) -> None:
    """The reporter hears of every real change (keyed by state, so never twice for the same one)."""
    assert ctx.branch is not None
    if m.reporter == ctx.msg.sender:
        return  # they are reading the reply already
    last = ctx.last_change
    key = f"matter-event:{last.id}" if last is not None else f"change:{m.id}:{m.state}:{ctx.inbound_id}"
    member = await ctx.uow.members.by_userid(m.reporter)
    if member is not None:
        ctx.uow.notices.tell(member, text, key=key, branch_id=ctx.branch.id)
        return
    household = await ctx.uow.households.get(m.household_id) if m.household_id else None
    await ctx.uow.notices.tell_household(household, text, now=ctx.msg.sent_at, key=key)


async def handle_command(ctx: Context) -> bool:
    match = COMMAND.match(ctx.msg.text)
    if match is None:
        return False
    action, kind_label, num, rest = (
        match.group(1),
        match.group(2),
        int(match.group(3).translate(_FULLWIDTH)),
        match.group(4).strip(),
    )
    if ctx.branch is None or ctx.sender.kind == "unknown":
        ctx.reply("没有在名册里找到您，不能操作事项。")
        return True
    kind = mt.LABEL_KIND[kind_label]
    m = await ctx.uow.matters.by_ref(ctx.branch.id, kind, num)
    if m is None:
        ctx.reply(f"没有找到 {kind_label}{num}。")
        return True
    decision = commands.may(actor_of(ctx), action, await subject_of(ctx, m))
    if not decision.allowed:
        ctx.reply(f"{mt.ref(m)} 没有变化：{decision.reason_zh}")
        return True
    try:
        reply = await _apply(ctx, m, action, rest, decision)
    except mt.MoveRefused as exc:
        reply = f"没有变化：{exc}"
    ctx.reply(reply)
    return True


async def _apply(ctx: Context, m: Matter, action: str, rest: str, decision: commands.Decision) -> str:
    assert ctx.branch is not None
    now, actor, r = ctx.msg.sent_at, ctx.msg.sender, mt.ref(m)
    close_days = ctx.options.close_days
    if action == "受理":
        await _move(ctx, m, "受理", actor, rest, now=now)
        await _notify_change(ctx, m, f"您反映的 {r} 已受理，支部正在安排人办。")
        return f"{r} 已受理。" + (f"备注：{rest}" if rest else "")
    if action == "商议":
        if not rest:
            return f"{r} 没有变化：请写上商议结论，例如“商议 {r} 由村里统一更换”。"
        await _move(ctx, m, "商议", actor, rest, now=now)
        await _notify_change(ctx, m, f"您反映的 {r} 支部已商议：{rest}")
        return f"{r} 已商议：{rest}"
    if action == "派":
        parts = rest.split(maxsplit=1)
        if not parts:
            return f"{r} 没有变化：请写上承办人姓名，例如“派 {r} 王丽 12月1日前”。"
        who = await _member_by_name(ctx, parts[0])
        if who is None:
            return f"{r} 没有变化：本支部没有叫“{parts[0]}”的党员（或有重名）。"
        due = _date_in_text(parts[1], ctx.today) if len(parts) > 1 else None
        due = due or mt.add_working_days(ctx.today, close_days)
        await _move(ctx, m, "派", actor, f"承办人 {who.name}，{md(due)}前", now=now)
        before = await ctx.uow.members.get(m.assignee_id) if m.assignee_id not in (None, who.id) else None
        m.assignee_id, m.due_date = who.id, due
        if before is not None:  # re-assigned: the one who had it must know it is off their list
            ctx.uow.notices.tell(
                before,
                f"{r}（{m.category}）改由{who.name}承办了，您不用再办这件事。谢谢！",
                key=f"unassign:{_change_id(ctx)}:{before.id}",
                branch_id=ctx.branch.id,
            )
        ctx.uow.notices.tell(
            who,
            f"请您承办 {r}（{m.category}）：{m.summary}\n{md(due)}前办结，办好后回复“办结 {r} 办理结果”。",
            key=f"assign:{_change_id(ctx)}",
            branch_id=ctx.branch.id,
        )
        await _notify_change(ctx, m, f"您反映的 {r} 已由{who.name}承办，{md(due)}前办结。")
        return f"{r} 已派给{who.name}承办，{md(due)}前办结，已通知本人。"
    if action == "认领":
        me = ctx.sender.member
        by = me.name if me else "志愿者"  # a volunteer outside the roster has no name here, only an account id
        await _move(ctx, m, "认领", actor, f"{by} 认领", now=now)
        m.assignee_id = me.id if me else None
        m.due_date = mt.add_working_days(ctx.today, close_days)
        await _notify_change(ctx, m, f"您的微心愿 {r} 已由{by}认领，会尽快帮您实现。")
        return f"{r} 已由您认领（{m.summary}），已告诉群众。实现后回复“办结 {r} 结果”。"
    if action == "办结":
        if not rest:
            return f"{r} 没有变化：请写上办理结果，例如“办结 {r} 路灯已换新”。"
        await _move(ctx, m, "办结", actor, mask_pii(rest), now=now)
        await _notify_change(ctx, m, f"您反映的 {r} 已办结：{mask_pii(rest)}。")
        return f"{r} 已办结：{mask_pii(rest)}。回访时会请群众评价。"
    if action == "评价":
        rating = rating_in(rest)
        if rating is None:
            return f"{r} 没有变化：请回复 满意、基本满意 或 不满意。"
        before = len(ctx.outgoing)
        await _rate(ctx, m, rating, relayed=decision.relayed)
        return ctx.outgoing.pop(before).text if len(ctx.outgoing) > before else f"{r} 已评价。"
    if action == "不予受理":
        if not rest:
            return f"{r} 没有变化：不予受理必须写明原因。"
        await _move(ctx, m, "不予受理", actor, rest, now=now)
        await _notify_change(ctx, m, f"您反映的 {r} 不予受理，原因：{rest}。如有异议可以找支部书记。")
        return f"{r} 不予受理，原因：{rest}。已告知提出人。"
    if action == "重复":
        other = re.match(r"(诉求|心愿)\s*([0-9０-９]+)", rest)
        if other is None:
            return f"{r} 没有变化：请写上与哪件重复，例如“重复 {r} 诉求3”。"
        target = await ctx.uow.matters.by_ref(
            ctx.branch.id, mt.LABEL_KIND[other.group(1)], int(other.group(2).translate(_FULLWIDTH))
        )
        if target is None or target.id == m.id:
            return f"{r} 没有变化：没有找到 {other.group(0)}。"
        await _move(ctx, m, "重复", actor, f"与 {mt.ref(target)} 重复", now=now)
        m.duplicate_of_id = target.id
        await _notify_change(ctx, m, f"您反映的 {r} 与 {mt.ref(target)} 是同一件事，合并办理。")
        return f"{r} 已标为与 {mt.ref(target)} 重复。"
    if action == "撤回":
        await _move(ctx, m, "撤回", actor, rest, now=now)
        member = await ctx.uow.members.get(m.member_id) if m.member_id else None
        if member is not None and member.userid != actor:
            ctx.uow.notices.tell(member, f"{r} 已由提出人撤回。", key=f"withdraw:{m.id}", branch_id=ctx.branch.id)
        return f"{r} 已撤回。"
    if action == "上报":
        dest = rest or "镇街四个平台"
        await _move(ctx, m, "上报", actor, dest, now=now)
        m.escalated_to = dest[:50]
        await _notify_change(ctx, m, f"您反映的 {r} 村里解决不了，已上报{dest}，有进展会告诉您。")
        return f"{r} 已上报{dest}。上报清单可用“lianhu export 上报清单”导出给镇街。"
    if action == "延期":
        due = _date_in_text(rest, ctx.today)
        reason = _DUE.sub("", rest).strip()
        if due is None or not reason:
            return f"{r} 没有变化：请写明新的日期和原因，例如“延期 {r} 12月10日 等材料”。"
        await _move(ctx, m, "延期", actor, f"延至{md(due)}：{reason}", now=now)
        m.due_date = due
        await _notify_change(ctx, m, f"您反映的 {r} 延期到{md(due)}办结，原因：{reason}。")
        return f"{r} 已延期到{md(due)}，原因：{reason}。"
    if action == "重开":
        if not rest:
            return f"{r} 没有变化：重开请写明原因。"
        state = (await _move(ctx, m, "重开", actor, rest, now=now)).to_state
        for person in await ctx.uow.members.heads(ctx.branch.id):
            if person.userid != actor:
                ctx.uow.notices.tell(
                    person,
                    f"{r} 已重开（{state}），原因：{rest}",
                    branch_id=ctx.branch.id,
                    key=f"reopen:{_change_id(ctx)}:{person.id}",
                )
        await _notify_change(ctx, m, f"您反映的 {r} 已重新打开：{rest}")
        return f"{r} 已重开，现在“{state}”。"
    if action == "撤销":
        why = rest or "记错了"
        await _move(ctx, m, "撤销", actor, f"撤销：{why}", now=now)
        member = await ctx.uow.members.get(m.member_id) if m.member_id else None
        if member is not None and member.userid != actor:
            ctx.uow.notices.tell(member, f"{r} 已撤销（{why}）。", key=f"undo:{m.id}", branch_id=ctx.branch.id)
        return f"{r} 已撤销（{why}），记录留着备查。"
    raise AssertionError(action)


# --- wishes to claim ---------------------------------------------------------------------------------------


async def handle_wish_list(ctx: Context) -> bool:
    if ctx.msg.text.strip() not in ("心愿清单", "微心愿清单", "心愿墙"):
        return False
    if ctx.branch is None or (
        ctx.sender.kind not in ("member", "township") and ctx.msg.sender not in ctx.options.volunteers
    ):
        ctx.reply("心愿清单给党员和志愿者认领用。")
        return True
    rows = await ctx.uow.matters.wishes_to_claim(ctx.branch.id)
    if not rows:
        ctx.reply("现在没有待认领的微心愿。")
        return True
    # No names on a public wish wall without consent (PIPL art. 25): the list shows the wish, not who.
    lines = [f"**待认领的微心愿（{len(rows)} 个）**"]
    lines += [f"- {mt.ref(m)}：{short(m.summary, 30)}" for m in rows]
    lines.append("认领请回复“认领 心愿N”。")
    ctx.reply("\n".join(lines))
    return True


# --- status queries ----------------------------------------------------------------------------------------


def _age(m: Matter, now: dt.datetime) -> str:
    created = m.created_at if m.created_at.tzinfo else m.created_at.replace(tzinfo=dt.UTC)
    days = (now - created).days
    return "今天" if days == 0 else f"{days} 天"


async def handle_status(ctx: Context) -> bool:
    if ctx.branch is None or ctx.sender.kind == "unknown":
        ctx.reply("没有在名册里找到您。")
        return True
    s, now = ctx.sender, ctx.msg.sent_at
    if s.kind == "resident":
        assert s.household is not None
        rows = await ctx.uow.matters.of_household(ctx.branch.id, s.household.id)
        if not rows:
            ctx.reply("您家还没有登记过诉求或心愿。有事直接说就行。")
            return True
        lines = ["**您家的事项**"] + [f"- {mt.ref(m)} {short(m.summary, 24)}：{m.state}" for m in rows[-10:]]
        ctx.reply("\n".join(lines))
        return True
    if s.is_cadre:
        counts = await ctx.uow.matters.counts_by_state(ctx.branch.id)
        if not counts:
            ctx.reply("支部现在没有未办结的诉求或心愿。")
            return True
        lines = ["**支部未办结事项**"]
        for c in counts:
            oldest = c.oldest if c.oldest is None or c.oldest.tzinfo else c.oldest.replace(tzinfo=dt.UTC)
            age = f"，最早 {(now - oldest).days} 天前" if oldest else ""
            lines.append(f"- {mt.KIND_LABEL[c.kind]} {c.state}：{c.count} 件{age}")
        overdue = await ctx.uow.matters.overdue(ctx.branch.id, ctx.today)
        if overdue:
            lines.append("已超期：" + "、".join(mt.ref(m) for m in overdue))
        ctx.reply("\n".join(lines))
        return True
    assert s.member is not None
    hh = [h.id for h in await ctx.uow.households.of_member(s.member.id)]
    rows = await ctx.uow.matters.unfinished_for_member(ctx.branch.id, s.member.id, s.userid, hh)
    if not rows:
        ctx.reply("您联系的户和您承办的事项里，没有未了结的。")
        return True
    lines = ["**您联系的户、您承办的事项**"]
    for m in rows[-15:]:
        due = f"，{md(m.due_date)}前" if m.due_date and m.state_type == "open" else ""
        lines.append(f"- {mt.ref(m)} {short(m.summary, 20)}：{m.state}{due}（{_age(m, now)}）")
    text = "\n".join(lines)
    if ctx.chat.level == 2 and any(m.sensitive for m in rows):
        ctx.reply("详情已私下发给您。")
        ctx.notify(ctx.msg.sender, text)
    else:
        ctx.reply(text)
    return True


ROUTES = (
    (
        "command",
        lambda ctx: COMMAND.match(ctx.msg.text) is not None,
        handle_command,
        "办事命令：受理/商议/派/办结/评价/不予受理/重复/撤回/上报/延期/重开 诉求N（心愿N 同样）",
    ),
    (
        "wish_list",
        lambda ctx: ctx.msg.text.strip() in ("心愿清单", "微心愿清单", "心愿墙"),
        handle_wish_list,
        "看待认领的微心愿：“心愿清单”，认领：“认领 心愿N”",
    ),
    ("intake", intent_is("wish", "request"), handle_intake, "提诉求、说心愿：直接说，例如“村口路灯坏了”"),
    ("feedback", intent_is("feedback"), handle_feedback, "评价办好的事：回复 满意 / 基本满意 / 不满意"),
)
