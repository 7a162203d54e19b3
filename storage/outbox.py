"""Writing to the outbox: every message the bot sends is first a row, in the transaction that decided to send it.

A worker (bot/outbox.py) sends pending rows afterwards, by channel, within each channel's limits. Channels:
  app          target = member userid          → message/send (private to a member)
  webhook      target = webhook key            → webhook/send (post into an internal group)
  aibot        target = chat id or userid      → aibot_send_msg over the long connection
  template     target = external group chat id → externalcontact/add_msg_template (owner confirms)
  kf           target = external userid        → kf/send_msg (resident 1:1)
  response_url target = chat key, payload.url  → the 智能机器人's one-shot response_url
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from domain.privacy import mask
from domain.time import aware
from storage import leases, repo
from storage.models import ChatGroup, Household, Lease, Member, OutboundMessage

QUEUED_KEY = "lianhu.outbox_queued"


def tell_member(
    session: AsyncSession, member: Member | None, text: str, *, key: str | None = None, branch_id: int | None = None
) -> bool:
    """A private message to a member (an app message after commit); False when they cannot be reached."""
    if member is None or not member.userid:
        return False
    enqueue(session, channel="app", target=member.userid, content=text, key=key, branch_id=branch_id)
    return True


def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    target: str,
    content: str,
    msgtype: str = "markdown",
    key: str | None = None,
    branch_id: int | None = None,
    inbound_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboundMessage:
    """Add a pending outbound row. `key` (idempotency key) makes a second enqueue of the same message a no-op:
    at flush, a row whose key is already stored (or queued twice in one flush) is dropped (drop_known_keys) —
    callers that may run twice (jobs, a command said again) pass one."""
    if key is not None and len(key) > 120:
        key = hashlib.sha256(key.encode()).hexdigest()
    row = OutboundMessage(
        branch_id=branch_id,
        channel=channel,
        target=target,
        msgtype=msgtype,
        content=mask(content),  # the last stop before a person reads it: phone and ID numbers masked
        status="pending",
        inbound_id=inbound_id,
        idempotency_key=key,
        payload=payload or {},
    )
    session.add(row)
    session.info[QUEUED_KEY] = True  # the runtime wakes the worker only after messages that queued something
    return row


def drop_known_keys(session: Session, _flush_context: Any, _instances: Any) -> None:
    """before_flush (storage/db.py): new rows whose idempotency key is already stored leave the session. A
    reminder sent once per key used to fail the whole message with a unique violation the second time (seen in
    `lianhu simulate`: a 书记 said 派 twice for a matter still waiting for the member's opinion)."""
    new = [o for o in session.new if isinstance(o, OutboundMessage) and o.idempotency_key]
    if not new:
        return
    with session.no_autoflush:
        known = set(
            session.scalars(
                select(OutboundMessage.idempotency_key).where(
                    OutboundMessage.idempotency_key.in_({o.idempotency_key for o in new})
                )
            )
        )
    for o in new:
        if o.idempotency_key in known:
            session.expunge(o)
        else:
            known.add(o.idempotency_key)  # the first of two in this flush stays


# --- group posts: one call, the right channel(s) ---------------------------------------------------------------


async def enqueue_group_post(
    session: AsyncSession,
    group: ChatGroup,
    content: str,
    *,
    key: str,
    branch_id: int | None = None,
    inbound_id: int | None = None,
) -> list[OutboundMessage]:
    """Post `content` into a roster group by whatever route WeCom allows, plus a private copy to the group's
    member so they can forward it (wecom-platform.md §8.2 "Sending").

    Internal groups: the group robot's webhook when the roster names one, else the 智能机器人 (aibot_send_msg).
    External (二级) groups: an add_msg_template task the member (group owner) confirms; the worker keeps the
    monthly cap. `key` is the idempotency key of the post; each route appends its own suffix."""
    branch_id = group.branch_id if branch_id is None else branch_id
    owner = await session.get(Member, group.member_id) if group.member_id is not None else None
    rows: list[OutboundMessage] = []
    if group.internal:
        if group.webhook_key:
            rows.append(
                enqueue(
                    session,
                    channel="webhook",
                    target=group.webhook_key,
                    content=content,
                    key=f"{key}:webhook",
                    branch_id=branch_id,
                    inbound_id=inbound_id,
                )
            )
        else:
            rows.append(
                enqueue(
                    session,
                    channel="aibot",
                    target=group.chat_id,
                    content=content,
                    key=f"{key}:aibot",
                    branch_id=branch_id,
                    inbound_id=inbound_id,
                )
            )
    elif owner is not None and owner.userid:
        rows.append(
            enqueue(
                session,
                channel="template",
                target=group.chat_id,
                content=content,
                msgtype="text",
                key=f"{key}:template",
                branch_id=branch_id,
                inbound_id=inbound_id,
                payload={"sender": owner.userid},
            )
        )
    if owner is not None and owner.userid:
        copy = f"【请转发到「{group.name}」】\n{content}"
        rows.append(
            enqueue(
                session,
                channel="app",
                target=owner.userid,
                content=copy,
                key=f"{key}:copy",
                branch_id=branch_id,
                inbound_id=inbound_id,
            )
        )
    return rows


# --- the worker's bookkeeping: claim with a lease, finish with a fencing token -----------------------------------
# A claim bumps `attempts` and sets `next_attempt_at` to the lease's end; the new `attempts` value is the claim's
# token. Finishing only succeeds while the token still matches, so a worker whose lease ran out (and whose row was
# reclaimed by another) cannot overwrite the newer outcome. Plain UPDATE … WHERE: same on SQLite and PostgreSQL.

ACTIVE = ("pending", "sending")


async def due_rows(session: AsyncSession, limit: int = 500) -> list[OutboundMessage]:
    """Rows not finished yet, oldest first (per-target order = id order)."""
    rows = await session.scalars(
        select(OutboundMessage).where(OutboundMessage.status.in_(ACTIVE)).order_by(OutboundMessage.id).limit(limit)
    )
    return list(rows)


async def claim(
    session: AsyncSession, row_id: int, seen_attempts: int, now: dt.datetime, lease_until: dt.datetime
) -> int | None:
    """Take a pending row (or one whose sender's lease ran out). Returns the claim token, None if lost."""
    res = await session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.id == row_id,
            OutboundMessage.attempts == seen_attempts,
            or_(
                OutboundMessage.status == "pending",
                and_(OutboundMessage.status == "sending", OutboundMessage.next_attempt_at < now),
            ),
        )
        .values(status="sending", attempts=seen_attempts + 1, next_attempt_at=lease_until)
        .execution_options(synchronize_session=False)
    )
    return seen_attempts + 1 if res.rowcount == 1 else None


async def finish(
    session: AsyncSession,
    row_id: int,
    token: int,
    *,
    status: str,
    error: str = "",
    next_attempt_at: dt.datetime | None = None,
    sent_at: dt.datetime | None = None,
) -> bool:
    values: dict[str, Any] = {"status": status, "error": error[:200], "next_attempt_at": next_attempt_at}
    if sent_at is not None:
        values["sent_at"] = sent_at
    res = await session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == row_id, OutboundMessage.attempts == token, OutboundMessage.status == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount == 1


async def sent_count_since(session: AsyncSession, channel: str, target: str, since: dt.datetime) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(OutboundMessage)
            .where(
                OutboundMessage.channel == channel,
                OutboundMessage.target == target,
                OutboundMessage.status == "sent",
                OutboundMessage.sent_at >= since,
            )
        )
        or 0
    )


async def dead_letters(
    session: AsyncSession, *, branch_id: int | None = None, limit: int = 200
) -> list[OutboundMessage]:
    q = select(OutboundMessage).where(OutboundMessage.status.in_(("dead", "failed")))
    if branch_id is not None:
        q = q.where(OutboundMessage.branch_id == branch_id)
    return list(await session.scalars(q.order_by(OutboundMessage.id.desc()).limit(limit)))


async def requeue(session: AsyncSession, row_id: int) -> bool:
    """Give a dead letter another round (the secretary fixed the cause, e.g. a userid)."""
    res = await session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == row_id, OutboundMessage.status.in_(("dead", "failed")))
        .values(status="pending", attempts=0, next_attempt_at=None, error="")
        .execution_options(synchronize_session=False)
    )
    return res.rowcount == 1


# --- who sends: one worker per database holds a lease; the others (a second server, a job run by hand) stand by --
# Two senders on one database could both send a row when one of them stalled past its row lease (a long write
# holding SQLite's lock while it waited to mark the row sent): the other reclaimed the row and sent it again (the
# summary went out 4×). With one sender a row is reclaimed only from a sender that is gone.

SENDER_LEASE = "outbox-sender"


async def acquire_sender(session: AsyncSession, holder: str, now: dt.datetime, until: dt.datetime) -> bool:
    """Take or renew the sender lease until `until`; False while another holder's lease runs. One sender per
    database: two servers on one PostgreSQL, or a server and `lianhu jobs run`, never send side by side."""
    return await leases.take(session, SENDER_LEASE, holder, now, until)


async def drop_sender(session: AsyncSession, holder: str) -> None:
    await session.execute(
        update(Lease)
        .where(Lease.name == SENDER_LEASE, Lease.holder == holder)
        .values(expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        .execution_options(synchronize_session=False)
    )


async def live_sender(session: AsyncSession, now: dt.datetime) -> str | None:
    """The holder of a sender lease that has not run out, if any."""
    found = await session.get(Lease, SENDER_LEASE)
    if found is None:
        return None
    until = found.expires_at if found.expires_at.tzinfo else found.expires_at.replace(tzinfo=dt.UTC)
    return found.holder if until > now else None


# the bot may write to a resident on 微信客服 within 48 h of their last message there (docs/channels.md)
KF_WINDOW = dt.timedelta(hours=48)


async def tell_household(
    session: AsyncSession, household: Household | None, text: str, *, now: dt.datetime, key: str | None = None
) -> str:
    """Reach a household: 微信客服 if they wrote to it lately, else through their member. Returns the route."""
    if household is None:
        return "none"
    if household.external_userid:
        last = await repo.last_kf_message(session, household.external_userid)
        # kf/send_msg needs the 微信客服 account the resident wrote to (without it WeCom answers 95000)
        open_kfid = str(last[1].get("open_kfid") or "") if last is not None else ""
        if last is not None and open_kfid and now - aware(last[0]) < KF_WINDOW:
            enqueue(
                session,
                channel="kf",
                target=household.external_userid,
                content=text,
                key=key,
                branch_id=household.branch_id,
                payload={"open_kfid": open_kfid},
            )
            return "kf"
    member = await repo.current_member_of(session, household.id)
    if tell_member(
        session,
        member,
        f"请转告{household.head_name}家：{text}",
        key=key and f"{key}:via-member",
        branch_id=household.branch_id,
    ):
        return "member"
    return "none"


async def pass_on_through_member(session: AsyncSession, row: OutboundMessage) -> bool:
    """A 微信客服 reply that may no longer go out (the 48-hour window or its 5 replies are used up) goes to the
    resident's linked member to pass on, in the transaction that marks the row; False when nobody links the
    household."""
    household = await repo.household_by_external(session, row.target)
    member = await repo.current_member_of(session, household.id) if household is not None else None
    if household is None or member is None:
        return False
    return tell_member(
        session,
        member,
        f"请转告{household.head_name}家：{row.content}",
        key=f"kf-via-member:{row.id}",
        branch_id=row.branch_id,
    )


async def set_status(session: AsyncSession, row_id: int, status: str, error: str) -> None:
    await session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == row_id)
        .values(status=status, error=error[:200])
        .execution_options(synchronize_session=False)
    )
