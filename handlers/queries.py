"""Questions members and the secretary ask the bot, answered within each person's scope."""

from __future__ import annotations

from itertools import groupby

from handlers.common import household_label, is_private, query_is
from handlers.context import Context
from storage import repo


def _month_label(month: str) -> str:
    return f"{int(month.split('-')[1])}月"


async def handle_unvisited(ctx: Context) -> bool:
    p = ctx.parsed
    assert p is not None
    month = p.month or ctx.today.strftime("%Y-%m")
    s = ctx.sender
    if ctx.branch is None or s.kind not in ("member", "township"):
        ctx.reply("“未走访户”只对本支部党员开放。")
        return True
    if s.is_cadre:
        scope, rows = "全支部", await repo.unvisited(ctx.session, ctx.branch.id, month)
    elif "中心户" in s.roles and s.member is not None:
        ids = [s.member.id, *await repo.led_member_ids(ctx.session, s.member.id)]
        scope, rows = "您和您带的党员", await repo.unvisited(ctx.session, ctx.branch.id, month, member_ids=ids)
    else:
        assert s.member is not None
        if s.member.status == "免联户":
            ctx.reply("您是免联户党员，没有需要走访的联系户。")
            return True
        scope, rows = "您", await repo.unvisited(ctx.session, ctx.branch.id, month, member_id=s.member.id)
    label = _month_label(month)
    if not rows:
        ctx.reply(f"{label}{scope}联系的户都已走访。")
        return True
    # Key-household types are sensitive: a group sees only that it is a key household, 1:1 sees the type.
    private = is_private(ctx)
    lines = [f"**{label}未走访户（{scope}，共 {len(rows)} 户）**"]
    key_count = 0
    for _, group in groupby(rows, key=lambda r: r.member.id):
        items = list(group)
        names = []
        for r in items:
            kt = r.household.key_type_set
            mark = ""
            if kt:
                key_count += 1
                mark = f"【重点户：{'、'.join(sorted(kt))}】" if private else "【重点户】"
            names.append(household_label(r.household) + mark)
        lines.append(f"- {items[0].member.name}（{len(items)} 户）：" + "；".join(names))
    if key_count:
        lines.append(f"其中重点户 {key_count} 户，按政策每月至少走访一次。")
    ctx.reply("\n".join(lines))
    return True


ROUTES_SPEC = (
    ("unvisited", query_is("unvisited"), handle_unvisited, 30, "查未走访户：“本月未走访户”"),
)
