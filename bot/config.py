"""Typed settings: defaults < TOML file (`--config`) < environment (`LIANHU_<SECTION>_<KEY>`).

Every key is documented in config.example.toml; a test keeps the two in step.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ENV_PREFIX = "LIANHU_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///var/lianhu.db"
    echo: bool = False
    auto_migrate: bool = True  # run alembic upgrade head at start


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""  # how WeCom reaches us; only shown in help text
    max_body_bytes: int = 64 * 1024
    replay_window_seconds: int = 600
    reply_budget_seconds: float = 3.0


class WeComSettings(_Section):
    """The self-built app (自建应用): XML callback + message/send."""

    corp_id: str = ""
    agent_id: int = 0
    secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    api_base: str = "https://qyapi.weixin.qq.com"


class AiBotSettings(_Section):
    """The 智能机器人 in API (callback) mode."""

    bot_id: str = ""
    name: str = "联户小助手"
    token: str = ""
    encoding_aes_key: str = ""


class WebhookSettings(_Section):
    base_url: str = "https://qyapi.weixin.qq.com"


class BranchSettings(_Section):
    name: str = ""
    theme_day: str = "每月5日"


class ConversationSettings(_Section):
    timeout_seconds: int = 300


class RolesSettings(_Section):
    township_userids: list[str] = Field(default_factory=list)


class NlpSettings(_Section):
    vocab_path: str = ""  # empty: the bundled vocabulary


class Settings(_Section):
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    wecom: WeComSettings = Field(default_factory=WeComSettings)
    aibot: AiBotSettings = Field(default_factory=AiBotSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    branch: BranchSettings = Field(default_factory=BranchSettings)
    conversation: ConversationSettings = Field(default_factory=ConversationSettings)
    roles: RolesSettings = Field(default_factory=RolesSettings)
    nlp: NlpSettings = Field(default_factory=NlpSettings)


class ConfigError(Exception):
    pass


def _env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    sections = Settings.model_fields
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        for section in sections:
            if rest.startswith(section + "_"):
                key = rest[len(section) + 1 :]
                field = sections[section].annotation.model_fields.get(key)  # type: ignore[union-attr]
                if field is None:
                    continue
                if field.annotation == list[str]:
                    value = [v for v in (s.strip() for s in value.split(",")) if v]  # type: ignore[assignment]
                out.setdefault(section, {})[key] = value
                break
    return out


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    data: dict[str, Any] = {}
    if path:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"配置文件不存在：{p}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"配置文件 {p} 不是合法的 TOML：{exc}") from exc
    for section, values in _env_overrides(os.environ if environ is None else environ).items():
        data.setdefault(section, {}).update(values)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"配置有误：{exc}") from exc
