"""Transport tests: the bot and the emulator on real sockets, with the intervals shrunk so that retries, leases
and polls happen in milliseconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from bot.config import Settings
from tests.conftest import DEMO_ROSTER, make_settings


def fast(url: str) -> Settings:
    s = make_settings(url)
    s.outbox.poll_seconds = 0.05
    s.outbox.backoff_base_seconds = 0.01
    s.outbox.backoff_max_seconds = 0.05
    s.outbox.max_attempts = 40
    s.outbox.lease_seconds = 5.0
    return s


@pytest.fixture
async def make_pair(seeded_url: str):
    """Start pairs with settings adjusted by `tweak(settings)`; all closed at teardown."""
    from devtools.demo import start_pair

    started = []

    async def start(tweak: Callable[[Settings], None] | None = None, **kw):
        s = fast(seeded_url)
        if tweak is not None:
            tweak(s)
        p = await start_pair(s, DEMO_ROSTER, callback_timeout=5.0, import_roster_first=False, **kw)
        started.append(p)
        return p

    yield start
    for p in reversed(started):
        await p.close()


@pytest.fixture
async def tpair(make_pair):
    return await make_pair()


async def eventually(check: Callable[[], object], within: float = 10.0, every: float = 0.02):
    """Poll an (a)sync check until it returns something truthy; fail with the last value."""
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {within}s (last: {last!r})")
