"""The life of a matter (诉求 / 心愿 / 调整): numbers, states, the moves between them, ratings. Pure rules.

Policy article 6: 问事 → 提事 → 议事 → 办事 → 评事 (受理、商议、承办、反馈); docs/commands.md.
Storage applies a move (storage/matters.py `transition`); who may ask for it is domain/commands.py.
"""

from __future__ import annotations

import datetime as dt

KIND_LABEL = {"request": "诉求", "wish": "心愿", "link": "调整"}
LABEL_KIND = {v: k for k, v in KIND_LABEL.items()}

# label → type (FixMyStreet: state = label + type)
STATES: dict[str, str] = {
    "已登记": "open",
    "已受理": "open",
    "已商议": "open",
    "承办中": "open",
    "已上报": "open",
    "已办结": "fixed",
    "已评价": "fixed",
    "不予受理": "closed",
    "重复": "closed",
    "已撤回": "closed",
}
OPEN_BEFORE_WORK = ("已登记", "已受理", "已商议")

# action → (states it may start from, state it leads to); None = "stays where it is".
# 受理 of an escalated matter is the township saying "received": the matter stays 已上报 (it is still theirs).
MOVES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "受理": (("已登记", "已上报"), "已受理"),
    "商议": (("已登记", "已受理"), "已商议"),
    "派": (("已登记", "已受理", "已商议", "已上报", "承办中"), "承办中"),
    "认领": (OPEN_BEFORE_WORK, "承办中"),
    "办结": (("承办中", "已上报"), "已办结"),
    "评价": (("已办结",), "已评价"),
    "不予受理": (("已登记", "已受理", "已商议"), "不予受理"),
    "重复": (("已登记", "已受理", "已商议"), "重复"),
    "撤回": (("已登记", "已受理", "已商议", "承办中"), "已撤回"),
    "上报": (("已登记", "已受理", "已商议", "承办中"), "已上报"),
    "延期": (("承办中", "已上报"), None),
    "重开": (("已办结", "已评价", "不予受理", "重复", "已撤回"), None),  # target depends on where it was
    # a record made by mistake is withdrawn, never deleted (the event keeps who, when, why)
    "撤销": (("已登记", "已受理", "已商议", "承办中", "已上报", "已办结", "已评价"), "已撤回"),
}
RATINGS = ("满意", "基本满意", "不满意")
UNHAPPY = "不满意"
RELAYED = "代评"  # the event action of a rating relayed by the household's linked member


class MoveRefused(Exception):
    """A command that cannot apply; the message is said to the person as is."""


def ref_of(kind: str, number: int) -> str:
    """诉求3 / 心愿1 / 调整2: the number people use for a matter."""
    return f"{KIND_LABEL[kind]}{number}"


def target_of(action: str, state: str) -> str | None:
    """Where `action` takes a matter that is in `state`; None when it may not start there."""
    starts, target = MOVES[action]
    if state not in starts:
        return None
    if action == "重开":
        return "承办中" if STATES[state] == "fixed" else "已受理"
    if action == "受理" and state == "已上报":
        return state
    return target or state


def rating_in(text: str) -> str | None:
    """The rating a text names; 基本满意 and 不满意 before 满意, which both contain."""
    return next((x for x in ("基本满意", "不满意", "满意") if x in text), None)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """Time limits count calendar days in Ninghai's practice (5 日办结); kept as a function to change in one place."""
    return start + dt.timedelta(days=days)
