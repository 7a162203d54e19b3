"""The emulator's issue-5 channels: the chat archive's contents (handed out by archive_sdk.py), recalls, 微信客服 (kf),
externalcontact/add_msg_template tasks, and the 智能机器人 long-connection gateway (`GET /ws`).

A mixin of `Emulator` (server.py): it uses the emulator's timeline, clock, token check, faults and callbacks.
Rules and sources are in docs/emulator.md.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import datetime as dt
import json
import secrets
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from emulator.server import Emulator, Entry, SayResult
    from emulator.world import Chat, User

TZ = ZoneInfo("Asia/Shanghai")
KF_WINDOW = 48 * 3600  # "仅当微信客户在主动发送消息给客服后的48小时内" (§4.4)
KF_MAX = 5  # "最多可发送5条消息"
KF_LIMIT_ERR = 95018  # emulator's choice: WeCom's exact code for "outside the window" is not in our notes
WS_PER_CHAT_MINUTE = 30  # "每会话 30 条/分钟" (§2.5)
SENDER_KF = "kf"


@dataclass
class TemplateTask:
    msgid: str
    sender: str
    chat_ids: list[str]
    content: str
    created: float
    confirmed: bool = False


@dataclass
class _WsConn:
    ws: web.WebSocketResponse
    pending: dict[str, asyncio.Queue[dict[str, Any]]] = field(default_factory=dict)  # req_id -> respond bodies


class ChannelsMixin:
    """State lives on the emulator; `_init_channels` is called from Emulator.__init__."""

    def _init_channels(self: Emulator) -> None:
        self.kf_messages: list[dict[str, Any]] = []  # what kf/sync_msg serves, oldest first
        self._kf_tokens: set[str] = set()
        self._kf_last_in: dict[str, float] = {}
        self._kf_sent: Counter[str] = Counter()
        self._kf_msgids: set[str] = set()
        self.templates: dict[str, TemplateTask] = {}
        self._ws: _WsConn | None = None
        self._ws_connected = asyncio.Event()
        self._ws_all: set[web.WebSocketResponse] = set()
        self._ws_interacted: set[str] = set()
        self._ws_sent: dict[str, deque[float]] = {}
        self._apis.update(
            {
                "kf/sync_msg": self._api_kf_sync,
                "kf/send_msg": self._api_kf_send,
                "externalcontact/add_msg_template": self._api_add_msg_template,
            }
        )

    def _channel_routes(self: Emulator, app: web.Application) -> None:
        app.router.add_get("/ws", self._ws_gateway)
        app.router.add_post("/emu/recall", self._ctl_recall)
        app.router.add_post("/emu/confirm_template", self._ctl_confirm)
        app.router.add_get("/emu/templates", self._ctl_templates)
        app.on_shutdown.append(self._close_all_ws)  # open WebSockets would hold the server's shutdown

    async def _close_all_ws(self: Emulator, _app: web.Application) -> None:
        self._ws = None
        self._ws_connected.clear()
        for ws in list(self._ws_all):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.close(code=1001, message=b"emulator shutting down")

    # --- chat archive: what it holds, in the shape DecryptData gives (archive_sdk.py seals and hands it out) ----
    def archive_message(
        self: Emulator, user: User, group: Chat, msgtype: str, body: dict[str, Any], ts: float | None = None
    ) -> str:
        """Append one message to the archive, as DecryptData would open it; returns its msgid."""
        msgid = _msgid()
        ts = self.clock() if ts is None else ts
        self.archive.append(
            {
                "seq": len(self.archive) + 1,
                "msg": {
                    "msgid": msgid,
                    "action": "send",
                    "from": user.userid,
                    "tolist": [m for m in group.members if m != user.userid],
                    "roomid": group.chat_id,
                    "msgtime": int(ts * 1000),
                    "msgtype": msgtype,
                    msgtype: body,
                },
            }
        )
        return msgid

    def post_media(self: Emulator, userid: str, chat: str, msgtype: str, body: dict[str, Any]) -> str:
        """A person sends a non-text message (image, mixed, …) into a group: timeline + archive only."""
        user, group = self.world.user(userid), self.world.chat(chat)
        if user is None or group is None:
            raise ValueError("unknown user or chat")
        self.record(chat, userid, "in", "archive", msgtype, f"[{msgtype}]", {msgtype: body})
        return self.archive_message(user, group, msgtype, body)

    def recall(self: Emulator, userid: str, msgid: str) -> str:
        """`userid` recalls (撤回) their message `msgid`: a revoke item lands in the archive."""
        original = next((i["msg"] for i in self.archive if i["msg"].get("msgid") == msgid), None)
        if original is None or original.get("from") != userid:
            raise ValueError("no such message of this user")
        new_id = _msgid()
        self.archive.append(
            {
                "seq": len(self.archive) + 1,
                "msg": {
                    "msgid": new_id,
                    "action": "recall",
                    "from": userid,
                    "roomid": original.get("roomid", ""),
                    "msgtime": int(self.clock() * 1000),
                    "msgtype": "revoke",
                    "revoke": {"pre_msgid": msgid},
                },
            }
        )
        self.record(
            original.get("roomid") or f"single:{userid}",
            userid,
            "in",
            "recall",
            "revoke",
            "撤回了一条消息",
            {"pre_msgid": msgid},
        )
        return new_id

    # --- 微信客服 (§4.4) ------------------------------------------------------------------------------------
    async def say_kf(self: Emulator, userid: str, text: str) -> SayResult:
        from emulator.server import SayResult

        user = self.world.user(userid)
        if user is None:
            raise ValueError(f"unknown user {userid!r}")
        key = f"kf:{userid}"
        if not user.external:
            return SayResult(key, False, "微信客服是给微信用户（居民）用的")
        now = self.clock()
        msgid = _msgid()
        self.record(key, userid, "in", "kf", "text", text)
        self.kf_messages.append(
            {
                "msgid": msgid,
                "open_kfid": self.settings.kf_open_kfid,
                "external_userid": userid,
                "send_time": int(now),
                "origin": 3,
                "msgtype": "text",
                "text": {"content": text},
            }
        )
        self._kf_last_in[userid], self._kf_sent[userid] = now, 0  # a new 48-hour window with 5 replies
        token = secrets.token_urlsafe(12)
        self._kf_tokens.add(token)
        plain = (
            f"<xml><ToUserName><![CDATA[{self.settings.corp_id}]]></ToUserName><CreateTime>{int(now)}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
            f"<Token><![CDATA[{token}]]></Token><OpenKfId><![CDATA[{self.settings.kf_open_kfid}]]></OpenKfId></xml>"
        )
        why = "微信客服：事件推送到应用的接收消息地址，机器人再用 kf/sync_msg 拉取"
        result = SayResult(key, True, why, msgid=msgid)
        outcome = await self._post_callback("app", plain)
        self._note_outcome(outcome, result)
        return result

    async def _api_kf_sync(self: Emulator, request: web.Request) -> web.Response:
        from emulator.server import ApiError

        self._require(request, "POST")
        self._check_token(request)
        body = await self._json_body(request)
        if body.get("open_kfid") != self.settings.kf_open_kfid:
            raise ApiError(95000, "invalid open_kfid")
        token = body.get("token") or ""
        if token and token not in self._kf_tokens:
            raise ApiError(95007, "invalid msg token")
        try:
            start = int(body.get("cursor") or 0)
            limit = int(body.get("limit") or 1000)
        except (TypeError, ValueError) as exc:
            raise ApiError(95006, "invalid cursor") from exc
        if not 0 <= start <= len(self.kf_messages) or not 1 <= limit <= 1000:
            raise ApiError(95006, "invalid cursor or limit")
        chunk = self.kf_messages[start : start + limit]
        end = start + len(chunk)
        return _json(
            {
                "errcode": 0,
                "errmsg": "ok",
                "next_cursor": str(end),
                "has_more": int(end < len(self.kf_messages)),
                "msg_list": chunk,
            }
        )

    async def _api_kf_send(self: Emulator, request: web.Request) -> web.Response:
        from emulator.server import ApiError

        self._require(request, "POST")
        self._check_token(request)
        body = await self._json_body(request)
        if body.get("open_kfid") != self.settings.kf_open_kfid:
            raise ApiError(95000, "invalid open_kfid")
        touser = str(body.get("touser") or "")
        user = self.world.user(touser)
        if user is None or not user.external:
            raise ApiError(40003, "invalid external_userid")
        msgid = str(body.get("msgid") or "")
        if msgid and msgid in self._kf_msgids:
            return _json({"errcode": 0, "errmsg": "ok", "msgid": msgid})  # a repeat: already sent, not again
        if body.get("msgtype") != "text":
            raise ApiError(40008, "invalid message type")
        content = (body.get("text") or {}).get("content") or ""
        if not content:
            raise ApiError(44004, "empty content")
        last_in = self._kf_last_in.get(touser)
        if last_in is None or self.clock() - last_in > KF_WINDOW:
            raise ApiError(KF_LIMIT_ERR, "客户 48 小时内没有发消息，不能发送")
        if self._kf_sent[touser] >= KF_MAX:
            raise ApiError(KF_LIMIT_ERR, "客户上次发消息后已发送 5 条，不能再发送")
        self._kf_sent[touser] += 1
        msgid = msgid or _msgid()
        self._kf_msgids.add(msgid)
        self.record(f"kf:{touser}", SENDER_KF, "out", "kf_send", "text", content, body)
        return _json({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    # --- add_msg_template into customer groups (§4.2) -------------------------------------------------------
    def _month_count(self: Emulator, chat_id: str, now: float) -> int:
        month = dt.datetime.fromtimestamp(now, TZ).strftime("%Y-%m")
        return sum(
            1
            for t in self.templates.values()
            if chat_id in t.chat_ids and dt.datetime.fromtimestamp(t.created, TZ).strftime("%Y-%m") == month
        )

    async def _api_add_msg_template(self: Emulator, request: web.Request) -> web.Response:
        from emulator.server import ApiError

        self._require(request, "POST")
        self._check_token(request)
        body = await self._json_body(request)
        if body.get("chat_type") != "group":
            raise ApiError(40097, "emulator: only chat_type=group is emulated")
        sender = str(body.get("sender") or "")
        member = self.world.user(sender)
        if member is None or member.external:
            raise ApiError(40003, "invalid sender userid")
        content = (body.get("text") or {}).get("content") or ""
        if not content:
            raise ApiError(44004, "empty content")
        now = self.clock()
        local = dt.datetime.fromtimestamp(now, TZ)
        cap = calendar.monthrange(local.year, local.month)[1]  # "每个客户群每月最多可接收条数为当月天数"
        ok, fail = [], []
        for chat_id in body.get("chat_id_list") or []:
            chat = self.world.chat(str(chat_id))
            if chat is None or chat.internal or sender not in chat.members or self._month_count(chat_id, now) >= cap:
                fail.append(chat_id)
            else:
                ok.append(chat_id)
        if not ok:
            return _json({"errcode": 0, "errmsg": "ok", "fail_list": fail, "msgid": ""})
        msgid = "msg" + secrets.token_hex(8)
        self.templates[msgid] = TemplateTask(msgid, sender, ok, content, now)
        names = "、".join(self.world.chat(c).name for c in ok)  # type: ignore[union-attr]
        self.record(
            f"app:{sender}",
            "template",
            "out",
            "template_task",
            "text",
            f"有一条群发任务待您确认，发到：{names}\n{content}",
            {"msgid": msgid},
        )
        return _json({"errcode": 0, "errmsg": "ok", "fail_list": fail, "msgid": msgid})

    def confirm_template(self: Emulator, msgid: str) -> list[Entry]:
        """The group owner taps 发送: the message lands in each group, once."""
        task = self.templates.get(msgid)
        if task is None:
            raise ValueError(f"unknown template task {msgid!r}")
        if task.confirmed:
            return []
        task.confirmed = True
        return [
            self.record(c, task.sender, "out", "template", "text", task.content, {"msgid": msgid})
            for c in task.chat_ids
        ]

    async def _ctl_recall(self: Emulator, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            return _json({"msgid": self.recall(str(body["user"]), str(body["msgid"]))})
        except (ValueError, KeyError, TypeError) as exc:
            return _json({"error": str(exc)}, status=400)

    async def _ctl_confirm(self: Emulator, request: web.Request) -> web.Response:
        try:
            entries = self.confirm_template(str((await request.json())["msgid"]))
        except (ValueError, KeyError, TypeError) as exc:
            return _json({"error": str(exc)}, status=400)
        return _json({"entries": [e.to_json() for e in entries]})

    async def _ctl_templates(self: Emulator, request: web.Request) -> web.Response:
        return _json({"templates": [t.__dict__ for t in self.templates.values()]})

    # --- 智能机器人 long connection (§2.5) -------------------------------------------------------------------
    @property
    def ws_connected(self: Emulator) -> bool:
        return self._ws is not None

    async def drop_ws(self: Emulator) -> None:
        """Fault: the network drops the long connection (the bot must reconnect)."""
        conn, self._ws = self._ws, None
        self._ws_connected.clear()
        if conn is not None:
            self.stats["ws:dropped"] += 1
            await conn.ws.close(code=1011, message=b"emulator: connection dropped")

    async def _ws_gateway(self: Emulator, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = _WsConn(ws)
        self.stats["ws:connect"] += 1
        self._ws_all.add(ws)
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(message.data)
                    cmd = frame.get("cmd")
                    req_id = str((frame.get("headers") or {}).get("req_id") or "")
                    body = frame.get("body") or {}
                except (ValueError, AttributeError):
                    continue
                self.stats[f"ws:{cmd}"] += 1
                code, msg = await self._ws_frame(conn, cmd, req_id, body)
                if not ws.closed:
                    await ws.send_json({"headers": {"req_id": req_id}, "errcode": code, "errmsg": msg})
                if cmd == "aibot_subscribe" and code != 0:
                    await ws.close()
        finally:
            self._ws_all.discard(ws)
            if self._ws is conn:
                self._ws = None
                self._ws_connected.clear()
        return ws

    async def _ws_frame(self: Emulator, conn: _WsConn, cmd: Any, req_id: str, body: Any) -> tuple[int, str]:
        s = self.settings
        if cmd == "aibot_subscribe":
            if body.get("bot_id") != s.aibot_id or not s.aibot_secret or body.get("secret") != s.aibot_secret:
                return 40001, "invalid bot_id or secret"
            old, self._ws = self._ws, conn
            self._ws_connected.set()
            if old is not None and old is not conn:  # one live connection per bot: the new one kicks the old
                self.stats["ws:kicked"] += 1
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await old.ws.send_json(
                        {
                            "cmd": "aibot_event_callback",
                            "headers": {"req_id": _msgid()},
                            "body": {
                                "msgtype": "event",
                                "aibotid": s.aibot_id,
                                "event": {"eventtype": "disconnected_event"},
                                "create_time": int(self.clock()),
                            },
                        }
                    )
                    await old.ws.close()
            return 0, "ok"
        if self._ws is not conn:
            return 40001, "not subscribed"
        if cmd == "ping":
            return 0, "ok"
        if cmd == "aibot_respond_msg":
            queue = conn.pending.get(req_id)
            if queue is None:
                return 846605, "invalid req_id"
            await queue.put(body)
            return 0, "ok"
        if cmd == "aibot_send_msg":
            return self._ws_send_msg(body)
        return 40008, f"unknown cmd {cmd!r}"

    def _ws_send_msg(self: Emulator, body: dict[str, Any]) -> tuple[int, str]:
        from emulator.server import SENDER_AIBOT, render_template_card

        chatid = str(body.get("chatid") or "")
        msgtype = body.get("msgtype")
        if msgtype not in ("markdown", "template_card"):  # "only support markdown/template_card" (§2.5)
            return 40008, "invalid message type"
        if chatid not in self._ws_interacted:  # "require the user to have messaged the bot before"
            return 846609, "emulator: chat has not talked to the bot"
        now = self.clock()
        window = self._ws_sent.setdefault(chatid, deque())
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= WS_PER_CHAT_MINUTE:
            return 45009, "api freq out of limit (30 messages/minute per chat)"
        if msgtype == "markdown":
            content = (body.get("markdown") or {}).get("content") or ""
            if not content:
                return 44004, "empty content"
        else:
            content = render_template_card(body.get("template_card") or {})
        window.append(now)
        key = chatid if self.world.chat(chatid) is not None else f"single:{chatid}"
        self.record(key, SENDER_AIBOT, "out", "aibot_send_msg", msgtype, content, body)
        return 0, "ok"

    async def _deliver_ws(
        self: Emulator, user: User, group: Chat | None, key: str, text: str, result: SayResult
    ) -> None:
        """Push aibot_msg_callback over the long connection and wait for aibot_respond_msg (same req_id)."""
        from emulator.server import SENDER_AIBOT

        s = self.settings
        try:  # a connection that just dropped may come back within the bot's reconnect backoff
            await asyncio.wait_for(self._ws_connected.wait(), s.callback_timeout)
        except TimeoutError:
            result.delivered = False
            result.why = "长连接没有连上，机器人收不到这条消息"
            return
        conn = self._ws
        assert conn is not None
        req_id = _msgid()
        result.msgid = _msgid()
        payload: dict[str, Any] = {"msgid": result.msgid, "aibotid": s.aibot_id}
        if group is not None:
            payload["chatid"] = group.chat_id
        payload.update(
            {
                "chattype": "group" if group is not None else "single",
                "from": {"userid": user.userid},
                "msgtype": "text",
                "text": {"content": text},
                "create_time": int(self.clock()),
            }
        )
        self._ws_interacted.add(group.chat_id if group is not None else user.userid)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        conn.pending[req_id] = queue
        started = self.clock()
        try:
            await conn.ws.send_json({"cmd": "aibot_msg_callback", "headers": {"req_id": req_id}, "body": payload})
            result.ok, result.attempts, result.statuses = True, 1, [200]
            content, finished = "", False
            while not finished:
                try:
                    reply = await asyncio.wait_for(queue.get(), s.callback_timeout)
                except TimeoutError:
                    break
                if reply.get("msgtype") != "stream":
                    result.errors.append(f"长连接回复类型 {reply.get('msgtype')!r}，应为 stream")
                    break
                part = reply.get("stream") or {}
                content = part.get("content", content) or ""
                finished = bool(part.get("finish"))
                if self.clock() - started >= s.stream_window:
                    break
            result.stream_finished = finished
            if content:
                raw = {"msgtype": "stream", "req_id": req_id, "stream": {"finish": finished, "content": content}}
                result.replies.append(self.record(key, SENDER_AIBOT, "out", "ws_respond", "stream", content, raw))
        except ConnectionError as exc:
            result.errors.append(f"长连接断了：{exc}")
        finally:
            conn.pending.pop(req_id, None)


def _msgid() -> str:
    from emulator.server import _new_msgid

    return _new_msgid()


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))
