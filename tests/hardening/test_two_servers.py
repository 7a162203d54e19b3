"""Two `lianhu serve` on one database, a job run by hand beside them, and a kill -9 of the one sending: every
message reaches WeCom once, counted at the emulator. One worker per database sends (the sender lease); the other
stands by and takes over when the lease lapses; a row cut off mid-request is sent again with WeCom's duplicate
check on, so the member still sees it once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter

from sqlalchemy import func, select

from storage import outbox
from storage.db import make_engine, make_sessionmaker
from storage.models import Lease, OutboundMessage
from tests.conftest import DEMO_ROSTER
from tests.hardening._common import bot_settings
from tests.hardening._proc import REPO, BotProcess, free_port, start_emulator_for, write_config

MEMBERS = ["zhangwei", "wangli", "zhouzhiqiang", "chenjianguo", "wanghaifeng", "lixiulan"]
N = 120


async def _db(url, fn):
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return await fn(s)
    finally:
        await engine.dispose()


async def _until(check, within: float, what: str):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if got := await check():
            return got
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {within}s: {what}")


async def test_two_servers_a_hand_run_job_and_a_kill_send_everything_once(seeded_url, tmp_path):
    s = bot_settings(seeded_url)
    ports = [free_port(), free_port()]
    emulator, emu_runner, emu_url = await start_emulator_for(s, DEMO_ROSTER, f"http://127.0.0.1:{ports[0]}")
    s.wecom.api_base = s.webhook.base_url = emu_url
    extra = (
        "[outbox]\npoll_seconds = 0.2\nlease_seconds = 2.0\nsender_lease_seconds = 2.0\nconcurrency = 2\n"
        "per_chat_per_minute = 1000\n"
        f'[intake]\njournal = "{tmp_path / "intake.journal"}"\n'  # one path for both: each claims its own file
        "[schedule]\nenabled = false\n"
    )
    configs = [write_config(s, tmp_path / f"bot{i}.toml", p, extra) for i, p in enumerate(ports)]
    bots = [BotProcess(c, p, tmp_path / f"bot{i}.log") for i, (c, p) in enumerate(zip(configs, ports, strict=True))]
    url = s.database.url

    async def holder() -> str | None:
        async def q(sess):
            lease = await sess.get(Lease, outbox.SENDER_LEASE)
            return lease.holder if lease is not None else None

        return await _db(url, q)

    try:
        for b in bots:
            await b.start()
        first = await _until(holder, 20, "a sender lease")

        # a job run by hand beside both servers only queues: the sender sends
        run = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot.cli", "jobs", "run", "summary", "--period", "2026-11", "--config", configs[0]],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert run.returncode == 0, run.stderr[-2000:]
        assert "正在运行的机器人会发送" in run.stdout, run.stdout

        # then a stream of private notices, slow enough that the kill lands mid-sending
        emulator.faults.slow("message/send", 0.05)
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as sess, sess.begin():
                for i in range(N):
                    outbox.enqueue(
                        sess, channel="app", target=MEMBERS[i % len(MEMBERS)], content=f"通知{i:03d}", key=f"t2:{i}"
                    )
        finally:
            await engine.dispose()

        def notices() -> list[str]:
            return [
                e.content
                for m in MEMBERS
                for e in emulator.timeline(f"app:{m}")
                if e.direction == "out" and e.content.startswith("通知")
            ]

        async def some_sent():
            return len(notices()) >= 30

        await _until(some_sent, 30, "the first notices")
        sender = await holder()
        victim = next(b for b in bots if sender == f"pid{b.proc.pid}")
        victim.kill()  # SIGKILL, requests in flight die with it
        survivor = next(b for b in bots if b is not victim)

        async def all_sent():
            async def q(sess):
                return await sess.scalar(
                    select(func.count()).select_from(OutboundMessage).where(OutboundMessage.status != "sent")
                )

            return await _db(url, q) == 0

        await _until(all_sent, 60, "every row sent by the survivor")
        assert await holder() == f"pid{survivor.proc.pid}"
    finally:
        for b in bots:
            b.stop()

    try:
        shown = Counter(notices())
        assert set(shown) == {f"通知{i:03d}" for i in range(N)}
        assert max(shown.values()) == 1, [c for c, n in shown.items() if n > 1]  # nobody saw a notice twice

        async def sent_rows(sess):
            return list(await sess.execute(select(OutboundMessage.channel, OutboundMessage.target)))

        rows = await _db(url, sent_rows)
        # every row of the summary job: one delivery each at the emulator
        group_rows = [t for c, t in rows if c == "webhook"]
        posts = [e for e in emulator.timeline() if e.channel == "webhook" and e.direction == "out"]
        assert len(posts) == len(group_rows) >= 1
        summary_private = [t for c, t in rows if c == "app"]
        delivered_app = [e for e in emulator.timeline() if e.channel == "message_send"]
        assert len(delivered_app) == len(summary_private)
        print(
            f"\ntwo servers: first sender {first}, killed {victim.proc.pid} after {30}+ notices; "
            f"{len(rows)} rows, {len(posts)} group posts, {len(delivered_app)} private deliveries, "
            f"{emulator.stats['message/send:duplicate_dropped']} resend(s) dropped by WeCom's duplicate check"
        )
    finally:
        await emulator.close()
        await emu_runner.cleanup()
