"""先锋承诺 (policy article 7): a member records or changes their pledge in chat; the 亮相公示 shows it.

`承诺 每月为重点户代办一件实事` or plainly `我的承诺是……`; `我的承诺` alone shows it. The old pledge is kept (closed,
not overwritten) with who and when. A pledge is public by nature (door plaque, notice board), so it is answered
where it was said.
"""

from __future__ import annotations

import re

from handlers.context import Context
from nlp.pii import mask_pii
from storage import policy

SET = re.compile(r"^\s*(?:(?:先锋)?承诺[\s:：]+|我的(?:先锋)?承诺(?:是|为|：|:)\s*[:：]?\s*)(?P<text>\S.*)$", re.S)
SHOW = re.compile(r"^\s*(?:我的(?:先锋)?承诺|查承诺|先锋承诺)\s*[？?]?\s*$")
MAX = policy.PLEDGE_MAX


def _is_pledge(ctx: Context) -> bool:
    return SET.match(ctx.msg.text) is not None or SHOW.match(ctx.msg.text) is not None


async def handle_pledge(ctx: Context) -> bool:
    member = ctx.sender.member
    if ctx.branch is None or member is None:
        ctx.reply("先锋承诺只由本支部党员本人填写。")
        return True
    m = SET.match(ctx.msg.text)
    if m is None:
        current = (await ctx.uow.policy.pledges(ctx.branch.id)).get(member.id)
        ctx.reply(
            f"您的先锋承诺：{current}"
            if current
            else "您还没有填写先锋承诺。发“承诺 ……”即可，例如“承诺 每月为重点户代办一件实事”。"
        )
        return True
    text = mask_pii(" ".join(m.group("text").split()).strip("。．. "))
    if len(text) > MAX:
        ctx.reply(f"承诺太长了（{len(text)} 字，最多 {MAX} 字），没有记录。请精简后再发。")
        return True
    old = await ctx.uow.policy.set_pledge(member, text, actor=ctx.msg.sender, now=ctx.msg.sent_at)
    if old == text:
        ctx.reply(f"您的先锋承诺没有变化：{text}")
    elif old is None:
        ctx.reply(f"已记录您的先锋承诺：{text}\n将在党员联户亮相公示中公布，接受群众监督。")
    else:
        ctx.reply(f"已更新您的先锋承诺：{text}\n（原承诺：{old}，已留存）")
    return True


ROUTES = (("pledge", _is_pledge, handle_pledge, "先锋承诺：“承诺 每月为重点户代办一件实事”"),)
