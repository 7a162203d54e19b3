"""The chat-archive bridge end to end in emulator mode: the emulator hands out records the way Tencent's SDK does
(RSA-encrypted random key per publickey_ver), the SDK runs in a child process, the bridge delivers through the
archive's one inbound path. What differs from the real SDK is only the SDK call itself (see the _sdk tests)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import func, select

from bot.archive_bridge.keys import KeyProblem
from bot.archive_bridge.supervisor import SdkFailure
from storage.db import make_engine, make_sessionmaker
from storage.models import ArchiveQuarantine, FeedCursor, InboundMessage, Matter
from tests.archive_bridge.conftest import HH, MEMBER, RESIDENT, FakeSleep
from tests.transport.conftest import eventually

WISH = "微心愿：想要一个老年手机"
WISH2 = "微心愿：想要一副老花镜"


async def _q(url: str, stmt):
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return (await s.execute(stmt)).all()
    finally:
        await engine.dispose()


async def _cursor(url: str) -> int:
    rows = await _q(url, select(FeedCursor.value).where(FeedCursor.name == "archive:seq"))
    return int(rows[0][0]) if rows else 0


async def _inbound(url: str) -> list[tuple[str, str]]:
    return [
        tuple(r) for r in await _q(url, select(InboundMessage.msg_id, InboundMessage.text).order_by(InboundMessage.id))
    ]


def _notes(pair) -> list[str]:
    return [e.content for e in pair.emulator.timeline(f"app:{MEMBER}") if e.direction == "out"]


async def test_wishes_sealed_under_two_key_versions_are_recorded_once_across_restart(bridged):
    b = bridged
    first = await b.emulator.say(RESIDENT, HH, WISH)
    assert not first.delivered  # no bot is in an external group: only the archive has it
    b.emulator.set_archive_key(2, b.keypairs[2].public)  # rotation: the old record keeps version 1
    second = await b.emulator.say(RESIDENT, HH, WISH2)

    bridge = b.bridge()
    assert await bridge.pull_once() == 2
    sealed = {r["seq"]: r["publickey_ver"] for r in b.emulator._sealed.values()}
    assert sealed == {1: 1, 2: 2}
    assert await _inbound(b.url) == [(first.msgid, WISH), (second.msgid, WISH2)]
    matters = (await _q(b.url, select(func.count()).select_from(Matter)))[0][0]
    assert matters >= 1
    assert await _cursor(b.url) == 2
    await eventually(lambda: len(_notes(b.pair)) >= 2)  # the member hears of both, by private message

    # a new bridge process (new SDK child) resumes from the saved seq: nothing again, the next one once
    await bridge.worker.close()
    again = b.bridge()
    assert await again.pull_once() == 0
    assert (await _q(b.url, select(func.count()).select_from(Matter)))[0][0] == matters
    third = await b.emulator.say(RESIDENT, HH, "门口路灯坏了，晚上看不见")
    assert await again.pull_once() == 1
    assert [m for m, _ in await _inbound(b.url)] == [first.msgid, second.msgid, third.msgid]


async def test_a_record_that_kills_the_decryptor_twice_is_quarantined_and_reading_goes_on(bridged):
    b = bridged
    await b.emulator.say(RESIDENT, HH, WISH)
    await b.emulator.say(RESIDENT, HH, "这条会被截断")
    b.emulator.archive_broken[2] = "AAAA"  # shorter than 13: the SDK aborts the process (exit 134 on the real one)
    await b.emulator.say(RESIDENT, HH, WISH2)

    bridge = b.bridge()
    assert await bridge.pull_once() == 3
    assert bridge.worker.starts == 3  # the first child, and one restart after each of the two deaths
    rows = await _q(b.url, select(ArchiveQuarantine.seq, ArchiveQuarantine.publickey_ver, ArchiveQuarantine.reason))
    assert len(rows) == 1 and rows[0][0] == 2 and rows[0][1] == 1
    assert "崩溃 2 次" in rows[0][2]
    assert [t for _, t in await _inbound(b.url)] == [WISH, WISH2]
    assert await _cursor(b.url) == 3
    assert await bridge.pull_once() == 0  # nothing is read twice, the quarantine row is not doubled


async def test_a_record_the_sdk_refuses_is_quarantined_at_once(bridged):
    b = bridged
    await b.emulator.say(RESIDENT, HH, WISH)
    b.emulator.archive_broken[1] = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"  # long enough, not a valid ciphertext: 10008
    await b.emulator.say(RESIDENT, HH, WISH2)
    bridge = b.bridge()
    assert await bridge.pull_once() == 2
    rows = await _q(b.url, select(ArchiveQuarantine.seq, ArchiveQuarantine.reason))
    assert rows[0][0] == 1 and "10008" in rows[0][1]
    assert bridge.worker.starts == 1
    assert [t for _, t in await _inbound(b.url)] == [WISH2]


async def test_a_missing_key_version_stops_without_skipping_then_resumes(bridged):
    b = bridged
    b.emulator.set_archive_key(3, b.keypairs[3].public)  # the admin uploaded a key the bridge does not have
    await b.emulator.say(RESIDENT, HH, WISH)
    bridge = b.bridge(b.settings(versions=(1, 2)))
    with pytest.raises(KeyProblem, match="缺少第 3 版私钥"):
        await bridge.pull_once()
    assert await _cursor(b.url) == 0 and await _inbound(b.url) == []
    fixed = b.bridge(b.settings(versions=(1, 2, 3)))
    assert await fixed.pull_once() == 1
    assert [t for _, t in await _inbound(b.url)] == [WISH]


async def test_network_errors_back_off_doubling_to_the_cap_and_never_move_the_cursor(bridged):
    b = bridged
    await b.emulator.say(RESIDENT, HH, WISH)
    stop = asyncio.Event()
    sleep = FakeSleep(stop, stop_after=6)
    bridge = b.bridge(b.settings(emulator_url="http://127.0.0.1:9"), sleep=sleep)  # nothing listens on port 9
    await asyncio.wait_for(bridge.run(stop), 60)
    assert sleep.waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert "10001" in bridge.last_error and "网络请求错误" in bridge.last_error
    assert await _cursor(b.url) == 0


async def test_after_an_error_the_run_delivers_and_the_backoff_resets(bridged):
    b = bridged
    await b.emulator.say(RESIDENT, HH, WISH)
    bridge = b.bridge()
    right = b.emulator.settings.archive_secret
    b.emulator.settings.archive_secret = "rotated-in-the-console"  # the bridge's secret is refused (40001)
    stop = asyncio.Event()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # the operator puts the right secret back: the next round gets through
            b.emulator.settings.archive_secret = right
        if await _cursor(b.url) >= 1:
            stop.set()

    bridge.sleep = sleep
    await asyncio.wait_for(bridge.run(stop), 20)
    assert waits[:2] == [1.0, 2.0]  # 40001 twice, backing off
    assert waits[2:] == [bridge.settings.poll_seconds]  # then a normal poll pause, the backoff forgotten
    assert [t for _, t in await _inbound(b.url)] == [WISH]


async def test_media_become_placeholders_and_are_saved_under_the_cap(bridged, tmp_path):
    b = bridged
    emu = b.emulator
    photo = b"\x89PNG" + b"x" * 150_000  # three 64 KiB chunks
    emu.archive_media["fid-photo"] = photo
    emu.archive_media["fid-big"] = b"y" * 5000
    emu.post_media(RESIDENT, HH, "image", {"md5sum": "a", "filesize": len(photo), "sdkfileid": "fid-photo"})
    emu.post_media(RESIDENT, HH, "voice", {"md5sum": "b", "voice_size": 900, "play_length": 12, "sdkfileid": "v"})
    emu.post_media(
        RESIDENT,
        HH,
        "file",
        {"md5sum": "c", "filename": "低保申请表.xlsx", "fileext": "xlsx", "filesize": 5000, "sdkfileid": "fid-big"},
    )
    emu.post_media(RESIDENT, HH, "link", {"title": "村里的通知", "description": "", "link_url": "u", "image_url": ""})
    bridge = b.bridge(b.settings(media_dir=str(tmp_path / "media"), media_max_bytes=160_000))
    assert await bridge.pull_once() == 4
    assert [t for _, t in await _inbound(b.url)] == [
        "[图片]",
        "[语音 12秒]",
        "[文件 低保申请表.xlsx]",
        "[链接 村里的通知]",
    ]
    saved = {p.name: p.read_bytes() for p in (tmp_path / "media").iterdir()}
    photo_name = next(n for n in saved if n.endswith(".jpg"))
    assert saved[photo_name] == photo
    assert any(n.endswith(".xlsx") for n in saved)  # 5000 bytes, under the cap
    assert not any(n.endswith(".part") for n in saved)


async def test_media_of_chats_the_roster_does_not_bind_are_not_saved(bridged, tmp_path):
    b = bridged
    b.emulator.archive_media["fid"] = b"z" * 100
    b.emulator.archive.append(
        {"seq": 1, "msg": {"msgid": "p1", "action": "send", "from": RESIDENT, "tolist": [MEMBER], "roomid": "",
                           "msgtime": 1, "msgtype": "image", "image": {"filesize": 100, "sdkfileid": "fid"}}}
    )  # fmt: skip
    bridge = b.bridge(b.settings(media_dir=str(tmp_path / "m")))
    assert await bridge.pull_once() == 1
    assert not (tmp_path / "m").exists()  # a 1:1 chat: neither kept nor downloaded
    assert await _inbound(b.url) == []
    assert await _cursor(b.url) == 1


async def test_media_over_the_cap_are_not_saved(bridged, tmp_path):
    b = bridged
    b.emulator.archive_media["fid-big"] = b"y" * 5000
    b.emulator.post_media(RESIDENT, HH, "image", {"md5sum": "a", "filesize": 10, "sdkfileid": "fid-big"})  # lies
    bridge = b.bridge(b.settings(media_dir=str(tmp_path / "m"), media_max_bytes=4000))
    assert await bridge.pull_once() == 1
    assert [t for _, t in await _inbound(b.url)] == ["[图片]"]  # the message still arrives
    assert not (tmp_path / "m").exists() or list((tmp_path / "m").iterdir()) == []


async def test_secrets_and_private_keys_never_reach_the_logs(bridged, caplog):
    b = bridged
    caplog.set_level(logging.DEBUG)
    await b.emulator.say(RESIDENT, HH, WISH)
    b.emulator.archive_broken[1] = "AAAA"
    bridge = b.bridge(b.settings(proxy_password="proxy:Pa55word-XYZ"))
    await bridge.pull_once()  # two deaths, child stderr logged, quarantine logged
    stop = asyncio.Event()
    wrong = b.bridge(b.settings(secret="wrong-Secret-0123456789", emulator_url=b.pair.emulator_url))
    wrong.sleep = FakeSleep(stop, stop_after=1)
    await asyncio.wait_for(wrong.run(stop), 30)
    with pytest.raises(SdkFailure) as err:
        await wrong.pull_once()
    logged = caplog.text + str(err.value) + repr(wrong.worker) + repr(wrong.keys) + repr(wrong.settings)
    for secret in (b.emulator.settings.archive_secret, "wrong-Secret-0123456789", "Pa55word-XYZ"):
        assert secret not in logged
    for kp in b.keypairs.values():
        body = kp.pem.decode().splitlines()[1]  # a line of the key's base64
        assert body not in logged
    assert "quarantined" in caplog.text  # the logs did say something


async def test_file_names_and_link_titles_are_logged_not_parsed(bridged):
    """A forwarded notice titled "…低保申请…" reads as a 诉求 to the parser: a media message alone is only logged."""
    b = bridged
    b.emulator.post_media(
        RESIDENT, HH, "file", {"filename": "低保申请表.xlsx", "fileext": "xlsx", "filesize": 10, "sdkfileid": "x"}
    )
    title = "关于开展2026年度低保申请工作的通知"
    b.emulator.post_media(RESIDENT, HH, "link", {"title": title, "description": "", "link_url": "u", "image_url": ""})
    await b.emulator.say(RESIDENT, HH, WISH)
    assert await b.bridge().pull_once() == 3
    rows = await _q(b.url, select(InboundMessage.text, InboundMessage.status, InboundMessage.branch_id))
    assert [(t, st) for t, st, _ in rows] == [
        ("[文件 低保申请表.xlsx]", "done"),
        (f"[链接 {title}]", "done"),
        (WISH, "done"),
    ]
    assert all(branch is not None for _, _, branch in rows)
    assert (await _q(b.url, select(func.count()).select_from(Matter)))[0][0] == 1  # the wish only
    assert await b.bridge().pull_once() == 0  # once


async def test_one_reader_per_database_the_other_stands_by_and_takes_over(bridged):
    """Two servers (or a server and `lianhu archive bridge`) on one database: one reads, the other stands by; when
    the reader stops it gives the lease up, and when it is killed the lease runs out and the other takes over."""
    b = bridged
    s = b.settings(reader_lease_seconds=0.3)
    first, second = b.bridge(s), b.bridge(s)
    stop = asyncio.Event()
    running = asyncio.create_task(first.run(stop))
    await eventually(lambda: first.reading)
    assert not await second.hold_lease()
    await b.emulator.say(RESIDENT, HH, WISH)
    await eventually(lambda: _cursor(b.url))
    assert [t for _, t in await _inbound(b.url)] == [WISH]  # read by the holder
    stop.set()
    await running
    assert await second.hold_lease()  # a clean stop hands over at once
    # the new holder is killed (it renews no more): the lease runs out and the first may read again
    assert not await first.hold_lease()
    assert await eventually(first.hold_lease, within=5.0)
    assert not await second.hold_lease()
