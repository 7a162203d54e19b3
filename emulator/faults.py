"""Fault injection for the emulated qyapi: scripted errcodes, HTTP 5xx, random failures, token expiry."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass


def normalize_path(path: str) -> str:
    """ "/cgi-bin/message/send" and "message/send" name the same API."""
    path = path.strip("/")
    if path.startswith("cgi-bin/"):
        path = path[len("cgi-bin/") :]
    return path


@dataclass
class Fault:
    """What to answer instead of the real API: an errcode in a 200 JSON, or a bare HTTP status."""

    errcode: int | None = None
    errmsg: str = ""
    status: int = 200


@dataclass
class _Scripted:
    fault: Fault
    times: int


@dataclass
class _Random:
    p: float
    codes: Sequence[int]
    rng: random.Random


_ERRMSG = {
    -1: "system busy",
    40014: "invalid access_token",
    42001: "access_token expired",
    45009: "api freq out of limit",
    45033: "api concurrent out of limit",
    93000: "invalid webhook url",
}


class Faults:
    """Consulted by every /cgi-bin/ handler before it does its real work; empty means no faults."""

    def __init__(self, on_expire_tokens: Callable[[], None] | None = None) -> None:
        self._scripted: dict[str, list[_Scripted]] = {}
        self._random: dict[str, _Random] = {}
        self._on_expire_tokens = on_expire_tokens
        self.injected: list[tuple[str, Fault]] = []  # what was actually served, for assertions
        self.latency: dict[str, float] = {}  # path -> seconds before answering (slow())

    def slow(self, path: str, seconds: float) -> None:
        """Answer `path` only after `seconds` (a slow network: sends are in flight long enough to be cut)."""
        self.latency[normalize_path(path)] = seconds

    def fail_next(self, path: str, errcode: int, times: int = 1, errmsg: str | None = None) -> None:
        fault = Fault(errcode=errcode, errmsg=errmsg or _ERRMSG.get(errcode, "injected fault"))
        self._scripted.setdefault(normalize_path(path), []).append(_Scripted(fault, times))

    def http_status(self, path: str, status: int, times: int = 1) -> None:
        self._scripted.setdefault(normalize_path(path), []).append(_Scripted(Fault(status=status), times))

    def fail_rate(self, path: str, p: float, codes: Sequence[int] = (-1,), seed: int | None = None) -> None:
        """Each call fails with probability p with an errcode from codes (500–599 mean an HTTP status)."""
        self._random[normalize_path(path)] = _Random(p, tuple(codes), random.Random(seed))

    def expire_tokens(self) -> None:
        """WeCom may invalidate tokens early (§5): every token issued so far answers 42001 on next use."""
        if self._on_expire_tokens:
            self._on_expire_tokens()

    def clear(self) -> None:
        self._scripted.clear()
        self._random.clear()
        self.latency.clear()

    def take(self, path: str) -> Fault | None:
        path = normalize_path(path)
        queue = self._scripted.get(path)
        if queue:
            head = queue[0]
            head.times -= 1
            if head.times <= 0:
                queue.pop(0)
            self.injected.append((path, head.fault))
            return head.fault
        rnd = self._random.get(path)
        if rnd and rnd.rng.random() < rnd.p:
            code = rnd.rng.choice(list(rnd.codes))
            fault = Fault(status=code) if 500 <= code <= 599 else Fault(code, _ERRMSG.get(code, "injected"))
            self.injected.append((path, fault))
            return fault
        return None
