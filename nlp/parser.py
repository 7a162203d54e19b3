"""Rule-based reader of 联户 chat messages: intent, query, month, households, visit date, 八必访 triggers.

The contract is shared/spec/parse.md. All word lists live in nlp/data/vocab.toml (or a deployment's
override file); this module holds only the order in which the rules are applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from nlp.dates import find_days, find_month
from nlp.households import HouseholdIndex, Mention
from nlp.roster import Household, Roster
from nlp.segment import Segmenter
from nlp.text import CLAUSE_SPLIT, clause_bounds, cn_to_int, is_contentless, normalize
from nlp.vocab import Vocab, load_vocab

INTENTS = ("visit", "wish", "request", "query", "feedback", "none")
QUERIES = ("unvisited", "my_households", "request_status", "key_households", "points", "summary", "help")
_MONTH_QUERIES = {"unvisited", "key_households", "summary", "points"}
# a query needs to sound like one: a question word, a command to show/send, or a short message
# ("有着落没": a trailing 没 asks too)
_ASKING = re.compile(
    r"[?？吗呢哪几啥]|多少|什么|怎么|咋|没有|了没|没\s*$"
    r"|查|发|报|看|给我|列|说下|出来|有没有|情况|如何"
)
_PAST = re.compile(r"了|过|刚")
# the trigger kinds that on their own make a message a request (someone must act)
_ACTION_TRIGGERS = {"emergency", "dispute", "violation", "petition", "hardship", "discontent"}


@dataclass
class ParseResult:
    intent: str = "none"
    query: str | None = None
    month: str | None = None
    households: list[str] = field(default_factory=list)
    date: date | None = None
    triggers: list[str] = field(default_factory=list)
    ambiguous: list[tuple[str, ...]] = field(default_factory=list)
    rating: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "query": self.query,
            "month": self.month,
            "households": list(self.households),
            "date": self.date.isoformat() if self.date else None,
            "triggers": list(self.triggers),
            "ambiguous": [list(a) for a in self.ambiguous],
            "rating": self.rating,
        }


class Parser:
    def __init__(self, roster: Roster, vocab_path: str | Path | None = None) -> None:
        self.vocab: Vocab = load_vocab(vocab_path)
        self._seg = Segmenter(self.vocab.words)
        self.update_roster(roster)

    def update_roster(self, roster: Roster) -> None:
        self.roster = roster
        self.index = HouseholdIndex(roster, self.vocab.kinship)
        self._seg.set_words(set(self.vocab.words) | self.index.dictionary_words())

    # ------------------------------------------------------------------------------------------------
    def parse(
        self, text: str, sender: str | None = None, chat: str = "group2", today: date | None = None
    ) -> ParseResult:
        today = today or date.today()
        t = normalize(text)
        res = ParseResult()
        if not t or is_contentless(t) or t in self.vocab.none_exact or t.rstrip("!。.~ ") in self.vocab.none_exact:
            return res
        if self._rx("forward", t):
            return res

        member = self.roster.member_by_userid(sender)
        resident = None if member else self.roster.household_by_external(sender)

        query = self._query(t)
        if query:
            res.intent, res.query = "query", query
            if query in _MONTH_QUERIES:
                res.month = find_month(t, today) or f"{today.year:04d}-{today.month:02d}"
            return res

        own = self.roster.households_of(member.id) if member else None
        mentions = self.index.find(t, own=own, resident_of=resident, today=today, token_starts=self._seg.token_starts)
        res.triggers = self._triggers(t)

        visit_at = -1 if self._rx("feedback.score", t) else self._visit(t, bool(mentions), today, member is not None)
        if visit_at >= 0:
            res.intent = "visit"
            res.date = self._visit_date(t, visit_at, today)
        else:
            res.intent = self._other_intent(t, res.triggers, member is not None)
        if res.intent == "feedback":
            res.rating = self._rating(t, res.triggers)
        if res.intent == "none":
            res.triggers = [x for x in res.triggers if x in ("illness", "wedding_funeral")]
            return res
        res.households, res.ambiguous = self._households(mentions, member is not None, resident)
        return res

    # -- helpers --------------------------------------------------------------------------------------
    def _rx(self, key: str, t: str) -> re.Match[str] | None:
        rx = self.vocab.get(key)
        return rx.search(t) if rx is not None else None

    def _query(self, t: str) -> str | None:
        asking = bool(_ASKING.search(t)) or len(t) <= 12
        for name in self.vocab.query_order:
            if self._rx(f"query.{name}", t):
                if name == "help" or asking:
                    return name
        return None

    def _visit(self, t: str, has_mention: bool, today: date, is_member: bool = True) -> int:
        """Position of the visit report in `t`, or -1 when the text reports no visit that happened."""
        planned = self.vocab.get("visit.planned")
        not_done = self.vocab.get("visit.not_done")
        going = self.vocab.get("visit.going")
        to_me = self.vocab.get("visit.to_me")
        excl_rx = self.vocab.get("visit.exclude")
        # spans where a "came to my home" is water, a leak, a chicken: not a person visiting
        excl = [(x.start(), x.end()) for x in excl_rx.finditer(t)] if excl_rx is not None else []
        days = None
        for key in ("visit.resident", "visit.verbs", "visit.weak"):
            rx = self.vocab.get(key)
            if rx is None:
                continue
            for m in rx.finditer(t):
                if any(a <= m.start() < b for a, b in excl):
                    continue
                # a resident going somewhere (去女儿家吃饭) is not a member's visit; "到我家来了" still is
                if (
                    not is_member
                    and key != "visit.resident"
                    and going is not None
                    and going.match(m.group(0))
                    and (to_me is None or not to_me.search(m.group(0)))
                ):
                    continue
                cs, ce = clause_bounds(t, m.start())
                clause = t[cs:ce]
                if not_done is not None and not_done.search(clause):
                    continue
                past = bool(_PAST.search(clause))
                if planned is not None and planned.search(clause) and not past:
                    continue
                if re.search(r"没(有)?(去|走访|上门|来)|还没", clause):
                    continue
                if key == "visit.weak":
                    if has_mention and past:
                        return m.start()
                    continue
                if key == "visit.resident" or past or has_mention:
                    return m.start()
                if days is None:
                    days = find_days(t, today)
                if any(d.day <= today for d in days):
                    return m.start()
        return -1

    def _visit_date(self, t: str, at: int, today: date) -> date:
        days = [d for d in find_days(t, today) if d.day <= today]
        if not days:
            return today
        cs, ce = clause_bounds(t, at)
        inside = [d for d in days if cs <= d.start < ce]
        if inside:
            return inside[0].day
        before = [d for d in days if d.end <= at]
        if before:
            return before[-1].day
        return today

    def _other_intent(self, t: str, triggers: list[str], is_member: bool) -> str:
        r = self._rx
        if (
            r("feedback.score", t)
            or r("feedback.not_fixed", t)
            or r("feedback.unsatisfied", t)
            or r("feedback.basic", t)
        ):
            return "feedback"
        if r("feedback.satisfied", t) or r("feedback.fixed", t):
            # "修好了" about a handled matter; a new problem in the same message keeps it a request
            if not (self._problem(t) and r("request.weak", t)):
                return "feedback"
        if r("notice", t) and not self._problem(t):
            # a reminder to the whole group ("家长们记得给孩子买保险") asks nothing of anyone here
            return "none"
        if "心愿" in t:
            return "wish"
        if r("request.admin", t):
            return "request"
        if r("wish.strong", t):
            return "wish"
        if r("request.strong", t) or self._problem(t):
            return "request"
        if r("wish.weak", t):
            return "wish"
        if r("request.weak", t):
            return "request"
        acting = _ACTION_TRIGGERS if is_member else _ACTION_TRIGGERS | {"illness"}
        if any(x in acting for x in triggers) and not r("wellwish", t):
            return "request"
        return "none"

    def _problem(self, t: str) -> bool:
        """A problem word (坏了、停水) in a clause that is not about the future ("明天停水" is a notice)."""
        rx = self.vocab.get("request.problem")
        if rx is None:
            return False
        future = self.vocab.get("request.future")
        for m in rx.finditer(t):
            if future is None:
                return True
            cs, ce = clause_bounds(t, m.start())
            if not future.search(t[cs:ce]):
                return True
        return False

    def _rating(self, t: str, triggers: list[str]) -> str | None:
        m = self._rx("feedback.score", t)
        if m:
            nums = [cn_to_int(g) for g in m.groups() if g]
            nums = [x for x in nums if x is not None]
            n = nums[-1] if nums else None
            if n is not None:
                if n >= 4:
                    return "满意"
                if n == 3:
                    return "基本满意"
                if n >= 1:
                    return "不满意"
        if self._rx("feedback.unsatisfied", t):
            return "不满意"
        if self._rx("feedback.basic", t):
            return "基本满意"
        if self._rx("feedback.satisfied", t):
            return "满意"
        if "discontent" in triggers or self._rx("feedback.not_fixed", t):
            return "不满意"
        return None

    def _triggers(self, t: str) -> list[str]:
        found = []
        neg = self.vocab.negator
        for trig in self.vocab.triggers:
            excl = [(m.start(), m.end()) for m in trig.exclude.finditer(t)] if trig.exclude is not None else []
            for m in trig.rx.finditer(t):
                s, e = m.start(), m.end()
                if any(a <= s and e <= b for a, b in excl):
                    continue
                if neg is not None and neg.search(t, max(0, s - 3), s):
                    continue
                found.append(trig.code)
                break
        return sorted(found)

    def _households(
        self, mentions: list[Mention], is_member: bool, resident: Household | None
    ) -> tuple[list[str], list[tuple[str, ...]]]:
        if not is_member:
            named: set[str] = set()
            ambiguous: list[tuple[str, ...]] = []
            for m in mentions:
                if len(m.candidates) == 1:
                    named.add(m.candidates[0])
                elif len(m.candidates) > 1:
                    ambiguous.append(m.candidates)
            if named:
                return sorted(named), []
            return ([resident.id] if resident else []), ambiguous
        resolved: set[str] = set()
        pending: list[tuple[str, ...]] = []
        for m in mentions:
            if len(m.candidates) == 1:
                resolved.add(m.candidates[0])
            elif len(m.candidates) > 1:
                pending.append(m.candidates)
        ambiguous = []
        for c in pending:
            if not resolved.intersection(c) and c not in ambiguous:
                ambiguous.append(c)
        return sorted(resolved), ambiguous


_CHOICE = re.compile(
    r"^(?:是|就|选|要|我选|应该是)?\s*第?\s*([0-9]{1,2}|[一二两三四五六七八九十]{1,3})\s*(?:个|号|户|家|项|位)?"
    r"\s*(?:吧|啊|呀|的|哦|嘛)?$"
)


def parse_choice(text: str, n: int) -> int | None:
    """A reply picking one of n numbered options: "2", "第二个", "2号", "二" -> 2; None otherwise."""
    t = normalize(text)
    t = CLAUSE_SPLIT.sub("", t)
    m = _CHOICE.match(t)
    if not m:
        return None
    k = cn_to_int(m.group(1))
    if k is None or not 1 <= k <= n:
        return None
    return k
