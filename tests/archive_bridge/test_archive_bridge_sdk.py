"""The bridge against Tencent's real `libWeWorkFinanceSdk_C.so` (through pywecomarchive, extra [archive]).

Without a tenant GetChatData can only fail (10001 offline; a closed proxy port makes sure of it), so the records
come from the emulator, sealed in the format the real DecryptData reads with keys made here (two versions); the
real DecryptData opens them, and aborts the process on a short one (exit 134), which is quarantined after two
deaths while reading goes on.
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

import pytest
from sqlalchemy import select

from bot.archive_bridge.bridge import ArchiveBridge, worker_for
from bot.archive_bridge.supervisor import SdkFailure, WorkerDied
from storage.db import make_engine, make_sessionmaker
from storage.models import ArchiveQuarantine, FeedCursor, InboundMessage
from tests.archive_bridge.conftest import HH, RESIDENT, FakeSleep

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pywecomarchive") is None,
    reason="Tencent's SDK is not installed here: pip install -e '.[archive]' (pywecomarchive ships the .so)",
)

CORP = "ww0123456789abcdef"
SECRET = "madeUpArchiveSecret-0123456789abcdefghijklmn"
CLOSED_PROXY = "http://127.0.0.1:9"  # nothing listens: every network call of the SDK fails at once


def real(b, **kw: Any):
    return b.settings(
        sdk="pywecomarchive", corp_id=CORP, secret=SECRET, proxy=CLOSED_PROXY, sdk_timeout_seconds=3, **kw
    )


class EmulatorRecords(ArchiveBridge):
    """GetChatData needs a tenant: the records come from the emulator, everything else is the real path."""

    emulator: Any = None

    async def fetch_records(self, seq: int) -> list[Any]:
        return [self.emulator._seal(i) for i in self.emulator.archive if i["seq"] > seq][: self.settings.batch_limit]


async def _rows(url: str, stmt) -> list[Any]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return list((await s.execute(stmt)).all())
    finally:
        await engine.dispose()


async def _texts(url: str) -> list[str]:
    return [r[0] for r in await _rows(url, select(InboundMessage.text).order_by(InboundMessage.id))]


async def test_init_loads_and_getchatdata_answers_10001_offline(bridged):
    worker = worker_for(real(bridged))
    try:
        with pytest.raises(SdkFailure) as err:
            await worker.call("chatdata", seq=0, limit=10)
        assert err.value.code == 10001 and "网络请求错误" in str(err.value)
        assert worker.sdk_name.startswith("pywecomarchive")  # Init passed: the failure is GetChatData's
        assert worker.starts == 1
    finally:
        await worker.close()


async def test_network_errors_back_off_with_a_cap_and_keep_the_cursor(bridged):
    b = bridged
    stop = asyncio.Event()
    sleep = FakeSleep(stop, stop_after=5)
    bridge = b.bridge(real(b, backoff_min_seconds=2.0, backoff_max_seconds=10.0), sleep=sleep)
    await asyncio.wait_for(bridge.run(stop), 120)
    assert sleep.waits == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert "10001" in bridge.last_error
    assert bridge.worker.starts == 1  # an error code is not a death: the same child keeps going
    assert await _rows(b.url, select(FeedCursor)) == []


async def test_real_decryptdata_opens_the_emulator_format_and_its_abort_is_survived(bridged):
    from bot.archive_bridge import emulated

    msg = {"msgid": "m1", "action": "send", "msgtype": "text", "text": {"content": "微心愿：想要一个老年手机"}}
    key, sealed = emulated.seal(msg)
    worker = worker_for(real(bridged))
    try:
        assert (await worker.call("decrypt", key=key, msg=sealed))["msg"] == msg
        with pytest.raises(WorkerDied) as died:
            await worker.call("decrypt", key=key, msg="AAAA")
        assert died.value.returncode in (-6, 134)  # SIGABRT from std::out_of_range
        with pytest.raises(SdkFailure) as err:  # a fresh child answers the next call
            await worker.call("decrypt", key=key, msg="Q" * 13 + "x" * 32 + sealed[45:])
        assert err.value.code == 10008  # the key info does not open with another t: the same code as Python's
        assert worker.starts == 2
    finally:
        await worker.close()


async def test_records_under_two_key_versions_poison_quarantined_cursor_across_restart(bridged):
    b = bridged
    await b.emulator.say(RESIDENT, HH, "微心愿：想要一个老年手机")
    await b.emulator.say(RESIDENT, HH, "会被截断的一条")
    b.emulator.archive_broken[2] = "AAAA"
    b.emulator.set_archive_key(2, b.keypairs[2].public)
    await b.emulator.say(RESIDENT, HH, "门口路灯坏了")

    def bridge() -> EmulatorRecords:
        s = real(b)
        from bot.archive_bridge.keys import PrivateKeys

        br = EmulatorRecords(s, b.runtime, worker_for(s), PrivateKeys.from_files(s.private_keys))
        br.emulator = b.emulator
        b.bridges.append(br)
        return br

    first = bridge()
    assert await first.pull_once() == 3
    rows = await _rows(b.url, select(ArchiveQuarantine.seq, ArchiveQuarantine.publickey_ver, ArchiveQuarantine.reason))
    assert len(rows) == 1 and rows[0][:2] == (2, 1) and "崩溃 2 次" in rows[0][2]  # the real abort, twice
    assert first.worker.starts == 3
    # sealed under key versions 1 and 2, opened by Tencent's DecryptData, delivered through the one inbound path
    assert await _texts(b.url) == ["微心愿：想要一个老年手机", "门口路灯坏了"]

    await first.worker.close()  # a restart: new bridge, new child
    second = bridge()
    assert await second.pull_once() == 0
    await b.emulator.say(RESIDENT, HH, "又一条")
    assert await second.pull_once() == 1
    assert await _texts(b.url) == ["微心愿：想要一个老年手机", "门口路灯坏了", "又一条"]
    assert [r[0] for r in await _rows(b.url, select(ArchiveQuarantine.seq))] == [2]


async def test_real_sdk_run_logs_no_secret_or_key(bridged, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    b = bridged
    await b.emulator.say(RESIDENT, HH, "微心愿：想要一个老年手机")
    b.emulator.archive_broken[1] = "AAAA"  # the child dies twice and its stderr is logged
    stop = asyncio.Event()
    bridge = b.bridge(real(b, proxy_password="user:Pr0xyPa55-XYZ"), sleep=FakeSleep(stop, stop_after=2))
    await asyncio.wait_for(bridge.run(stop), 60)  # GetChatData: 10001, backing off, logged
    records = EmulatorRecords(bridge.settings, b.runtime, bridge.worker, bridge.keys)
    records.emulator = b.emulator
    await records.pull_once()
    assert "out_of_range" in caplog.text or "134" in caplog.text or "-6" in caplog.text  # the death was logged
    for secret in (SECRET, "Pr0xyPa55-XYZ"):
        assert secret not in caplog.text
    for kp in b.keypairs.values():
        assert kp.pem.decode().splitlines()[1] not in caplog.text
