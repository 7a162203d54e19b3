"""八必访 (policy article 4): the eight situations after which the linked member must call on the household.

Only the code is stored with a task, never the words; these labels are what people read.
"""

from __future__ import annotations

TRIGGER_LABEL = {
    "discontent": "有不满情绪",
    "emergency": "突发事件",
    "dispute": "矛盾纠纷",
    "wedding_funeral": "红白喜事",
    "illness": "生病住院",
    "hardship": "生活困难",
    "petition": "上访苗头",
    "violation": "违章违纪",
}
CODES = frozenset(TRIGGER_LABEL)

# Situations whose details are sensitive personal information (PIPL art. 28) or private disputes: a matter that
# carries one is never detailed in a group.
SENSITIVE = frozenset({"illness", "hardship", "dispute", "petition", "discontent", "emergency"})


def label(code: str) -> str:
    return TRIGGER_LABEL.get(code, code)
