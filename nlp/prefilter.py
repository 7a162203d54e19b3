"""A gate for the vocabulary's large regex unions.

Python's `re` tries every alternative at every position of the text: a union of a few hundred words costs tens
of microseconds per message even when none of its words is there, and the parser runs ~30 of them on each message
(the bulk of its time, measured). Two exact savings:
- every alternative needs some gram (one or two characters, inside it or at its start, known from the pattern
  itself); a text that holds none of them cannot match and the regex is not run;
- when the characters a match can start with are known, only those positions are tried (`re` skips positions
  on its own only when every alternative starts with a plain character), each with a sub-union of just the
  alternatives that can start with that character; the pattern itself then matches where one of them did, so
  the match (groups included) is the one `search` would return.
The gate is sound or absent: a pattern with an alternative that has nothing listable is run as it is."""

from __future__ import annotations

import functools
import operator
import re
import sys
from collections.abc import Iterator
from typing import Any

try:  # Python 3.11+: the parser lives in re._parser (sre_parse before, deprecated)
    from re import _constants as _c
    from re import _parser as _p
except ImportError:  # pragma: no cover
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]


# every character `\s` matches in a str pattern (str.isspace; listed, since scanning all of Unicode costs 0.4 s)
_SPACES = frozenset(
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


# a character range this short ([0-9], [a-z]) is listed like the characters of a class
_SHORT_RANGE = 64


def _folds(av: Any) -> bool:
    """A group with case folding switched on inside it ("(?i:…)"): its characters say nothing certain."""
    return bool(av[1] & re.IGNORECASE)


def _prefixes(items: list[Any], want: int = 2, starts: bool = False) -> tuple[set[str] | None, bool]:
    """(the strings of up to `want` characters a match of this sequence can start with, whether the sequence can
    match empty). A prefix shorter than `want` means "this much is certain, then anything". Without `starts` a
    repeat is taken once ("哈+笑": "哈笑", which every match holds, though "哈哈笑" starts "哈哈")."""
    heads: set[str] = {""}
    done: set[str] = set()  # prefixes that reached `want` characters
    for i, (op, av) in enumerate(items):
        if not heads:
            break
        if op is _c.AT or op is _c.ASSERT or op is _c.ASSERT_NOT:
            continue  # ^, $, \b and look-arounds are zero width: what a match consumes starts after them
        if op is _c.LITERAL:
            chars: set[str] | None = {chr(av)}
            empty = False
            tails = None
        elif op is _c.IN:
            chars = set()
            for sub_op, sub_av in av:
                if sub_op is _c.CATEGORY and sub_av is _c.CATEGORY_SPACE:
                    chars |= _SPACES  # \s: a short, known list
                    continue
                if sub_op is _c.RANGE and sub_av[1] - sub_av[0] < _SHORT_RANGE:
                    chars.update(map(chr, range(sub_av[0], sub_av[1] + 1)))  # [0-9]: a short, known list
                    continue
                if sub_op is not _c.LITERAL:
                    chars = None
                    break
                chars.add(chr(sub_av))
            empty, tails = False, None
        elif op is _c.SUBPATTERN and _folds(av):
            chars, empty, tails = None, False, None
        elif op in (_c.BRANCH, _c.SUBPATTERN, _c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            if op is _c.BRANCH:
                alts = [_prefixes(list(b) + list(items[i + 1 :]), want, starts) for b in av[1]]
            elif op is _c.SUBPATTERN:
                alts = [_prefixes(list(av[-1]) + list(items[i + 1 :]), want, starts)]
            else:
                lo, hi, body = av
                rest = list(items[i + 1 :])
                alts = [_prefixes(list(body) + rest, want, starts)]
                if starts:  # the body again: a match of "[0-9]+月" starts "10" as well as "1月" (and holds "0月")
                    alts += [_prefixes(list(body) * k + rest, want, starts) for k in range(2, min(hi, want) + 1)]
                if lo == 0:
                    alts.append(_prefixes(rest, want, starts))
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
            return out, any_empty and "" in heads  # (once something is consumed, no match is empty)
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


@functools.lru_cache(maxsize=256)  # (asked again when a gated pattern's search plan is made)
def _parsed(pattern: re.Pattern[str]) -> list[Any] | None:
    """The pattern's parse tree, or None when the gate cannot reason about it (case folding, verbose, odd)."""
    if pattern.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    try:
        parsed = _p.parse(pattern.pattern, pattern.flags)
    except Exception:
        return None
    return list(parsed.data if hasattr(parsed, "data") else parsed)


def _starts(pattern: re.Pattern[str], want: int) -> set[str] | None:
    items = _parsed(pattern)
    if items is None:
        return None
    got, may_be_empty = _prefixes(items, want)
    if got is None or may_be_empty or not got or "" in got:
        return None
    return got


def first_chars(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """The strings (two characters where known, else one) every match starts with; None when not listable."""
    got = _starts(pattern, 2)
    return None if got is None else frozenset(got)


# characters in most chat messages: a gram made of them lets nearly every text through
_COMMON = frozenset("的了是我不在有人这个一他她你们就也都还说去来要没好吗啊呢吧么讲伊侬阿拉")


def _literal_runs(items: list[Any]) -> list[str]:
    """Runs of characters every match of this sequence contains, in order (groups taken inline, anything
    optional or alternative ends a run)."""
    runs: list[str] = []
    cur = ""
    for op, av in items:
        if op is _c.LITERAL:
            cur += chr(av)
            continue
        if op is _c.IN and len(av) == 1 and av[0][0] is _c.LITERAL:
            cur += chr(av[0][1])
            continue
        if op is _c.AT or op is _c.ASSERT or op is _c.ASSERT_NOT:
            continue  # zero width: the run goes on
        if op is _c.SUBPATTERN and not _folds(av):
            inner = list(av[-1])
            if not any(o is _c.BRANCH for o, _ in inner):
                sub = _literal_runs(inner)
                if len(sub) == 1 and all(o is _c.LITERAL for o, _ in inner):
                    cur += sub[0]  # a plain group: part of this run
                    continue
                runs.append(cur)
                runs.extend(sub)
                cur = ""
                continue
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT) and av[0] >= 1:
            runs.append(cur)
            runs.extend(_literal_runs(list(av[2])))
            cur = ""
            continue
        runs.append(cur)
        cur = ""
    runs.append(cur)
    return [r for r in runs if r]


def _rarity(g: str) -> float:
    """Lower is rarer: two plain characters, then one common among two, a plain one alone, two common, one common."""
    common = sum(ch in _COMMON for ch in g)
    if len(g) == 2:
        return (0.0, 1.0, 2.5)[common]
    return 3.0 if common else 1.5


def _best_gram(runs: list[str]) -> str | None:
    """The rarest-looking one or two characters of the runs (a match holds all of them)."""
    grams = [r[i : i + n] for r in runs for n in (2, 1) for i in range(len(r) - n + 1)]
    return min(grams, key=_rarity) if grams else None


def required_grams(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """For a union of alternatives: one or two characters per alternative that any match of it must hold (or,
    failing that, the grams it starts with). A text with none of them cannot match. None when not listable."""
    items = _parsed(pattern)
    if items is None:
        return None
    alts = [list(b) for b in items[0][1][1]] if len(items) == 1 and items[0][0] is _c.BRANCH else [items]
    out: set[str] = set()
    for alt in alts:
        # an alternative wrapped in (?:…) is its inside
        while len(alt) == 1 and alt[0][0] is _c.SUBPATTERN and alt[0][1][0] is None:
            inner = list(alt[0][1][-1])
            if len(inner) == 1 and inner[0][0] is _c.BRANCH:
                break
            alt = inner
        gram = _best_gram(_literal_runs(alt))
        firsts, empty = _prefixes(alt)
        firsts_ok = firsts is not None and not empty and bool(firsts) and "" not in firsts
        if gram is not None and (not firsts_ok or len(gram) == 2 or len(firsts) > 1):
            out.add(gram)
        elif firsts_ok:
            out |= firsts
        elif gram is not None:
            out.add(gram)
        else:
            return None
    return frozenset(out)


class Gated:
    """A compiled pattern behind its gate; otherwise it behaves as the pattern does.

    Savings, all exact: a text that lacks every gram some alternative needs is not searched at all; and
    when the characters a match can start with are known, only those positions are tried (`re` cannot skip
    positions itself once an alternative starts with a group or a look-behind, and then tries every alternative
    at every character), each first with the few alternatives that can start with its character (see _Plan)."""

    __slots__ = ("_passed", "_plan", "firsts", "pattern")

    def __init__(self, pattern: re.Pattern[str], firsts: frozenset[str]) -> None:
        self.pattern, self.firsts = pattern, firsts
        self._plan: _Plan | None = None
        self._passed = 0

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        if self.firsts.isdisjoint(_grams(text)):
            return None
        plan = self._plan or self._make_plan()
        if plan is None or (plan.starts is None and plan.at0 is None):
            return self.pattern.search(text, pos, endpos)
        return plan.leftmost(text, pos, endpos)

    def finditer(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        if self.firsts.isdisjoint(_grams(text)):
            return iter(())
        plan = self._plan or self._make_plan()
        if plan is None or (plan.starts is None and plan.at0 is None):
            return self.pattern.finditer(text, pos, endpos)
        return self._scan(plan, text, pos, endpos)

    def _scan(self, plan: _Plan, text: str, pos: int, endpos: int) -> Iterator[re.Match[str]]:
        # (a gated pattern never matches empty: each alternative needs a gram, or a first character)
        while True:
            got = plan.leftmost(text, pos, endpos)  # (the gate was passed once, in finditer)
            if got is None:
                return
            yield got
            pos = got.end() if got.end() > got.start() else got.end() + 1

    def _make_plan(self) -> _Plan | None:
        # made (a few ms) on the second text that passes the gate, the first is searched as it is: a process that
        # parses one message (cold start, a CLI call) does not pay for the plans of ~15 patterns
        self._passed += 1
        if self._passed < 2:
            return None
        self._plan = _Plan(self.pattern)
        return self._plan

    def __getattr__(self, name: str) -> Any:  # match, sub, pattern text …: as the pattern
        return getattr(self.pattern, name)


class _Plan:
    """Where a union's leftmost match can be, found with less work than `pattern.search`, then matched by the
    pattern itself at that position (so the match, groups included, is the one search returns).

    Each alternative is one of: known to start with one of a few characters (tried only where the text has one,
    and there with a sub-union of just the alternatives that can start with that character, compiled on first
    need); anchored by ^ (tried at 0 only); or anything else (searched for as one union, which bounds the rest).
    A union matches at a position exactly when one of its alternatives does, so the leftmost position any of
    these finds is the pattern's own."""

    __slots__ = ("at0", "heads", "parts", "pattern", "rest", "starts", "subs")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        flags = pattern.flags
        self.parts = split_alternatives(pattern) or [pattern.pattern]
        items = _parsed(pattern)
        if items is not None and len(self.parts) == 1:
            trees: list[list[Any] | None] = [items]
        elif (
            items is not None
            and len(items) == 1
            and items[0][0] is _c.BRANCH
            and len(items[0][1][1]) == len(self.parts)
        ):
            trees = [list(b) for b in items[0][1][1]]  # the union's own parse, one branch per part
        else:  # (re factored a common prefix out of the branches, or made them a class): each part alone
            trees = [_parse_part(p, flags) for p in self.parts]
        if None in trees:  # a part that does not parse alone: the pattern is one part
            self.parts = [pattern.pattern]
            trees = [_parse_part(pattern.pattern, flags)]
        kinds = [_start_kind(t, flags) for t in trees]
        self.heads: dict[str, list[int]] = {}
        seconds: dict[str, set[str] | None] = {}  # what can follow each first character (None: anything)
        anywhere, at0 = [], []
        for k, kind in enumerate(kinds):
            if kind == "at0":
                at0.append(self.parts[k])
            elif isinstance(kind, frozenset):
                for head in kind:
                    ch = head[0]
                    if k not in self.heads.setdefault(ch, []):
                        self.heads[ch].append(k)
                    after = seconds.setdefault(ch, set())
                    if len(head) == 1 or after is None:
                        seconds[ch] = None
                    else:
                        after.add(head[1])
            else:
                anywhere.append(self.parts[k])
        self.rest = self._union(anywhere)
        self.at0 = self._union(at0)
        # the positions to try: a first character, and the second one where it is known ("去(?=[看望])"), so that
        # re skips the rest itself (every branch starts with a plain character)
        self.starts = None
        if self.heads:
            self.starts = re.compile(
                "|".join(
                    re.escape(c)
                    if after is None
                    else re.escape(c) + "(?=[" + "".join(map(re.escape, sorted(after))) + "])"
                    for c, after in sorted(seconds.items())
                )
            )
        self.subs: dict[str, re.Pattern[str]] = {}

    def _union(self, parts: list[str]) -> re.Pattern[str] | None:
        if not parts:
            return None
        if len(parts) == len(self.parts):
            return self.pattern
        return re.compile("|".join(parts), self.pattern.flags)

    def _sub(self, ch: str) -> re.Pattern[str]:
        # the alternatives that can start with `ch`, in their order
        sub = self.subs[ch] = self._union([self.parts[k] for k in self.heads[ch]]) or self.pattern
        return sub

    def leftmost(self, text: str, pos: int, endpos: int) -> re.Match[str] | None:
        pattern = self.pattern
        limit, anywhere = endpos, None
        if self.rest is not None:
            anywhere = self.rest.search(text, pos, endpos)
            if anywhere is not None:
                if self.rest is pattern:
                    return anywhere
                limit = anywhere.start()  # nothing that starts later can be the leftmost
        if pos <= 0 and self.at0 is not None and self.at0.match(text, 0, endpos) is not None:
            return pattern.match(text, 0, endpos)
        if self.starts is not None:
            subs = self.subs
            # (up to endpos: the second character of a start before `limit` may lie after it)
            for m in self.starts.finditer(text, pos, endpos):
                i = m.start()
                if i >= limit:
                    break
                sub = subs.get(text[i]) or self._sub(text[i])
                got = sub.match(text, i, endpos)
                if got is not None:
                    return got if sub is pattern else pattern.match(text, i, endpos)
        return None if anywhere is None else pattern.match(text, anywhere.start(), endpos)


# a reference back to a group ties an alternative to the group numbers of the whole pattern; so may a conditional
_REFERS_BACK = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def split_alternatives(pattern: re.Pattern[str]) -> list[str] | None:
    """The pattern's top-level alternatives as source text ("a|(b|c)" -> ["a", "(b|c)"]); None when it refers
    back to a group, or uses flags the gate does not reason about."""
    src = pattern.pattern
    if pattern.flags & (re.IGNORECASE | re.VERBOSE) or _REFERS_BACK.search(src):
        return None
    parts: list[str] = []
    depth, start, i, n = 0, 0, 0, len(src)
    while i < n:
        ch = src[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":  # a class: up to its closing bracket (a "]" right after "[" or "[^" is a literal)
            i += 2 if src.startswith("[^", i) else 1
            if src.startswith("]", i):
                i += 1
            while i < n and src[i] != "]":
                i += 2 if src[i] == "\\" else 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(src[start:i])
            start = i + 1
        i += 1
    parts.append(src[start:])
    return parts


def _parse_part(part: str, flags: int) -> list[Any] | None:
    try:
        parsed = _p.parse(part, flags)
    except Exception:
        return None
    return list(parsed.data if hasattr(parsed, "data") else parsed)


def _start_kind(items: list[Any] | None, flags: int) -> frozenset[str] | str:
    """What the alternative's matches start with: a set of one or two characters (one: then anything), "at0"
    (anchored by ^: only at the start of the text), "any" (not known)."""
    if items is None:
        return "any"
    first = items
    while first and not flags & re.MULTILINE:
        op, av = first[0]
        if op is _c.AT:
            if av is _c.AT_BEGINNING or av is _c.AT_BEGINNING_STRING:
                return "at0"
            break
        if op is not _c.SUBPATTERN or av[1] or av[2]:
            break
        first = list(av[-1])
    got, empty = _prefixes(items, 2, starts=True)
    if got is None or empty or not got or "" in got:
        return "any"
    return frozenset(got)


@functools.lru_cache(maxsize=8)
def _grams(text: str) -> frozenset[str]:
    """Every character and every two adjacent characters of the text: built once per message (the parser asks
    ~30 gated patterns about the same text), then each gate is one set test."""
    return frozenset((*text, *map(operator.add, text, text[1:])))  # (map: no Python-level loop)


def gate(pattern: re.Pattern[str] | None) -> Any:
    if pattern is None:
        return None
    firsts = required_grams(pattern)
    if firsts is None:
        firsts = first_chars(pattern)
    if firsts is None:
        return pattern
    return Gated(pattern, firsts)
