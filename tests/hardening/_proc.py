"""The bot as a real process (`lianhu serve --config …`), next to a WeCom emulator running in the test process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from bot.config import Settings
from devtools.demo import world_from_roster
from emulator.server import Emulator, start_emulator
from emulator.world import EmulatorSettings
from storage.roster_file import load_roster

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _toml_str(v: str) -> str:
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(s: Settings, path: Path, port: int, extra: str = "") -> Path:
    lines = [
        "[database]",
        f"url = {_toml_str(s.database.url)}",
        "auto_migrate = false",
        "[server]",
        'host = "127.0.0.1"',
        f"port = {port}",
        "[wecom]",
        f"corp_id = {_toml_str(s.wecom.corp_id)}",
        f"agent_id = {s.wecom.agent_id}",
        f"secret = {_toml_str(s.wecom.secret)}",
        f"token = {_toml_str(s.wecom.token)}",
        f"encoding_aes_key = {_toml_str(s.wecom.encoding_aes_key)}",
        f"api_base = {_toml_str(s.wecom.api_base)}",
        "[webhook]",
        f"base_url = {_toml_str(s.webhook.base_url)}",
        "[aibot]",
        f"bot_id = {_toml_str(s.aibot.bot_id)}",
        f"name = {_toml_str(s.aibot.name)}",
        f"token = {_toml_str(s.aibot.token)}",
        f"encoding_aes_key = {_toml_str(s.aibot.encoding_aes_key)}",
    ]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


async def start_emulator_for(s: Settings, roster: Path, bot_url: str) -> tuple[Emulator, object, str]:
    es = EmulatorSettings(
        corp_id=s.wecom.corp_id,
        agent_id=s.wecom.agent_id,
        app_secret=s.wecom.secret,
        app_token=s.wecom.token,
        app_aes_key=s.wecom.encoding_aes_key,
        app_callback_url=f"{bot_url}/wecom/app",
        aibot_id=s.aibot.bot_id,
        aibot_name=s.aibot.name,
        aibot_token=s.aibot.token,
        aibot_aes_key=s.aibot.encoding_aes_key,
        aibot_callback_url=f"{bot_url}/wecom/aibot",
    )
    return await start_emulator(es, world_from_roster(load_roster(roster)))


class BotProcess:
    def __init__(self, config: Path, port: int, log_path: Path, log_level: str = "INFO") -> None:
        self.config, self.port, self.log_path, self.log_level = config, port, log_path, log_level
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{port}"

    def spawn(self) -> None:
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "--log-level", self.log_level, "serve", "--config", str(self.config)],
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    async def start(self, within: float = 30.0) -> None:
        self.spawn()
        assert self.proc is not None
        deadline = asyncio.get_running_loop().time() + within
        async with aiohttp.ClientSession() as http:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"bot exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
                try:
                    async with http.get(f"{self.url}/healthz", timeout=aiohttp.ClientTimeout(total=1)) as r:
                        if r.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError("bot did not come up")
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
