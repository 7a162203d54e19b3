"""A thin async WeCom API client on aiohttp: the few endpoints the bot uses, nothing synchronous.

The access token is cached until shortly before it expires and fetched single-flight under a lock; a call that
comes back 40014/42001 (token revoked or expired early) refreshes it once and retries once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.wecom.errors import WeComApiError

TOKEN_EARLY_REFRESH = 300  # seconds before expiry


class WeComClient:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        api_base: str,
        corp_id: str,
        secret: str,
        agent_id: int,
        webhook_base: str | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.api_base = api_base.rstrip("/")
        self.webhook_base = (webhook_base or api_base).rstrip("/")
        self.corp_id = corp_id
        self.secret = secret
        self.agent_id = agent_id
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def _json(self, method: str, url: str, **kw: Any) -> dict[str, Any]:
        async with self.http.request(method, url, timeout=self.timeout, **kw) as resp:
            if resp.status >= 500:
                raise WeComApiError(-1, f"HTTP {resp.status}", url.split("/cgi-bin/")[-1])
            data = await resp.json(content_type=None)
        if not isinstance(data, dict):
            raise WeComApiError(-1, "non-JSON answer", url)
        return data

    async def token(self, *, force: bool = False) -> str:
        stale = self._token
        async with self._lock:
            # another caller may have refreshed while we waited for the lock
            if self._token and not (force and self._token == stale) and self.clock() < self._expires_at:
                return self._token
            data = await self._json(
                "GET", f"{self.api_base}/cgi-bin/gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret}
            )
            if data.get("errcode", 0) != 0:
                raise WeComApiError(int(data["errcode"]), str(data.get("errmsg", "")), "gettoken")
            self._token = str(data["access_token"])
            self._expires_at = self.clock() + max(60, int(data.get("expires_in", 7200)) - TOKEN_EARLY_REFRESH)
            return self._token

    async def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST a qyapi endpoint with the access token; one refresh-and-retry on 40014/42001."""
        for attempt in (0, 1):
            token = await self.token(force=attempt == 1)
            data = await self._json(
                "POST", f"{self.api_base}/cgi-bin/{path}", params={"access_token": token}, json=payload
            )
            code = int(data.get("errcode", 0))
            if code == 0:
                return data
            err = WeComApiError(code, str(data.get("errmsg", "")), path)
            if err.token_expired and attempt == 0:
                continue
            raise err
        raise AssertionError("unreachable")

    async def send_app_message(
        self, touser: str, content: str, *, msgtype: str = "markdown", duplicate_check_seconds: int = 0
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"touser": touser, "msgtype": msgtype, "agentid": self.agent_id}
        body[msgtype] = {"content": content}
        if duplicate_check_seconds > 0:
            # WeCom drops the same content to the same person within the interval (≤ 4 h): a resend after a kill -9
            # mid-request (sent, but not yet marked sent) does not reach the member twice
            body["enable_duplicate_check"] = 1
            body["duplicate_check_interval"] = min(int(duplicate_check_seconds), 4 * 3600)
        return await self.call("message/send", body)

    async def webhook_send(self, key: str, payload: dict[str, Any]) -> dict[str, Any]:
        data = await self._json("POST", f"{self.webhook_base}/cgi-bin/webhook/send", params={"key": key}, json=payload)
        code = int(data.get("errcode", 0))
        if code:
            raise WeComApiError(code, str(data.get("errmsg", "")), "webhook/send")
        return data

    async def post_response_url(self, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        data = await self._json("POST", url, json=payload)
        code = int(data.get("errcode", 0))
        if code:
            raise WeComApiError(code, str(data.get("errmsg", "")), "aibot/response")
        return data
