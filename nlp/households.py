"""Which roster households a message talks about.

People are found by roster lookup (full names, 别称, surname + 称谓, given name + 称谓, address, pinyin
near-misses of full names), never by jieba's person tag. The rules follow shared/spec/parse.md:
a member's own households first; branch-wide only by full 户主 name or a 别称; a resident's own
household unless another one is named by full name; a mention fitting several households equally
resolves to nothing and is reported as ambiguous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from nlp.roster import Household, Roster
from nlp.text import NUM, cn_to_int
from nlp.vocab import Kinship

_COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "令狐",
    "宇文",
    "司徒",
    "夏侯",
    "轩辕",
    "端木",
    "独孤",
    "南宫",
    "西门",
    "百里",
    "呼延",
    "申屠",
    "澹台",
    "公冶",
    "太史",
    "万俟",
    "闻人",
)
_ADDR_RX = re.compile(r"(" + NUM + r")组[^0-9零〇一二两三四五六七八九十,.!?，。！？ ]{0,3}?(" + NUM + r")号")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=4096)
def split_name(name: str) -> tuple[str, str]:
    for s in _COMPOUND_SURNAMES:
        if name.startswith(s) and len(name) > len(s):
            return s, name[len(s) :]
    return name[:1], name[1:]


def address_key(address: str) -> tuple[int, int] | None:
    m = _ADDR_RX.search(address or "")
    if not m:
        return None
    g, n = cn_to_int(m.group(1)), cn_to_int(m.group(2))
    return (g, n) if g is not None and n is not None else None


@lru_cache(maxsize=8192)
def _py(ch: str) -> str:
    from pypinyin import lazy_pinyin  # lazy: only needed for near-misses, keeps cold start short

    return lazy_pinyin(ch)[0]


def _py_close(a: str, b: str) -> bool:
    """Same syllable up to the slips people make by voice or IME: in/ing, en/eng, zh/z, ch/c, sh/s, l/n."""
    if a == b:
        return True

    def norm(p: str) -> str:
        for x, y in (("zh", "z"), ("ch", "c"), ("sh", "s")):
            if p.startswith(x):
                p = y + p[2:]
        if p.startswith("n"):
            p = "l" + p[1:]
        if p.endswith("ng") and len(p) > 2 and p[-3] in "ie":
            p = p[:-1]
        return p

    return norm(a) == norm(b)


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    kind: str  # exact | address | kin | given | fuzzy
    text: str
    candidates: tuple[str, ...]  # resolved household ids (empty: nothing fits)


class HouseholdIndex:
    def __init__(self, roster: Roster, kinship: Kinship) -> None:
        self.roster = roster
        self.kin = kinship
        self.by_id = {h.id: h for h in roster.households}
        self.by_name: dict[str, list[Household]] = {}
        self.by_alias: dict[str, list[Household]] = {}
        for h in roster.households:
            if h.head_name:
                self.by_name.setdefault(h.head_name, []).append(h)
            for a in h.aliases:
                if a:
                    self.by_alias.setdefault(a, []).append(h)
        keys = sorted(set(self.by_name) | set(self.by_alias), key=len, reverse=True)
        self.exact_rx = re.compile("|".join(re.escape(k) for k in keys)) if keys else None
        self.member_names = {m.name for m in roster.members if m.name}
        self._addr = {h.id: address_key(h.address) for h in roster.households}
        self._kin_rx = re.compile("|".join(re.escape(t) for t in kinship.terms)) if kinship.terms else None
        self._kin_heads = frozenset(t[0] for t in kinship.terms if t)

    # -- words for the jieba dictionary -------------------------------------------------------------
    def dictionary_words(self) -> set[str]:
        words: set[str] = set()
        for h in self.roster.households:
            words.add(h.head_name)
            words.update(h.aliases)
            sur, given = split_name(h.head_name)
            for t in self.kin.terms:
                words.add(sur + t)
            words.add("老" + sur)
            words.add(sur + "家")
            if len(given) >= 2:
                words.add(given)
        words.update(self.member_names)
        return {w for w in words if w}

    # -- resolution ----------------------------------------------------------------------------------
    def _kin_filter(self, cands: list[Household], term: str, prefix: str, today: date) -> list[Household]:
        g = self.kin.gender.get(term, "")
        if g:
            want = "女" if g == "F" else "男"
            cands = [h for h in cands if not h.gender or h.gender == want]
        age_cls = self.kin.age.get(term) or ("young" if prefix == "小" else "")
        if len(cands) > 1 and age_cls:

            def fits(h: Household) -> bool:
                if h.birth_year is None:
                    return True
                age = today.year - h.birth_year
                return age >= 60 if age_cls == "old" else age >= 40 if age_cls == "mid" else age < 45

            narrowed = [h for h in cands if fits(h)]
            if narrowed:
                cands = narrowed
        return cands

    def _own_by_surname(self, own: tuple[Household, ...], sur: str, allow_homophone: bool) -> list[Household]:
        cands = [h for h in own if split_name(h.head_name)[0] == sur]
        if not cands and allow_homophone and len(sur) == 1:
            p = _py(sur)
            cands = [h for h in own if len(split_name(h.head_name)[0]) == 1 and _py(split_name(h.head_name)[0]) == p]
        return cands

    def _kin_parse(self, text: str, start: int, end: int) -> tuple[str, str, str] | None:
        """(prefix, surname, term) when text[start:end] is 老王 / 王大妈 / 王 form."""
        s = text[start:end]
        prefix = ""
        if s[:1] in ("老", "小") and len(s) >= 2:
            prefix, s = s[:1], s[1:]
        for t in self.kin.terms:
            if s.endswith(t) and len(s) > len(t):
                return prefix, s[: -len(t)], t
        if prefix and len(s) in (1, 2):
            return prefix, s, ""
        return None

    def find(
        self,
        text: str,
        *,
        own: tuple[Household, ...] | None,
        resident_of: Household | None,
        today: date,
        token_starts=None,
    ) -> list[Mention]:
        """Mentions with their candidates. `own`: the member's households (None for a non-member)."""
        mentions: list[Mention] = []
        covered = bytearray(len(text))

        def take(s: int, e: int) -> bool:
            if any(covered[s:e]):
                return False
            covered[s:e] = b"\x01" * (e - s)
            return True

        # 1. full names and 别称 anywhere in the branch
        if self.exact_rx is not None:
            for m in self.exact_rx.finditer(text):
                if not take(m.start(), m.end()):
                    continue
                w = m.group(0)
                if own is None:
                    # residents and unknown senders: full names only
                    cands = [h.id for h in self.by_name.get(w, [])]
                else:
                    own_ids = {h.id for h in own}
                    all_hits = self.by_name.get(w, []) + self.by_alias.get(w, [])
                    cands = sorted({h.id for h in all_hits if h.id in own_ids})
                    if not cands:
                        kp = self._kin_parse(text, m.start(), m.end())
                        if kp and kp[1]:
                            c = self._own_by_surname(own, kp[1], allow_homophone=bool(kp[2]))
                            c = self._kin_filter(c, kp[2], kp[0], today) if kp[2] or kp[0] else c
                            cands = sorted(h.id for h in c)
                    if not cands:
                        cands = sorted({h.id for h in all_hits})
                mentions.append(Mention(m.start(), m.end(), "exact", w, tuple(sorted(set(cands)))))

        if own:
            # 2. address: 八组3号 / 3组2号
            for m in _ADDR_RX.finditer(text):
                g, n = cn_to_int(m.group(1)), cn_to_int(m.group(2))
                cands = sorted(h.id for h in own if self._addr.get(h.id) == (g, n))
                if cands and take(m.start(), m.end()):
                    mentions.append(Mention(m.start(), m.end(), "address", m.group(0), tuple(cands)))
            mentions.extend(self._find_kin(text, own, today, covered, take, token_starts))
            mentions.extend(self._find_given(text, own, covered, take))
            mentions.extend(self._find_fuzzy(text, own, covered, take))
        mentions.sort(key=lambda x: x.start)
        return mentions

    def _find_kin(self, text, own, today, covered, take, token_starts) -> list[Mention]:
        out: list[Mention] = []
        surnames = {split_name(h.head_name)[0] for h in own}
        # the surnames by their first character, each list in the set's own order (the first that fits is taken)
        by_head: dict[str, list[str]] = {}
        for s in surnames:
            by_head.setdefault(s[:1], []).append(s)
        kin_heads = self._kin_heads
        every = "" in by_head  # (an empty surname fits anywhere: no position can be skipped)
        starts = None
        for i, ch in enumerate(text):
            # a mention starts with an own surname, or with any character when a 称谓 follows it: most do not
            if not every and ch not in by_head and text[i + 1 : i + 2] not in kin_heads:
                continue
            if covered[i] or not _CJK.match(ch):
                continue
            sur = None
            for s in by_head.get(ch, ()) if not every else surnames:
                if text.startswith(s, i):
                    sur = s
                    break
            homophone = False
            term = ""
            j = i + (len(sur) if sur else 1)
            if self._kin_rx is not None:
                km = self._kin_rx.match(text, j)
                if not km and sur is not None and text.startswith("家", j):
                    # 严家阿叔 / 王家大妈: the 称谓 after "X家" still tells the households apart
                    km = self._kin_rx.match(text, j + 1)
                    if km:
                        j += 1
                if km:
                    term = km.group(0)
            if sur is None:
                # 汪阿姨 said as 王阿姨: only with a 称谓, and only if the char sounds like an own surname
                if not term or (i > 0 and _CJK.match(text[i - 1]) and text[i - 1] not in "老小"):
                    continue
                p = _py(ch)
                if not any(len(s) == 1 and _py(s) == p for s in surnames):
                    continue
                sur, homophone = ch, True
            prefix = text[i - 1] if i > 0 and text[i - 1] in "老小" and not covered[i - 1] else ""
            end = j + len(term)
            suffix = ""
            for sf in self.kin.suffixes:
                if text.startswith(sf, end):
                    suffix = sf
                    break
            if not (term or prefix or suffix.startswith("家")):
                continue
            if any(covered[i:end]):
                continue
            if not prefix and not homophone:
                # the surname must start a word: 大家 / 全家 are not 戴家 / 全家 households
                if starts is None:
                    starts = token_starts(text) if token_starts else None
                if starts is not None and i not in starts:
                    continue
            s0 = i - 1 if prefix else i
            cands = self._own_by_surname(own, sur, allow_homophone=homophone or bool(term))
            cands = self._kin_filter(cands, term, prefix, today)
            if take(s0, end):
                out.append(Mention(s0, end, "kin", text[s0:end], tuple(sorted(h.id for h in cands))))
        return out

    def _find_given(self, text, own, covered, take) -> list[Mention]:
        out: list[Mention] = []
        for h in own:
            given = split_name(h.head_name)[1]
            if len(given) < 2:
                continue
            pos = text.find(given)
            while pos >= 0:
                end = pos + len(given)
                ok = False
                if self._kin_rx is not None and self._kin_rx.match(text, end):
                    end = self._kin_rx.match(text, end).end()
                    ok = True
                elif text.startswith("家", end):
                    ok = True
                if ok and take(pos, end):
                    out.append(Mention(pos, end, "given", text[pos:end], (h.id,)))
                pos = text.find(given, pos + 1)
        return out

    def _find_fuzzy(self, text, own, covered, take) -> list[Mention]:
        """A full name with one character slipped to a similar sound (邬国清 for 邬国庆), same surname."""
        out: list[Mention] = []
        for h in own:
            name = h.head_name
            sur, _ = split_name(name)
            ln = len(name)
            if ln < 2:
                continue
            pos = text.find(sur)
            while pos >= 0:
                window = text[pos : pos + ln]
                if (
                    len(window) == ln
                    and not any(covered[pos : pos + ln])
                    and window != name
                    and window not in self.member_names
                    and all(_CJK.match(c) for c in window)
                ):
                    diff = [k for k in range(ln) if window[k] != name[k]]
                    if len(diff) == 1 and diff[0] >= len(sur) and _py_close(_py(window[diff[0]]), _py(name[diff[0]])):
                        if take(pos, pos + ln):
                            out.append(Mention(pos, pos + ln, "fuzzy", window, (h.id,)))
                pos = text.find(sur, pos + 1)
            # the surname slipped instead (割素芬 for 葛素芬, by voice): the given name whole, the surname a near sound
            given = name[len(sur) :]
            if len(sur) != 1 or len(given) < 2:
                continue
            pos = text.find(given, 1)
            while pos >= 1:
                s0 = pos - 1
                c = text[s0]
                if (
                    c != sur
                    and _CJK.match(c)
                    and not any(covered[s0 : pos + len(given)])
                    and text[s0 : pos + len(given)] not in self.member_names
                    and _py_close(_py(c), _py(sur))
                    and take(s0, pos + len(given))
                ):
                    out.append(Mention(s0, pos + len(given), "fuzzy", text[s0 : pos + len(given)], (h.id,)))
                pos = text.find(given, pos + 1)
        return out
