"""HTTP ingress: the 智能机器人 JSON callback (/wecom/aibot) and the self-built app XML callback (/wecom/app).

Both verify the signature and the timestamp window, decrypt, turn the payload into the one `Inbound` model and
hand it to the runtime. Refusals are 4xx with nothing written. The 智能机器人 gets its answer in the HTTP response
(an encrypted stream, finish=true) when the runtime is done within the budget, otherwise a finish=false stream
that WeCom's refresh callbacks complete. The app callback is acknowledged at once; its answer goes out through
message/send.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import time
from typing import Any
from xml.etree.ElementTree import Element

from aiohttp import web
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from bot.journal import IntakeJournal
from bot.runtime import HandleResult, Runtime
from bot.wecom.crypto import CallbackCrypto
from bot.wecom.errors import CallbackRejected, MalformedCallback, StaleTimestamp, TooLarge
from handlers.context import Inbound

log = logging.getLogger(__name__)

_MENTION = re.compile(r"@\S+\s*")
_PENDING_TEXT = "收到，正在处理……"


def strip_mention(text: str, bot_name: str) -> str:
    text = text.replace(f"@{bot_name}", " ")
    return _MENTION.sub(" ", text).strip() if text.lstrip().startswith("@") else text.strip()


class CallbackBase:
    def __init__(
        self,
        crypto: CallbackCrypto,
        runtime: Runtime,
        *,
        max_body: int,
        replay_window: int,
        budget: float,
        journal: IntakeJournal | None = None,
    ) -> None:
        self.crypto = crypto
        self.runtime = runtime
        self.max_body = max_body
        self.replay_window = replay_window
        self.budget = budget
        self.journal = journal

    async def _accept(self, inbound: Inbound) -> asyncio.Future[HandleResult] | None:
        """Start handling `inbound` once it is durable (bot/journal.py); None: it could not be stored, so no 200."""
        if self.journal is None:
            return asyncio.ensure_future(self.runtime.handle(inbound))
        try:
            await self.journal.append(inbound)
        except OSError:
            return None
        return asyncio.ensure_future(self.journal.handle(self.runtime, inbound))

    def _params(self, request: web.Request) -> tuple[str, str, str]:
        q = request.query
        sig, ts, nonce = q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", "")
        if not (sig and ts and nonce):
            raise MalformedCallback("缺少 msg_signature/timestamp/nonce")
        if not ts.isdigit() or len(ts) > 12:
            raise MalformedCallback("timestamp 不合法")
        if abs(time.time() - int(ts)) > self.replay_window:
            raise StaleTimestamp("timestamp 超出允许的时间窗口")
        return sig, ts, nonce

    async def _body(self, request: web.Request) -> bytes:
        if request.content_length is not None and request.content_length > self.max_body:
            raise TooLarge("请求体过大")
        # read(n) returns whatever has arrived so far, not n bytes: read to EOF, stopping past the limit.
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_any():
            size += len(chunk)
            if size > self.max_body:
                raise TooLarge("请求体过大")
            chunks.append(chunk)
        return b"".join(chunks)

    async def verify(self, request: web.Request) -> web.Response:
        """URL verification: answer the decrypted echostr exactly (no quotes, no newline)."""
        try:
            sig, ts, nonce = self._params(request)
            echo = request.query.get("echostr", "")
            plain = self.crypto.decrypt(sig, ts, nonce, echo)
        except CallbackRejected as exc:
            return web.Response(status=exc.status, text=str(exc))
        return web.Response(text=plain, content_type="text/plain")

    def _reply_envelope(self, plaintext: str, nonce: str) -> dict[str, str]:
        return self.crypto.encrypt_json(plaintext, nonce, str(int(time.time())))


# Identifiers go into unique keys and VARCHAR columns: refuse what the database would choke on (a 5xx).
_BAD_IDENT = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_MAX_TEXT = 8000  # WeCom caps a text message at 2048 bytes; anything far beyond is not from WeCom


def _as_str(v: Any, field: str, *, required: bool = True, max_len: int = 128) -> str:
    if v is None and not required:
        return ""
    if not isinstance(v, str) or (required and not v):
        raise MalformedCallback(f"字段 {field} 缺失或类型不对")
    if len(v) > max_len or _BAD_IDENT.search(v):
        raise MalformedCallback(f"字段 {field} 不合法")
    return v


def _clean_text(v: str) -> str:
    """Free text: NUL and lone surrogates cannot be stored (PostgreSQL refuses them); drop them, keep the rest."""
    if len(v) > _MAX_TEXT:
        raise MalformedCallback("消息过长")
    return v.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _sent_at(created: Any) -> dt.datetime:
    """create_time / CreateTime: absent → now; present but not a plausible epoch second → refused."""
    if created is None or created == "":
        return dt.datetime.now(dt.UTC)
    if isinstance(created, bool) or not (
        isinstance(created, int) or (isinstance(created, str) and created.isascii() and created.isdigit())
    ):
        raise MalformedCallback("create_time 不合法")
    seconds = int(created)
    if not 0 < seconds < 10**10:
        raise MalformedCallback("create_time 不合法")
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class AiBotCallback(CallbackBase):
    """智能机器人 callback mode: JSON envelope, receive id "" (wecom-platform.md §2.2)."""

    def __init__(self, *args: Any, bot_name: str, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.bot_name = bot_name
        self._streams: dict[str, asyncio.Future[HandleResult]] = {}

    async def post(self, request: web.Request) -> web.Response:
        try:
            sig, ts, nonce = self._params(request)
            body = await self._body(request)
            try:
                envelope = json.loads(body)
            except (ValueError, RecursionError) as exc:  # RecursionError: deeply nested arrays
                raise MalformedCallback("请求体不是 JSON") from exc
            if not isinstance(envelope, dict):
                raise MalformedCallback("请求体不是 JSON 对象")
            encrypt = _as_str(envelope.get("encrypt"), "encrypt", max_len=self.max_body)
            plain = self.crypto.decrypt(sig, ts, nonce, encrypt)
            try:
                data = json.loads(plain)
            except (ValueError, RecursionError) as exc:
                raise MalformedCallback("明文不是 JSON") from exc
            if not isinstance(data, dict):
                raise MalformedCallback("明文不是 JSON 对象")
        except CallbackRejected as exc:
            log.info("aibot callback refused: %s", exc)
            return web.Response(status=exc.status, text=str(exc))

        msgtype = data.get("msgtype")
        if msgtype == "stream":
            return self._stream_refresh(data, nonce)
        if msgtype != "text":
            return web.Response(text="")  # events, images…: nothing to say yet
        try:
            inbound = self._inbound(data)
        except MalformedCallback as exc:
            return web.Response(status=exc.status, text=str(exc))

        task = await self._accept(inbound)
        if task is None:  # not stored: WeCom retries a non-200
            return web.Response(status=503, text="暂时无法保存消息")
        try:
            result = await asyncio.wait_for(asyncio.shield(task), self.budget)
        except TimeoutError:
            stream_id = self._stream_id(inbound)
            self._streams[stream_id] = task
            task.add_done_callback(
                lambda _t: asyncio.get_running_loop().call_later(600, self._streams.pop, stream_id, None)
            )
            return web.json_response(self._reply_envelope(self._stream(stream_id, _PENDING_TEXT, False), nonce))
        if not result.reply:
            return web.Response(text="")
        envelope = self._reply_envelope(self._stream(self._stream_id(inbound), result.reply, True), nonce)
        return web.json_response(envelope)

    def _stream_refresh(self, data: dict[str, Any], nonce: str) -> web.Response:
        stream = data.get("stream") if isinstance(data.get("stream"), dict) else {}
        stream_id = str(stream.get("id", ""))
        task = self._streams.get(stream_id)
        if task is None:
            return web.json_response(self._reply_envelope(self._stream(stream_id, "", True), nonce))
        if not task.done():
            return web.json_response(self._reply_envelope(self._stream(stream_id, _PENDING_TEXT, False), nonce))
        self._streams.pop(stream_id, None)
        reply = task.result().reply if not task.cancelled() and task.exception() is None else None
        return web.json_response(self._reply_envelope(self._stream(stream_id, reply or "", True), nonce))

    @staticmethod
    def _stream(stream_id: str, content: str, finish: bool) -> str:
        return json.dumps(
            {"msgtype": "stream", "stream": {"id": stream_id, "finish": finish, "content": content}}, ensure_ascii=False
        )

    @staticmethod
    def _stream_id(inbound: Inbound) -> str:
        return hashlib.sha1(inbound.msg_id.encode()).hexdigest()[:16]

    def _inbound(self, data: dict[str, Any]) -> Inbound:
        sender = data.get("from") if isinstance(data.get("from"), dict) else {}
        chattype = data.get("chattype")
        if chattype not in ("group", "single"):
            raise MalformedCallback("chattype 不合法")
        text = data.get("text") if isinstance(data.get("text"), dict) else {}
        aibotid = data.get("aibotid")
        meta: dict[str, Any] = {"aibotid": aibotid if isinstance(aibotid, str) and len(aibotid) <= 128 else None}
        if isinstance(data.get("response_url"), str) and len(data["response_url"]) <= 2048:
            meta["response_url"] = data["response_url"]
        content = text.get("content")
        if content is not None and not isinstance(content, str):
            raise MalformedCallback("字段 text.content 类型不对")
        return Inbound(
            channel="aibot",
            msg_id=_as_str(data.get("msgid"), "msgid"),
            sender=_as_str(sender.get("userid"), "from.userid", max_len=64),
            chat_id=_as_str(data.get("chatid"), "chatid", required=chattype == "group", max_len=64),
            chat_type=chattype,
            text=strip_mention(_clean_text(content or ""), self.bot_name),
            sent_at=_sent_at(data.get("create_time")),
            meta=meta,
        )


def _xml_fields(raw: bytes | str) -> dict[str, str]:
    try:
        # WeCom never sends a DTD: refuse any (entity expansion and external entities are off as well).
        root: Element = SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedCallback("XML 无法解析") from exc
    return {child.tag: (child.text or "") for child in root}


class AppCallback(CallbackBase):
    """The self-built app's XML callback: receive id = corp id (wecom-platform.md §1)."""

    def __init__(self, *args: Any, corp_id: str, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.corp_id = corp_id
        self.tasks: set[asyncio.Future[Any]] = set()

    async def post(self, request: web.Request) -> web.Response:
        try:
            sig, ts, nonce = self._params(request)
            body = await self._body(request)
            envelope = _xml_fields(body)
            plain = self.crypto.decrypt(sig, ts, nonce, envelope.get("Encrypt", ""))
            fields = _xml_fields(plain.encode())
            if fields.get("ToUserName") != self.corp_id:
                raise MalformedCallback("ToUserName 不是本企业")
        except CallbackRejected as exc:
            log.info("app callback refused: %s", exc)
            return web.Response(status=exc.status, text=str(exc))
        hook = self.runtime.app_event_hooks.get(fields.get("Event", "")) if fields.get("MsgType") == "event" else None
        if hook is not None:  # e.g. kf_msg_or_event: the module behind it pulls the messages (bot/kf.py)
            hook(fields)
            return web.Response(text="")
        if fields.get("MsgType") != "text":
            return web.Response(text="")
        try:
            inbound = Inbound(
                channel="app",
                msg_id=_as_str(fields.get("MsgId"), "MsgId"),
                sender=_as_str(fields.get("FromUserName"), "FromUserName", max_len=64),
                chat_id="",
                chat_type="single",
                text=_clean_text(fields.get("Content", "")).strip(),
                sent_at=_sent_at(fields.get("CreateTime")),
            )
        except MalformedCallback as exc:
            return web.Response(status=exc.status, text=str(exc))
        # Handle within the budget so that a 200 means "stored"; the answer itself goes out via message/send.
        # A slow handler keeps running after the empty 200, and WeCom's retry finds it in flight.
        task = await self._accept(inbound)
        if task is None:
            return web.Response(status=503, text="暂时无法保存消息")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        try:
            await asyncio.wait_for(asyncio.shield(task), self.budget)
        except TimeoutError:
            pass
        return web.Response(text="")


def new_nonce() -> str:
    return secrets.token_hex(8)
