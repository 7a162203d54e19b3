"""The intake journal: a pushed message is on disk before WeCom hears 200, whatever the database is doing.

WeCom does not redeliver a message that got a 200, and on SQLite a long write elsewhere (a roster import, a purge)
can hold the database for longer than the reply budget. So the callbacks append each message to this file and
fsync it first (one fsync for every message that arrived meanwhile: group commit, like the runtime's), then hand
it to the runtime, then append a "done" mark. At start-up every message without its mark is handled again; the
runtime's (channel, msg_id) key makes that exactly once (a message already on record is only answered from the
record), and the answer goes to the sender privately, since the HTTP request that would have carried it is gone.

Format: JSON lines, {"in": {...message...}} or {"done": [channel, msg_id]}. A torn last line (a crash during a
write that was never acknowledged) is skipped. Past `max_bytes` the file is rewritten to the unfinished records.
One file per bot instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy.engine import make_url

from domain.privacy import mask
from handlers.context import Inbound
from storage import outbox

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Settings
    from bot.runtime import HandleResult, Runtime
    from storage.models import InboundMessage

log = logging.getLogger(__name__)

Key = tuple[str, str]
RETRY_FOR = 600.0  # seconds an acknowledged message is retried in-process before it waits for the next start


def journal_path(settings: Settings) -> Path | None:
    """Where the journal lives: the configured path, else next to the SQLite file; None when switched off."""
    configured = settings.intake.journal.strip()
    if configured.lower() == "off":
        return None
    if configured:
        return Path(configured)
    url = make_url(settings.database.url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None  # nothing of the database survives a restart either
        return Path(url.database + ".intake")
    # one file per database: two bots on two databases (or test runs) never replay each other's messages
    tag = hashlib.sha1(url.render_as_string(hide_password=True).encode()).hexdigest()[:8]
    return Path(f"var/lianhu-intake-{tag}.journal")


def _record(msg: Inbound) -> bytes:
    body = {
        "channel": msg.channel,
        "msg_id": msg.msg_id,
        "sender": msg.sender,
        "chat_id": msg.chat_id,
        "chat_type": msg.chat_type,
        "text": msg.text,
        "sent_at": msg.sent_at.isoformat(),
        "meta": msg.meta,
    }
    return (json.dumps({"in": body}, ensure_ascii=False, default=str) + "\n").encode()


def _inbound(body: dict[str, Any]) -> Inbound:
    return Inbound(
        channel=body["channel"],
        msg_id=body["msg_id"],
        sender=body["sender"],
        chat_id=body["chat_id"],
        chat_type=body["chat_type"],
        text=body["text"],
        sent_at=dt.datetime.fromisoformat(body["sent_at"]),
        meta=dict(body.get("meta") or {}),
    )


def claim_path(base: Path, tries: int = 64) -> tuple[Path, int]:
    """The first of base, base.2, base.3, … that no running instance holds, locked (flock on "<file>.lock") for
    as long as this process lives. Two `lianhu serve` on one database would otherwise share one journal and
    rewrite each other's records; after a restart an instance takes the first free file and replays whatever an
    instance that died left in it (exactly once: the runtime's (channel, msg_id) key)."""
    base.parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, tries + 1):
        path = base if n == 1 else base.with_name(f"{base.name}.{n}")
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return path, fd
    raise OSError(f"intake journal: all {tries} files beside {base} are held by running instances")


class IntakeJournal:
    def __init__(self, path: Path, *, max_bytes: int = 8 * 1024 * 1024) -> None:
        path, self._lock_fd = claim_path(path)
        self.path = path
        self.max_bytes = max_bytes
        self._open: dict[Key, bytes] = {}  # appended, not yet marked done: what a rewrite keeps
        self._unfinished = self._load()  # from before this start, in arrival order
        self._f = open(path, "ab")
        self._buf: list[bytes] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._torn = False  # a write failed part-way: start the next one on a fresh line
        # fsync gets its own thread: queued behind other blocking work it would stretch every acknowledgement
        self._sync = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intake-fsync")

    def _load(self) -> list[Inbound]:
        if not self.path.exists():
            return []
        pending: dict[Key, Inbound] = {}
        with self.path.open("rb") as f:
            for raw in f:
                try:
                    entry = json.loads(raw)
                    if "in" in entry:
                        msg = _inbound(entry["in"])
                        key = (msg.channel, msg.msg_id)
                        pending.setdefault(key, msg)
                        self._open[key] = raw if raw.endswith(b"\n") else raw + b"\n"
                    elif "done" in entry:
                        key = (entry["done"][0], entry["done"][1])
                        pending.pop(key, None)
                        self._open.pop(key, None)
                except (ValueError, KeyError, TypeError, IndexError):
                    log.warning("intake journal %s: skipped a torn or unreadable line", self.path)
        return list(pending.values())

    def unfinished(self) -> list[Inbound]:
        """Messages acknowledged before the last stop but not marked handled, oldest first."""
        return list(self._unfinished)

    async def append(self, msg: Inbound) -> None:
        """Return once `msg` is on disk (fsynced). Raises OSError when it cannot be: do not acknowledge then."""
        line = _record(msg)
        self._open[(msg.channel, msg.msg_id)] = line
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._buf.append(line)
        self._waiters.append(fut)
        self._kick()
        await fut

    def done(self, msg: Inbound) -> None:
        """Mark `msg` handled (stored by the runtime). Not waited for: a lost mark only means a replay that the
        runtime answers from the record."""
        key = (msg.channel, msg.msg_id)
        if self._open.pop(key, None) is None:
            return
        self._buf.append((json.dumps({"done": list(key)}, ensure_ascii=False) + "\n").encode())
        self._kick()

    async def handle(self, runtime: Runtime, msg: Inbound) -> HandleResult:
        """The runtime's answer for an appended message, marking it done once the runtime has stored it.

        The runtime raises only when not even its failure record could be written (database locked past its
        deadline, or down): the message is acknowledged, so try again, backing off, and answer privately then
        (the stream that would have carried the answer has most likely been given up). Past RETRY_FOR seconds
        the record waits for the next start."""
        try:
            result = await runtime.handle(msg)
        except Exception:
            log.warning("handling %s/%s failed; retrying from the intake journal", msg.channel, msg.msg_id)
        else:
            self.done(msg)
            return result
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + RETRY_FOR, 0.5
        while True:
            await asyncio.sleep(pause)
            try:
                result = await runtime.handle(msg, before_commit=_answer_privately)
            except Exception:
                if loop.time() > deadline:
                    raise
                pause = min(pause * 2, 30.0)
                continue
            self.done(msg)
            return result if result.duplicate else dataclasses.replace(result, reply=None)

    def _kick(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._buf:
            lines, waiters = self._buf, self._waiters
            self._buf, self._waiters = [], []
            try:
                self._f.write((b"\n" if self._torn else b"") + b"".join(lines))
                self._f.flush()
                await loop.run_in_executor(self._sync, os.fsync, self._f.fileno())
                self._torn = False
            except OSError as exc:
                self._torn = True
                log.error("intake journal %s: write failed: %s", self.path, exc)
                for w in waiters:
                    if not w.done():
                        w.set_exception(exc)
                continue
            for w in waiters:
                if not w.done():
                    w.set_result(None)
            # rewrite when it pays: with the database down for long, the unfinished records alone may be large
            if self._f.tell() > self.max_bytes and sum(map(len, self._open.values())) < self.max_bytes // 2:
                self._rewrite()

    def _rewrite(self) -> None:
        """Keep only the unfinished records: write them aside, fsync, rename over (atomic), fsync the folder."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("wb") as f:
            f.write(b"".join(self._open.values()))
            f.flush()
            os.fsync(f.fileno())
        self._f.close()
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)
        self._f = open(self.path, "ab")

    async def close(self) -> None:
        while self._flusher is not None and not self._flusher.done():
            await self._flusher
        if not self._open:  # everything handled: start the next run with an empty file
            self._f.truncate(0)
        self._f.close()
        self._sync.shutdown(wait=True)
        os.close(self._lock_fd)  # releases the flock: the next instance may take this file


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- replay after a restart --------------------------------------------------------------------------------------


async def _answer_privately(session: AsyncSession, row: InboundMessage) -> None:
    """Inside the message's own transaction: its answer goes out as a private message, exactly once."""
    if not row.reply or row.channel not in ("aibot", "ws"):
        return  # the other channels already answer through the outbox
    said = row.text if len(row.text) <= 40 else row.text[:40] + "…"
    outbox.enqueue(
        session,
        channel="app",
        target=row.sender,
        content=mask(f"您之前发的“{said}”已处理：\n{row.reply}"),
        key=f"replay:{row.channel}:{row.msg_id}",
        branch_id=row.branch_id,
        inbound_id=row.id,
    )


async def replay(journal: IntakeJournal, runtime: Runtime) -> int:
    """Handle what was acknowledged but not handled before the last stop; returns how many were new."""
    new = 0
    for msg in journal.unfinished():
        try:
            result = await runtime.handle(msg, before_commit=_answer_privately)
        except Exception:  # the database is down: the record stays for the next start
            log.exception("intake replay of %s/%s failed", msg.channel, msg.msg_id)
            continue
        journal.done(msg)
        new += not result.duplicate
    if new:  # their private answers are outbox rows: the worker picks them up on its next round
        log.info("intake journal: %d acknowledged message(s) handled after restart", new)
    return new


JOURNAL_KEY = web.AppKey("intake_journal", IntakeJournal)


async def journal_ctx(app: web.Application) -> AsyncIterator[None]:
    """Opens the journal before the callbacks exist; closes it after the runtime has settled."""
    from bot.keys import SETTINGS_KEY

    path = journal_path(app[SETTINGS_KEY])
    journal = IntakeJournal(path, max_bytes=app[SETTINGS_KEY].intake.journal_max_bytes) if path else None
    if journal is not None:
        app[JOURNAL_KEY] = journal
    yield
    if journal is not None:
        await journal.close()


async def replay_ctx(app: web.Application) -> AsyncIterator[None]:
    """After the runtime is up: work off the previous run's unfinished messages in the background."""
    from bot.keys import RUNTIME_KEY

    journal = app.get(JOURNAL_KEY)
    task = asyncio.create_task(replay(journal, app[RUNTIME_KEY])) if journal is not None else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
