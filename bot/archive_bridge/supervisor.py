"""Talks to the SDK worker (worker.py) and restarts it when it dies.

Every call is one JSON line out and one back. If the child exits (an abort in the native code), or does not
answer within the call timeout (then it is killed), the call raises WorkerDied and the next call starts a fresh
child, which runs Init again. The child's stderr is logged line by line with every configured secret blanked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

# One answer is one line: a page of 1000 records or a 512 KiB media chunk (base64) fits well below this.
LINE_LIMIT = 64 * 1024 * 1024


class WorkerDied(Exception):
    def __init__(self, returncode: int | None, op: str) -> None:
        how = "没有按时应答，已结束" if returncode is None else f"退出码 {returncode}"
        super().__init__(f"SDK 子进程在 {op} 时死掉了（{how}）")
        self.returncode = returncode
        self.op = op


class SdkFailure(Exception):
    """The SDK answered with an error code (an int from the SDK table, or "load" when it cannot be loaded)."""

    def __init__(self, code: int | str, error: str) -> None:
        from bot.archive_bridge.codes import describe

        super().__init__(f"{error}，{describe(code)}")
        self.code = code
        self.error = error


def redact(text: str, secrets: Iterable[str]) -> str:
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text


class SdkWorker:
    def __init__(
        self,
        init: dict[str, Any],
        *,
        call_timeout: float = 60.0,
        python: str = sys.executable,
        secrets: Iterable[str] = (),
    ) -> None:
        self._init = {"op": "init", **init}
        self._secrets = [s for s in (*secrets, init.get("secret"), init.get("proxy_password")) if s]
        self.call_timeout = call_timeout
        self.python = python
        self.proc: asyncio.subprocess.Process | None = None
        self.sdk_name = ""
        self.starts = 0  # how many children were started (1 + restarts)
        self._stderr_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one request at a time: the SDK is not thread-safe, the pipe is a stream

    def __repr__(self) -> str:  # the init request holds the secret
        return f"SdkWorker(sdk={self._init.get('sdk')!r}, starts={self.starts})"

    async def _start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            self.python,
            "-m",
            "bot.archive_bridge.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=LINE_LIMIT,
        )
        self.starts += 1
        self._stderr_task = asyncio.get_running_loop().create_task(self._pump_stderr(self.proc))
        answer = await self._roundtrip(self._init, "Init")
        self.sdk_name = str(answer.get("sdk") or "")

    async def _pump_stderr(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        while line := await proc.stderr.readline():
            text = redact(line.decode("utf-8", "replace").rstrip(), self._secrets)
            if text:
                log.warning("SDK 子进程 %s: %.300s", proc.pid, text)

    async def _roundtrip(self, req: dict[str, Any], op: str) -> dict[str, Any]:
        proc = self.proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write((json.dumps(req, ensure_ascii=False) + "\n").encode())
            await proc.stdin.drain()
            line = await asyncio.wait_for(proc.stdout.readline(), self.call_timeout)
        except (TimeoutError, ValueError):  # no answer in time, or an answer over LINE_LIMIT
            await self._reap(kill=True)
            raise WorkerDied(None, op) from None
        except (BrokenPipeError, ConnectionResetError):
            line = b""
        if not line:
            code = await self._reap(kill=False)
            raise WorkerDied(code, op)
        try:
            answer = json.loads(line)
        except ValueError:
            await self._reap(kill=True)
            raise WorkerDied(None, op) from None
        if not answer.get("ok"):
            code = answer.get("code", -1)
            error = redact(str(answer.get("error")), self._secrets)
            raise SdkFailure(code if isinstance(code, int | str) else -1, error)
        return answer

    async def _reap(self, *, kill: bool) -> int | None:
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if kill and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        code = await proc.wait()
        if self._stderr_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._stderr_task  # the last words (e.g. "terminate called …") are logged before we go on
        return None if kill else code

    async def call(self, op: str, **kw: Any) -> dict[str, Any]:
        async with self._lock:
            if self.proc is None or self.proc.returncode is not None:
                if self.proc is not None:
                    await self._reap(kill=False)
                try:
                    await self._start()
                except SdkFailure:
                    await self._reap(kill=True)  # a child whose Init failed is of no use
                    raise
            return await self._roundtrip({"op": op, **kw}, op)

    async def close(self) -> None:
        async with self._lock:
            proc = self.proc
            if proc is None:
                return
            if proc.stdin is not None:
                proc.stdin.close()  # EOF: the child leaves its loop and exits
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                pass
            await self._reap(kill=True)
