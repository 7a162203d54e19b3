"""Small helpers shared by handlers: how a household and a date are written in replies."""

from __future__ import annotations

import datetime as dt
import re

from handlers.context import Context
from storage.models import Household

_VILLAGE_PREFIX = re.compile(r"^[^村组号]{1,8}村(?=.)")


def short_address(address: str) -> str:
    """'前洋村三组2号' → '三组2号': neighbours know the village."""
    return _VILLAGE_PREFIX.sub("", address)


def household_label(h: Household) -> str:
    addr = short_address(h.address)
    return f"{h.head_name}（{addr}）" if addr else h.head_name


def md(d: dt.date) -> str:
    return f"{d.month}月{d.day}日"


def is_private(ctx: Context) -> bool:
    return ctx.msg.chat_type == "single"


def intent_is(*intents: str):
    def rule(ctx: Context) -> bool:
        p = ctx.parsed
        return p is not None and p.intent in intents

    return rule


def query_is(*queries: str):
    def rule(ctx: Context) -> bool:
        p = ctx.parsed
        return p is not None and p.intent == "query" and p.query in queries

    return rule
