"""Who may do what: the one table of matter and link commands, and `may`, the only permission check.

Each row says who may run the command — a role *in the matter's branch* (书记, 委员, 中心户) or a relation to the
matter (the resident, the household's linked member, the reporter, the assignee) — from which states it moves the
matter to which (domain/matters.py MOVES), what the reply says and who else is told. Handlers ask `may` and do what
the row says; the permission tests are generated from this table (tests/unit/test_commands_table.py).

The rules of docs/commands.md that are not per row:
- roles count only in the sender's own branch: a 书记 of another branch is an outsider here;
- 镇街 staff act only on matters escalated to them (已上报), and only with the commands marked `township`;
- a rating comes from the resident, or is relayed by the household's linked member (recorded as 代评); never from
  the assignee (who would be grading their own work) nor anyone else, the reporter included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from domain.matters import ref_of, target_of
from domain.roles import CENTRAL, COMMITTEE, SECRETARY

# Relations to a matter (besides the roles above).
RESIDENT = "群众本人"  # the sender is the matter's household
LINKED = "联系党员"  # the sender is the household's linked member now
REPORTER = "提出人"  # the sender reported it
ASSIGNEE = "承办人"  # the sender was given it (派 / 认领)
MEMBER = "党员"  # any member of the branch
VOLUNTEER = "志愿者"  # a configured volunteer (认领 of a wish)
AUTHOR = "记录人"  # whoever's message the bot recorded it from (撤销)
SELF = "党员本人"  # the member a reading is about (查看: "张伟这个月走访了几户" asked by 张伟)

HEADS = frozenset({SECRETARY, COMMITTEE})
REQUEST_WISH = frozenset({"request", "wish"})
ESCALATED = "已上报"


@dataclass(frozen=True)
class Command:
    action: str
    who: frozenset[str]  # any of these roles or relations may run it
    refusal: str  # said (after "没有变化：") to anyone else
    reply: str  # what the sender is answered, in the table's words (the handler fills in the details)
    tells: tuple[str, ...] = ()  # who else hears of it
    township: bool = False  # 镇街 staff may run it on an escalated matter
    kinds: frozenset[str] = REQUEST_WISH
    never: frozenset[str] = frozenset()  # relations that exclude someone even when `who` lets them in
    usage: str = ""  # the canonical form, for 帮助 and docs/commands.md
    reads: bool = False  # only shows something, changes nothing: 镇街 staff may read every branch


def _c(action: str, who: Iterable[str], refusal: str, reply: str, tells: Iterable[str] = (), **kw) -> Command:
    return Command(action, frozenset(who), refusal, reply, tuple(tells), **kw)


COMMANDS: dict[str, Command] = {
    c.action: c
    for c in (
        _c(
            "受理",
            {SECRETARY, COMMITTEE, CENTRAL},
            "受理需要中心户或支部书记、委员。",
            "已受理（支部安排人办）",
            [REPORTER],
            township=True,
            usage="受理 诉求N [备注]",
        ),
        _c("商议", HEADS, "“商议”需要支部书记或委员。", "已商议：结论", [REPORTER], usage="商议 诉求N 结论"),
        _c(
            "派",
            HEADS,
            "“派”需要支部书记或委员。",
            "已派给某人承办，某日前办结",
            [ASSIGNEE, REPORTER],
            township=True,
            usage="派 诉求N 姓名 [M月D日前]",
        ),
        _c(
            "认领",
            {MEMBER, VOLUNTEER},
            "认领微心愿需要党员或登记的志愿者。",
            "已由您认领",
            [REPORTER],
            kinds=frozenset({"wish"}),
            usage="认领 心愿N",
        ),
        _c(
            "办结",
            {ASSIGNEE, SECRETARY, COMMITTEE},
            "办结需要承办人或支部书记、委员。",
            "已办结：办理结果",
            [REPORTER],
            township=True,
            usage="办结 诉求N 办理结果",
        ),
        _c(
            "评价",
            {RESIDENT, LINKED},
            "评价由这户群众本人来做，或由联系这户的党员代为转达。",
            "已记下评价（不满意则重新打开，告诉支部和承办人）",
            [SECRETARY, ASSIGNEE],
            never=frozenset({ASSIGNEE}),
            usage="评价 诉求N 满意|基本满意|不满意",
        ),
        _c(
            "不予受理",
            HEADS,
            "“不予受理”需要支部书记或委员。",
            "不予受理，原因",
            [REPORTER],
            usage="不予受理 诉求N 原因",
        ),
        _c("重复", HEADS, "“重复”需要支部书记或委员。", "已标为与另一件重复", [REPORTER], usage="重复 诉求N 诉求M"),
        _c(
            "撤回",
            {REPORTER, RESIDENT},
            "只有提出这件事的人可以撤回。",
            "已撤回",
            [LINKED],
            usage="撤回 诉求N",
        ),
        _c("上报", HEADS, "“上报”需要支部书记或委员。", "已上报（去向）", [REPORTER], usage="上报 诉求N [去向]"),
        _c(
            "延期",
            {ASSIGNEE, SECRETARY, COMMITTEE},
            "延期需要承办人或支部书记、委员。",
            "已延期到某日，原因",
            [REPORTER],
            township=True,
            usage="延期 诉求N M月D日 原因",
        ),
        _c(
            "重开",
            {SECRETARY, COMMITTEE, RESIDENT},
            "重开需要支部书记、委员或这户群众本人。",
            "已重开，现在的状态",
            [SECRETARY, REPORTER],
            usage="重开 诉求N 原因",
        ),
        _c(
            "撤销",
            {AUTHOR, SECRETARY, COMMITTEE},
            "只有记录人本人或支部书记、委员可以撤销。",
            "已撤销（留有记录：谁、何时、为什么）",
            [LINKED],
            usage="撤销 诉求N",
        ),
        # a reading about one member (a query that names them, parse key `member`): the branch's heads and the
        # member themself; nothing changes, so there is no state to check
        _c(
            "查看",
            {SECRETARY, COMMITTEE, SELF},
            "只有支部书记、委员和这位党员本人可以看。",
            "这位党员的走访情况",
            kinds=frozenset({"member"}),
            reads=True,
            usage="查看 姓名 本月未走访户|本月汇总|重点户走访情况",
        ),
        # links (联户关系): a member, or the resident for their own household, asks; the branch decides
        _c(
            "调整联户",
            {MEMBER, RESIDENT},
            "调整联户由党员提出，群众只能为自己家提出。",
            "已提出 调整N，等支部书记或委员审批",
            [SECRETARY, COMMITTEE],
            kinds=frozenset({"link"}),
            usage="调整联户 户编号或户主 党员姓名 [原因]",
        ),
        _c(
            "同意",
            HEADS,
            "审批联户调整需要支部书记或委员。",
            "已同意，联户关系已改（旧关系留作历史）",
            [REPORTER],
            kinds=frozenset({"link"}),
            usage="同意 调整N",
        ),
        _c(
            "驳回",
            HEADS,
            "审批联户调整需要支部书记或委员。",
            "已驳回，原因",
            [REPORTER],
            kinds=frozenset({"link"}),
            usage="驳回 调整N 原因",
        ),
    )
}

# A link change is pending until decided; `同意`/`驳回` move it once.
LINK_STATES = {"待审批": "open", "已同意": "closed", "已驳回": "closed"}
LINK_MOVES = {"同意": (("待审批",), "已同意"), "驳回": (("待审批",), "已驳回"), "调整联户": ((), "待审批")}


@dataclass(frozen=True)
class Actor:
    """Who is asking, as the roster knows them. `branch_id` is the sender's own branch (None for 镇街 staff who
    are not members anywhere); `roles` are the roles held there."""

    userid: str
    branch_id: int | None = None
    roles: frozenset[str] = frozenset()
    member_id: int | None = None
    household_id: int | None = None
    township: bool = False
    volunteer: bool = False


@dataclass(frozen=True)
class Subject:
    """The facts about a matter (or link change) the rules need; nothing else."""

    branch_id: int
    kind: str  # request / wish / link
    number: int
    state: str
    reporter: str = ""  # userid of who reported (for links: who asked)
    household_id: int | None = None
    assignee_id: int | None = None
    linked_member_id: int | None = None  # the household's linked member now
    member_id: int | None = None  # for a reading about a member (kind "member"): that member

    @property
    def ref(self) -> str:
        return ref_of(self.kind, self.number)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason_zh: str = ""  # why not, in one line (said after "诉求N 没有变化：")
    relayed: bool = False  # a rating relayed by the linked member: recorded as 代评
    capacity: frozenset[str] = field(default_factory=frozenset)  # the roles/relations that let them


def relations(actor: Actor, subject: Subject) -> frozenset[str]:
    """The roles and relations `actor` holds towards `subject`; empty for an outsider (another branch)."""
    if actor.branch_id != subject.branch_id:
        # roles and relations count only in the sender's own branch; a configured volunteer belongs to no branch
        return frozenset({VOLUNTEER}) if actor.volunteer else frozenset()
    held = set(actor.roles & {SECRETARY, COMMITTEE, CENTRAL})
    if actor.member_id is not None:
        held.add(MEMBER)
        if subject.assignee_id == actor.member_id:
            held.add(ASSIGNEE)
        if subject.linked_member_id == actor.member_id and subject.household_id is not None:
            held.add(LINKED)
    if actor.household_id is not None and actor.household_id == subject.household_id:
        held.add(RESIDENT)
    if subject.reporter and subject.reporter == actor.userid:
        held |= {REPORTER, AUTHOR}
    if actor.volunteer:
        held.add(VOLUNTEER)
    if subject.kind == "member" and actor.member_id is not None and actor.member_id == subject.member_id:
        held.add(SELF)
    return frozenset(held)


def _state_ok(action: str, subject: Subject) -> bool:
    if COMMANDS[action].reads:
        return True
    if subject.kind == "link":
        starts, _ = LINK_MOVES[action]
        return not starts or subject.state in starts
    return target_of(action, subject.state) is not None


def may(actor: Actor, action: str, subject: Subject) -> Decision:
    """The only permission check for matter and link commands: who first, then whether the state allows it."""
    cmd = COMMANDS.get(action)
    if cmd is None:
        return Decision(False, "不认识这个命令。")
    if subject.kind not in cmd.kinds:
        if action == "认领":
            return Decision(False, "只有微心愿可以认领；诉求由支部派单。")
        return Decision(False, f"{subject.ref} 不能“{action}”。")
    held = relations(actor, subject)
    granted = frozenset() if held & cmd.never else held & cmd.who
    if not granted and actor.township and cmd.reads:
        granted = frozenset({"镇街"})  # 镇街 staff may read every branch
    if not granted and actor.township:
        if not cmd.township:
            return Decision(False, "镇街只办理已上报的事项（受理、派、办结、延期），这一步由支部书记、委员来做。")
        if subject.state != ESCALATED:
            return Decision(False, "镇街只办理已上报的事项；这件事还没有上报。")
        granted = frozenset({"镇街"})
    if not granted:
        if not held and actor.branch_id is not None and actor.branch_id != subject.branch_id:
            if cmd.reads:
                return Decision(False, "您不是本支部的人，看不到本支部党员的情况。")
            return Decision(False, "您不是本支部的人，不能操作本支部的事项。")
        if action == "评价" and ASSIGNEE in held:
            return Decision(False, "承办人不能给自己办的事评价；请群众本人评价，或由联系这户的党员转达。")
        return Decision(False, cmd.refusal)
    if not _state_ok(action, subject):
        if subject.kind == "link":
            return Decision(False, f"已经“{subject.state}”了。")
        return Decision(False, f"现在是“{subject.state}”，不能{action}。")
    relayed = action == "评价" and RESIDENT not in granted and LINKED in granted
    return Decision(True, relayed=relayed, capacity=granted)


def actions() -> list[str]:
    return list(COMMANDS)
