"""The emulator's archive-SDK mode (issue 14): the archived messages (`Emulator.archive`), handed out the way
Tencent's SDK hands them out, so the bridge (`lianhu archive bridge`, sdk = "emulator") runs the code it runs
against the real SDK, the SDK call aside.

    POST /archive/sdk/getchatdata   {"corpid", "secret", "seq", "limit"}  → {"errcode": 0, "chatdata": [
        {"seq", "msgid", "publickey_ver", "encrypt_random_key", "encrypt_chat_msg"}, …]}
    POST /archive/sdk/getmediadata  {"corpid", "secret", "sdkfileid", "indexbuf"} → {"data": base64, "outindexbuf",
                                                                                    "is_finish"}
    POST /emu/archive_key           {"version", "public_key_pem"}: the public key the "admin console" holds

Each record is sealed in the format Tencent's DecryptData reads (bot/archive_bridge/emulated.py: the real SDK
opens these records); its random key is RSA-encrypted (PKCS#1 v1.5) with the public key of the version current
when the record is first handed out. `set_archive_key` seals every record so far with the old version first, as
WeCom keeps old records under the old key.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bot.archive_bridge import emulated

if TYPE_CHECKING:
    from emulator.server import Emulator

MEDIA_CHUNK = 64 * 1024
SCENE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")


class ArchiveSdkMixin:
    def _init_archive_sdk(self: Emulator) -> None:
        self.archive_keys: dict[int, rsa.RSAPublicKey] = {}
        self.archive_key_version = 0
        self._sealed: dict[int, dict[str, Any]] = {}  # seq -> the encrypted record, fixed once handed out
        self.archive_broken: dict[int, str] = {}  # seq -> encrypt_chat_msg to hand out instead (bad input)
        self.archive_media: dict[str, bytes] = {}  # sdkfileid -> content
        self._apis["kf/add_contact_way"] = self._api_kf_add_contact_way

    def _archive_sdk_routes(self: Emulator, app: web.Application) -> None:
        app.router.add_post("/archive/sdk/getchatdata", self._sdk_chatdata)
        app.router.add_post("/archive/sdk/getmediadata", self._sdk_mediadata)
        app.router.add_post("/emu/archive_key", self._ctl_archive_key)

    def set_archive_key(self: Emulator, version: int, public_key: rsa.RSAPublicKey | bytes | str) -> None:
        if isinstance(public_key, str | bytes):
            pem = public_key.encode() if isinstance(public_key, str) else public_key
            loaded = serialization.load_pem_public_key(pem)
            if not isinstance(loaded, rsa.RSAPublicKey):
                raise ValueError("not an RSA public key")
            public_key = loaded
        if self.archive_key_version:
            self._seal_upto(max((i["seq"] for i in self.archive), default=0))
        self.archive_keys[version] = public_key
        self.archive_key_version = version

    def _seal(self: Emulator, item: dict[str, Any]) -> dict[str, Any]:
        seq = item["seq"]
        sealed = self._sealed.get(seq)
        if sealed is None:
            version = self.archive_key_version
            msg = item["msg"]
            key, chat_msg = emulated.seal(msg)
            erk = self.archive_keys[version].encrypt(key.encode(), padding.PKCS1v15())
            sealed = {
                "seq": seq,
                "msgid": msg.get("msgid", ""),
                "publickey_ver": version,
                "encrypt_random_key": base64.b64encode(erk).decode(),
                "encrypt_chat_msg": self.archive_broken.get(seq) or chat_msg,
            }
            self._sealed[seq] = sealed
        return sealed

    def _seal_upto(self: Emulator, seq: int) -> None:
        for item in self.archive:
            if item["seq"] <= seq:
                self._seal(item)

    async def _sdk_auth(self: Emulator, request: web.Request) -> tuple[dict[str, Any], web.Response | None]:
        self.stats["sdk_" + request.path.rsplit("/", 1)[-1]] += 1
        try:
            body = await request.json()
        except ValueError:
            return {}, web.json_response({"errcode": 10000, "errmsg": "bad request"})
        if not isinstance(body, dict):
            return {}, web.json_response({"errcode": 10000, "errmsg": "bad request"})
        if body.get("corpid") != self.settings.corp_id or body.get("secret") != self.settings.archive_secret:
            return body, web.json_response({"errcode": 40001, "errmsg": "invalid secret"})
        if not self.archive_key_version:
            return body, web.json_response({"errcode": 10003, "errmsg": "no public key set in the admin console"})
        return body, None

    async def _sdk_chatdata(self: Emulator, request: web.Request) -> web.Response:
        body, refused = await self._sdk_auth(request)
        if refused is not None:
            return refused
        fault = self.faults.take("getchatdata")  # e.g. fail_next("getchatdata", 10001): the network, as the SDK says
        if fault is not None:
            if fault.errcode is None:
                return web.Response(status=fault.status, text=f"injected HTTP {fault.status}")
            return web.json_response({"errcode": fault.errcode, "errmsg": fault.errmsg or "injected"})
        seq, limit = body.get("seq"), body.get("limit")
        if not isinstance(seq, int) or not isinstance(limit, int) or seq < 0 or not 1 <= limit <= 1000:
            return web.json_response({"errcode": 10000, "errmsg": "seq >= 0 and 1 <= limit <= 1000"})
        items = [self._seal(i) for i in self.archive if i["seq"] > seq][:limit]
        return web.json_response({"errcode": 0, "errmsg": "ok", "chatdata": items})

    async def _sdk_mediadata(self: Emulator, request: web.Request) -> web.Response:
        body, refused = await self._sdk_auth(request)
        if refused is not None:
            return refused
        data = self.archive_media.get(str(body.get("sdkfileid") or ""))
        if data is None:
            return web.json_response({"errcode": 10005, "errmsg": "fileid error"})
        start = int(body.get("indexbuf") or 0)
        chunk = data[start : start + MEDIA_CHUNK]
        end = start + len(chunk)
        return web.json_response(
            {
                "errcode": 0,
                "data": base64.b64encode(chunk).decode(),
                "outindexbuf": str(end),
                "is_finish": end >= len(data),
            }
        )

    async def _ctl_archive_key(self: Emulator, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self.set_archive_key(int(body["version"]), str(body["public_key_pem"]))
        except (KeyError, TypeError, ValueError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response({"ok": True, "version": self.archive_key_version})

    # --- 微信客服 contact link (kf/add_contact_way) -----------------------------------------------------------
    async def _api_kf_add_contact_way(self: Emulator, request: web.Request) -> web.Response:
        from emulator.server import ApiError

        self._require(request, "POST")
        self._check_token(request)
        body = await self._json_body(request)
        if body.get("open_kfid") != self.settings.kf_open_kfid:
            raise ApiError(95000, "invalid open_kfid")
        scene = str(body.get("scene") or "")
        if scene and not SCENE.match(scene):
            raise ApiError(95016, "invalid scene")  # the code is the emulator's; the rule (≤32, [0-9a-zA-Z_-]) WeCom's
        token = hashlib.sha256(f"{self.settings.corp_id}:{body['open_kfid']}".encode()).hexdigest()[:24]
        url = f"https://work.weixin.qq.com/kfid/kfc{token}"
        if scene:
            url += f"?enc_scene={scene}"
        self.stats["kf_add_contact_way"] += 1
        return web.json_response({"errcode": 0, "errmsg": "ok", "url": url})
