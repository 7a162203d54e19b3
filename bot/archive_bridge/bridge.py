"""The reader: from the saved seq, pull records with GetChatData, open each one, deliver it.

Per record, in seq order:
1. the random key: RSA PKCS#1 v1.5 with the private key of the record's `publickey_ver` (in this process — the
   `cryptography` package raises, it does not abort);
2. DecryptData in the SDK child process. If the child dies on a record, it is restarted and the record tried
   once more; a record that kills it twice, or that the SDK calls broken (10002/10008), is quarantined: a row in
   `archive_quarantine` and the cursor moved past it, in one transaction;
3. delivery through bot/archive.py's ArchiveInbound.handle_item — the one way archived words come in — which
   commits the cursor in the transaction of what the message produced. Nothing is skipped (the cursor
   moves only with a delivery or a quarantine row) and nothing is delivered twice (cursor and (archive, msgid)).

A failed GetChatData, a dead child while pulling, or a missing/wrong private key stops the round without moving
the cursor; the next round waits `backoff_min_seconds`, doubling up to `backoff_max_seconds`.

`lianhu serve` runs the reader itself when `[archive] sdk` is set (archive_ctx below); `lianhu archive bridge` runs
the same reader on its own. Either way one reader per database reads (the lease `archive-reader`); another
instance stands by and takes over when the holder stops renewing. The lease saves work, it does not keep records
single: a second reader's copy of a message meets the (archive, msgid) key and only moves the cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.archive import ArchiveInbound, read_cursor, write_cursor
from bot.archive_bridge import media
from bot.archive_bridge.codes import RECORD_BROKEN, describe
from bot.archive_bridge.keys import KeyProblem, PrivateKeys
from bot.archive_bridge.supervisor import SdkFailure, SdkWorker, WorkerDied
from bot.config import ArchiveSettings
from bot.keys import RUNTIME_KEY, SETTINGS_KEY
from bot.runtime import Runtime
from storage import leases, repo
from storage.models import ArchiveQuarantine, InboundMessage, utcnow

log = logging.getLogger(__name__)

DEATHS_BEFORE_QUARANTINE = 2
READER_LEASE = "archive-reader"


@dataclass
class Quarantine:
    reason: str


class ArchiveBridge:
    def __init__(
        self,
        settings: ArchiveSettings,
        runtime: Runtime,
        worker: SdkWorker,
        keys: PrivateKeys,
        *,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.runtime = runtime
        self.worker = worker
        self.keys = keys
        self.sleep = sleep
        self.delivery = ArchiveInbound(runtime)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[:80]
        self.reading = False  # holds the reader lease now
        self.delays: list[float] = []  # every backoff wait, in order
        self.last_error: str = ""

    # --- one page -----------------------------------------------------------------------------------------
    async def pull_once(self) -> int:
        """Handle one page from the cursor; returns how many records it moved past. Pull errors raise."""
        async with self.runtime.sessionmaker() as session:
            seq = await read_cursor(session)
        records = await self.fetch_records(seq)
        done = 0
        for rec in records:
            rec_seq = rec.get("seq") if isinstance(rec, dict) else None
            if not isinstance(rec_seq, int) or rec_seq <= seq:
                log.warning("archive record out of order after seq %s: %.200r", seq, rec_seq)
                break  # never skip: ask again next round
            opened = await self._open(rec)
            if isinstance(opened, Quarantine):
                await self._quarantine(rec, opened.reason)
            else:
                msg = media.with_placeholders(opened)
                if self.settings.media_dir and await self._bound_room(msg):
                    await self._download(msg)  # only for groups the roster binds: other chats are not ours to keep
                await self._deliver(rec_seq, msg)
            seq = rec_seq
            done += 1
        return done

    async def _bound_room(self, msg: dict[str, Any]) -> bool:
        roomid = str(msg.get("roomid") or "")
        if not roomid:
            return False
        async with self.runtime.sessionmaker() as session:
            return await repo.group_by_chat_id(session, roomid) is not None

    async def _deliver(self, seq: int, msg: dict[str, Any]) -> None:
        if msg.get("media_msgtype") and msg.get("action") == "send":
            await self._log_media(seq, msg)
        else:
            await self.delivery.handle_item(seq, msg)

    async def _log_media(self, seq: int, msg: dict[str, Any]) -> None:
        """A picture, voice, file or link alone: kept in the message log with its placeholder, not parsed.

        A file name or a forwarded article's title is not the resident's words: "[链接 关于开展低保申请工作的通知]"
        would read as a 诉求 to the parser (measured). So these skip the dispatcher — as archive-feed.md asks of
        non-text messages — and only the row and the cursor are written, in one transaction; the (archive, msgid)
        key keeps it once. Text and mixed messages (with placeholders for their media parts) go the usual way.
        """
        roomid = str(msg.get("roomid") or "")
        msgid = str(msg.get("msgid") or "")[:128]
        async with self.runtime.sessionmaker() as session, session.begin():
            group = await repo.group_by_chat_id(session, roomid) if roomid else None
            if group is not None and msgid:
                seen = await session.scalar(
                    select(InboundMessage.id).where(InboundMessage.channel == "archive", InboundMessage.msg_id == msgid)
                )
                if seen is None:
                    ms = msg.get("msgtime")
                    sent_at = dt.datetime.fromtimestamp(ms / 1000, dt.UTC) if isinstance(ms, int | float) else utcnow()
                    session.add(
                        InboundMessage(
                            channel="archive",
                            msg_id=msgid,
                            branch_id=group.branch_id,
                            sender=str(msg.get("from") or "")[:64],
                            chat_id=roomid,
                            chat_type="group",
                            text=str((msg.get("text") or {}).get("content") or ""),
                            sent_at=sent_at,
                            received_at=utcnow(),
                            status="done",
                            meta={"seq": seq, "msgtype": msg["media_msgtype"], "placeholder": True},
                        )
                    )
            await write_cursor(session, seq)

    async def fetch_records(self, seq: int) -> list[Any]:
        """GetChatData after `seq` (in the SDK child)."""
        answer = await self.worker.call("chatdata", seq=seq, limit=self.settings.batch_limit)
        records = answer.get("chatdata")
        return records if isinstance(records, list) else []

    async def _open(self, rec: dict[str, Any]) -> dict[str, Any] | Quarantine:
        ver = rec.get("publickey_ver")
        key = self.keys.decrypt_random_key(ver if isinstance(ver, int) else -1, str(rec.get("encrypt_random_key")))
        deaths = 0
        while True:
            try:
                answer = await self.worker.call("decrypt", key=key, msg=str(rec.get("encrypt_chat_msg") or ""))
            except WorkerDied as exc:
                deaths += 1
                log.warning("seq %s: %s (%d/%d)", rec.get("seq"), exc, deaths, DEATHS_BEFORE_QUARANTINE)
                if deaths >= DEATHS_BEFORE_QUARANTINE:
                    return Quarantine(f"解密时 SDK 进程崩溃 {deaths} 次（退出码 {exc.returncode}）")
                continue
            except SdkFailure as exc:
                if exc.code in RECORD_BROKEN:
                    return Quarantine(f"SDK 解不开这条记录：{describe(exc.code)}"[:200])
                raise
            msg = answer.get("msg")
            if not isinstance(msg, dict):
                return Quarantine("解密结果不是消息对象")
            msg.setdefault("msgid", rec.get("msgid"))
            return msg

    async def _quarantine(self, rec: dict[str, Any], reason: str) -> None:
        seq = int(rec["seq"])
        async with self.runtime.sessionmaker() as session, session.begin():
            exists = await session.scalar(select(ArchiveQuarantine.id).where(ArchiveQuarantine.seq == seq))
            if exists is None:
                ver = rec.get("publickey_ver")
                session.add(
                    ArchiveQuarantine(
                        seq=seq,
                        msgid=str(rec.get("msgid") or "")[:128],
                        publickey_ver=ver if isinstance(ver, int) else 0,
                        reason=reason[:200],
                        at=utcnow(),
                    )
                )
            await write_cursor(session, seq)
        log.error("archive record seq %s quarantined: %s", seq, reason)

    async def _download(self, msg: dict[str, Any]) -> None:
        """Save the media file under media_dir if it fits the cap; any failure keeps only the placeholder."""
        name = media.media_file_name(msg)
        kind = str(msg.get("media_msgtype") or "")
        body = msg.get(kind) if isinstance(msg.get(kind), dict) else {}
        fileid = str(body.get("sdkfileid") or "")
        if name is None or not fileid:
            return
        cap = self.settings.media_max_bytes
        size = media.declared_size(msg)
        if size is not None and size > cap:
            log.info("media %s is %s bytes, over the cap %s: not downloaded", name, size, cap)
            return
        target = media.save_path(self.settings.media_dir, name)
        if target.exists():
            return
        got = bytearray()  # bounded by the cap
        indexbuf = ""
        try:
            while True:
                chunk = await self.worker.call("media", sdkfileid=fileid, indexbuf=indexbuf)
                got += media_bytes(chunk)
                if len(got) > cap:
                    raise media.TooLarge(f"超过 {cap} 字节")
                nxt = str(chunk.get("indexbuf") or "")
                if chunk.get("finish"):
                    break
                if not nxt or nxt == indexbuf:
                    raise SdkFailure(-2, "GetMediaData 续传索引没有前进")
                indexbuf = nxt
            await asyncio.to_thread(_write_atomically, target, bytes(got))
        except (media.TooLarge, SdkFailure, WorkerDied, OSError) as exc:
            log.warning("media %s not saved: %s", name, exc)

    # --- the loop -----------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self._run(stop)
        finally:
            if self.reading:
                with contextlib.suppress(Exception):  # shutting down: at worst the lease lapses by itself
                    async with self.runtime.sessionmaker() as session, session.begin():
                        await leases.drop(session, READER_LEASE, self.holder)
                self.reading = False

    async def hold_lease(self) -> bool:
        """Take or renew the reader lease; False while another instance reads."""
        now = utcnow()
        until = now + dt.timedelta(seconds=max(self.settings.reader_lease_seconds, 3 * self.settings.poll_seconds))
        async with self.runtime.sessionmaker() as session, session.begin():
            held = await leases.take(session, READER_LEASE, self.holder, now, until)
        if held != self.reading:
            log.info("archive reader %s: %s", self.holder, "reading" if held else "standing by (another reads)")
        self.reading = held
        return held

    async def _run(self, stop: asyncio.Event) -> None:
        delay = self.settings.backoff_min_seconds
        while not stop.is_set():
            try:
                if not await self.hold_lease():
                    await self._wait(stop, self.settings.poll_seconds)
                    continue
                moved = await self.pull_once()
            except (SdkFailure, WorkerDied, KeyProblem) as exc:
                self.last_error = str(exc)
                log.warning("archive bridge: %s; retrying in %.0f s", exc, delay)
                self.delays.append(delay)
                await self._wait(stop, delay)
                delay = min(delay * 2, self.settings.backoff_max_seconds)
                continue
            except Exception:  # a bug in delivery: the cursor did not move; keep going after a pause
                log.exception("archive bridge round failed; retrying from the same seq")
                self.delays.append(delay)
                await self._wait(stop, delay)
                delay = min(delay * 2, self.settings.backoff_max_seconds)
                continue
            delay = self.settings.backoff_min_seconds
            self.last_error = ""
            if moved < self.settings.batch_limit:
                await self._wait(stop, self.settings.poll_seconds)

    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        waiter = asyncio.ensure_future(stop.wait())
        pause = asyncio.ensure_future(self.sleep(seconds))
        try:
            await asyncio.wait({waiter, pause}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (waiter, pause):
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await t


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    part.write_bytes(data)
    os.replace(part, target)  # a reader never sees half a file


def media_bytes(chunk: dict[str, Any]) -> bytes:
    import base64

    return base64.b64decode(str(chunk.get("data") or ""))


def worker_for(settings: ArchiveSettings, *, call_timeout: float | None = None) -> SdkWorker:
    """The SDK child process for these settings (nothing starts until the first call)."""
    init = {
        "sdk": settings.sdk,
        "corp_id": settings.corp_id,
        "secret": settings.secret.get_secret_value(),
        "proxy": settings.proxy,
        "proxy_password": settings.proxy_password.get_secret_value(),
        "timeout": settings.sdk_timeout_seconds,
        "emulator_url": settings.emulator_url,
    }
    return SdkWorker(init, call_timeout=call_timeout or settings.sdk_timeout_seconds + 30.0)


def config_problem(settings: ArchiveSettings) -> str | None:
    """Why a reader cannot start with these settings (said in Chinese), or None."""
    if not settings.sdk:
        return '[archive] sdk 没有配置（"pywecomarchive" 或 "emulator"），不知道用哪个 SDK 读会话存档。'
    try:
        keys = PrivateKeys.from_files(settings.private_keys)
    except KeyProblem as exc:
        return f"私钥有问题：{exc}"
    if not keys.versions:
        return "[archive] private_keys 为空：解不开任何消息。"
    return None


async def archive_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx of `lianhu serve`: read the chat archive when [archive] sdk is set (checked by the CLI first)."""
    settings = app[SETTINGS_KEY].archive
    if not settings.sdk:
        yield
        return
    problem = config_problem(settings)
    if problem is not None:  # `lianhu serve` refuses to start on this; an app made otherwise still answers
        log.error("chat archive not read: %s", problem)
        yield
        return
    bridge = ArchiveBridge(
        settings, app[RUNTIME_KEY], worker_for(settings), PrivateKeys.from_files(settings.private_keys)
    )
    app[BRIDGE_KEY] = bridge
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(bridge.run(stop))
    yield
    stop.set()
    try:
        await task
    except Exception:
        log.exception("archive reader stopped with an error")
    await bridge.worker.close()


BRIDGE_KEY: web.AppKey[ArchiveBridge] = web.AppKey("archive_bridge")
