"""The one masking rule for everything a person reads: replies, notices, relays, exports, the console.

Phone and ID numbers are written every way people type them: full-width digits (１３８…, from Chinese input
methods), grouped with spaces, dots, ASCII or full-width hyphens or dashes (138.1234.5678, 138－1234－5678,
138 1234 5678), with a +86 / 86 / 0086 prefix, landlines with an area code (0574-6512 3456, (0574)65123456), and
18-character 身份证号 ending in X or x. A separator between digits is at most one of `. - － — – ·` with spaces
around it, or one or two spaces, so a number split across a sentence ("3户 5人") is not glued into one.

What is masked keeps its shape (separators, width) so the reader still sees that a number was there:
mobile 138****5678 (first 3 and last 4 digits), landline keeps the area code and the last 4 digits, an ID its
last 4 characters. Digits glued to more digits are part of something longer (an order number, a timestamp) and
are left alone, as are dates, amounts and matter numbers, which never have these shapes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_D = "[0-9０-９]"  # ASCII or full-width digit
_NOT_D_BEFORE = "(?<![0-9０-９])"
_NOT_D_AFTER = "(?![0-9０-９])"
_SP = "[ \u3000\u00a0\t]"
# between two digits: nothing, one or two spaces, or one joiner with optional spaces around it
_SEP = f"(?:{_SP}*[-－—–.．·]{_SP}*|{_SP}{{1,2}})?"


def _digits(n: int) -> str:
    """n digits, each pair optionally separated."""
    return _D + f"(?:{_SEP}{_D}){{{n - 1}}}"


_ID = (
    _NOT_D_BEFORE
    + "(?P<id>[1-9１-９]"
    + f"(?:{_SEP}{_D}){{16}}{_SEP}[0-9０-９XxＸｘ])"
    + "(?![0-9０-９A-Za-zＡ-Ｚａ-ｚ])"
)
_MOBILE = (
    _NOT_D_BEFORE
    + f"(?P<mobile>(?:(?:[+＋]|00|００)?[8８][6６]{_SEP}|[(（][+＋]?[8８][6６][)）]{_SEP})?"
    + f"[1１]{_SEP}[3-9３-９](?:{_SEP}{_D}){{9}})"
    + _NOT_D_AFTER
)
_LANDLINE = (
    _NOT_D_BEFORE
    + f"(?P<landline>(?:[(（][0０]{_D}{{2,3}}[)）]|[0０]{_D}{{2,3}}){_SEP}"
    + f"[2-9２-９](?:{_SEP}{_D}){{6,7}})"
    + _NOT_D_AFTER
)
_ANY = re.compile(f"{_ID}|{_MOBILE}|{_LANDLINE}")
_IS_DIGIT = re.compile(_D)


@dataclass(frozen=True, slots=True)
class PiiMatch:
    kind: str  # "id_card" | "mobile" | "landline"
    start: int
    end: int
    text: str


def find_pii(text: str) -> list[PiiMatch]:
    """Phone numbers (mobile, landline) and 18-character ID numbers in `text`, in order of position."""
    kinds = {"id": "id_card", "mobile": "mobile", "landline": "landline"}
    return [PiiMatch(kinds[m.lastgroup or ""], m.start(), m.end(), m.group(0)) for m in _ANY.finditer(text)]


def _mask_one(m: re.Match[str]) -> str:
    s = m.group(0)
    positions = [i for i, c in enumerate(s) if _IS_DIGIT.fullmatch(c) or c in "XxＸｘ"]
    if m.lastgroup == "id":
        hide = set(positions[:-4])
    elif m.lastgroup == "mobile":
        core = positions[-11:]  # the number itself, after any country code
        hide = set(core[3:7])
    else:
        # area code: the digits before the first separator/bracket that follows the leading 0
        area = re.match(r"[(（]?[0０][0-9０-９]{2,3}", s)
        start = area.end() if area else 0
        body = [i for i in positions if i >= start]
        hide = set(body[:-4])
    return "".join("*" if i in hide else c for i, c in enumerate(s))


def mask(text: str | None) -> str:
    """`text` with every phone and ID number masked: '13812345678' → '138****5678'. None → ''."""
    if not text:
        return text or ""
    return _ANY.sub(_mask_one, text)
