"""Day expressions for visit dates and month expressions for queries, resolved against `today`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from lunardate import LunarDate

from nlp.prefilter import gate
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
    "前两天": -2,
    "前两日": -2,
    "大前日": -3,
}
# Festival names -> how to find the day in a given (Gregorian or lunar) year.
# ("solar", m, d): a fixed Gregorian day; ("lunar", m, d): a lunar month/day, converted by the `lunardate`
# library; ("eve",): the last day of the lunar year (除夕), i.e. the day before the next 正月初一;
# ("winter_solstice",): 冬至, a solar term (not lunar), from the standard formula below.
_FESTIVALS: dict[str, tuple[object, ...]] = {
    "元旦": ("solar", 1, 1),
    "国庆": ("solar", 10, 1),
    "五一": ("solar", 5, 1),
    "劳动节": ("solar", 5, 1),
    "清明": ("qingming",),
    "清明节": ("qingming",),
    "国庆节": ("solar", 10, 1),
    "除夕": ("eve",),
    "大年夜": ("eve",),
    "大年三十": ("eve",),
    "年三十": ("eve",),
    "年夜饭那天": ("eve",),
    "春节": ("lunar", 1, 1),
    "大年初一": ("lunar", 1, 1),
    "正月初一": ("lunar", 1, 1),
    "年初一": ("lunar", 1, 1),
    "元宵": ("lunar", 1, 15),
    "元宵节": ("lunar", 1, 15),
    "正月十五": ("lunar", 1, 15),
    "端午": ("lunar", 5, 5),
    "端午节": ("lunar", 5, 5),
    "端阳": ("lunar", 5, 5),
    "七夕": ("lunar", 7, 7),
    "中秋": ("lunar", 8, 15),
    "中秋节": ("lunar", 8, 15),
    "八月十五": ("lunar", 8, 15),
    "八月半": ("lunar", 8, 15),
    "重阳": ("lunar", 9, 9),
    "重阳节": ("lunar", 9, 9),
    "重九": ("lunar", 9, 9),
    "腊八": ("lunar", 12, 8),
    "腊八节": ("lunar", 12, 8),
    # 小年: 腊月廿三 is the date most calendars print (the south often keeps 廿四; the calendar's is used)
    "小年": ("lunar", 12, 23),
    "冬至": ("winter_solstice",),
}
_FESTIVAL_NAMES = tuple(_FESTIVALS)
_LUNAR_MONTH = {"正": 1, "冬": 11, "腊": 12}
_LUNAR_DAY = re.compile(
    r"初([一二三四五六七八九十])|廿([一二三四五六七八九])?|二十([一二三四五六七八九])?|三十|十([一二三四五六七八九])?"
)


def date_words_in(name: str) -> bool:
    """Whether a name holds a festival word (邬国庆): such names must not be read as dates."""
    return any(f in name for f in _FESTIVAL_NAMES)


def _lunar_day(s: str) -> int | None:
    m = _LUNAR_DAY.fullmatch(s)
    if not m:
        return None
    if s.startswith("初"):
        return cn_to_int(m.group(1))
    if s.startswith("廿"):
        return 20 + (cn_to_int(m.group(2)) if m.group(2) else 0)
    if s.startswith("二十"):
        return 20 + (cn_to_int(m.group(3)) if m.group(3) else 0)
    if s == "三十":
        return 30
    return 10 + (cn_to_int(m.group(4)) if m.group(4) else 0)


# words before a bare 初N that put it in the future
_LUNAR_DAY_AHEAD = ("过两日", "过两天", "过几天", "过几日", "到", "下个月", "下月")


def _this_lunar_month(day: int | None, today: date) -> date | None:
    """Day `day` of the lunar month `today` falls in, or of the month before if that is still to come."""
    if day is None:
        return None
    now = LunarDate.from_solar_date(today.year, today.month, today.day)
    year, month = now.year, now.month
    for _ in range(2):
        try:
            d = LunarDate(year, month, day).to_solar_date()
        except ValueError:
            d = None
        if d is not None and d <= today:
            return d
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return None


def lunar_day(month: int, day: int, today: date) -> date | None:
    """The latest solar date of lunar month/day not after `today` (正月初三 -> this year's, if past)."""
    best: date | None = None
    for year in (today.year - 2, today.year - 1, today.year):
        try:
            d = LunarDate(year, month, day).to_solar_date()
        except ValueError:
            continue
        if d <= today and (best is None or d > best):
            best = d
    return best


def _winter_solstice(year: int) -> date | None:
    # the usual closed form for 冬至 in 2000-2099 (Beijing time): day = int(Y*0.2422 + 21.94) - int(Y/4),
    # Y = the last two digits of the year; exact for every year of this century
    if not 2000 <= year <= 2099:
        return None
    y = year % 100
    return date(year, 12, int(y * 0.2422 + 21.94) - y // 4)


def _qingming(year: int) -> date | None:
    # 清明, a solar term: day = int(Y*0.2422 + 4.81) - int(Y/4) in 2000-2099 (the same closed form as 冬至)
    if not 2000 <= year <= 2099:
        return None
    y = year % 100
    return date(year, 4, int(y * 0.2422 + 4.81) - y // 4)


def festival_day(name: str, today: date) -> date | None:
    """The latest day of festival `name` not after `today` (None for an unknown name)."""
    rule = _FESTIVALS.get(name)
    if rule is None:
        return None
    best: date | None = None
    for year in (today.year - 2, today.year - 1, today.year):
        d: date | None
        try:
            if rule[0] == "solar":
                d = date(year, int(rule[1]), int(rule[2]))  # type: ignore[call-overload]
            elif rule[0] == "lunar":
                d = LunarDate(year, int(rule[1]), int(rule[2])).to_solar_date()  # type: ignore[call-overload]
            elif rule[0] == "eve":
                d = LunarDate(year + 1, 1, 1).to_solar_date() - timedelta(days=1)
            elif rule[0] == "qingming":
                d = _qingming(year)
            else:
                d = _winter_solstice(year)
        except ValueError:  # outside the library's table (1900-2099)
            d = None
        if d is not None and d <= today and (best is None or d > best):
            best = d
    return best


_DAY_RX = re.compile(
    r"(?P<rel>大前天|大前日|前两天|前两日|今儿个|昨儿个|今天|今日|今朝|今儿|今早|今晚|今夜|今个|昨天|昨日|昨晚|昨夜|昨儿|昨早|昨个|"
    r"前天|前日|前晚|前儿)"
    r"|(?P<wprefix>上上|上个?|本|这个?|今)?(?P<wunit>周|星期|礼拜)(?P<wday>[一二三四五六日天末1-7])"
    r"|(?P<ago>" + NUM + r")[天日](?:以)?前"
    r"|(?P<mprefix>上个?月|本月|这个?月)?(?:(?P<month>" + NUM + r")月(?!份))?(?P<day>" + NUM + r")(?P<dunit>号|日)"
    # 7/6号, 7.6日: month and day with the day's own word (not 3/5号楼)
    r"|(?<![0-9./-])(?P<dm2>1[0-2]|0?[1-9])[./](?P<dd2>3[01]|[12][0-9]|0?[1-9])(?:号|日)(?![楼床房门栋幢室])"
    # 7.13 / 7/13 / 07-13: month and day; not a decimal (3.5万), a version or part of a longer number
    r"|(?<![0-9./-])(?P<dm>1[0-2]|0?[1-9])[./-](?P<dd>3[01]|[12][0-9]|0?[1-9])"
    r"(?![0-9]|\.[0-9]|\s*(?:万|元|块|斤|米|公|度|吨|亩|倍|%|kg|号|天|个|次|点|岁|人|户|家|年|月|周|层|楼|组|分(?!别)|小时|斤))"
    # 12月30去…: month and day in digits with the day's word left out, a going or a pause after it
    r"|(?<![0-9])(?P<dm3>1[0-2]|0?[1-9])月(?P<dd3>3[01]|[12][0-9]|0?[1-9])"
    r"(?=去|到|走|上门|看|望|拜|送|那|晚|夜|下午|上午|早|\s|,|，|$)"
    # a lunar date: 正月初三, 腊月廿八, 冬月十五
    # 大年初二 / 年初五: the days of the new year
    r"|(?:(?P<lmon>[正冬腊])月|(?<![今去明前])(?P<nian>大?年)(?=初))(?P<lday>初[一二三四五六七八九十]|廿[一二三四五六七八九]?|二十[一二三四五六七八九]?|三十|十[一二三四五六七八九]?)"
    # a bare 初一…初十: that day of the current lunar month ("初一陈书记就来拜年了"), not 读初一 / 初中 / 初次
    r"|(?<![正冬腊年月今去明前读上])初(?P<bday>[一二三四五六七八九十])(?![中高级次步心期稿始衷恋见学班年生前后])"
    # the day before or after a festival ("中秋前一天", "除夕第二天")
    r"|(?<![0-9零一二两三四五六七八九十])(?P<fest2>" + "|".join(sorted(_FESTIVAL_NAMES, key=len, reverse=True)) + r")"
    r"节?(?P<off>前一天|前一日|头一天|后一天|后一日|第二天|次日)"
    # a festival's day, not the holiday around it: 国庆加班 / 春节期间 / 中秋前 name no one day; nor do its foods and
    # gifts (重阳糕, 中秋月饼, 端午粽子, 腊八粥, 元宵汤圆: "今天送了重阳糕" is a visit today)
    r"|(?<![0-9零一二两三四五六七八九十])(?P<fest>" + "|".join(sorted(_FESTIVAL_NAMES, key=len, reverse=True)) + r")"
    r"(?!假|期间|长假|黄金周|加班|前|后|以后|之后|以前|之前|前后|左右|快到|那几天|几天"
    r"|糕|饼|月饼|粽|粥|汤圆|面|礼|慰问品|物资|红包)"
)
# gated (nlp/prefilter.py): most alternatives open with a look-behind or an optional group, so re tries all of them
# at every character; the gate tries only where a day expression can start, and returns the same matches
_DAY_RX = gate(_DAY_RX)
# "八组3号", "3号楼", "2号床" are places, not days
# ("十组9号和11号两户": the second number of a list of addresses)
_NOT_DAY_BEFORE = re.compile(
    r"(组|村|幢|栋|楼|弄|室|排|队|路|街|床|[0-9])$|组[0-9一二三四五六七八九十]+号[和、跟与及]$"
)
_SPAN_BEFORE = re.compile(r"(过|隔|这|那|前|后|头|近|几)$")
_NOT_DAY_AFTER = re.compile(r"^(楼|床|房|门|线|地块|机|窗口|码|两户|两家)")


@dataclass(frozen=True, slots=True)
class DayMention:
    start: int
    end: int
    day: date
    # a bare weekday that this week is still to come ("礼拜六" said on a Friday): last week's, unless the words
    # around it tell a plan
    ahead: bool = False


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
        ahead = False
        if m.group("rel"):
            d = today + timedelta(days=_REL_DAY[m.group("rel")])
        elif m.group("wunit"):
            if not m.group("wprefix") and text[max(0, m.start() - 2) : m.start()].endswith(("下", "下个")):
                continue  # 下周一 / 下个星期三: a day to come, never a visit's
            if out and out[-1].end >= m.start() - 1 and text[out[-1].end : m.start()] in ("", " ", "(", "（"):
                continue  # "12月14日(周六)", "11.1礼拜天": the weekday of the date just said, not a day of its own
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
                ahead = not prefix and d > today
                if ahead:
                    d -= timedelta(days=7)
        elif m.group("ago"):
            n = cn_to_int(m.group("ago"))
            if n is not None and n < 60:
                d = today - timedelta(days=n)
        elif m.group("lmon") or m.group("nian"):
            ld = _lunar_day(m.group("lday"))
            month = _LUNAR_MONTH[m.group("lmon")] if m.group("lmon") else 1
            d = lunar_day(month, ld, today) if ld else None
        elif m.group("bday"):
            if text[max(0, m.start() - 3) : m.start()].endswith(_LUNAR_DAY_AHEAD):
                continue  # "过两日初三我去拜年": a day to come
            d = _this_lunar_month(cn_to_int(m.group("bday")), today)
        elif m.group("fest2"):
            base = festival_day(m.group("fest2"), today + timedelta(days=1))
            step = -1 if m.group("off") in ("前一天", "前一日", "头一天") else 1
            nxt = festival_day(m.group("fest2"), today + timedelta(days=366))
            d = base + timedelta(days=step) if base is not None else None
            if d is not None and (d > today or (nxt and nxt > today and (nxt - today) < (today - d))):
                d = None  # the festival still to come is the one meant ("中秋前一天" said a fortnight before it)
        elif m.group("fest"):
            d = festival_day(m.group("fest"), today)
        elif m.group("dm") or m.group("dm2") or m.group("dm3"):
            month = int(m.group("dm") or m.group("dm2") or m.group("dm3"))
            day = int(m.group("dd") or m.group("dd2") or m.group("dd3"))
            d = _safe_date(today.year, month, day)
            if d is not None and d > today:
                d = _safe_date(today.year - 1, month, day)
        elif m.group("day"):
            before = text[: m.start()]
            if _NOT_DAY_BEFORE.search(before) or _NOT_DAY_AFTER.match(text[m.end() :]):
                continue
            if not m.group("month") and (m.group("day").startswith("两") or _SPAN_BEFORE.search(before)):
                continue  # "过两日", "隔三日再去", "这几日": a span of days, not the Nth of the month
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
            out.append(DayMention(m.start(), m.end(), d, ahead))
    return out


_MONTH_RX = re.compile(
    r"(?P<rel>上上个?月|上一个月|前一个月|上个?月|本月|这个?月|当月|今月)"
    r"|(?P<year>今年|去年|(?P<yyyy>20[0-9]{2})\s*年)?(?P<month>" + NUM + r")(?:月份|月)(?!" + NUM + r"(?:号|日))"
)


def find_month(text: str, today: date) -> str | None:
    """The month a query asks about as 'YYYY-MM', or None when the text names none."""
    for m in _MONTH_RX.finditer(text):
        rel = m.group("rel")
        if rel:
            delta = -2 if rel.startswith("上上") else -1 if rel.startswith(("上", "前")) else 0
            y, mo = _shift_month(today.year, today.month, delta)
            return f"{y:04d}-{mo:02d}"
        month = cn_to_int(m.group("month"))
        if month is None or not 1 <= month <= 12:
            continue
        y = today.year
        if m.group("yyyy"):
            y = int(m.group("yyyy"))  # "2026年10月"
        elif m.group("year") == "去年":
            y -= 1
        elif m.group("year") is None and month > today.month:
            y -= 1
        return f"{y:04d}-{month:02d}"
    return None
