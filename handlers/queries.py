"""Questions members and the secretary ask the bot, answered within each person's scope."""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from domain.duties import count_line
from domain.roles import EXEMPT
from handlers.common import household_label, is_private, named_member, query_is
from handlers.context import Context
from handlers.matters import handle_status
from handlers.mustvisit import open_task_lines
from storage.models import Member


def _month_label(month: str) -> str:
    return f"{int(month.split('-')[1])}月"


def key_mark(kt: frozenset[str], private: bool) -> str:
    """Key-household types are sensitive: a group sees only that it is a key household, 1:1 sees the type."""
    if not kt:
        return ""
    return f"【重点户：{'、'.join(sorted(kt))}】" if private else "【重点户】"


async def _members_only(ctx: Context, what: str) -> tuple[str, list[int] | None, str] | None:
    """(scope label, member ids or None for the branch, month) — or None after telling the sender why not.

    A query that names a member ("张伟这个月走访了几户", parse key `member`) is about that member alone, and only
    the branch's 书记/委员 (镇街 staff too) and that member may see it (domain/commands.py, 查看)."""
    p = ctx.parsed
    assert p is not None
    scope = await _scope(ctx) if ctx.branch is not None and ctx.sender.kind in ("member", "township") else None
    if scope is None:
        ctx.reply(f"“{what}”只对本支部党员开放。")
        return None
    named = await named_member(ctx, what)
    if named is False:
        return None
    if named is not None:
        scope = (_who(ctx, named), [named.id])
    return scope[0], scope[1], p.month or ctx.today.strftime("%Y-%m")


def _who(ctx: Context, m: Member) -> str:
    return "您" if ctx.sender.member is not None and ctx.sender.member.id == m.id else m.name


async def handle_unvisited(ctx: Context) -> bool:
    got = await _members_only(ctx, "未走访户")
    if got is None:
        return True
    scope, ids, month = got
    assert ctx.branch is not None
    if ids is not None and len(ids) == 1:
        member = await ctx.uow.members.get(ids[0])
        if member is not None and member.status == EXEMPT:
            ctx.reply(f"{scope}是免联户党员，没有需要走访的联系户。")
            return True
    rows = await ctx.uow.reports.unvisited(ctx.branch.id, month, member_ids=ids)
    label = _month_label(month)
    private = is_private(ctx)
    tasks = await open_task_lines(ctx, ids)
    if not rows:
        ctx.reply(f"{label}{scope}联系的户都已走访。")
        return True
    lines = [f"**{label}未走访户（{scope}，共 {len(rows)} 户）**"]
    key_count = 0
    for _, group in groupby(rows, key=lambda r: r.member.id):
        items = list(group)
        key_count += sum(1 for r in items if r.household.key_types)
        names = [household_label(r.household) + key_mark(r.household.key_type_set, private) for r in items]
        lines.append(f"- {items[0].member.name}（{len(items)} 户）：" + "；".join(names))
    if key_count:
        lines.append(f"其中重点户 {key_count} 户，按政策每月至少走访一次。")
    if tasks:
        lines += ["八必访待走访：", *tasks] if private else [f"另有八必访待走访 {len(tasks)} 户，详情请私聊我查看。"]
    ctx.reply("\n".join(lines))
    return True


async def _scope(ctx: Context) -> tuple[str, list[int] | None] | None:
    """(label, member ids) the sender may see: cadres the branch (None), 中心户 themselves and their members."""
    s = ctx.sender
    if s.is_cadre:
        return "全支部", None
    if s.member is None:
        return None
    if "中心户" in s.roles:
        return "您和您带的党员", [s.member.id, *await ctx.uow.members.led_by(s.member.id)]
    return "您", [s.member.id]


async def handle_my_households(ctx: Context) -> bool:
    s = ctx.sender
    if ctx.branch is None or (s.member is None and s.kind != "township"):
        ctx.reply("“我的联系户”只对本支部党员开放。")
        return True
    named = await named_member(ctx, "联系户")
    if named is False:
        return True
    member = named or s.member
    if member is None:  # township staff asking about nobody in particular
        ctx.reply("“我的联系户”只对本支部党员开放。")
        return True
    who = _who(ctx, member)
    households = await ctx.uow.households.of_member(member.id)
    if not households:
        ctx.reply(f"{who}现在没有联系户。" + ("（免联户）" if member.status == EXEMPT else ""))
        return True
    last = await ctx.uow.households.last_visits([h.id for h in households])
    private = is_private(ctx)
    lines = [f"**{who}联系的 {len(households)} 户**"]
    for h in households:
        mark = key_mark(h.key_type_set, private)
        seen = last.get(h.id)
        last_seen = f"上次走访 {seen.month}月{seen.day}日" if seen else "还没有走访记录"
        lines.append(f"- {household_label(h)}{mark}：{last_seen}")
    tasks = await open_task_lines(ctx, [member.id])
    if tasks:
        lines.append("八必访待走访：")
        lines += tasks if private else [f"- 共 {len(tasks)} 户，详情请私聊我查看"]
    ctx.reply("\n".join(lines))
    return True


async def handle_key_households(ctx: Context) -> bool:
    got = await _members_only(ctx, "重点户走访情况")
    if got is None:
        return True
    label, ids, month = got
    assert ctx.branch is not None
    rows = await ctx.uow.reports.key_household_coverage(ctx.branch.id, month, member_ids=ids)
    if not rows:
        ctx.reply(f"{_month_label(month)}{label}联系的户里没有重点户。")
        return True
    visited = [r for r in rows if r.visits]
    private = is_private(ctx)
    lines = [f"**{_month_label(month)}重点户走访（{label}）：{len(visited)}/{len(rows)} 户已走访**"]
    for r in rows:
        kind = f"（{'、'.join(sorted(r.household.key_type_set))}）" if private else ""
        state = f"已走访 {r.visits} 次" if r.visits else "未走访"
        lines.append(f"- {household_label(r.household)}{kind}：{state}，联系党员 {r.member.name}")
    ctx.reply("\n".join(lines))
    return True


async def handle_summary(ctx: Context) -> bool:
    got = await _members_only(ctx, "汇总")
    if got is None:
        return True
    label, ids, month = got
    assert ctx.branch is not None
    # the same figures as the monthly 主题党日 pack (storage/rhythm.py), cut to the sender's scope
    r = await ctx.uow.reports.month(ctx.branch, month, today=ctx.today)
    mine = [x for x in r.members if ids is None or x.member.id in ids]
    due = sum(len(x.households) for x in mine)
    visited = sum(len(x.visited_ids) for x in mine)
    key_due, key_visited = sum(x.key_due for x in mine), sum(x.key_visited for x in mine)
    pct = lambda a, b: f"{a}/{b}（{round(100 * a / b)}%）" if b else "0/0"  # noqa: E731
    rq, ratings = r.requests, r.ratings  # 诉求 and 心愿 alike: a 心愿 rated 满意 counts (issue 12)
    lines = [
        f"**{_month_label(month)}汇总（{label}）**",
        f"- 走访 {sum(x.visits for x in mine)} 次，覆盖联系户 {pct(visited, due)}",
        f"- 重点户覆盖 {pct(key_visited, key_due)}",
        f"- 全支部诉求：新登记 {rq.new} 件，办结 {rq.closed} 件，月底未办结 {rq.open_at_end} 件，超期 {rq.overdue} 件",
        f"- 全支部微心愿：收集 {r.wishes.collected} 个，认领 {r.wishes.claimed} 个，实现 {r.wishes.fulfilled} 个",
        "- 群众评价：" + "，".join(f"{k} {ratings.get(k, 0)}" for k in ("满意", "基本满意", "不满意")),
        f"- 八必访：新提醒 {r.tasks.raised}，已走访 {r.tasks.visited}，还开着 {r.tasks.open_now}",
    ]
    duties = count_line(sum((r.duty_counts.get(x.member.id, Counter()) for x in mine), Counter()))
    if duties:  # 五联到户 (issue 17, docs/policy.md)
        lines.append(f"- 五联到户：{duties}")
    ctx.reply("\n".join(lines))
    return True


ROUTES = (
    ("my_households", query_is("my_households"), handle_my_households, "我的联系户：“我联系了哪些户”"),
    ("request_status", query_is("request_status"), handle_status, "诉求/心愿进度：“我的诉求办得怎么样了”"),
    ("key_households", query_is("key_households"), handle_key_households, "重点户走访情况：“本月重点户走访情况”"),
    ("summary", query_is("summary"), handle_summary, "本月汇总：“本月汇总”"),
    ("unvisited", query_is("unvisited"), handle_unvisited, "查未走访户：“本月未走访户”"),
)
