"""`lianhu simulate`: a month in the village with every channel on, then the invariants checked.

The sample village (14 members, 60 households) talks to a real `lianhu serve` process through the emulator: members
report visits and give commands by @-ing the 智能机器人 in the 党员群, chat there without the @ (the archive still
copies it), write to the bot and the app 1:1; residents write wishes, problems, thanks and chatter in their 联户群
(read only through the chat archive, which covers every group) and to 微信客服, sometimes the same words by both
doors. Jobs are run by hand beside the server, the server is restarted once and killed with SIGKILL once while
messages are arriving. Afterwards it checks, on the emulator's timeline and in the database:

1. one utterance, one handling: however many channels brought it, at most one copy is handled, and no record
   (visit, matter, matter event) comes from a copy;
2. every message sent is delivered exactly once (outbox rows marked sent = deliveries seen by the emulator);
3. the month's figures (本月汇总 / 主题党日) equal a recount from the stored rows;
4. no command or query became a 微心愿 or 诉求;
5. every resident message that needs someone is recorded or shown to the member; nothing acknowledged is lost.

The short version runs in the test suite (tests/simulate/); the full one is bench/bench_simulate.py.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bot.outbox import APP_TEXT_MAX
from devtools.demo import DEMO_AGENT_ID, DEMO_CORP_ID, demo_roster_path, random_aes_key, world_from_roster
from emulator.server import Emulator, start_emulator
from emulator.world import EmulatorSettings
from jobs.context import split_markdown
from storage import migrate, rhythm
from storage.db import make_engine, make_sessionmaker
from storage.models import (
    AttentionItem,
    Branch,
    FeedCursor,
    Household,
    InboundMessage,
    Link,
    Matter,
    MatterEvent,
    Member,
    MustVisitTask,
    OutboundMessage,
    Visit,
)
from storage.roster_file import RosterFile, load_roster
from storage.roster_sync import import_roster

AT = "@联户小助手 "
COMMAND_WORDS = (
    *("受理", "商议", "派", "办结", "评价", "不予受理", "重复"),
    *("撤回", "上报", "延期", "重开", "认领", "调整联户"),
)
QUERY_TEXTS = ("心愿清单", "本月未走访户", "我的积分", "本月汇总", "我联系了哪些户", "帮助", "重点户走访情况")
TZ = dt.timezone(dt.timedelta(hours=8))


# --- the village's words ---------------------------------------------------------------------------------------
VISIT_DAYS = ["今天", "昨天", "前天", "", "上午", "刚才"]
VISIT_FORMS = [
    "{day}走访了{h}",
    "{day}去{h}家坐了坐",
    "{day}上门看望了{h}",
    "{day}到{h}家看了看",
    "{day}走访{h}家",
]
VISIT_TAILS = [
    "，老人身体还可以",
    "，聊了聊家里的情况，一切都好",
    "，帮他把院子里的杂草清了",
    "，他家屋顶漏雨了，想请村里找人修一下",
    "，老人说腿脚不方便，想申请个助行器",
    "。",
    "，家里挺好的，没什么要帮忙的",
    "，说村口的路灯坏了好几天了",
]
CHATTER_MEMBERS = ["收到", "好的👍", "明天上午开会别忘了", "今天雨好大，大家出门注意", "辛苦了", "已阅", "[图片]"]
RESIDENT_WISHES = [
    "想要一副老花镜，报纸上的字看不清了",
    "能不能帮我买个电饭煲，旧的坏了",
    "想请人帮忙写副春联",
    "希望有人教我用智能手机视频",
    "想要一个收音机听听戏",
]
RESIDENT_PROBLEMS = [
    "村口那个路灯坏了好几天了，晚上黑乎乎的",
    "我家门口的下水道堵了，一下雨就漫出来",
    "桥边的栏杆松了，小孩子走过去很危险",
    "垃圾桶好几天没人清了，味道很大",
    "自来水一股怪味道，能不能请人来看看",
    "想办个低保，不知道要带什么材料",
]
RESIDENT_CHATTER = ["今天天气真好", "吃过饭了没", "哈哈哈", "👍👍", "明天赶集去不去", "好的，晓得了"]
RATINGS_SAID = ["满意，谢谢你们", "修好了，很满意", "基本满意"]
RESIDENT_THANKS = ["路灯修好了，谢谢你们", "满意，谢谢书记", "修好了，很满意"]


@dataclass
class Utterance:
    sender: str
    chat: str  # chat_id, "bot", "app" or "kf"
    text: str
    kind: str  # visit / command / query / chatter / wish / problem / thanks
    resident: bool = False
    acked: bool | None = None  # the bot answered 200 (pushed channels); None: read by the archive


@dataclass
class Village:
    rf: RosterFile
    branch_group: str
    members: list[Any]
    households_of: dict[str, list[Any]]  # member code → households
    hh_group: dict[str, str]  # member code → 联户群 chat id
    cadres: list[Any]


def village(rf: RosterFile) -> Village:
    branch_group = next(g.chat_id for g in rf.groups if g.level == 1)
    members = [m for m in rf.members if m.userid]
    households_of: dict[str, list[Any]] = defaultdict(list)
    for h in rf.households:
        if h.member_code:
            households_of[h.member_code].append(h)
    hh_group = {g.member_code: g.chat_id for g in rf.groups if g.level == 2 and g.member_code}
    cadres = [m for m in members if {"书记", "委员", "副书记"} & set(m.roles)] or members[:1]
    return Village(rf, branch_group, members, households_of, hh_group, cadres)


class Traffic:
    """Draws the month's utterances; commands refer to the matters that exist by then."""

    def __init__(self, v: Village, rng: random.Random) -> None:
        self.v, self.rng = v, rng
        self.matters = 0  # 诉求/心愿 numbers known so far (refreshed from the database now and then)
        self.recent_resident: list[Utterance] = []

    def _member_with_households(self):
        return self.rng.choice([m for m in self.v.members if self.v.households_of.get(m.code)])

    def visit(self) -> Utterance:
        m = self._member_with_households()
        hs = self.rng.sample(self.v.households_of[m.code], k=min(len(self.v.households_of[m.code]), 1))
        text = self.rng.choice(VISIT_FORMS).format(day=self.rng.choice(VISIT_DAYS), h=hs[0].head_name)
        text += self.rng.choice(VISIT_TAILS)
        where = self.rng.random()
        if where < 0.8:
            return Utterance(m.userid, self.v.branch_group, AT + text, "visit")
        return Utterance(m.userid, "bot" if where < 0.93 else "app", text, "visit")

    def command(self) -> Utterance:
        who = self.rng.choice(self.v.cadres)
        n = self.rng.randint(1, max(1, self.matters))
        kind = self.rng.choice(["诉求", "心愿"])
        other = self.rng.choice([m for m in self.v.members if m.userid != who.userid])
        text = self.rng.choice(
            [
                f"受理 {kind}{n}",
                f"派 {kind}{n} {other.name}",
                f"办结 {kind}{n} 已经办好了",
                f"商议 {kind}{n} 村里统一安排",
                f"认领 心愿{n}",
            ]
        )
        return Utterance(who.userid, self.v.branch_group, AT + text, "command")

    def query(self) -> Utterance:
        m = self.rng.choice(self.v.members)
        text = self.rng.choice(QUERY_TEXTS)
        chat = self.rng.choice([self.v.branch_group, "bot", "app"])
        return Utterance(m.userid, chat, (AT + text) if chat == self.v.branch_group else text, "query")

    def member_chatter(self) -> Utterance:
        m = self.rng.choice(self.v.members)
        return Utterance(m.userid, self.v.branch_group, self.rng.choice(CHATTER_MEMBERS), "chatter")

    def resident(self) -> Utterance:
        m = self._member_with_households()
        hs = [h for h in self.v.households_of[m.code] if h.external_userid]
        group = self.v.hh_group.get(m.code)
        if not hs or group is None:
            return self.member_chatter()
        h = self.rng.choice(hs)
        roll = self.rng.random()
        if roll < 0.3:
            kind, text = "problem", self.rng.choice(RESIDENT_PROBLEMS)
        elif roll < 0.5:
            kind, text = "wish", self.rng.choice(RESIDENT_WISHES)
        elif roll < 0.62:
            kind, text = "thanks", self.rng.choice(RESIDENT_THANKS)
        else:
            kind, text = "chatter", self.rng.choice(RESIDENT_CHATTER)
        chat = group if self.rng.random() < 0.8 else "kf"
        u = Utterance(h.external_userid, chat, text, kind, resident=True)
        self.recent_resident.append(u)
        return u

    def same_words_other_door(self) -> Utterance | None:
        """A resident says again, by the other door, what they just said (联户群 ↔ 微信客服)."""
        said = [u for u in self.recent_resident[-20:] if u.kind in ("problem", "wish")]
        if not said:
            return None
        u = self.rng.choice(said)
        m_group = next((c for c, g in self.v.hh_group.items() if g == u.chat), None)
        if u.chat == "kf":
            h = next(h for h in self.v.rf.households if h.external_userid == u.sender)
            other = self.v.hh_group.get(h.member_code or "")
            if other is None:
                return None
            return Utterance(u.sender, other, u.text, u.kind, resident=True)
        del m_group
        return Utterance(u.sender, "kf", u.text, u.kind, resident=True)

    def draw(self) -> Utterance:
        r = self.rng.random()
        if r < 0.30:
            return self.visit()
        if r < 0.62:
            return self.resident()
        if r < 0.70:
            return self.command()
        if r < 0.80:
            return self.query()
        if r < 0.92:
            return self.member_chatter()
        return self.same_words_other_door() or self.resident()


# --- the server as a process -------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    """`lianhu serve --config FILE` as a child process (so it can be killed with SIGKILL)."""

    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.config, self.port, self.log = config, port, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{port}"

    def _spawn(self) -> None:
        with open(self.log, "ab") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve", "--config", str(self.config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    async def start(self, within: float = 60.0) -> None:
        self._spawn()
        assert self.proc is not None
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"lianhu serve exited with {self.proc.returncode}; see {self.log}")
                try:
                    async with http.get(self.url + "/healthz", timeout=aiohttp.ClientTimeout(total=1)) as r:
                        if r.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError("lianhu serve did not come up")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def _toml(v: str) -> str:
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, *, db: str, port: int, emu_url: str, secrets_: dict[str, str], journal: Path) -> None:
    path.write_text(
        f"""[database]
url = {_toml(db)}
auto_migrate = false
[server]
host = "127.0.0.1"
port = {port}
[wecom]
corp_id = {_toml(DEMO_CORP_ID)}
agent_id = {DEMO_AGENT_ID}
secret = {_toml(secrets_["app_secret"])}
token = {_toml(secrets_["app_token"])}
encoding_aes_key = {_toml(secrets_["app_aes"])}
api_base = {_toml(emu_url)}
[webhook]
base_url = {_toml(emu_url)}
[aibot]
bot_id = "aibot-sim"
name = "联户小助手"
token = {_toml(secrets_["bot_token"])}
encoding_aes_key = {_toml(secrets_["bot_aes"])}
[archive]
sdk = "emulator"
corp_id = {_toml(DEMO_CORP_ID)}
secret = {_toml(secrets_["archive_secret"])}
emulator_url = {_toml(emu_url)}
private_keys = {{ "1" = {_toml(secrets_["archive_key"])} }}
poll_seconds = 0.2
backoff_min_seconds = 0.2
backoff_max_seconds = 2.0
reader_lease_seconds = 3.0
[outbox]
poll_seconds = 0.2
lease_seconds = 3.0
sender_lease_seconds = 3.0
per_chat_per_minute = 10000
webhook_per_minute = 10000
[schedule]
enabled = false
[intake]
journal = {_toml(str(journal))}
""",
        encoding="utf-8",
    )


# --- the run -----------------------------------------------------------------------------------------------------
@dataclass
class Report:
    figures: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            self.failures.append(what)


async def _prepare_db(url: str, rf: RosterFile) -> None:
    await asyncio.get_running_loop().run_in_executor(None, migrate.upgrade, url)
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            await import_roster(s, rf, actor="simulate")
    finally:
        await engine.dispose()


async def _jobs_run(config: Path, name: str, period: str | None = None) -> str:
    cmd = [sys.executable, "-m", "bot.cli", "jobs", "run", name, "--force", "--config", str(config)]
    if period:
        cmd += ["--period", period]
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = await proc.communicate()
    return out.decode("utf-8", "replace")


async def simulate(
    messages: int = 2000,
    *,
    seed: int = 7,
    database_url: str | None = None,
    workdir: Path | None = None,
    concurrency: int = 4,
    say=print,
) -> Report:
    rng = random.Random(seed)
    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="lianhu-simulate-"))
    await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
    url = database_url or f"sqlite+aiosqlite:///{work / 'village.db'}"
    rf = load_roster(demo_roster_path())
    v = village(rf)
    await _prepare_db(url, rf)

    port = free_port()
    sec = {
        "app_secret": "sim-" + random_aes_key()[:16],
        "app_token": "simtoken" + random_aes_key()[:8],
        "app_aes": random_aes_key(),
        "bot_token": "botsim" + random_aes_key()[:8],
        "bot_aes": random_aes_key(),
    }
    es = EmulatorSettings(
        corp_id=DEMO_CORP_ID,
        agent_id=DEMO_AGENT_ID,
        app_secret=sec["app_secret"],
        app_token=sec["app_token"],
        app_aes_key=sec["app_aes"],
        app_callback_url=f"http://127.0.0.1:{port}/wecom/app",
        aibot_id="aibot-sim",
        aibot_name="联户小助手",
        aibot_token=sec["bot_token"],
        aibot_aes_key=sec["bot_aes"],
        aibot_callback_url=f"http://127.0.0.1:{port}/wecom/aibot",
    )
    emu, emu_runner, emu_url = await start_emulator(es, world_from_roster(rf))
    # the archive is read the way a village reads it: the SDK bridge inside `lianhu serve`, on the emulator's
    # archive-SDK mode, with a key pair made here (the private key's file goes in the server's config)
    from devtools.demo import archive_settings

    archive = archive_settings(emu, emu_url, DEMO_CORP_ID, work)
    sec |= {"archive_secret": archive.secret.get_secret_value(), "archive_key": archive.private_keys["1"]}
    config = work / "serve.toml"
    write_config(config, db=url, port=port, emu_url=emu_url, secrets_=sec, journal=work / "intake.journal")
    serve = Serve(config, port, work / "serve.log")
    traffic = Traffic(v, rng)
    said: list[Utterance] = []
    report = Report()
    started = time.monotonic()
    try:
        await serve.start()
        month = dt.datetime.now(TZ).strftime("%Y-%m")
        events = {
            int(messages * 0.35): "jobs",
            int(messages * 0.5): "restart",
            int(messages * 0.7): "kill",
            int(messages * 0.9): "jobs",
        }
        sem = asyncio.Semaphore(concurrency)

        async def one(u: Utterance) -> None:
            async with sem:
                try:
                    r = await emu.say(u.sender, u.chat, u.text)
                except (ValueError, aiohttp.ClientError):
                    return
                u.acked = r.ok if r.delivered else None

        pending: list[asyncio.Task[None]] = []
        for n in range(messages):
            if n % 50 == 0:
                traffic.matters = await _max_number(url)
            event = events.get(n)
            if event == "jobs":
                await asyncio.gather(*pending)
                pending.clear()
                out = await _jobs_run(config, "summary", month) + await _jobs_run(config, "digest")
                report.check("正在运行的机器人会发送" in out, f"a job run by hand sent beside the server: {out[-300:]}")
            elif event == "restart":
                await asyncio.gather(*pending)
                pending.clear()
                serve.stop()
                await serve.start()
            elif event == "kill":
                # SIGKILL while messages are in flight: what was acknowledged must survive (intake journal)
                serve.kill()
                await asyncio.gather(*pending)
                pending.clear()
                await serve.start()
            if n % 60 == 59 and n > 100:  # a matter carried all the way through: 受理, 派, 办结, the resident's rating
                await asyncio.gather(*pending)
                pending.clear()
                for u in await _lifecycle(url, v, rng):
                    said.append(u)
                    await one(u)
            u = traffic.draw()
            said.append(u)
            pending.append(asyncio.create_task(one(u)))
            if len(pending) >= concurrency * 4:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        await _settle(url, emu)
        serve.stop()
        report.figures["seconds"] = round(time.monotonic() - started, 1)
        await _check(report, url, emu, said, v, month)
    finally:
        serve.stop()
        await emu.close()
        await emu_runner.cleanup()
    say(_summary(report))
    return report


async def _lifecycle(url: str, v: Village, rng: random.Random) -> list[Utterance]:
    """The steps that take one open 诉求 raised by a resident to a rating, each said by the person who may."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            rows = list(
                await s.execute(
                    select(Matter.number, Household.external_userid)
                    .join(Household, Household.id == Matter.household_id)
                    .where(Matter.kind == "request", Matter.state == "已登记", Household.external_userid.is_not(None))
                    .order_by(Matter.id)
                    .limit(20)
                )
            )
    finally:
        await engine.dispose()
    if not rows:
        return []
    number, resident = rng.choice(rows)
    cadre = rng.choice(v.cadres)
    doer = rng.choice([m for m in v.members if m.userid != cadre.userid])
    g = v.branch_group
    return [
        Utterance(cadre.userid, g, f"{AT}受理 诉求{number}", "command"),
        Utterance(cadre.userid, g, f"{AT}派 诉求{number} {doer.name}", "command"),
        Utterance(doer.userid, g, f"{AT}办结 诉求{number} 已经请人修好了", "command"),
        Utterance(
            resident, "kf", rng.choice(["满意，谢谢你们", "修好了，很满意", "基本满意"]), "thanks", resident=True
        ),
    ]


async def _max_number(url: str) -> int:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return int(await s.scalar(select(func.max(Matter.number))) or 0)
    finally:
        await engine.dispose()


async def _settle(url: str, emu: Emulator, within: float = 120.0) -> None:
    """Until the archive is read to its end and every outgoing row is finished."""
    deadline = time.monotonic() + within
    engine = make_engine(url)
    try:
        sm = make_sessionmaker(engine)
        while time.monotonic() < deadline:
            async with sm() as s:
                cursor = await s.get(FeedCursor, "archive:seq")
                seq = int(cursor.value) if cursor is not None and cursor.value.isdigit() else 0
                busy = await s.scalar(
                    select(func.count())
                    .select_from(OutboundMessage)
                    .where(OutboundMessage.status.in_(("pending", "sending")))
                )
                unhandled = await s.scalar(
                    select(func.count()).select_from(InboundMessage).where(InboundMessage.status == "pending")
                )
            if seq >= len(emu.archive) and not busy and not unhandled:
                return
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()


_MENTION = re.compile(r"^\s*@\S+\s*")


def _words(text: str) -> str:
    return re.sub(r"\s+", "", _MENTION.sub("", text or ""))


async def _check(report: Report, url: str, emu: Emulator, said: list[Utterance], v: Village, month: str) -> None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            inbound = list(await s.execute(select(InboundMessage)))
            rows = [r[0] for r in inbound]
            by_id = {r.id: r for r in rows}
            visits = list(await s.scalars(select(Visit)))
            matters = list(await s.scalars(select(Matter)))
            tasks = list(await s.scalars(select(MustVisitTask)))
            # words the parser was unsure of: on the member's private daily list (handlers/unsure.py, attention.py)
            listed = set(await s.scalars(select(AttentionItem.inbound_id)))
            outbound = list(await s.scalars(select(OutboundMessage)))
            branch = await s.scalar(select(Branch))
            assert branch is not None
            today = dt.datetime.now(TZ).date()
            mr = await rhythm.month_report(s, branch, month, today=today)
            recount = await _recount(s, branch, month)
    finally:
        await engine.dispose()

    status = Counter(r.status for r in rows)
    report.figures.update(
        messages=len(said),
        inbound_rows=len(rows),
        handled=status["done"],
        archive_copies_ignored=status["copy"],
        same_words_by_second_door=status["same"],
        failed=status["failed"],
        visits=len(visits),
        matters=len(matters),
        outbound_sent=sum(1 for o in outbound if o.status == "sent" and o.channel != "passive"),
        dead_letters=sum(1 for o in outbound if o.status == "dead"),
    )
    # every person in the sample village exists and every channel is on: nothing may end as a dead letter
    dead = [(o.channel, o.target, o.error) for o in outbound if o.status == "dead"]
    report.check(not dead, f"dead letters: {dead[:3]}")
    report.check(status["failed"] == 0, f"{status['failed']} message(s) answered with the apology (a handler failed)")

    # 1. one utterance, one handling; no record from a copy
    from_copies = [
        x
        for x in [*(vi.inbound_id for vi in visits), *(m.source_inbound_id for m in matters)]
        if x is not None and by_id[x].status in ("copy", "same")
    ]
    report.check(not from_copies, f"records made from copies: {from_copies[:5]}")
    # each utterance may be handled once, whichever channels brought it: handled rows per (sender, words) never
    # outnumber the times those words were said
    handled = Counter((r.sender, _words(r.text or "")) for r in rows if r.status == "done" and _words(r.text or ""))
    uttered = Counter((u.sender, _words(u.text)) for u in said)
    twice = sum(max(0, n - uttered[k]) for k, n in handled.items())
    report.figures["utterances_handled_twice"] = twice
    report.check(twice == 0, f"{twice} utterance(s) handled by two channels")

    # 2. every sent row delivered exactly once, nothing delivered that no row sent
    def key(channel: str, target: str, content: str, msgtype: str) -> tuple[str, str, str]:
        return (channel, target, "<图片>" if msgtype == "image" else content)

    db_sent: Counter[tuple[str, str, str]] = Counter()
    for o in outbound:
        if o.status != "sent" or o.channel not in ("app", "webhook", "kf"):
            continue
        # a long app message goes out in numbered parts (bot/outbox.py): each part is one delivery
        parts = split_markdown(o.content, APP_TEXT_MAX) if o.channel == "app" else [o.content]
        db_sent.update(key(o.channel, o.target, p, o.msgtype) for p in parts)
    seen: Counter[tuple[str, str, str]] = Counter()
    for e in emu.timeline():
        if e.direction != "out":
            continue
        if e.channel == "message_send":
            seen[key("app", e.chat.removeprefix("app:"), e.content, e.msgtype)] += 1
        elif e.channel == "webhook":
            hook = next((g.webhook_key for g in v.rf.groups if g.chat_id == e.chat), e.chat)
            seen[key("webhook", hook or e.chat, e.content, e.msgtype)] += 1
        elif e.channel == "kf_send":
            seen[key("kf", e.chat.removeprefix("kf:"), e.content, e.msgtype)] += 1
    extra = seen - db_sent
    missing = db_sent - seen
    report.figures["deliveries"] = sum(seen.values())
    report.figures["delivered_twice_or_unasked"] = sum(extra.values())
    report.check(not extra, f"delivered more than the rows sent: {list(extra.items())[:3]}")
    report.check(not missing, f"rows marked sent never delivered: {list(missing.items())[:3]}")

    # 3. the month's figures equal a recount
    got = {
        "households_due": mr.households_due,
        "households_visited": mr.households_visited,
        "requests_new": mr.requests.new,
        "wishes_collected": mr.wishes.collected,
        "ratings": sum(mr.ratings.values()),
    }
    report.figures["month"] = got
    for k, want in recount.items():
        report.check(got[k] == want, f"本月汇总 {k}: report {got[k]} ≠ recount {want}")

    # 4. no command or query became a matter
    bad = []
    for m in matters:
        src = by_id.get(m.source_inbound_id or -1)
        words = _words(src.text or "") if src is not None else ""
        if words.startswith(COMMAND_WORDS) or words in QUERY_TEXTS:
            bad.append(words)
    report.figures["commands_as_matters"] = len(bad)
    report.check(not bad, f"commands or queries recorded as matters: {bad[:5]}")

    # 5. residents' needs recorded or shown to the member; acknowledged messages all stored
    told = {o.inbound_id for o in outbound if o.inbound_id is not None}
    recorded = {m.source_inbound_id for m in matters} | {t.source_inbound_id for t in tasks} | listed
    needs = {(u.sender, _words(u.text)) for u in said if u.resident and u.kind in ("problem", "wish", "thanks")}
    lost = [
        r.text
        for r in rows
        if r.status == "done"
        and (r.sender, _words(r.text or "")) in needs
        and r.id not in told
        and r.id not in recorded
        and not r.reply
    ]
    report.figures["resident_needs_lost"] = len(lost)
    report.check(not lost, f"resident messages neither recorded nor shown: {lost[:5]}")
    stored = {(r.sender, _words(r.text or "")) for r in rows}
    unstored = [u.text for u in said if u.acked and (u.sender, _words(u.text)) not in stored]
    report.figures["acked_but_lost"] = len(unstored)
    report.check(not unstored, f"acknowledged but not stored: {unstored[:5]}")


async def _recount(s, branch: Branch, month: str) -> dict[str, int]:
    """The month's headline numbers straight from the rows, written out here on purpose (not storage/rhythm.py)."""
    y, m = (int(x) for x in month.split("-"))
    start = dt.datetime(y, m, 1, tzinfo=TZ)
    end = dt.datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=TZ)
    exempt = {
        mid
        for (mid,) in await s.execute(select(Member.id).where(Member.branch_id == branch.id, Member.status == "免联户"))
    }
    links = list(
        await s.execute(
            select(Link.household_id, Link.member_id).where(
                Link.branch_id == branch.id, Link.valid_to.is_(None), Link.member_id.not_in(exempt or {-1})
            )
        )
    )
    active = {hid for (hid,) in await s.execute(select(Household.id).where(Household.branch_id == branch.id))}
    due = {(h, mid) for h, mid in links if h in active}
    visited = {
        (hid, mid)
        for hid, mid in await s.execute(
            select(Visit.household_id, Visit.member_id).where(
                Visit.branch_id == branch.id, Visit.visit_date >= start.date(), Visit.visit_date < end.date()
            )
        )
    }
    visited_households = {h for h, _ in visited}
    matters = list(await s.scalars(select(Matter).where(Matter.branch_id == branch.id)))

    def in_month(t: dt.datetime) -> bool:
        t = t if t.tzinfo else t.replace(tzinfo=dt.UTC)
        return start <= t < end

    ratings = [
        e
        for e in await s.scalars(select(MatterEvent).where(MatterEvent.action == "评价"))
        if in_month(e.at) and any(m.id == e.matter_id for m in matters)
    ]
    return {
        "households_due": len(due),
        "households_visited": sum(1 for h, _ in due if h in visited_households),
        "requests_new": sum(1 for m in matters if m.kind == "request" and in_month(m.created_at)),
        "wishes_collected": sum(1 for m in matters if m.kind == "wish" and in_month(m.created_at)),
        "ratings": len(ratings),
    }


def _summary(r: Report) -> str:
    f = r.figures
    lines = ["一个月的村子（模拟）/ a month in the village, simulated"]
    for k, val in f.items():
        lines.append(f"  {k}: {val}")
    lines.append("检查全部通过 / all checks hold" if not r.failures else "没通过 / failed:")
    lines += [f"  - {x}" for x in r.failures]
    return "\n".join(lines)


# --- the command -------------------------------------------------------------------------------------------------
def cmd_simulate(args: argparse.Namespace) -> int:
    report = asyncio.run(
        simulate(
            args.messages,
            seed=args.seed,
            database_url=args.database_url,
            workdir=Path(args.workdir) if args.workdir else None,
        )
    )
    return 0 if not report.failures else 1


def register(sub) -> None:
    help_ = "模拟村里一个月：所有渠道同时开、中途重启和强杀，之后检查不重不漏 / a simulated month with every channel on"
    sp = sub.add_parser("simulate", help=help_, description=help_)
    sp.add_argument("--messages", type=int, default=2000, help="消息条数 / messages (default 2000)")
    sp.add_argument("--seed", type=int, default=7)
    sp.add_argument("--database-url", help="默认在临时目录建 SQLite / default: SQLite in a temp folder")
    sp.add_argument("--workdir", help="配置、日志、数据库放哪里 / where config, logs and the database go")
    sp.set_defaults(func=cmd_simulate)
