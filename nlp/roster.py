"""The parser's view of a branch roster: plain, immutable data, no I/O.

Storage and the roster-file reader build a `Roster` from whatever they hold; the parser only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Member:
    id: str  # 党员编号, e.g. "M04"
    name: str
    userid: str  # 企业微信账号
    gender: str = ""  # "男" / "女" / ""
    birth_year: int | None = None
    roles: tuple[str, ...] = ()  # 书记, 委员, 中心户, 网格员, 党员
    status: str = "在村"  # 在村 / 外出 / 流动 / 免联户


@dataclass(frozen=True, slots=True)
class Household:
    id: str  # 户编号, e.g. "H011"
    head_name: str  # 户主姓名
    gender: str = ""
    birth_year: int | None = None
    address: str = ""
    grid: str = ""
    member_id: str | None = None  # the linked member (current link)
    key_types: tuple[str, ...] = ()  # 困难家庭, 危重病人, 空巢老人, 留守儿童
    aliases: tuple[str, ...] = ()  # 别称
    external_userid: str | None = None


@dataclass(frozen=True)
class Roster:
    members: tuple[Member, ...] = ()
    households: tuple[Household, ...] = ()
    _by_userid: dict[str, Member] = field(default_factory=dict, repr=False, compare=False)
    _by_external: dict[str, Household] = field(default_factory=dict, repr=False, compare=False)
    _by_member: dict[str, tuple[Household, ...]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_userid.update({m.userid: m for m in self.members if m.userid})
        self._by_external.update({h.external_userid: h for h in self.households if h.external_userid})
        grouped: dict[str, list[Household]] = {}
        for h in self.households:
            if h.member_id:
                grouped.setdefault(h.member_id, []).append(h)
        self._by_member.update({k: tuple(v) for k, v in grouped.items()})

    def member_by_userid(self, userid: str | None) -> Member | None:
        return self._by_userid.get(userid or "")

    def household_by_external(self, external_userid: str | None) -> Household | None:
        return self._by_external.get(external_userid or "")

    def households_of(self, member_id: str) -> tuple[Household, ...]:
        return self._by_member.get(member_id, ())
