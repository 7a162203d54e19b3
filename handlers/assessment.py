"""考评 (policy article 9) in chat: the secretary enters the branch's score of a member for a quarter or the year,
and asks for the 锋领党员 / 示范网格 candidates, which are only ever said to them privately.

`评分 张伟 2026Q4 85` (or 2026 for the year; 第四季度 works too) · `锋领候选` / `考评情况`. The year score combines
the branch's score with the households' ratings by the configured weights (storage/policy.py, docs/policy.md).
"""

from __future__ import annotations

import re

from domain.policy import parse_period, period_label
from domain.roles import CADRES
from handlers.common import is_private
from handlers.context import Context
from storage import policy

SCORE = re.compile(r"^\s*(?:评分|考评评分|村党组织评分)\s+(\S+)\s+(\S+?)\s+(-?\d+(?:\.\d+)?)\s*分?\s*$")
CANDIDATES = re.compile(r"^\s*(锋领候选|锋领党员候选|示范网格候选|考评情况|年度考评)\s*$")


def _can_assess(ctx: Context) -> bool:
    return bool(ctx.sender.roles & CADRES) and ctx.sender.member is not None


async def handle_score(ctx: Context) -> bool:
    m = SCORE.match(ctx.msg.text)
    if m is None or ctx.branch is None:
        return False
    if not _can_assess(ctx):
        ctx.reply("村党组织评分由支部书记或委员录入，没有记录。")
        return True
    name, period_text, score_text = m.group(1), m.group(2), m.group(3)
    period = parse_period(period_text)
    if period is None:
        ctx.reply(f"没有记录：“{period_text}”不是考评期间，请写 2026Q4（季度）或 2026（全年）。")
        return True
    year = int(period[:4])
    if not ctx.today.year - 1 <= year <= ctx.today.year:
        ctx.reply(f"没有记录：只能录入今年或去年的评分，收到 {period_label(period)}。")
        return True
    score = float(score_text)
    if not 0 <= score <= 100:
        ctx.reply(f"没有记录：评分应在 0–100 之间，收到 {score_text}。")
        return True
    members = await ctx.uow.members.named(ctx.branch.id, name)
    if len(members) != 1:
        why = "有重名，请改用导入表格（按党员编号）" if members else "本支部没有这名党员"
        ctx.reply(f"没有记录：“{name}”{why}。")
        return True
    member = members[0]
    old = await ctx.uow.policy.set_assessment(member, period, score, actor=ctx.msg.sender, now=ctx.msg.sent_at)
    shown = f"{score:g}"
    text = f"已录入 {member.name} {period_label(period)} 村党组织评分 {shown} 分" + (
        f"（原为 {old:g} 分，已留存记录）。" if old is not None and old != score else "。"
    )
    if is_private(ctx):
        ctx.reply(text)
    else:  # a member's score is not for the group
        ctx.notify(ctx.msg.sender, text)
        ctx.reply("评分已录入，详情已私信您。")
    return True


def candidates_text(branch_name: str, year: int, rows: list[policy.YearScore], options) -> str:
    members, grids = policy.candidates(rows, options)
    lines = [f"**{branch_name} {year}年考评与锋领候选**（仅您可见，请勿转发到群里）"]
    scored = [r for r in rows if r.combined is not None]
    lines.append(f"已有年度综合分 {len(scored)}/{len(rows)} 人；未录入村党组织评分的党员没有综合分。")
    cov = options.candidate_min_coverage
    lines.append(f"锋领党员候选（综合分高、全年走访覆盖率不低于 {cov:.0%}）：")
    lines += [
        f"- {r.member.name}：综合 {r.combined:g} 分，走访覆盖 {r.coverage:.0%}" + (f"，{r.grid}" if r.grid else "")
        for r in members
    ] or ["- 暂无"]
    lines.append("示范网格候选（网格内党员平均综合分）：")
    lines += [
        f"- {g.grid}：{g.mean:g} 分（{g.members} 人）"
        + (f"，走访覆盖 {g.coverage:.0%}" if g.coverage is not None else "")
        for g in grids
    ] or ["- 暂无"]
    return "\n".join(lines)


async def handle_candidates(ctx: Context) -> bool:
    if ctx.branch is None:
        return False
    if not _can_assess(ctx):
        ctx.reply("考评和锋领候选只给支部书记、委员看。")
        return True
    year = ctx.today.year
    rows = await ctx.uow.policy.year_scores(ctx.branch.id, year, ctx.options.policy, as_of=ctx.today)
    text = candidates_text(ctx.branch.name, year, rows, ctx.options.policy)
    if is_private(ctx):
        ctx.reply(text)
    else:  # never in a group, whatever group it is asked in
        ctx.notify(ctx.msg.sender, text)
        ctx.reply("锋领候选名单已私信发给您。")
    return True


ROUTES = (
    ("assessment_score", lambda ctx: SCORE.match(ctx.msg.text) is not None, handle_score, ""),
    (
        "assessment_candidates",
        lambda ctx: CANDIDATES.match(ctx.msg.text) is not None,
        handle_candidates,
        "",
    ),
)
