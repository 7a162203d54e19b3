"""The child process that holds the SDK (`python -m bot.archive_bridge.worker`).

Tencent's library can abort the whole process on bad input (a short ciphertext ends in `std::out_of_range`,
exit 134), which Python cannot catch; so the SDK lives here and the bridge talks to it in JSON lines: one request
per line on stdin, one answer per line on the protocol pipe. The first request is `init` with the credentials —
sent on stdin, never in argv or the environment, so `ps` does not show them.

Before anything is loaded, fd 1 is moved to stderr and the protocol gets a private copy of the original stdout:
whatever the native code prints cannot corrupt an answer.

Requests:  {"op": "init", "sdk", "corp_id", "secret", "proxy", "proxy_password", "timeout", "emulator_url"}
           {"op": "chatdata", "seq", "limit"}  {"op": "decrypt", "key", "msg"}  {"op": "media", "sdkfileid", "indexbuf"}
Answers:   {"ok": true, ...} or {"ok": false, "code": <int or "load">, "error": "<Chinese, no secrets>"}
"""

from __future__ import annotations

import base64
import json
import os
import signal
import sys
import urllib.error
import urllib.request
from typing import Any, Protocol


class SdkCodeError(Exception):
    def __init__(self, code: int | str, error: str) -> None:
        super().__init__(error)
        self.code = code
        self.error = error


class Sdk(Protocol):
    """The calls the bridge needs; each may raise SdkCodeError. Implementations may abort the process."""

    name: str

    def chatdata(self, seq: int, limit: int) -> list[dict[str, Any]]: ...
    def decrypt(self, key: str, msg: str) -> dict[str, Any]: ...
    def media(self, sdkfileid: str, indexbuf: str) -> tuple[bytes, str, bool]: ...


class RealSdk:
    """Tencent's libWeWorkFinanceSdk_C.so through the `pywecomarchive` wrapper (extra [archive])."""

    def __init__(self, req: dict[str, Any]) -> None:
        try:
            import pywecomarchive
            from pydantic import TypeAdapter
        except ImportError:
            raise SdkCodeError("load", "没有安装 SDK 包装：pip install 'lianhu[archive]'") from None
        self._mod = pywecomarchive
        self._as_dict = TypeAdapter(dict[str, Any])  # keep unknown message types: no strict model here
        try:
            from importlib.metadata import version

            self.name = f"pywecomarchive {version('pywecomarchive')}"
        except ImportError:
            self.name = "pywecomarchive"
        try:
            self._sdk = pywecomarchive.WecomArchiveSdk(
                str(req.get("corp_id") or ""),
                str(req.get("secret") or ""),
                proxy=str(req.get("proxy") or ""),
                passwd=str(req.get("proxy_password") or ""),
                timeout=int(req.get("timeout") or 10),
            )
        except pywecomarchive.SdkLoadError as exc:
            raise SdkCodeError("load", f"SDK 加载失败：{exc}") from None
        except pywecomarchive.SdkCallError as exc:
            raise SdkCodeError(exc.code, "Init 失败") from None
        except (pywecomarchive.SdkError, ValueError) as exc:
            raise SdkCodeError(10000, f"Init 参数有误（corp_id、secret 填了吗？）：{type(exc).__name__}") from None

    def _wrap(self, op: str, fn: Any, *args: Any) -> Any:
        mod = self._mod
        try:
            return fn(*args)
        except mod.SdkCallError as exc:
            raise SdkCodeError(exc.code, f"{op} 失败") from None
        except (mod.SdkError, ValueError) as exc:  # the wrapper's messages carry no credentials
            raise SdkCodeError(-2, f"{op} 返回的数据不对：{type(exc).__name__}") from None

    def chatdata(self, seq: int, limit: int) -> list[dict[str, Any]]:
        resp = self._wrap("GetChatData", self._sdk.get_chat_data, seq, limit)
        return [item.model_dump() for item in resp.chatdata]

    def decrypt(self, key: str, msg: str) -> dict[str, Any]:
        return self._wrap("DecryptData", lambda: self._sdk.decrypt_data(key, msg, adapter=self._as_dict))

    def media(self, sdkfileid: str, indexbuf: str) -> tuple[bytes, str, bool]:
        chunk = self._wrap("GetMediaData", self._sdk.get_media_data, sdkfileid, indexbuf)
        return chunk.data, chunk.indexbuf, chunk.is_finish


class EmulatorSdk:
    """The emulator's archive mode: GetChatData / GetMediaData over HTTP, DecryptData in Python (emulated.py, the
    real SDK's format and checks), aborting the process where the real SDK aborts."""

    name = "emulator"

    def __init__(self, req: dict[str, Any]) -> None:
        self.url = str(req.get("emulator_url") or "").rstrip("/")
        if not self.url:
            raise SdkCodeError("load", 'sdk = "emulator" 需要 [archive] emulator_url')
        self.auth = {"corpid": str(req.get("corp_id") or ""), "secret": str(req.get("secret") or "")}
        self.timeout = int(req.get("timeout") or 10)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps({**self.auth, **body}).encode()
        request = urllib.request.Request(
            f"{self.url}/archive/sdk/{path}", data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                answer = json.loads(resp.read())
        except (OSError, ValueError):  # URLError, timeouts, resets, bad JSON: what the SDK calls 10001
            raise SdkCodeError(10001, f"{path} 网络请求错误") from None
        code = answer.get("errcode", -1) if isinstance(answer, dict) else -1
        if code != 0:
            raise SdkCodeError(int(code), f"{path} 失败")
        return answer

    def chatdata(self, seq: int, limit: int) -> list[dict[str, Any]]:
        return list(self._post("getchatdata", {"seq": seq, "limit": limit}).get("chatdata") or [])

    def decrypt(self, key: str, msg: str) -> dict[str, Any]:
        from bot.archive_bridge import emulated

        try:
            return emulated.open_record(key, msg)
        except emulated.WouldAbort:
            os.abort()  # what the real SDK does with such input (measured): the bridge must survive it
        except emulated.EmulatedDecryptError as exc:
            raise SdkCodeError(exc.code, "DecryptData 失败") from None

    def media(self, sdkfileid: str, indexbuf: str) -> tuple[bytes, str, bool]:
        a = self._post("getmediadata", {"sdkfileid": sdkfileid, "indexbuf": indexbuf})
        return base64.b64decode(a.get("data") or ""), str(a.get("outindexbuf") or ""), bool(a.get("is_finish"))


def _serve(proto: Any) -> int:
    def answer(obj: dict[str, Any]) -> None:
        proto.write(json.dumps(obj, ensure_ascii=False) + "\n")
        proto.flush()

    sdk: Sdk | None = None
    for line in sys.stdin:
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "init":
                sdk = (RealSdk if req.get("sdk") == "pywecomarchive" else EmulatorSdk)(req)
                answer({"ok": True, "sdk": sdk.name, "pid": os.getpid()})
            elif sdk is None:
                answer({"ok": False, "code": -3, "error": "SDK 尚未初始化"})
            elif op == "chatdata":
                answer({"ok": True, "chatdata": sdk.chatdata(int(req["seq"]), int(req["limit"]))})
            elif op == "decrypt":
                answer({"ok": True, "msg": sdk.decrypt(str(req["key"]), str(req["msg"]))})
            elif op == "media":
                data, nxt, done = sdk.media(str(req["sdkfileid"]), str(req.get("indexbuf") or ""))
                answer({"ok": True, "data": base64.b64encode(data).decode(), "indexbuf": nxt, "finish": done})
            else:
                answer({"ok": False, "code": -3, "error": f"未知请求 {op!r}"})
        except SdkCodeError as exc:
            answer({"ok": False, "code": exc.code, "error": exc.error})
        except (KeyError, TypeError, ValueError) as exc:
            answer({"ok": False, "code": -3, "error": f"请求格式不对：{type(exc).__name__}"})
    return 0


def main() -> int:
    # Ctrl+C reaches the whole process group: the parent decides when this child ends (EOF on stdin, or kill)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    proto_fd = os.dup(1)
    os.dup2(2, 1)  # native prints go to stderr, never into the protocol
    sys.stdout = sys.stderr
    with os.fdopen(proto_fd, "w", encoding="utf-8") as proto:
        return _serve(proto)


if __name__ == "__main__":
    sys.exit(main())
