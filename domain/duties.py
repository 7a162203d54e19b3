"""五联到户 (policy article 3): which of the branch's duties a visit report says the member did there.

The 共性清单 is the five duties of article 3; the branch's 个性清单 comes from configuration ([duties] extra). A duty
is recognised only from the member's own words — a cue must be in the message — and never forced: "去过了" is a
visit with no duty. A cue right after a negation ("没讲政策") does not count. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Duty:
    name: str  # short name shown in the 联户内容 column and in replies
    title: str  # the policy's wording, for the 责任清单
    description: str
    patterns: tuple[re.Pattern[str], ...]
    common: bool = True  # 共性清单 (article 3) or the branch's 个性清单
    carries_requests: bool = False  # 民意收集: what was collected may well be a request to register


def _rx(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


# Cues per duty: what members actually write ("跟他讲了医保新政策", "劝他们两家各让一步", "动员他家参加垃圾分类").
# Order is the policy's order and the order names are listed in.
COMMON: tuple[Duty, ...] = (
    Duty(
        "政策讲解",
        "上级政策讲解到户",
        "向联系户宣传党的路线、方针、政策，传达上级党组织指示精神和村（社）党组织各项决议",
        _rx(
            r"(讲|说|宣传|宣讲|解释|解读|传达|介绍|告诉|普及).{0,10}(政策|文件|精神|决议|规定|新规|条例|法规)",
            r"(政策|文件|精神|决议|规定|新规).{0,6}(讲|说|宣传|宣讲|解释|解读|传达|介绍)",
            r"(讲解|宣讲|解读)了?",
        ),
    ),
    Duty(
        "工作发动",
        "重点工作发动到户",
        "示范带领并督促联系户响应党委政府和村（社）党组织安排部署，配合推进各项重点中心工作",
        _rx(
            r"动员|发动|号召|督促",
            r"(劝|叫|喊|请|带).{0,6}(参加|参与|报名|配合|接种|响应|加入)",
            r"带头.{0,6}(参加|参与|拆|清|整治|做)",
            r"配合.{0,6}(工作|整治|拆|普查|清理)",
        ),
    ),
    Duty(
        "民意收集",
        "民意诉求收集到户",
        "听取联系户意见建议及民意诉求，帮助办好民生实事或群众“微心愿”，做好“红色代办”服务",
        _rx(
            r"(听取|收集|征求|征集|了解|问|听).{0,6}(意见|建议|想法|诉求|需求|困难|心愿|要求)",
            r"问(了|问)?.{0,6}(有什么|有没有|还缺|需要)",
            r"(反映|提)了?.{0,6}(意见|建议|要求|问题|诉求)",
            r"帮.{0,4}(代办|办理|跑腿)|红色代办",
        ),
        carries_requests=True,
    ),
    Duty(
        "矛盾调解",
        "矛盾纠纷调解到户",
        "帮助调解农户之间的矛盾纠纷，及时反映不稳定因素，助力基层治理",
        _rx(
            r"调解|调和|劝和|说和|和解|握手言和|各让一步|各退一步",
            r"(化解|处理|解决|劝).{0,6}(矛盾|纠纷|争执|吵架|吵)",
            r"(矛盾|纠纷).{0,4}(化解|调|处理|解决)",
            r"劝.{0,8}(别吵|不要吵|和好|消气|别闹|不要闹|让一步|让让)",
        ),
    ),
    Duty(
        "新风倡导",
        "文明新风倡导到户",
        "倡导文明新风，带动联系户自觉抵制封建迷信活动",
        _rx(
            r"移风易俗|文明新风|新风|倡导|倡议",
            r"(迷信|赌博|大操大办|铺张|天价彩礼|高价彩礼|邪教)",
            r"(从简|简办|节俭|文明祭[祀扫]|厚养薄葬)",
        ),
    ),
)

# "没讲政策", "没有去调解", "未动员": the cue sits right after a negation. "不要迷信" is a cue of its own (the words
# of 新风倡导), so 不 negates only a cue that is a verb of the member's action; see `_negated`.
_NEGATION = re.compile(r"(没有|没|未|不用|不必)[^，,。；;！!？?]{0,2}$")


@dataclass(frozen=True)
class Catalog:
    """The branch's 责任清单: the five common duties and its own extras, in the order they are listed."""

    duties: tuple[Duty, ...] = COMMON

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.duties)

    def recognise(self, text: str) -> list[str]:
        """The duties `text` says were done, in catalog order, each once. Empty when none is named."""
        return [d.name for d in self.duties if any(_said(p, text) for p in d.patterns)]

    def reports_own_work(self, text: str) -> bool:
        """`text` tells what the member did ("跟他讲了医保的新政策"), not what the household needs: a visit's clause
        like that is no 诉求 even though it names 医保. A 民意收集 clause may carry one, so it does not count."""
        found = [d for d in self.duties if any(_said(p, text) for p in d.patterns)]
        return bool(found) and not any(d.carries_requests for d in found)


def _said(pattern: re.Pattern[str], text: str) -> bool:
    return any(not _NEGATION.search(text[: m.start()]) for m in pattern.finditer(text))


def make_catalog(extra: Iterable[Mapping[str, object]] = ()) -> Catalog:
    """Common duties + the 个性清单. Each extra: {name, words: [cue words], description?}. A name may not repeat a
    common duty's; the cue words are matched literally."""
    duties = list(COMMON)
    seen = {d.name for d in duties}
    for item in extra:
        name = str(item.get("name", "")).strip()
        words = [str(w).strip() for w in item.get("words", []) or [] if str(w).strip()]  # type: ignore[attr-defined]
        if not name or name in seen:
            raise ValueError(f"个性清单的名称“{name}”为空或与已有职责重名")
        if not words:
            raise ValueError(f"个性清单“{name}”没有写识别用的词（words）")
        seen.add(name)
        duties.append(
            Duty(
                name=name,
                title=str(item.get("title") or name),
                description=str(item.get("description") or ""),
                patterns=(re.compile("|".join(re.escape(w) for w in words)),),
                common=False,
            )
        )
    return Catalog(tuple(duties))


DEFAULT = Catalog()


def joined(names: Sequence[str]) -> str:
    """How a visit's duties are written in a cell or a reply."""
    return "、".join(names)


def count_line(counts: Mapping[str, int], order: Sequence[str] = tuple(d.name for d in COMMON)) -> str:
    """'政策讲解 3 次、矛盾调解 1 次' for the names that occurred, in catalog order (extras after, by name)."""
    known = [n for n in order if counts.get(n)]
    rest = sorted(n for n in counts if n not in order and counts[n])
    return "、".join(f"{n} {counts[n]} 次" for n in [*known, *rest])
