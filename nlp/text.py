"""Text clean-up shared by the parser: @mentions, chat placeholders, Chinese numerals, clauses."""

from __future__ import annotations

import re
import unicodedata

# "@联户小助手 " — WeCom puts a U+2005 (four-per-em space) after a mention; an @ right after a
# letter or digit is an e-mail address, not a mention.
_MENTION = re.compile(r"(?<![0-9A-Za-z])[@＠][^\s\u2005\u3000@＠]+[\s\u2005\u3000]*")
# [图片], [表情], WeChat emoji codes such as [微笑] [强]
_PLACEHOLDER = re.compile(r"\[[^\[\]\s]{1,6}\]")
_SPACES = re.compile(r"[\s\u2005\u3000]+")

CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
# a number in digits or Chinese (up to 99), used inside larger regexes
NUM = r"(?:[0-9]{1,4}|[零〇一二两三四五六七八九十廿]{1,3})"


def strip_mentions(text: str) -> str:
    """Remove "@name" mentions (an @ followed by a name up to whitespace)."""
    return _MENTION.sub(" ", text).strip()


def cn_to_int(s: str) -> int | None:
    """'12' -> 12, '十二' -> 12, '二十一' -> 21, '三' -> 3; None when it is not a number."""
    s = s.strip()
    if not s:
        return None
    if s.isdigit():
        return int(s)
    if s.startswith("廿"):  # 廿 = twenty (廿号, 廿五)
        s = "二十" + s[1:]
    if "十" in s:
        head, _, tail = s.partition("十")
        if len(tail) > 1 or "十" in tail:
            return None
        tens = 1 if head == "" else CN_DIGITS.get(head)
        ones = 0 if tail == "" else CN_DIGITS.get(tail)
        if tens is None or ones is None or len(head) > 1:
            return None
        return tens * 10 + ones
    if len(s) == 1:
        return CN_DIGITS.get(s)
    # "二〇" style digit-by-digit
    digits = [CN_DIGITS.get(c) for c in s]
    if any(d is None for d in digits):
        return None
    return int("".join(str(d) for d in digits))


def normalize(text: str) -> str:
    """NFKC (full-width digits and punctuation to ASCII), mentions and placeholders out, spaces collapsed."""
    t = unicodedata.normalize("NFKC", text or "")
    # (most messages have no mention and no placeholder: the regexes are not run for them)
    t = strip_mentions(t) if "@" in t or "＠" in t else t.strip()
    if "[" in t:
        t = _PLACEHOLDER.sub(" ", t)
    return _SPACES.sub(" ", t).strip()


def is_contentless(text: str) -> bool:
    """True when nothing but punctuation, spaces, emoji and symbols is left."""
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in "LN":
            return False
    return True


# clause boundaries: punctuation and spaces (chat users separate sentences with spaces); a dot between digits is a
# date or a number ("11.1礼拜天去四组", "3.5万"), not a boundary
CLAUSE_SPLIT = re.compile(r"(?:[,;:!?，。；：！？、~…\s]|(?<![0-9])\.|\.(?![0-9]))+")


def clause_bounds(text: str, pos: int) -> tuple[int, int]:
    """Start and end of the clause holding position `pos`."""
    start = 0
    for m in CLAUSE_SPLIT.finditer(text, 0, pos):
        start = m.end()
    m = CLAUSE_SPLIT.search(text, pos)
    end = m.start() if m else len(text)
    return start, end
