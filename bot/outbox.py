"""The outbox worker: sends the rows storage/outbox.enqueue wrote, each exactly once, in order per chat.

A round reads the unfinished rows oldest first and groups them by (channel, target). Each group is worked through
in order by one task: claim the row (an UPDATE that bumps `attempts` and leases the row until `next_attempt_at`),
send it, then finish it with the claim token. A transient failure (-1, 45009, 45033, 5xx, timeouts, a dropped
long connection) puts the row back with a backoff and stops that chat for this round, so the next message of the
chat never overtakes it; a permanent one, or too many attempts, makes it a dead letter (`lianhu outbox`).

Crash safety: a row is written before anything is sent. A worker that dies after claiming leaves a 'sending' row
whose lease runs out; the next round reclaims it. What cannot be known is whether a send that was under way when
the process died reached WeCom; kf/send_msg carries a msgid derived from the row so WeCom drops a repeat, the other
APIs have no such key (docs/channels.md).
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import datetime as dt
import hashlib
import logging
import os
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import OutboxSettings
from bot.keys import CLIENT_KEY, RUNTIME_KEY, SESSIONMAKER_KEY, SETTINGS_KEY
from bot.wecom.client import WeComClient
from bot.wecom.errors import WeComApiError
from jobs import kf_window
from jobs.context import split_markdown
from storage import outbox as store
from storage.models import OutboundMessage, utcnow

log = logging.getLogger(__name__)

TZ = ZoneInfo("Asia/Shanghai")


class Transient(Exception):
    """Try again later (the channel is down or busy)."""


class Permanent(Exception):
    """Will never go through as it is: a dead letter for the secretary."""


class ViaMember(Exception):
    """微信客服 may not reply any more (48 h since the resident last wrote, or 5 replies used): the words go to the
    household's linked member to pass on, instead of dying in the queue."""


class AlreadySent(Exception):
    """The platform says this exact message went out before (a repeat after a crash)."""


Sender = Callable[[OutboundMessage], Awaitable[None]]


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC
    if t is None:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


class RateLimiter:
    """Sliding one-minute windows per key (webhook key, chat); checked before a send, not enforced by sleeping."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._sent: dict[str, deque[float]] = defaultdict(deque)

    def free_at(self, key: str, per_minute: int) -> float:
        """0 if a send may go now, else the clock time at which it may."""
        window = self._sent[key]
        now = self.clock()
        while window and window[0] <= now - 60:
            window.popleft()
        return 0.0 if len(window) < per_minute else window[0] + 60

    def note(self, key: str) -> None:
        self._sent[key].append(self.clock())


class OutboxWorker:
    def __init__(
        self,
        settings: OutboxSettings,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: WeComClient | None,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        instance: str = "",
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.client = client
        self.clock = clock
        self.instance = instance
        self.limiter = RateLimiter()
        self.senders: dict[str, Sender] = {
            "app": self._send_app,
            "webhook": self._send_webhook,
            "response_url": self._send_response_url,
            "template": self._send_template,
            "kf": self._send_kf,
        }  # "aibot" is added by bot/ws.py while the long connection runs
        self._wake = asyncio.Event()
        self._round = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # --- life cycle ---------------------------------------------------------------------------------------
    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, grace: float = 10.0) -> None:
        """Let the current round finish (a send cut mid-way would leave a row claimed), then stop."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        with contextlib.suppress(Exception):  # at once, not after the first poll: `jobs run` may start any time
            await self.beat()
        while not self._stopping:
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()
            if self._stopping:
                break
            try:
                await self.run_once()
            except Exception:  # a bad round (database away) must not end the worker
                log.exception("outbox round failed")
        with contextlib.suppress(Exception):  # best effort: the lease runs out on its own anyway
            await self.drop()

    @property
    def holder(self) -> str:
        return self.instance or f"pid{os.getpid()}"

    async def beat(self) -> bool:
        """Take or renew the sender lease; False while another instance sends (this one stands by)."""
        now = self.clock()
        until = now + dt.timedelta(seconds=max(self.settings.sender_lease_seconds, 3 * self.settings.poll_seconds))
        async with self.sessionmaker() as session, session.begin():
            return await store.acquire_sender(session, self.holder, now, until)

    async def drop(self) -> None:
        """Give the lease back (a clean stop): another instance may send at once."""
        async with self.sessionmaker() as session, session.begin():
            await store.drop_sender(session, self.holder)

    # --- one round ----------------------------------------------------------------------------------------
    async def run_once(self) -> int:
        """Send everything due now, if this worker is the database's sender; returns how many rows were sent."""
        async with self._round:
            if not await self.beat():
                return 0  # another instance sends; this one takes over when that one's lease lapses
            async with self.sessionmaker() as session:
                rows = await store.due_rows(session)
            chains: dict[tuple[str, str], list[OutboundMessage]] = {}
            for row in rows:
                chains.setdefault((row.channel, row.target), []).append(row)
            sem = asyncio.Semaphore(max(1, self.settings.concurrency))

            async def chain(items: list[OutboundMessage]) -> int:
                async with sem:
                    return await self._work_chain(items)

            # a TaskGroup, not gather: if the round is cancelled it waits for every chain to unwind, so no
            # send outlives the worker (and the engine it writes with)
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(chain(c)) for c in chains.values()]
            return sum(t.result() for t in tasks)

    async def _work_chain(self, rows: list[OutboundMessage]) -> int:
        sent = 0
        for row in rows:
            now = self.clock()
            due = _aware(row.next_attempt_at)
            if row.status == "pending" and due is not None and due > now:
                break  # backing off: later messages of this chat wait behind it
            if row.status == "sending" and due is not None and due >= now:
                break  # another worker holds it
            if self._rate_limited(row):
                break
            outcome = await self._attempt(row, now)
            if outcome == "sent":
                sent += 1
            elif outcome in ("retry", "lost"):
                break
        return sent

    def _rate_limited(self, row: OutboundMessage) -> bool:
        s = self.settings
        if row.channel == "webhook":
            return self.limiter.free_at(f"webhook:{row.target}", s.webhook_per_minute) > 0
        return self.limiter.free_at(f"{row.channel}:{row.target}", s.per_chat_per_minute) > 0

    async def _attempt(self, row: OutboundMessage, now: dt.datetime) -> str:
        s = self.settings
        lease_until = now + dt.timedelta(seconds=s.lease_seconds)
        async with self.sessionmaker() as session, session.begin():
            token = await store.claim(session, row.id, row.attempts, now, lease_until)
        if token is None:
            return "lost"  # another worker got it first
        sender = self.senders.get(row.channel)
        status, error, retry_at = "sent", "", None
        try:
            if sender is None:
                raise Transient(f"渠道 {row.channel} 现在不可用")
            await sender(row)
        except AlreadySent:
            pass
        except ViaMember as exc:
            status, error = "rerouted", str(exc)
        except Permanent as exc:
            status, error = "dead", str(exc)
        except WeComApiError as exc:
            if exc.retryable or exc.token_expired:
                status, error = "pending", str(exc)
            else:
                status, error = "dead", str(exc)
        except (Transient, TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
            status, error = "pending", f"{type(exc).__name__}: {exc}"
        if status == "pending":
            if token >= s.max_attempts:
                status, error = "dead", f"{token} 次都没发出去：{error}"
            else:
                backoff = min(s.backoff_max_seconds, s.backoff_base_seconds * 2 ** (token - 1))
                retry_at = self.clock() + dt.timedelta(seconds=backoff)
        if status == "sent":
            self.limiter.note(f"webhook:{row.target}" if row.channel == "webhook" else f"{row.channel}:{row.target}")
        async with self.sessionmaker() as session, session.begin():
            ok = await store.finish(
                session,
                row.id,
                token,
                status=status,
                error=error,
                next_attempt_at=retry_at,
                sent_at=self.clock() if status == "sent" else None,
            )
            if ok and status == "sent" and row.channel == "kf":
                await kf_window.count_reply(session, row.target)
            if ok and status == "rerouted" and not await store.pass_on_through_member(session, row):
                status, error = "dead", f"{error}；这一户也没有联系党员可以转告"
                await store.set_status(session, row.id, status, error)
        if not ok:
            log.warning("outbox row %s was reclaimed while this worker sent it (lease too short?)", row.id)
        if status == "dead":
            log.warning("outbox row %s (%s → %s) is a dead letter: %s", row.id, row.channel, row.target, error)
        return {"sent": "sent", "dead": "dead", "rerouted": "rerouted"}.get(status, "retry")

    # --- channels -----------------------------------------------------------------------------------------
    def _client(self) -> WeComClient:
        if self.client is None:
            raise Transient("没有企业微信客户端")
        return self.client

    async def _send_app(self, row: OutboundMessage) -> None:
        # A row claimed before (row.attempts is the count before this claim) may already have reached WeCom: a
        # worker killed mid-request, or an answer lost. Only such a resend asks WeCom to drop it as a duplicate; a
        # first send never does, or a member asking the same question twice would get no second answer. A resend
        # comes after the row's lease and the sender's lapsed: the check spans both, twice over.
        window = 2 * (self.settings.lease_seconds + self.settings.sender_lease_seconds) if row.attempts else 0
        # an app message holds 2,048 bytes (a long 心愿清单 or 本月未走访户 does not): sent in numbered parts, cut at
        # line ends; a part that went out before a retry is dropped by the duplicate check on the resend
        for part in split_markdown(row.content, APP_TEXT_MAX):
            data = await self._client().send_app_message(
                row.target, part, msgtype=row.msgtype, duplicate_check_seconds=int(window)
            )
            if data.get("invaliduser"):
                raise Permanent(f"成员账号无效：{data['invaliduser']}")

    async def _send_webhook(self, row: OutboundMessage) -> None:
        if row.msgtype == "image":  # payload = {"base64", "md5"} (jobs/charts.image_payload); content is a caption
            img = row.payload or {}
            await self._client().webhook_send(
                row.target, {"msgtype": "image", "image": {"base64": img.get("base64", ""), "md5": img.get("md5", "")}}
            )
            return
        msgtype = row.msgtype if row.msgtype in ("text", "markdown", "markdown_v2") else "markdown"
        await self._client().webhook_send(row.target, {"msgtype": msgtype, msgtype: {"content": row.content}})

    async def _send_response_url(self, row: OutboundMessage) -> None:
        url = (row.payload or {}).get("url")
        if not url:
            raise Permanent("缺少 response_url")
        await self._client().post_response_url(url, {"msgtype": "markdown", "markdown": {"content": row.content}})

    async def _send_template(self, row: OutboundMessage) -> None:
        """externalcontact/add_msg_template into one customer group; ≤ days-in-month tasks per group a month."""
        sender = (row.payload or {}).get("sender")
        if not sender:
            raise Permanent("外部群没有群主账号，无法创建群发任务")
        local = self.clock().astimezone(TZ)
        month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)
        cap = calendar.monthrange(local.year, local.month)[1]
        async with self.sessionmaker() as session:
            used = await store.sent_count_since(session, "template", row.target, month_start)
        if used >= cap:
            raise Permanent(f"本群本月的群发次数（{cap} 次）已用完，请成员手动转发")
        data = await self._client().call(
            "externalcontact/add_msg_template",
            {
                "chat_type": "group",
                "sender": sender,
                "chat_id_list": [row.target],
                "text": {"content": row.content},
            },
        )
        if row.target in (data.get("fail_list") or []):
            raise Permanent("企业微信拒绝了这个群的群发任务（可能本月次数已用完）")

    async def _send_kf(self, row: OutboundMessage) -> None:
        """kf/send_msg: only within 48 h after the resident's last message, at most 5 replies in that window."""
        async with self.sessionmaker() as session:
            window = await kf_window.read_window(session, row.target)
        if (why := kf_window.refusal(window, self.clock())) is not None:
            raise ViaMember(why)
        open_kfid = (row.payload or {}).get("open_kfid", "")
        # WeCom drops a repeated msgid: a send retried after a crash does not reach the resident twice
        msgid = hashlib.sha1(f"{row.id}:{row.idempotency_key or ''}".encode()).hexdigest()[:32]
        await self._client().call(
            "kf/send_msg",
            {
                "touser": row.target,
                "open_kfid": open_kfid,
                "msgid": msgid,
                "msgtype": "text",
                "text": {"content": row.content},
            },
        )


APP_TEXT_MAX = 2048  # message/send text and markdown content, bytes (wecom-platform.md §4.1)

OUTBOX_KEY: web.AppKey[OutboxWorker] = web.AppKey("outbox_worker")


async def outbox_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: run the worker beside the runtime, woken after every handled message."""
    rt = app[RUNTIME_KEY]
    worker = OutboxWorker(app[SETTINGS_KEY].outbox, app[SESSIONMAKER_KEY], app[CLIENT_KEY])
    app[OUTBOX_KEY] = worker
    rt.outbox = worker
    worker.start()
    yield
    await worker.stop()
    rt.outbox = None
