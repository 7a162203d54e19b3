"""A local WeCom: qyapi, callbacks to the bot (real crypto, WeCom's delivery rules), control API, demo page.

Rules and their sources are listed in docs/emulator.md (sections of /work/shared/docs/wecom-platform.md).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from defusedxml import ElementTree
from yarl import URL

from bot.wecom.crypto import CallbackCrypto
from bot.wecom.errors import CallbackRejected
from emulator.archive_sdk import ArchiveSdkMixin
from emulator.channels import ChannelsMixin
from emulator.faults import Faults, normalize_path
from emulator.oauth import OAuthMixin
from emulator.world import Chat, EmulatorSettings, User, World

STATIC_DIR = Path(__file__).parent / "static"

VERIFY_TIMEOUT = 1.0  # "在1秒内响应GET请求" (§1.2)
RESPONSE_URL_TTL = 3600.0  # response_url "有效期为 1 个小时" (§2.4)
MAX_INFLIGHT_PER_USER = 3  # "用户跟同一个智能机器人最多同时有三条消息交互中" (§2.1)
WEBHOOK_PER_MINUTE = 20  # "每个机器人发送的消息不能超过20条/分钟" (§3)
TEXT_MAX = 2048
MARKDOWN_MAX = 4096
STREAM_MAX = 20480
IMAGE_MAX = 2 * 1024 * 1024
NEWS_MAX = 8

# Who "sender" names when the bot speaks; the demo page maps these to display names.
SENDER_AIBOT = "aibot"
SENDER_APP = "app"
SENDER_WEBHOOK = "webhook"


@dataclass
class Entry:
    seq: int
    chat: str
    sender: str
    direction: str  # "in" typed by a person, "out" posted by the bot
    channel: str
    msgtype: str
    content: str
    ts: float
    raw: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SayResult:
    chat: str  # timeline key
    delivered: bool  # the delivery rules let WeCom push it to the bot
    why: str
    ok: bool = False  # the bot answered HTTP 200 on some attempt
    msgid: str | None = None
    attempts: int = 0
    statuses: list[int | None] = field(default_factory=list)  # None = timed out / connection failed
    replies: list[Entry] = field(default_factory=list)  # passive replies recorded for this message
    refreshes: int = 0
    stream_finished: bool | None = None
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["replies"] = [e.to_json() for e in self.replies]
        return data


@dataclass
class _ResponseSlot:
    chat: str
    created: float
    used: bool = False


@dataclass
class _Outcome:
    statuses: list[int | None]
    body: bytes | None  # the body of the 200 answer, None when every attempt failed


class ApiError(Exception):
    def __init__(self, errcode: int, errmsg: str, status: int = 200) -> None:
        super().__init__(errmsg)
        self.errcode = errcode
        self.errmsg = errmsg
        self.status = status


def _json_response(data: Any, status: int = 200) -> web.Response:
    # Readable Chinese on the wire (WeCom answers UTF-8 JSON too).
    return web.json_response(data, status=status, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def _err(errcode: int, errmsg: str, status: int = 200) -> web.Response:
    return _json_response({"errcode": errcode, "errmsg": errmsg}, status=status)


def _ok(**extra: Any) -> web.Response:
    return _json_response({"errcode": 0, "errmsg": "ok", **extra})


def _nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _nonce() -> str:
    return secrets.token_hex(5)


def _new_msgid() -> str:
    # Shaped like WeCom's protobuf-in-base64 ids ("CAIQ…"); random, so distinct messages never collide.
    return base64.b64encode(b"\x08\x02\x10" + secrets.token_bytes(18)).decode()


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_template_card(card: dict[str, Any]) -> str:
    """A readable text rendering of a template_card for the timeline and the demo page."""
    lines: list[str] = []
    if not isinstance(card, dict):
        return "[模板卡片]"
    main = card.get("main_title") or {}
    if main.get("title"):
        lines.append(f"**{main['title']}**")
    if main.get("desc"):
        lines.append(main["desc"])
    if card.get("sub_title_text"):
        lines.append(card["sub_title_text"])
    for item in card.get("horizontal_content_list") or []:
        lines.append(f"{item.get('keyname', '')}：{item.get('value', '')}")
    for item in card.get("jump_list") or []:
        lines.append(f"→ {item.get('title', '')}")
    for button in card.get("button_list") or []:
        lines.append(f"[{button.get('text', '')}]")
    return "\n".join(lines) or "[模板卡片]"


class Emulator(ChannelsMixin, ArchiveSdkMixin, OAuthMixin):
    def __init__(
        self,
        settings: EmulatorSettings,
        world: World,
        clock: Callable[[], float] = time.time,
        base_url: str | None = None,
    ) -> None:
        self.settings = settings
        self.world = world
        self.clock = clock
        self.base_url = base_url.rstrip("/") if base_url else None  # needed for response_url
        self.archive: list[dict[str, Any]] = []  # chat-archive items {"seq", "msg"}, sealed by archive_sdk.py
        self.stats: Counter[str] = Counter()
        self.faults = Faults(on_expire_tokens=self._expire_all_tokens)
        self.last_verify: dict[str, Any] | None = None
        self.live_streams: dict[str, dict[str, str]] = {}  # timeline key -> {msgid: content so far}
        # set by whoever runs the bot beside the emulator (devtools/demo.py): runs a scheduled job now, for the
        # page's "现在运行" buttons; the emulator itself knows nothing of the bot
        self.job_runner: Callable[[str], Any] | None = None
        self._timeline: list[Entry] = []
        self._seq = 0
        self._tokens: dict[str, float] = {}  # access_token -> expires_at (clock)
        self._webhook_sent: dict[str, deque[float]] = {}
        self._responses: dict[str, _ResponseSlot] = {}
        self._inflight: Counter[str] = Counter()
        self._app_msgids: set[int] = set()
        self._app_sent: dict[tuple[str, str], float] = {}  # (userid, content hash) -> last shown (duplicate check)
        self._session: aiohttp.ClientSession | None = None
        self._aibot_crypto = CallbackCrypto(settings.aibot_token, settings.aibot_aes_key, "")
        self._app_crypto = CallbackCrypto(settings.app_token, settings.app_aes_key, settings.corp_id)
        self._apis: dict[str, Callable[[web.Request], Any]] = {
            "gettoken": self._api_gettoken,
            "message/send": self._api_message_send,
            "webhook/send": self._api_webhook_send,
            "aibot/response": self._api_aibot_response,
        }
        self._init_channels()
        self._init_oauth()  # 网页授权 / 扫码登录 for the console (emulator/oauth.py)
        self._init_archive_sdk()

    # --- timeline ------------------------------------------------------------------------------------------
    def record(
        self,
        chat: str,
        sender: str,
        direction: str,
        channel: str,
        msgtype: str,
        content: str,
        raw: dict[str, Any] | None = None,
    ) -> Entry:
        self._seq += 1
        entry = Entry(self._seq, chat, sender, direction, channel, msgtype, content, self.clock(), raw)
        self._timeline.append(entry)
        return entry

    def timeline(self, chat: str | None = None) -> list[Entry]:
        return [e for e in self._timeline if chat is None or e.chat == chat]

    # --- app lifecycle -------------------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/cgi-bin/{path:.*}", self._qyapi)
        app.router.add_get("/", self._page)
        app.router.add_get("/emu/world", self._ctl_world)
        app.router.add_post("/emu/say", self._ctl_say)
        app.router.add_get("/emu/timeline", self._ctl_timeline)
        app.router.add_post("/emu/verify", self._ctl_verify)
        app.router.add_post("/emu/run_job", self._ctl_run_job)
        self._channel_routes(app)
        self._oauth_routes(app)
        self._archive_sdk_routes(app)
        app.on_cleanup.append(lambda _app: self.close())
        return app

    async def close(self) -> None:
        if self._ws is not None:
            await self.drop_ws()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    # --- people typing -------------------------------------------------------------------------------------
    async def say(self, userid: str, chat: str, text: str) -> SayResult:
        """`userid` types `text` into `chat` (a chat_id, "bot", "app" or "kf"); WeCom's rules decide the rest."""
        user = self.world.user(userid)
        if user is None:
            raise ValueError(f"unknown user {userid!r}")
        if chat == "kf":
            return await self.say_kf(userid, text)
        if chat in ("bot", "app"):
            key = f"single:{userid}" if chat == "bot" else f"app:{userid}"
            if user.external:
                return SayResult(key, False, "居民用的是微信，不能和机器人或应用单聊")
            if chat == "bot":
                return await self._say_to_aibot(user, None, key, text, "单聊：每条消息都推送给机器人")
            self.record(key, userid, "in", "app_callback", "text", text)
            result = SayResult(key, True, "应用单聊：推送到应用的接收消息地址")
            await self._deliver_app(user, key, text, result)
            return result

        group = self.world.chat(chat)
        if group is None:
            raise ValueError(f"unknown chat {chat!r}")
        if group.members and userid not in group.members:
            return SayResult(chat, False, f"{user.name}不在「{group.name}」里")
        if not group.internal:
            entry = self.record(chat, userid, "in", "archive", "text", text)
            msgid = self.archive_message(user, group, "text", {"content": text}, entry.ts)
            return SayResult(chat, False, "外部群：机器人收不到，只有会话存档能读到", msgid=msgid)
        # the archive covers internal groups too (every member in the archive range)
        self.archive_message(user, group, "text", {"content": text})
        mention = f"@{self.settings.aibot_name}"
        if mention not in text:
            self.record(chat, userid, "in", "undelivered", "text", text)
            return SayResult(chat, False, f"群里需要{mention}，机器人才收得到")
        return await self._say_to_aibot(user, group, chat, text, f"群里{mention}了，推送给机器人")

    async def _say_to_aibot(self, user: User, group: Chat | None, key: str, text: str, why: str) -> SayResult:
        if self._inflight[user.userid] >= MAX_INFLIGHT_PER_USER:
            self.record(key, user.userid, "in", "undelivered", "text", text)
            return SayResult(key, False, "同一个人最多同时有三条消息在和机器人交互，请稍后再发")
        ws = self.settings.aibot_mode == "websocket" or self._ws is not None
        self.record(key, user.userid, "in", "aibot_ws" if ws else "aibot_callback", "text", text)
        result = SayResult(key, True, why + ("（长连接）" if ws else ""))
        self._inflight[user.userid] += 1
        try:
            if ws:
                await self._deliver_ws(user, group, key, text, result)
            else:
                await self._deliver_aibot(user, group, key, text, result)
        finally:
            self._inflight[user.userid] -= 1
        return result

    # --- 智能机器人 JSON callback ---------------------------------------------------------------------------
    async def _deliver_aibot(self, user: User, group: Chat | None, key: str, text: str, result: SayResult) -> None:
        if self.base_url is None:
            raise RuntimeError("Emulator.base_url is not set (needed for response_url)")
        started = self.clock()
        code = secrets.token_urlsafe(24)
        self._responses[code] = _ResponseSlot(key, started)
        context: dict[str, Any] = {"aibotid": self.settings.aibot_id}
        if group is not None:
            context["chatid"] = group.chat_id
        context["chattype"] = "group" if group is not None else "single"
        context["from"] = {"userid": user.userid}
        result.msgid = _new_msgid()
        payload = {
            "msgid": result.msgid,
            **context,
            "response_url": f"{self.base_url}/cgi-bin/aibot/response?response_code={code}",
            "msgtype": "text",
            "text": {"content": text},
            "create_time": int(started),
        }
        outcome = await self._post_callback("aibot", json.dumps(payload, ensure_ascii=False))
        self._note_outcome(outcome, result)
        reply = self._open_aibot_reply(outcome.body, result)
        if reply is not None:
            await self._handle_aibot_reply(reply, context, key, started, result)

    def _note_outcome(self, outcome: _Outcome, result: SayResult) -> None:
        result.statuses = outcome.statuses
        result.attempts = len(outcome.statuses)
        result.ok = outcome.body is not None
        if not result.ok:
            limit = self.settings.callback_timeout
            result.why += f"；但机器人 {result.attempts} 次都没有在 {limit:g} 秒内回 200"

    def _open_aibot_reply(self, body: bytes | None, result: SayResult) -> dict[str, Any] | None:
        if not body or not body.strip():
            return None  # an empty 200 is a valid "no passive reply"
        try:
            envelope = json.loads(body)
            plain = self._aibot_crypto.decrypt(
                envelope["msgsignature"], envelope["timestamp"], envelope["nonce"], envelope["encrypt"]
            )
            reply = json.loads(plain)
        except (ValueError, KeyError, TypeError, CallbackRejected) as exc:
            result.errors.append(f"被动回复无法解开：{type(exc).__name__}: {exc}")
            return None
        if not isinstance(reply, dict):
            result.errors.append("被动回复不是 JSON 对象")
            return None
        return reply

    async def _handle_aibot_reply(
        self, reply: dict[str, Any], context: dict[str, Any], key: str, started: float, result: SayResult
    ) -> None:
        msgtype = reply.get("msgtype")
        if msgtype == "stream":
            await self._run_stream(reply, context, key, started, result)
        elif msgtype in ("text", "markdown"):
            content = (reply.get(msgtype) or {}).get("content", "")
            result.replies.append(self.record(key, SENDER_AIBOT, "out", "passive_reply", msgtype, content, reply))
        elif msgtype == "template_card":
            content = render_template_card(reply.get("template_card") or {})
            result.replies.append(self.record(key, SENDER_AIBOT, "out", "passive_reply", msgtype, content, reply))
        else:
            result.errors.append(f"不认识的被动回复类型 {msgtype!r}")

    async def _run_stream(
        self, reply: dict[str, Any], context: dict[str, Any], key: str, started: float, result: SayResult
    ) -> None:
        """Ask for more of the stream until finish=true, the 6-minute window closes or the cap is hit."""
        stream = reply.get("stream") or {}
        stream_id = stream.get("id")
        content = stream.get("content", "") or ""
        finished = bool(stream.get("finish"))
        s = self.settings
        live_id = f"{result.msgid}"
        try:
            while not finished and result.refreshes < s.stream_max_refreshes:
                # What the client would show while the stream is open (the demo page draws it as a draft).
                self.live_streams.setdefault(key, {})[live_id] = content
                await asyncio.sleep(s.stream_refresh_interval)
                if self.clock() - started >= s.stream_window:
                    break
                result.refreshes += 1
                refresh = {
                    "msgid": _new_msgid(),
                    **context,
                    "msgtype": "stream",
                    "stream": {"id": stream_id},
                    "create_time": int(self.clock()),
                }
                outcome = await self._post_callback("aibot", json.dumps(refresh, ensure_ascii=False), retries=0)
                nxt = self._open_aibot_reply(outcome.body, result)
                if nxt is None or nxt.get("msgtype") != "stream":
                    continue
                part = nxt.get("stream") or {}
                if "content" in part:
                    content = part.get("content") or ""  # stream content is cumulative
                finished = bool(part.get("finish"))
        finally:
            drafts = self.live_streams.get(key, {})
            drafts.pop(live_id, None)
            if not drafts:
                self.live_streams.pop(key, None)
        result.stream_finished = finished
        if _nbytes(content) > STREAM_MAX:
            result.errors.append(f"流式消息超过 {STREAM_MAX} 字节")
        if content:
            raw = {"msgtype": "stream", "stream": {"id": stream_id, "finish": finished, "content": content}}
            result.replies.append(self.record(key, SENDER_AIBOT, "out", "stream", "stream", content, raw))

    # --- 自建应用 XML callback -----------------------------------------------------------------------------
    def _new_app_msgid(self) -> int:
        while True:
            msgid = secrets.randbits(62) | (1 << 62)  # a 64-bit MsgId, like WeCom's
            if msgid not in self._app_msgids:
                self._app_msgids.add(msgid)
                return msgid

    async def _deliver_app(self, user: User, key: str, text: str, result: SayResult) -> None:
        s = self.settings
        msgid = self._new_app_msgid()
        result.msgid = str(msgid)
        plain = (
            f"<xml><ToUserName>{_cdata(s.corp_id)}</ToUserName><FromUserName>{_cdata(user.userid)}</FromUserName>"
            f"<CreateTime>{int(self.clock())}</CreateTime><MsgType>{_cdata('text')}</MsgType>"
            f"<Content>{_cdata(text)}</Content><MsgId>{msgid}</MsgId><AgentID>{s.agent_id}</AgentID></xml>"
        )
        outcome = await self._post_callback("app", plain)
        self._note_outcome(outcome, result)
        if not outcome.body or not outcome.body.strip():
            return
        try:
            envelope = ElementTree.fromstring(outcome.body)
            inner_xml = self._app_crypto.decrypt(
                envelope.findtext("MsgSignature") or "",
                envelope.findtext("TimeStamp") or "",
                envelope.findtext("Nonce") or "",
                envelope.findtext("Encrypt") or "",
            )
            inner = ElementTree.fromstring(inner_xml)
        except (ValueError, CallbackRejected, ElementTree.ParseError) as exc:
            result.errors.append(f"应用被动回复无法解开：{type(exc).__name__}: {exc}")
            return
        if (inner.findtext("ToUserName") or "") != user.userid:
            result.errors.append("应用被动回复的 ToUserName 不是发消息的人")
        msgtype = inner.findtext("MsgType") or ""
        if msgtype == "text":
            content = inner.findtext("Content") or ""
        elif msgtype == "news":
            titles = [item.findtext("Title") or "" for item in inner.iter("item")]
            content = "\n".join(f"▪ {t}" for t in titles)
        else:
            content = f"[{msgtype}]"
        raw = {"xml": inner_xml}
        result.replies.append(self.record(key, SENDER_APP, "out", "passive_reply", msgtype, content, raw))

    # --- posting callbacks (the 5-second rule) --------------------------------------------------------------
    async def _post_callback(self, kind: str, plaintext: str, retries: int | None = None) -> _Outcome:
        s = self.settings
        timestamp, nonce = str(int(self.clock())), _nonce()
        if kind == "aibot":
            encrypt, signature = self._aibot_crypto.encrypt(plaintext, nonce, timestamp)
            body = json.dumps({"encrypt": encrypt}).encode()
            content_type, url = "application/json", s.aibot_callback_url
        else:
            encrypt, signature = self._app_crypto.encrypt(plaintext, nonce, timestamp)
            body = (
                f"<xml><ToUserName>{_cdata(s.corp_id)}</ToUserName><Encrypt>{_cdata(encrypt)}</Encrypt>"
                f"<AgentID>{_cdata(str(s.agent_id))}</AgentID></xml>"
            ).encode()
            content_type, url = "text/xml", s.app_callback_url
        target = URL(url).update_query(msg_signature=signature, timestamp=timestamp, nonce=nonce)
        statuses: list[int | None] = []
        total = 1 + (s.callback_retries if retries is None else retries)
        for _ in range(total):
            # Identical body and query on every attempt, so the bot's msgid dedup is what gets tested.
            self.stats[f"callback:{kind}"] += 1
            status, data = await self._post_once(target, body, content_type, s.callback_timeout)
            statuses.append(status)
            if status == 200:
                return _Outcome(statuses, data)
        return _Outcome(statuses, None)

    async def _post_once(self, url: URL, body: bytes, content_type: str, limit: float) -> tuple[int | None, bytes]:
        try:
            async with self._http().post(
                url,
                data=body,
                headers={"Content-Type": content_type},
                timeout=aiohttp.ClientTimeout(total=limit),
            ) as resp:
                return resp.status, await resp.read()
        except (TimeoutError, aiohttp.ClientError, OSError):
            return None, b""

    async def verify_url(self, kind: str) -> bool:
        """The URL-verification GET (§1.2/§2.2): true when the plain echostr comes back exactly in 1 s."""
        if kind not in ("aibot", "app"):
            raise ValueError("kind must be 'aibot' or 'app'")
        crypto = self._aibot_crypto if kind == "aibot" else self._app_crypto
        url = self.settings.aibot_callback_url if kind == "aibot" else self.settings.app_callback_url
        echo = str(secrets.randbits(60))
        timestamp, nonce = str(int(self.clock())), _nonce()
        echostr, signature = crypto.encrypt(echo, nonce, timestamp)
        target = URL(url).update_query(msg_signature=signature, timestamp=timestamp, nonce=nonce, echostr=echostr)
        status: int | None = None
        body = b""
        try:
            async with self._http().get(target, timeout=aiohttp.ClientTimeout(total=VERIFY_TIMEOUT)) as resp:
                status, body = resp.status, await resp.read()
        except (TimeoutError, aiohttp.ClientError, OSError):
            pass
        ok = status == 200 and body == echo.encode()
        answer = body.decode("utf-8", "replace")
        self.last_verify = {"kind": kind, "ok": ok, "status": status, "expected": echo, "body": answer}
        return ok

    # --- qyapi ---------------------------------------------------------------------------------------------
    async def _qyapi(self, request: web.Request) -> web.StreamResponse:
        path = normalize_path(request.match_info["path"])
        handler = self._apis.get(path)
        if handler is None:
            return _err(404, f"emulator: unknown api path /cgi-bin/{path}", status=404)
        self.stats[path] += 1
        if (delay := self.faults.latency.get(path)) is not None:
            await asyncio.sleep(delay)
        fault = self.faults.take(path)
        if fault is not None:
            if fault.errcode is None:
                return web.Response(status=fault.status, text=f"injected HTTP {fault.status}")
            return _err(fault.errcode, fault.errmsg, status=fault.status)
        try:
            return await handler(request)
        except ApiError as exc:
            return _err(exc.errcode, exc.errmsg, exc.status)

    @staticmethod
    def _require(request: web.Request, method: str) -> None:
        if request.method != method:
            raise ApiError(43001 if method == "GET" else 43002, f"require {method} method")

    @staticmethod
    async def _json_body(request: web.Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(47001, "data format error") from exc
        if not isinstance(body, dict):
            raise ApiError(47001, "data format error")
        return body

    def _expire_all_tokens(self) -> None:
        for token in self._tokens:
            self._tokens[token] = float("-inf")

    def _check_token(self, request: web.Request) -> None:
        token = request.query.get("access_token")
        if not token:
            raise ApiError(41001, "access_token missing")
        expires_at = self._tokens.get(token)
        if expires_at is None:
            raise ApiError(40014, "invalid access_token")
        if self.clock() >= expires_at:
            raise ApiError(42001, "access_token expired")

    async def _api_gettoken(self, request: web.Request) -> web.Response:
        self._require(request, "GET")
        s = self.settings
        if request.query.get("corpid") != s.corp_id:
            raise ApiError(40013, "invalid corpid")
        if request.query.get("corpsecret") != s.app_secret:
            raise ApiError(40001, "invalid credential")
        now = self.clock()
        for token, expires_at in self._tokens.items():
            if expires_at > now:  # "有效期内重复获取返回相同结果" (§5)
                return _ok(access_token=token, expires_in=int(expires_at - now))
        token = secrets.token_urlsafe(48)
        self._tokens[token] = now + s.access_token_ttl
        return _ok(access_token=token, expires_in=s.access_token_ttl)

    async def _api_message_send(self, request: web.Request) -> web.Response:
        self._require(request, "POST")
        self._check_token(request)
        body = await self._json_body(request)
        try:
            agentid = int(body.get("agentid"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            agentid = None
        if agentid != self.settings.agent_id:
            raise ApiError(40056, "invalid agentid")
        msgtype = body.get("msgtype")
        part = body.get(msgtype) if isinstance(msgtype, str) else None
        if msgtype in ("text", "markdown"):
            content = (part or {}).get("content") or ""
            if not content:
                raise ApiError(44004, "empty content")
            if _nbytes(content) > TEXT_MAX:  # app text and markdown: ≤ 2048 bytes (§4.1, D-90236)
                raise ApiError(45002, f"content size out of limit ({_nbytes(content)} > {TEXT_MAX} bytes)")
        elif msgtype == "textcard":
            card = part or {}
            if not all(card.get(k) for k in ("title", "description", "url")):
                raise ApiError(44004, "textcard needs title, description and url")
            if _nbytes(card["title"]) > 128 or _nbytes(card["description"]) > 512:
                raise ApiError(45002, "textcard title > 128 or description > 512 bytes")
            content = f"**{card['title']}**\n{card['description']}\n{card['url']}"
        else:
            raise ApiError(40008, "invalid message type")
        wanted = [u for u in str(body.get("touser") or "").split("|") if u]
        if wanted == ["@all"]:
            wanted = [u.userid for u in self.world.members()]
        valid = [u for u in wanted if (user := self.world.user(u)) is not None and not user.external]
        invalid = [u for u in wanted if u not in valid]
        if not valid:
            raise ApiError(81013, "user & party & tag all invalid")
        # enable_duplicate_check: the same content to the same member within the interval is accepted, not shown
        check = body.get("enable_duplicate_check") == 1
        interval = min(int(body.get("duplicate_check_interval") or 1800), 4 * 3600)
        now = self.clock()
        for userid in valid:
            key = (userid, hashlib.sha1(f"{msgtype}:{content}".encode()).hexdigest())
            if check and now - self._app_sent.get(key, float("-inf")) < interval:
                self.stats["message/send:duplicate_dropped"] += 1
                continue
            self._app_sent[key] = now
            self.record(f"app:{userid}", SENDER_APP, "out", "message_send", msgtype, content, body)
        return _ok(invaliduser="|".join(invalid), msgid=secrets.token_hex(8))

    def _render_mentions(self, content: str) -> str:
        # "<@userid>" is WeCom's mention syntax in webhook text/markdown (§3); show it as "@名字".
        for userid, user in self.world.users.items():
            content = content.replace(f"<@{userid}>", f"@{user.name}")
        return content

    async def _api_webhook_send(self, request: web.Request) -> web.Response:
        self._require(request, "POST")
        key = request.query.get("key") or ""
        chat = self.world.chat_by_webhook(key)
        if chat is None:
            raise ApiError(93000, "invalid webhook url")
        now = self.clock()
        window = self._webhook_sent.setdefault(key, deque())
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= WEBHOOK_PER_MINUTE:
            raise ApiError(45009, "api freq out of limit (20 messages/minute per robot)")
        body = await self._json_body(request)
        msgtype = body.get("msgtype")
        part = body.get(msgtype) if isinstance(msgtype, str) else None
        part = part if isinstance(part, dict) else {}
        if msgtype == "text":
            content = part.get("content") or ""
            if not content:
                raise ApiError(44004, "empty content")
            if _nbytes(content) > TEXT_MAX:
                raise ApiError(45002, f"content size out of limit ({_nbytes(content)} > {TEXT_MAX} bytes)")
            rendered = self._render_mentions(content)
            mentions = [m for m in part.get("mentioned_list") or [] if isinstance(m, str)]
            if mentions:
                names = ["@所有人" if m == "@all" else f"@{self.world.name_of(m)}" for m in mentions]
                rendered += "\n" + " ".join(names)
        elif msgtype in ("markdown", "markdown_v2"):
            content = part.get("content") or ""
            if not content:
                raise ApiError(44004, "empty content")
            if _nbytes(content) > MARKDOWN_MAX:
                raise ApiError(40058, f"markdown.content exceed max length {MARKDOWN_MAX}. invalid Parameter")
            # markdown_v2 does not support <@userid> (§3), so it stays literal there.
            rendered = self._render_mentions(content) if msgtype == "markdown" else content
        elif msgtype == "image":
            try:
                raw = base64.b64decode(part.get("base64") or "", validate=True)
            except ValueError as exc:
                raise ApiError(40009, "invalid image: base64") from exc
            if not raw or len(raw) > IMAGE_MAX:
                raise ApiError(40009, "invalid image size")
            if hashlib.md5(raw).hexdigest() != str(part.get("md5") or "").lower():
                raise ApiError(40009, "invalid image: md5 mismatch")
            rendered = f"[图片 {len(raw)} 字节]"
        elif msgtype == "news":
            articles = part.get("articles") or []
            if not articles:
                raise ApiError(44004, "empty articles")
            if len(articles) > NEWS_MAX:
                raise ApiError(45008, "article count out of limit")
            rendered = "\n".join(f"▪ {a.get('title', '')}  {a.get('url', '')}".rstrip() for a in articles)
        else:
            raise ApiError(40008, "invalid message type")
        window.append(now)
        self.record(chat.chat_id, SENDER_WEBHOOK, "out", "webhook", msgtype, rendered, body)
        return _ok()

    async def _api_aibot_response(self, request: web.Request) -> web.Response:
        self._require(request, "POST")
        code = request.query.get("response_code") or ""
        slot = self._responses.get(code)
        if slot is None:
            raise ApiError(93000, "invalid response_code")
        if slot.used:
            # "每个 response_url 用户可以调用接口一次" (§2.4)
            raise ApiError(93000, "response_code already used")
        if self.clock() - slot.created > RESPONSE_URL_TTL:
            raise ApiError(93000, "response_code expired")
        body = await self._json_body(request)
        msgtype = body.get("msgtype")
        if msgtype == "markdown":
            content = (body.get("markdown") or {}).get("content") or ""
            if not content:
                raise ApiError(44004, "empty content")
            if _nbytes(content) > STREAM_MAX:
                raise ApiError(40058, f"markdown.content exceed max length {STREAM_MAX}")
        elif msgtype == "template_card":
            content = render_template_card(body.get("template_card") or {})
        else:
            raise ApiError(40008, "invalid message type")
        slot.used = True
        self.record(slot.chat, SENDER_AIBOT, "out", "response_url", msgtype, content, body)
        return _ok()

    # --- control API and demo page -------------------------------------------------------------------------
    async def _page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html")

    def world_json(self) -> dict[str, Any]:
        s = self.settings
        return {
            "corp_id": s.corp_id,
            # the bot's console (issue 16) lives beside its app callback
            "console_url": s.app_callback_url.rsplit("/wecom/", 1)[0] + "/console/"
            if "/wecom/" in s.app_callback_url
            else "",
            "bot": {"name": s.aibot_name, "aibotid": s.aibot_id},
            "jobs": self.job_runner is not None,
            "senders": {
                SENDER_AIBOT: s.aibot_name,
                SENDER_APP: "联户助手应用",
                SENDER_WEBHOOK: "群机器人",
                "kf": "村里的微信客服",
            },
            "users": [
                {"userid": u.userid, "name": u.name, "kind": "resident" if u.external else "member"}
                for u in self.world.users.values()
            ],
            "chats": [
                {
                    "chat_id": c.chat_id,
                    "name": c.name,
                    "internal": c.internal,
                    "level": c.level,
                    "members": c.members,
                    "has_webhook": bool(c.webhook_key),
                }
                for c in self.world.chats.values()
            ],
        }

    async def _ctl_world(self, request: web.Request) -> web.Response:
        return _json_response(self.world_json())

    async def _ctl_say(self, request: web.Request) -> web.Response:
        if self.base_url is None:
            self.base_url = f"{request.scheme}://{request.host}"
        try:
            body = await request.json()
            result = await self.say(str(body["user"]), str(body["chat"]), str(body["text"]))
        except (ValueError, KeyError, TypeError) as exc:
            return _json_response({"error": str(exc)}, status=400)
        return _json_response(result.to_json())

    async def _ctl_run_job(self, request: web.Request) -> web.Response:
        if self.job_runner is None:
            return _json_response({"error": "没有接上机器人，不能运行任务"}, status=404)
        try:
            name = str((await request.json())["name"])
        except (ValueError, KeyError, TypeError):
            return _json_response({"error": "要写明运行哪个任务（name）"}, status=400)
        if name not in ("summary", "digest"):
            return _json_response({"error": f"不能从网页运行“{name}”"}, status=400)
        return _json_response({"ok": True, "text": await self.job_runner(name)})

    async def _ctl_timeline(self, request: web.Request) -> web.Response:
        chats = {c for c in request.query.get("chat", "").split(",") if c}
        try:
            after = int(request.query.get("after", "0"))
        except ValueError:
            after = 0
        entries = [e.to_json() for e in self._timeline if e.seq > after and (not chats or e.chat in chats)]
        streaming = [
            {"chat": chat, "content": content}
            for chat, drafts in self.live_streams.items()
            if not chats or chat in chats
            for content in drafts.values()
        ]
        return _json_response({"entries": entries, "last_seq": self._seq, "streaming": streaming})

    async def _ctl_verify(self, request: web.Request) -> web.Response:
        try:
            kind = (await request.json()).get("kind", "aibot")
            ok = await self.verify_url(kind)
        except (ValueError, AttributeError) as exc:
            return _json_response({"error": str(exc)}, status=400)
        return _json_response({"ok": ok, "detail": self.last_verify})


async def start_emulator(
    settings: EmulatorSettings,
    world: World,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Callable[[], float] = time.time,
) -> tuple[Emulator, web.AppRunner, str]:
    """Run the emulator in-process on a TCP port (0 picks a free one); stop with `await runner.cleanup()`."""
    emu = Emulator(settings, world, clock=clock)
    runner = web.AppRunner(emu.make_app())
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    real_port = runner.addresses[0][1]
    base_url = f"http://{host}:{real_port}"
    emu.base_url = base_url
    return emu, runner, base_url
