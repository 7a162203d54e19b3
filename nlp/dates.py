"""Day expressions for visit dates and month expressions for queries, resolved against `today`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from nlp.text import NUM, cn_to_int

_WEEKDAY = {
    "一": 0,
    "二": 1,
    "三": 2,
    "四": 3,
    "五": 4,
    "六": 5,
    "日": 6,
    "天": 6,
    "末": 5,
    "1": 0,
    "2": 1,
    "3": 2,
    "4": 3,
    "5": 4,
    "6": 5,
    "7": 6,
}
_REL_DAY = {
    "今天": 0,
    "今日": 0,
    "今朝": 0,
    "今儿": 0,
    "今早": 0,
    "今晚": 0,
    "今夜": 0,
    "今儿个": 0,
    "今个": 0,
    "昨天": -1,
    "昨日": -1,
    "昨晚": -1,
    "昨夜": -1,
    "昨儿": -1,
    "昨早": -1,
    "昨儿个": -1,
    "昨个": -1,
    "前天": -2,
    "前日": -2,
    "前晚": -2,
    "前儿": -2,
    "大前天": -3,
    "大前日": -3,
}
_DAY_RX = re.compile(
    r"(?P<rel>大前天|大前日|今儿个|昨儿个|今天|今日|今朝|今儿|今早|今晚|今夜|今个|昨天|昨日|昨晚|昨夜|昨儿|昨早|昨个|"
    r"前天|前日|前晚|前儿)"
    r"|(?P<wprefix>上上|上个?|本|这个?|今)?(?P<wunit>周|星期|礼拜)(?P<wday>[一二三四五六日天末1-7])"
    r"|(?P<ago>" + NUM + r")天(?:以)?前"
    r"|(?P<mprefix>上个?月|本月|这个?月)?(?:(?P<month>" + NUM + r")月(?!份))?(?P<day>" + NUM + r")(?P<dunit>号|日)"
)
# "八组3号", "3号楼", "2号床" are places, not days
_NOT_DAY_BEFORE = re.compile(r"(组|村|幢|栋|楼|弄|室|排|队|路|街|床|[0-9])$")
_NOT_DAY_AFTER = re.compile(r"^(楼|床|房|门|线|地块|机|窗口|码)")


@dataclass(frozen=True, slots=True)
class DayMention:
    start: int
    end: int
    day: date


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + delta
    return idx // 12, idx % 12 + 1


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def find_days(text: str, today: date) -> list[DayMention]:
    """All day expressions in `text` with their resolved dates, in order."""
    out: list[DayMention] = []
    for m in _DAY_RX.finditer(text):
        d: date | None = None
        if m.group("rel"):
            d = today + timedelta(days=_REL_DAY[m.group("rel")])
        elif m.group("wunit"):
            wd = _WEEKDAY[m.group("wday")]
            monday = today - timedelta(days=today.weekday())
            prefix = m.group("wprefix") or ""
            if prefix.startswith("上上"):
                d = monday - timedelta(days=14) + timedelta(days=wd)
            elif prefix.startswith("上"):
                d = monday - timedelta(days=7) + timedelta(days=wd)
            else:
                d = monday + timedelta(days=wd)
                # a bare 周三 said on a Tuesday means last week's
                if not prefix and d > today:
                    d -= timedelta(days=7)
        elif m.group("ago"):
            n = cn_to_int(m.group("ago"))
            if n is not None and n < 60:
                d = today - timedelta(days=n)
        elif m.group("day"):
            before = text[: m.start()]
            if _NOT_DAY_BEFORE.search(before) or _NOT_DAY_AFTER.match(text[m.end() :]):
                continue
            day = cn_to_int(m.group("day"))
            month = cn_to_int(m.group("month")) if m.group("month") else None
            mprefix = m.group("mprefix") or ""
            if day is None or not 1 <= day <= 31:
                continue
            if month is not None:
                if not 1 <= month <= 12:
                    continue
                d = _safe_date(today.year, month, day)
                if d is not None and d > today:
                    d = _safe_date(today.year - 1, month, day)
            elif mprefix.startswith("上"):
                y, mo = _shift_month(today.year, today.month, -1)
                d = _safe_date(y, mo, day)
            elif mprefix:
                d = _safe_date(today.year, today.month, day)
            else:
                d = _safe_date(today.year, today.month, day)
                if d is None or d > today:
                    y, mo = _shift_month(today.year, today.month, -1)
                    d = _safe_date(y, mo, day)
        if d is not None:
            out.append(DayMention(m.start(), m.end(), d))
    return out


_MONTH_RX = re.compile(
    r"(?P<rel>上上个?月|上个?月|本月|这个?月|当月|今月)"
    r"|(?P<year>今年|去年)?(?P<month>" + NUM + r")(?:月份|月)(?!" + NUM + r"(?:号|日))"
)


def find_month(text: str, today: date) -> str | None:
    """The month a query asks about as 'YYYY-MM', or None when the text names none."""
    for m in _MONTH_RX.finditer(text):
        rel = m.group("rel")
        if rel:
            delta = -2 if rel.startswith("上上") else -1 if rel.startswith("上") else 0
            y, mo = _shift_month(today.year, today.month, delta)
            return f"{y:04d}-{mo:02d}"
        month = cn_to_int(m.group("month"))
        if month is None or not 1 <= month <= 12:
            continue
        y = today.year
        if m.group("year") == "去年":
            y -= 1
        elif m.group("year") is None and month > today.month:
            y -= 1
        return f"{y:04d}-{month:02d}"
    return None
