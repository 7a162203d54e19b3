"""The callback path against the protocol floor, in one run.

One load generator (aiohttp client, loopback) drives, in turn,
  (a) the floor: a bare aiohttp endpoint that only verifies, decrypts and acks 智能机器人 callbacks (same crypto
      module), and
  (b) the real bot (`lianhu serve`, i.e. create_app): verify → decrypt → dedupe → store → parse → reply,
each in its own process, with realistic messages from the sample village (visit reports, 未走访户 queries,
chatter). Reported: closed-loop throughput at concurrency N (bounded by count and time), the ratio bot/floor,
and ack latency p50/p99 at a fixed offered rate (open loop, latency measured from the scheduled send time).

Run: .venv/bin/python bench/bench_callback.py --db sqlite|postgresql [--concurrency 16] [--count 5000]
         [--seconds 10] [--rate 200] [--rate-seconds 5]
The database is a temporary one (a SQLite file, or a PostgreSQL database created and dropped on
127.0.0.1:5432); the sample village is imported into it. Prints figures; it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.config import Settings  # noqa: E402
from bot.wecom.crypto import CallbackCrypto  # noqa: E402

PG_ADMIN = ("127.0.0.1", 5432, "postgres", "postgres")
BOT_NAME = "联户小助手"

FLOOR_SERVER = r"""
import json, sys
from aiohttp import web
from bot.wecom.crypto import CallbackCrypto
from bot.wecom.errors import CallbackRejected
token, key, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
crypto = CallbackCrypto(token, key, "")

async def aibot(request):
    q = request.query
    try:
        body = json.loads(await request.read())
        data = json.loads(crypto.decrypt(q["msg_signature"], q["timestamp"], q["nonce"], body["encrypt"]))
    except (CallbackRejected, KeyError, ValueError):
        return web.Response(status=400)
    return web.Response(text="") if data.get("msgid") else web.Response(status=400)

async def healthz(request):
    return web.json_response({"ok": True})

app = web.Application(client_max_size=64 * 1024)
app.router.add_post("/wecom/aibot", aibot)
app.router.add_get("/healthz", healthz)
web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)
"""

# Stands in for qyapi (gettoken, message/send, webhook/send, response_url) so the bot's outbox finds a peer that
# says errcode 0; it runs in its own process and costs a little CPU on the same machine.
SINK_SERVER = r"""
import sys
from aiohttp import web

async def ok(request):
    await request.read()
    return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": "bench-token", "expires_in": 7200})

app = web.Application()
app.router.add_route("*", "/{tail:.*}", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def aes_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()[:43]


# --- realistic traffic from the sample village --------------------------------------------------------------
def village_messages(n: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(userid, chatid, text): ~55 % visit reports, ~15 % 未走访户 queries, ~30 % chatter, all @-ing the bot."""
    from devtools.demo import demo_roster_path
    from storage.roster_file import load_roster

    rf = load_roster(demo_roster_path())
    branch_chat = next(g.chat_id for g in rf.groups if g.level == 1)
    members = [m for m in rf.members if m.userid]
    households_of: dict[str, list] = {}
    for h in rf.households:
        households_of.setdefault(h.member_code, []).append(h)
    reporters = [m for m in members if households_of.get(m.code)]
    secretary = next(m for m in members if "书记" in m.roles)
    days = ("今天", "昨天", "上午", "刚才", "前天")
    chatter = ("收到", "好的，辛苦了", "明天几点开会？", "这个月主题党日改到周五了吗", "谢谢提醒", "大家注意防台")
    out = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.55:
            m = rng.choice(reporters)
            h = rng.choice(households_of[m.code])
            extra = rng.choice(("", "，老人身体还好", "，反映路灯坏了", "，送了米和油", "，家里都挺好"))
            out.append((m.userid, branch_chat, f"@{BOT_NAME} {rng.choice(days)}走访了{h.head_name}{extra}"))
        elif roll < 0.70:
            m = secretary if rng.random() < 0.3 else rng.choice(members)
            out.append((m.userid, branch_chat, f"@{BOT_NAME} 本月未走访户"))
        else:
            out.append((rng.choice(members).userid, branch_chat, f"@{BOT_NAME} {rng.choice(chatter)}"))
    return out


def make_requests(s: Settings, msgs: list[tuple[str, str, str]], tag: str) -> list[tuple[str, bytes]]:
    """Encrypted, signed callbacks, made before the clock starts so the generator stays cheap."""
    crypto = CallbackCrypto(s.aibot.token, s.aibot.encoding_aes_key, "")
    ts = str(int(time.time()))
    out = []
    for i, (userid, chat, text) in enumerate(msgs):
        payload = {
            "msgid": f"CAIQbench{tag}{i}",
            "aibotid": s.aibot.bot_id,
            "chatid": chat,
            "chattype": "group",
            "from": {"userid": userid},
            "msgtype": "text",
            "text": {"content": text},
            "create_time": int(ts),
        }
        nonce = secrets.token_hex(8)
        enc, sig = crypto.encrypt(json.dumps(payload, ensure_ascii=False), nonce, ts)
        out.append(
            (f"/wecom/aibot?msg_signature={sig}&timestamp={ts}&nonce={nonce}", json.dumps({"encrypt": enc}).encode())
        )
    return out


# --- the load generator -------------------------------------------------------------------------------------
async def closed_loop(base: str, reqs: list[tuple[str, bytes]], concurrency: int, seconds: float) -> dict:
    it = iter(reqs)
    lat: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=10)) as http:

        async def worker() -> None:
            nonlocal errors
            for path, body in it:
                if time.perf_counter() > deadline:
                    return
                t0 = time.perf_counter()
                try:
                    async with http.post(base + path, data=body) as r:
                        await r.read()
                        ok = r.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                if ok:
                    lat.append(time.perf_counter() - t0)
                else:
                    errors += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return {"done": len(lat), "errors": errors, "seconds": elapsed, "rate": len(lat) / elapsed, **_pct(lat)}


async def open_loop(base: str, reqs: list[tuple[str, bytes]], rate: float, seconds: float) -> dict:
    n = min(len(reqs), int(rate * seconds))
    lat: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=10)
    ) as http:
        start = time.perf_counter() + 0.05

        async def one(i: int, path: str, body: bytes) -> None:
            nonlocal errors
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            try:
                async with http.post(base + path, data=body) as r:
                    await r.read()
                    ok = r.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if ok:
                lat.append(time.perf_counter() - scheduled)  # from the scheduled time: no coordinated omission
            else:
                errors += 1

        await asyncio.gather(*(one(i, p, b) for i, (p, b) in enumerate(reqs[:n])))
    return {"offered": rate, "sent": n, "done": len(lat), "errors": errors, **_pct(lat)}


def _pct(lat: list[float]) -> dict:
    if not lat:
        return {"p50_ms": float("nan"), "p99_ms": float("nan")}
    lat = sorted(lat)
    return {"p50_ms": statistics.median(lat) * 1000, "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000}


# --- servers and databases ----------------------------------------------------------------------------------
async def wait_up(url: str, proc: subprocess.Popen, within: float = 60) -> None:
    deadline = time.perf_counter() + within
    async with aiohttp.ClientSession() as http:
        while time.perf_counter() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("server exited early")
            try:
                async with http.get(url + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(url)


def spawn(cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=REPO, env=env)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def write_config(s: Settings, path: Path, port: int) -> None:
    def q(v: str) -> str:
        return json.dumps(v, ensure_ascii=False)

    path.write_text(
        "\n".join(
            [
                "[database]",
                f"url = {q(s.database.url)}",
                "auto_migrate = false",
                "[server]",
                f"port = {port}",
                "[wecom]",
                f"corp_id = {q(s.wecom.corp_id)}",
                f"agent_id = {s.wecom.agent_id}",
                f"secret = {q(s.wecom.secret)}",
                f"token = {q(s.wecom.token)}",
                f"encoding_aes_key = {q(s.wecom.encoding_aes_key)}",
                f"api_base = {q(s.wecom.api_base)}",
                "[webhook]",
                f"base_url = {q(s.webhook.base_url)}",
                "[aibot]",
                f"bot_id = {q(s.aibot.bot_id)}",
                f"name = {q(s.aibot.name)}",
                f"token = {q(s.aibot.token)}",
                f"encoding_aes_key = {q(s.aibot.encoding_aes_key)}",
            ]
        )
        + "\n",
        encoding="utf-8",
    )


async def temp_database(kind: str, tmp: Path) -> tuple[str, object]:
    if kind == "sqlite":

        async def nothing() -> None:
            return None

        return f"sqlite+aiosqlite:///{tmp}/bench.db", nothing
    import asyncpg

    host, port, user, db = PG_ADMIN
    name = f"lianhu_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(host=host, port=port, user=user, database=db)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()

    async def drop() -> None:
        c = await asyncpg.connect(host=host, port=port, user=user, database=db)
        await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await c.close()

    return f"postgresql+asyncpg://{user}@{host}:{port}/{name}", drop


def bench_settings(url: str) -> Settings:
    s = Settings()
    s.database.url = url
    s.database.auto_migrate = False
    s.wecom.corp_id, s.wecom.agent_id, s.wecom.secret = "wwlianhubench01", 1000002, secrets.token_urlsafe(16)
    s.wecom.token, s.wecom.encoding_aes_key = secrets.token_urlsafe(12), aes_key()
    s.wecom.api_base = s.webhook.base_url = "http://127.0.0.1:9"  # nothing listens; the aibot path never calls out
    s.aibot.bot_id, s.aibot.name = "aibot-bench", BOT_NAME
    s.aibot.token, s.aibot.encoding_aes_key = secrets.token_urlsafe(12), aes_key()
    return s


async def measure(label: str, base: str, s: Settings, msgs, args, tag: str) -> tuple[dict, dict]:
    # warm-up (jieba, parsers, connection pools), then closed loop, then the fixed-rate run
    await closed_loop(base, make_requests(s, msgs[:100], tag + "w"), args.concurrency, 30)
    thr = await closed_loop(base, make_requests(s, msgs[: args.count], tag + "t"), args.concurrency, args.seconds)
    lat = await open_loop(
        base, make_requests(s, msgs[: int(args.rate * args.rate_seconds)], tag + "r"), args.rate, args.rate_seconds
    )
    print(
        f"  {label:<6} throughput {thr['rate']:8.1f} msg/s  ({thr['done']} in {thr['seconds']:.1f} s, "
        f"{thr['errors']} errors, p50 {thr['p50_ms']:.1f} ms at concurrency {args.concurrency})"
    )
    print(
        f"  {label:<6} at {lat['offered']:.0f} msg/s offered: p50 {lat['p50_ms']:.1f} ms  p99 {lat['p99_ms']:.1f} ms"
        f"  ({lat['done']}/{lat['sent']} acked, {lat['errors']} errors)"
    )
    return thr, lat


async def main() -> None:
    ap = argparse.ArgumentParser(description="callback path vs the protocol floor")
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--count", type=int, default=5000, help="closed loop: at most this many messages")
    ap.add_argument("--seconds", type=float, default=10, help="closed loop: at most this long")
    ap.add_argument("--rate", type=float, default=200, help="open loop: offered messages per second")
    ap.add_argument("--rate-seconds", type=float, default=5)
    args = ap.parse_args()

    from devtools.demo import import_file

    tmp = Path(tempfile.mkdtemp(prefix="lianhu-bench-"))
    url, drop = await temp_database(args.db, tmp)
    procs: list[subprocess.Popen] = []
    try:
        s = bench_settings(url)
        await import_file(s, REPO / "devtools" / "demo_data" / "roster.xlsx")  # migrates, then the sample village
        rng = random.Random(7)
        msgs = village_messages(max(args.count, int(args.rate * args.rate_seconds)) + 100, rng)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        print(f"machine: {os.cpu_count()} CPU; database: {args.db}; concurrency {args.concurrency}")

        fport = free_port()
        floor = spawn([sys.executable, "-c", FLOOR_SERVER, s.aibot.token, s.aibot.encoding_aes_key, str(fport)], env)
        procs.append(floor)
        await wait_up(f"http://127.0.0.1:{fport}", floor)
        f_thr, f_lat = await measure("floor", f"http://127.0.0.1:{fport}", s, msgs, args, "f")
        stop(floor)

        sport = free_port()
        sink = spawn([sys.executable, "-c", SINK_SERVER, str(sport)], env)
        procs.append(sink)
        s.wecom.api_base = s.webhook.base_url = f"http://127.0.0.1:{sport}"
        bport = free_port()
        write_config(s, tmp / "bot.toml", bport)
        bot = spawn([sys.executable, "-m", "bot.cli", "serve", "--config", str(tmp / "bot.toml")], env)
        procs.append(bot)
        await wait_up(f"http://127.0.0.1:{bport}", bot)
        b_thr, b_lat = await measure("bot", f"http://127.0.0.1:{bport}", s, msgs, args, "b")
        stop(bot)

        ratio = b_thr["rate"] / f_thr["rate"]
        print(
            f"RESULT db={args.db} floor={f_thr['rate']:.0f}/s bot={b_thr['rate']:.0f}/s ratio={ratio:.2f} "
            f"(target ≥ 0.40)  bot@{args.rate:.0f}/s p50={b_lat['p50_ms']:.1f}ms p99={b_lat['p99_ms']:.1f}ms "
            f"(target p99 < 50 ms)  floor@{args.rate:.0f}/s p99={f_lat['p99_ms']:.1f}ms"
        )
    finally:
        for p in procs:
            if p.poll() is None:
                stop(p)
        await drop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
