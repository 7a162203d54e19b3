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

import hashlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboundMessage


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
    """Add a pending outbound row. `key` (idempotency key) makes a second enqueue of the same message a no-op
    at commit time (unique constraint) — callers that may run twice (jobs) must pass one."""
    if key is not None and len(key) > 120:
        key = hashlib.sha256(key.encode()).hexdigest()
    row = OutboundMessage(
        branch_id=branch_id, channel=channel, target=target, msgtype=msgtype, content=content, status="pending",
        inbound_id=inbound_id, idempotency_key=key, payload=payload or {},
    )
    session.add(row)
    return row
