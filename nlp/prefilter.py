"""A first-character gate for the vocabulary's large regex unions.

Python's `re` tries every alternative at every position of the text: a union of a few hundred words costs tens
of microseconds per message even when none of its words is there, and the parser runs ~30 of them on each message
(the bulk of its time, measured). Every match must start with one of a small set of characters, known from the
pattern itself; when the text holds none of them, no match is possible and the regex is not run. The gate is
sound or absent: a pattern whose first characters cannot be listed (a class range, `.`, a lookbehind, a flag) is
run as it is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

try:  # Python 3.11+: the parser lives in re._parser (sre_parse before, deprecated)
    from re import _constants as _c
    from re import _parser as _p
except ImportError:  # pragma: no cover
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]


def _prefixes(items: list[Any], want: int = 2) -> tuple[set[str] | None, bool]:
    """(the strings of up to `want` characters a match of this sequence can start with, whether the sequence can
    match empty). A prefix shorter than `want` means "this much is certain, then anything"."""
    heads: set[str] = {""}
    done: set[str] = set()  # prefixes that reached `want` characters
    for i, (op, av) in enumerate(items):
        if not heads:
            break
        if op is _c.AT:  # ^, $, \b: zero width
            continue
        if op is _c.LITERAL:
            chars: set[str] | None = {chr(av)}
            empty = False
            tails = None
        elif op is _c.IN:
            chars = set()
            for sub_op, sub_av in av:
                if sub_op is not _c.LITERAL:
                    chars = None
                    break
                chars.add(chr(sub_av))
            empty, tails = False, None
        elif op in (_c.BRANCH, _c.SUBPATTERN, _c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            if op is _c.BRANCH:
                alts = [_prefixes(list(b) + list(items[i + 1 :]), want) for b in av[1]]
            elif op is _c.SUBPATTERN:
                alts = [_prefixes(list(av[-1]) + list(items[i + 1 :]), want)]
            else:
                lo, _hi, body = av
                rest = list(items[i + 1 :])
                alts = [_prefixes(list(body) + rest, want)]
                if lo == 0:
                    alts.append(_prefixes(rest, want))
            out: set[str] = set(done)
            any_empty = False
            for got, empty_alt in alts:
                any_empty |= empty_alt
                if got is None:  # nothing certain after this point: what is certain so far is the prefix
                    if "" in heads:
                        return None, False
                    out |= heads
                    continue
                for h in heads:
                    out |= {(h + g)[:want] for g in got}
            return out, any_empty
        else:
            chars, empty, tails = None, False, None
        del tails, empty
        if chars is None:  # an unknown step: what is certain so far is the prefix
            if "" in heads:
                return None, False
            return done | heads, False
        nxt: set[str] = set()
        for h in heads:
            for ch in chars:
                p = h + ch
                (done if len(p) >= want else nxt).add(p)
        heads = nxt
    if "" in heads:
        return (None, True) if not done else (done | {""}, True)
    return done | heads, False


def first_chars(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """The strings (two characters where known, else one) every match starts with; None when not listable."""
    if pattern.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    try:
        parsed = _p.parse(pattern.pattern, pattern.flags)
    except Exception:
        return None
    got, may_be_empty = _prefixes(list(parsed.data if hasattr(parsed, "data") else parsed))
    if got is None or may_be_empty or not got or "" in got:
        return None
    return frozenset(got)


class Gated:
    """A compiled pattern behind its first-character gate; otherwise it behaves as the pattern does."""

    __slots__ = ("firsts", "pattern")

    def __init__(self, pattern: re.Pattern[str], firsts: frozenset[str]) -> None:
        self.pattern, self.firsts = pattern, firsts

    def _absent(self, text: str) -> bool:
        return self.firsts.isdisjoint(_grams(text))

    def search(self, text: str, *args: Any) -> re.Match[str] | None:
        if self._absent(text):
            return None
        return self.pattern.search(text, *args)

    def finditer(self, text: str, *args: Any) -> Iterator[re.Match[str]]:
        if self._absent(text):
            return iter(())
        return self.pattern.finditer(text, *args)

    def __getattr__(self, name: str) -> Any:  # match, sub, pattern text …: as the pattern
        return getattr(self.pattern, name)


@functools.lru_cache(maxsize=8)
def _grams(text: str) -> frozenset[str]:
    """Every character and every two adjacent characters of the text: built once per message (the parser asks
    ~30 gated patterns about the same text), then each gate is one set test."""
    return frozenset(text) | frozenset(text[i : i + 2] for i in range(len(text) - 1))


def gate(pattern: re.Pattern[str] | None) -> Any:
    if pattern is None:
        return None
    firsts = first_chars(pattern)
    return pattern if firsts is None else Gated(pattern, firsts)
