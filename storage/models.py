"""SQLAlchemy 2 models. Every business row belongs to a branch; one deployment serves many branches.

Links are history: a change closes the current row (valid_to) and opens a new one, never overwrites it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so alembic migrations behave the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Branch(Base):
    __tablename__ = "branch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    theme_day: Mapped[int] = mapped_column(Integer, default=5)  # 主题党日: day of month
    roster_version: Mapped[int] = mapped_column(Integer, default=0)  # bumped by every import: parsers reload
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Grid(Base):
    __tablename__ = "grid"
    __table_args__ = (UniqueConstraint("branch_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))


class Member(Base):
    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("branch_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))  # 党员编号
    name: Mapped[str] = mapped_column(String(50))
    userid: Mapped[str | None] = mapped_column(String(64), unique=True)  # 企业微信账号, corp-wide
    gender: Mapped[str] = mapped_column(String(2), default="")
    birth_year: Mapped[int | None] = mapped_column(Integer)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"))
    roles: Mapped[str] = mapped_column(String(100), default="党员")  # ";"-joined, as in the roster
    status: Mapped[str] = mapped_column(String(10), default="在村")  # 在村/外出/流动/免联户
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))  # 中心户
    note: Mapped[str] = mapped_column(String(200), default="")  # 备注 (the exemption reason for 免联户)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    grid: Mapped[Grid | None] = relationship(lazy="raise")
    leader: Mapped[Member | None] = relationship(remote_side=[id], lazy="raise")

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(";") if r)


class Household(Base):
    __tablename__ = "household"
    __table_args__ = (UniqueConstraint("branch_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))  # 户编号
    head_name: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str] = mapped_column(String(2), default="")
    birth_year: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(200), default="")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"))
    key_types: Mapped[str] = mapped_column(String(100), default="")  # ";"-joined coded tags, never free text
    aliases: Mapped[str] = mapped_column(String(200), default="")
    external_userid: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    grid: Mapped[Grid | None] = relationship(lazy="raise")

    @property
    def key_type_set(self) -> frozenset[str]:
        return frozenset(k for k in self.key_types.split(";") if k)


class Link(Base):
    """联户关系 member ↔ household with validity; valid_to NULL = current."""

    __tablename__ = "link"
    __table_args__ = (
        Index("ix_link_household_current", "household_id", "valid_to"),
        Index("ix_link_member_current", "member_id", "valid_to"),
        Index("ix_link_branch_current", "branch_id", "valid_to", "member_id", "household_id"),  # county scale
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    valid_from: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    valid_to: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(200), default="")
    changed_by: Mapped[str] = mapped_column(String(64), default="")


class ChatGroup(Base):
    __tablename__ = "chat_group"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(Integer)  # 1 = 一级 (branch members), 2 = 二级 (one member + households)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    webhook_key: Mapped[str | None] = mapped_column(String(100))


class Visit(Base):
    __tablename__ = "visit"
    __table_args__ = (
        Index("ix_visit_household_date", "household_id", "visit_date"),
        Index("ix_visit_branch_date", "branch_id", "visit_date"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    visit_date: Mapped[dt.date] = mapped_column(Date)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    recorded_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InboundMessage(Base):
    """Every message that reached us, once: (channel, msg_id) is the dedup key for WeCom's retries."""

    __tablename__ = "inbound_message"
    __table_args__ = (
        UniqueConstraint("channel", "msg_id", name="uq_inbound_channel_msg"),
        # the same person's same words by another channel (bot/intake.py): one equality lookup
        Index("ix_inbound_sender_words", "sender", "words_key", "channel"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))  # aibot / app / archive / kf / ws
    msg_id: Mapped[str] = mapped_column(String(128))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id", ondelete="SET NULL"))
    sender: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(64), default="")
    chat_type: Mapped[str] = mapped_column(String(10))  # group / single
    text: Mapped[str | None] = mapped_column(Text)  # purged after the retention period
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # pending / done / failed; copy: another channel owns this chat (domain/channels.py); same: these words were
    # already handled from another channel
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reply: Mapped[str | None] = mapped_column(Text)  # what we answered, replayed on redelivery
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # digest of the words without a leading @mention or spacing (bot/intake.py words_key); kept when the text is
    # purged, it reveals nothing
    words_key: Mapped[str | None] = mapped_column(String(16))


class OutboundMessage(Base):
    """The outbox: written in the transaction that decided to send, sent afterwards by a worker, exactly once."""

    __tablename__ = "outbound_message"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_outbound_idempotency_key"),
        Index("ix_outbound_pending", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(20))  # passive / app / webhook / response_url / aibot / template / kf
    target: Mapped[str] = mapped_column(String(128))
    msgtype: Mapped[str] = mapped_column(String(20), default="text")
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="sent")  # pending / sent / failed / dead / rerouted
    error: Mapped[str] = mapped_column(String(200), default="")
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # channel extras (response_url, req_id, …)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConversationState(Base):
    """One open question per (chat, user), e.g. 你说的王家是哪一户？ Expires; the sweeper tells the user."""

    __tablename__ = "conversation_state"
    __table_args__ = (UniqueConstraint("chat_key", "userid", name="uq_conversation_chat_user"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(80))
    userid: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """Who changed what, when: links, roster imports. (Requests keep their own event table.)"""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(80), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- 事有回应: matters (诉求 / 心愿), their events, 八必访 tasks, link changes --------------------------------------


class Counter(Base):
    """Per-branch reference numbers (诉求N, 心愿N, 调整N): count up, never repeat."""

    __tablename__ = "counter"
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Matter(Base):
    """A 诉求 (request, incl. 红色代办) or 心愿 (wish). State = label + type (open / fixed / closed)."""

    __tablename__ = "matter"
    __table_args__ = (
        UniqueConstraint("branch_id", "kind", "number", name="uq_matter_branch_kind_number"),
        Index("ix_matter_branch_state", "branch_id", "state_type"),
        Index("ix_matter_household", "household_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # request / wish
    number: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(20), default="")  # e.g. 红色代办, 设施维修, 矛盾调解
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))  # the household's member when recorded
    reporter: Mapped[str] = mapped_column(String(64))  # userid / external userid
    summary: Mapped[str] = mapped_column(String(500))  # what is asked, phone numbers masked
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)  # health/hardship/dispute: never in a 二级 group
    state: Mapped[str] = mapped_column(String(10), default="已登记")
    state_type: Mapped[str] = mapped_column(String(10), default="open")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("matter.id"))
    escalated_to: Mapped[str] = mapped_column(String(50), default="")
    rating: Mapped[str | None] = mapped_column(String(10))
    rating_asked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    source_inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    source_chat: Mapped[str] = mapped_column(String(80), default="")  # where it was raised (chat key)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class MatterEvent(Base):
    """Every change of a matter, with who, when and a note (FixMyStreet's comment.problem_state)."""

    __tablename__ = "matter_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # 登记/受理/商议/派/办结/评价/…/补充 (storage/matters.py)
    from_state: Mapped[str | None] = mapped_column(String(10))
    to_state: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MustVisitTask(Base):
    """八必访: a situation that demands a visit; closed by the next recorded visit of the household."""

    __tablename__ = "must_visit_task"
    __table_args__ = (Index("ix_must_visit_open", "household_id", "closed_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    trigger: Mapped[str] = mapped_column(String(20))  # coded: illness, hardship, … never free text
    source_inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by_visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))


class LinkChange(Base):
    """调整N: a request to change who links a household; only an approved one moves the link."""

    __tablename__ = "link_change"
    __table_args__ = (UniqueConstraint("branch_id", "number", name="uq_link_change_branch_number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    from_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    to_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    requested_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(10), default="待审批")  # 待审批 / 已同意 / 已驳回
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decision_note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# --- transport: cursors of pulled feeds, outbox bookkeeping ----------------------------------------------------


class AttentionItem(Base):
    """A resident's words in a 联户群 that made no record but may need someone (a question, distress): they go on
    the linked member's private daily list (jobs/attention.py), numbered there; "登记 N" registers one."""

    __tablename__ = "attention_item"
    __table_args__ = (Index("ix_attention_member_listed", "member_id", "listed_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    summary: Mapped[str] = mapped_column(String(200))  # masked
    said_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    listed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # sent in a daily list
    number: Mapped[int | None] = mapped_column(Integer)  # its number in the member's lists ("登记 N")
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("matter.id"))


class FeedCursor(Base):
    """Where a pulled feed stands (archive seq, kf cursor); written in the same transaction as what it produced."""

    __tablename__ = "feed_cursor"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- the branch's rhythm: job runs, leases, points ledger -----------------------------------------------------


class JobRun(Base):
    """One row per (job, period): the job ran (or is running) for that period, never twice."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_run_job_period"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(20))  # 2026-11, 2026-W48, 2026-11-26
    status: Mapped[str] = mapped_column(String(10), default="running")  # running / done / failed
    instance: Mapped[str] = mapped_column(String(80), default="")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Lease(Base):
    """A named lease so that among several instances exactly one runs the scheduler."""

    __tablename__ = "lease"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PointsEntry(Base):
    """积分 ledger: never a mutable total. `cause_key` makes each cause count once."""

    __tablename__ = "points_entry"
    __table_args__ = (
        UniqueConstraint("cause_key", name="uq_points_entry_cause_key"),
        Index("ix_points_member_at", "member_id", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    rule: Mapped[str] = mapped_column(String(40))
    points: Mapped[int] = mapped_column(Integer)
    cause: Mapped[str] = mapped_column(String(200))
    cause_key: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- the chat-archive bridge (issue 14) ------------------------------------------------------------------------


class ArchiveQuarantine(Base):
    """An archive record the bridge could not decrypt (it killed the SDK twice, or the SDK refused it): kept with
    its seq so an operator can look at it (`lianhu archive quarantine`); the cursor moved past it in the same
    transaction, so reading goes on."""

    __tablename__ = "archive_quarantine"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    msgid: Mapped[str] = mapped_column(String(128), default="")
    publickey_ver: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- policy articles 3, 7, 8, 9 (issue 17): 五联到户, 先锋承诺, the members' rights, 考评 (storage/policy.py) --------


class VisitDuty(Base):
    """五联到户: a duty the member's words say was done on a visit (domain/duties.py); none is ever assumed."""

    __tablename__ = "visit_duty"
    __table_args__ = (
        UniqueConstraint("visit_id", "duty", name="uq_visit_duty_visit_duty"),
        Index("ix_visit_duty_branch", "branch_id", "duty"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"))
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"))
    duty: Mapped[str] = mapped_column(String(20))


class Pledge(Base):
    """先锋承诺, as history: a change closes the current row (valid_to) and opens a new one, with who and when."""

    __tablename__ = "pledge"
    __table_args__ = (Index("ix_pledge_member_current", "member_id", "valid_to"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    text: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(10), default="chat")  # chat / roster
    set_by: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    valid_to: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class MemberOpinion(Base):
    """把关: the linked member's view on a household's matter the branch approves, asked before it decides."""

    __tablename__ = "member_opinion"
    __table_args__ = (UniqueConstraint("matter_id", "member_id", name="uq_member_opinion_matter_member"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    asked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    opinion: Mapped[str | None] = mapped_column(String(10))  # 同意 / 不同意; NULL = asked, not yet given
    reason: Mapped[str] = mapped_column(String(300), default="")
    given_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Nomination(Base):
    """推荐: a member's nomination (入党积极分子 / 评优 / 后备干部), for the secretary only."""

    __tablename__ = "nomination"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    nominee: Mapped[str] = mapped_column(String(50))
    nominee_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    nominated_by: Mapped[int] = mapped_column(ForeignKey("member.id"))
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Assessment(Base):
    """村党组织评分 of one member for one period (2026Q4 or 2026); a change is audited with the old score."""

    __tablename__ = "assessment"
    __table_args__ = (UniqueConstraint("member_id", "period", name="uq_assessment_member_period"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    period: Mapped[str] = mapped_column(String(8))
    score: Mapped[float] = mapped_column(Float)
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
