"""Find and mask phone numbers and ID-card numbers before text is echoed into a chat (PIPL display limits)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# digits glued to other digits are part of something longer (an account number, a timestamp)
_ID = re.compile(
    r"(?<![0-9])[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"
    r"(?![0-9A-Za-z])"
)
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?(1[3-9][0-9])[- ]?([0-9]{4})[- ]?([0-9]{4})(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])(?:\(0[0-9]{2,3}\)|0[0-9]{2,3})[- ]?[2-9][0-9]{6,7}(?![0-9])")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True, slots=True)
class PiiMatch:
    kind: str  # "id_card" | "mobile" | "landline"
    start: int
    end: int
    text: str


def id_checksum_ok(s: str) -> bool:
    total = sum(int(c) * w for c, w in zip(s[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == s[17].upper()


def find_pii(text: str) -> list[PiiMatch]:
    """Phone numbers (mobile, landline) and 18-digit ID numbers in `text`, in order of position.

    ID numbers are found by shape (region, birth date, checksum digit position); the checksum is not
    required because people mistype, and a near-miss ID is still personal data.
    """
    found: list[PiiMatch] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    for kind, rx in (("id_card", _ID), ("mobile", _MOBILE), ("landline", _LANDLINE)):
        for m in rx.finditer(text):
            if free(m.start(), m.end()):
                taken.append((m.start(), m.end()))
                found.append(PiiMatch(kind, m.start(), m.end(), m.group(0)))
    found.sort(key=lambda p: p.start)
    return found


def _mask_one(p: PiiMatch) -> str:
    s = p.text
    if p.kind == "id_card":
        return "*" * (len(s) - 4) + s[-4:]
    digits = [i for i, c in enumerate(s) if c.isdigit()]
    if p.kind == "mobile":
        # keep the first 3 and last 4 digits of the 11-digit number: 138****5678
        core = digits[-11:]
        hide = set(core[3:7])
    else:
        # landline: keep the area code and the last 4 digits
        body = digits[-8:] if len(digits) >= 11 else digits[-7:]
        hide = set(body[:-4])
    return "".join("*" if i in hide else c for i, c in enumerate(s))


def mask_pii(text: str) -> str:
    """Mask every phone and ID number: '13812345678' -> '138****5678', IDs keep their last 4 digits."""
    out: list[str] = []
    last = 0
    for p in find_pii(text):
        out.append(text[last : p.start])
        out.append(_mask_one(p))
        last = p.end
    out.append(text[last:])
    return "".join(out)
