"""Fixtures for tests/archive_bridge/: RSA key pairs made here (two versions), the bot and the emulator on real
sockets (tests/transport), and a bridge whose SDK child process talks to the emulator's archive-SDK mode."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.archive_bridge.bridge import ArchiveBridge, worker_for
from bot.archive_bridge.keys import PrivateKeys
from bot.config import ArchiveSettings
from bot.keys import RUNTIME_KEY
from tests.transport.conftest import make_pair  # noqa: F401  (fixture)

HH = "wrQYm02hh01"  # 王海峰联户群 (external, 二级)
RESIDENT = "wmh006x7Qe"  # 王秀英家
MEMBER = "wanghaifeng"


class KeyPair:
    def __init__(self, tmp: Path, version: int) -> None:
        self.version = version
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        self.path = tmp / f"archive_v{version}.pem"
        self.path.write_bytes(self.pem)
        self.public = self.private.public_key()


@pytest.fixture(scope="session")
def keypairs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, KeyPair]:
    tmp = tmp_path_factory.mktemp("archive_keys")
    return {v: KeyPair(tmp, v) for v in (1, 2, 3)}


class Bridged:
    """A bot + emulator pair, and bridges made on demand against the same database."""

    def __init__(self, pair: Any, keypairs: dict[int, KeyPair]) -> None:
        self.pair = pair
        self.emulator = pair.emulator
        self.url = pair.settings.database.url
        self.keypairs = keypairs
        self.runtime = pair.runners[1].app[RUNTIME_KEY]
        self.bridges: list[ArchiveBridge] = []

    def settings(self, versions: tuple[int, ...] = (1, 2), **kw: Any) -> ArchiveSettings:
        base = dict(
            sdk="emulator",
            corp_id=self.pair.settings.wecom.corp_id,
            secret=self.emulator.settings.archive_secret,
            emulator_url=self.pair.emulator_url,
            private_keys={str(v): str(self.keypairs[v].path) for v in versions},
            batch_limit=100,
            poll_seconds=0.01,
            backoff_min_seconds=1.0,
            backoff_max_seconds=8.0,
            sdk_timeout_seconds=5,
        )
        base.update(kw)
        return ArchiveSettings(**base)

    def bridge(self, settings: ArchiveSettings | None = None, **kw: Any) -> ArchiveBridge:
        s = settings or self.settings()
        b = ArchiveBridge(s, self.runtime, worker_for(s), PrivateKeys.from_files(s.private_keys), **kw)
        self.bridges.append(b)
        return b

    async def close(self) -> None:
        for b in self.bridges:
            await b.worker.close()


@pytest.fixture
async def bridged(make_pair, keypairs):  # noqa: F811
    pair = await make_pair()
    pair.emulator.set_archive_key(1, keypairs[1].public)
    b = Bridged(pair, keypairs)
    yield b
    await b.close()


class FakeSleep:
    """Records each backoff wait and ends the run after `stop_after` waits: no clock is raced."""

    def __init__(self, stop: Any, stop_after: int) -> None:
        self.stop, self.stop_after, self.waits = stop, stop_after, []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if len(self.waits) >= self.stop_after:
            self.stop.set()


def texts(rows: list[Any]) -> list[str]:
    return [r[0] for r in rows]


Check = Callable[[], Any]
