"""Typed settings: defaults < TOML file (`--config`) < environment (`LIANHU_<SECTION>_<KEY>`).

Every key is documented in config.example.toml; a test keeps the two in step.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from domain.points import DEFAULTS as POINTS_DEFAULTS
from domain.policy import APPROVAL_KEYWORDS, RATING_SCORES, WEIGHTS, PolicyOptions

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
    mode: Literal["callback", "websocket"] = "callback"  # websocket: no public HTTPS address needed
    ws_url: str = "wss://openws.work.weixin.qq.com"
    secret: str = ""  # long-connection secret (with bot_id)
    ping_seconds: float = 30.0
    reconnect_min_seconds: float = 1.0
    reconnect_max_seconds: float = 30.0


class WebhookSettings(_Section):
    base_url: str = "https://qyapi.weixin.qq.com"


class BranchSettings(_Section):
    name: str = ""
    theme_day: str = "每月5日"


class ConversationSettings(_Section):
    timeout_seconds: int = 300


class RolesSettings(_Section):
    township_userids: list[str] = Field(default_factory=list)
    volunteer_userids: list[str] = Field(default_factory=list)


class MattersSettings(_Section):
    """Time limits for 诉求/心愿 (defaults from Ninghai's 村民e点通)."""

    respond_hours: int = 24
    close_days: int = 5
    followup_days: int = 1
    remind_before_days: int = 1
    duplicate_similarity: int = 80


class PrivacySettings(_Section):
    retention_days: int = 180


class NlpSettings(_Section):
    vocab_path: str = ""  # empty: the bundled vocabulary


class ArchiveSettings(_Section):
    """The chat archive (会话内容存档), read with Tencent's SDK (bot/archive_bridge/) by `lianhu serve` or
    `lianhu archive bridge`; empty sdk = not read."""

    poll_seconds: float = 15.0
    batch_limit: int = 100
    sdk: Literal["", "pywecomarchive", "emulator"] = ""
    corp_id: str = ""
    secret: SecretStr = SecretStr("")  # the 会话内容存档 Secret, not the app's
    private_keys: dict[str, str] = Field(default_factory=dict)  # publickey_ver -> PEM file of the private key
    proxy: str = ""
    proxy_password: SecretStr = SecretStr("")
    sdk_timeout_seconds: int = 10
    emulator_url: str = ""  # sdk = "emulator": the emulator's base URL
    backoff_min_seconds: float = 1.0
    backoff_max_seconds: float = 300.0
    media_dir: str = ""  # empty: media stay a placeholder ("[图片]"), nothing is downloaded
    media_max_bytes: int = 20 * 1024 * 1024
    # one reader per database; another instance takes over when the reader has not renewed for this long
    reader_lease_seconds: float = 30.0


class KfSettings(_Section):
    """微信客服: the branch's account for residents' 1:1 chats (`lianhu kf link`)."""

    open_kfid: str = ""
    scene: str = "lianhu"  # kf/add_contact_way scene: letters/digits/_- up to 32


class OutboxSettings(_Section):
    poll_seconds: float = 2.0
    max_attempts: int = 8
    lease_seconds: float = 60.0  # a row stuck in 'sending' longer than this belongs to a dead worker
    # one worker per database sends (storage/outbox.py); another instance takes over when the sender's lease has
    # not been renewed for this long (a kill -9), and until then only stands by
    sender_lease_seconds: float = 30.0
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 600.0
    concurrency: int = 8
    webhook_per_minute: int = 20
    per_chat_per_minute: int = 30


class ScheduleSettings(_Section):
    """The branch's rhythm (bot/scheduler.py): cron expressions in `timezone`."""

    enabled: bool = True
    timezone: str = "Asia/Shanghai"
    tick_seconds: float = 60.0
    lease_seconds: int = 180  # one instance holds the scheduler lease; others take over when it lapses
    catch_up_days: int = 7  # a run missed while down is made up once, if not older than this
    summary_time: str = "09:00"  # 主题党日 summary: on each branch's theme day at this time
    digest_cron: str = "0 8 * * 2"  # 周二联合办公
    digest_to: list[str] = Field(default_factory=lambda: ["secretary", "group"])
    reminders_cron: str = "0 9 * * *"
    matter_timers_cron: str = "5 * * * *"
    retention_cron: str = "30 3 * * *"
    remind_from_day: int = 20
    remind_every_days: int = 7
    points_cron: str = "30 1 * * *"
    year_end_cron: str = "0 9 20 12 *"
    attention_cron: str = "0 18 * * *"  # the member's private list of residents' words that made no record


class PointsSettings(_Section):
    """积分 rules (storage/points.py); every entry is a ledger row with its cause."""

    # defaults live once, in domain/points.py
    visit: int = POINTS_DEFAULTS.visit
    key_visit: int = POINTS_DEFAULTS.key_visit
    rating_satisfied: int = POINTS_DEFAULTS.rating_satisfied
    rating_basic: int = POINTS_DEFAULTS.rating_basic
    rating_unsatisfied: int = POINTS_DEFAULTS.rating_unsatisfied
    must_visit_timely: int = POINTS_DEFAULTS.must_visit_timely
    must_visit_days: int = POINTS_DEFAULTS.must_visit_days
    overdue: int = POINTS_DEFAULTS.overdue
    year_end_threshold: int = 60
    public_ranking: bool = False


class DutyItem(_Section):
    """One duty of the branch's 个性清单 (policy article 3)."""

    name: str
    words: list[str]  # cue words that name it in a visit report, matched literally
    description: str = ""


class DutiesSettings(_Section):
    """五联到户: the five common duties are built in (domain/duties.py); `extra` is the branch's 个性清单."""

    extra: list[DutyItem] = Field(default_factory=list)


class OpinionsSettings(_Section):
    """把关 (article 8): matters the branch approves, on which the linked member's view is asked first."""

    approval_keywords: list[str] = Field(default_factory=lambda: list(APPROVAL_KEYWORDS))
    wait_days: int = 3  # the branch may decide without the view once it has been asked this long


class AssessmentSettings(_Section):
    """考评 (article 9): the year score = weighted 村党组织评分 (branch) and households' ratings (households)."""

    weights: dict[str, float] = Field(default_factory=lambda: dict(WEIGHTS))
    rating_scores: dict[str, float] = Field(default_factory=lambda: dict(RATING_SCORES))
    candidates: int = 3
    candidate_min_coverage: float = 0.8


class IntakeSettings(_Section):
    # Every pushed message (智能机器人 / app callback) is appended and fsynced here before WeCom gets its 200, so a
    # crash or a database held by a long write loses nothing that was acknowledged; replayed at start-up.
    # Empty: next to the SQLite file ("<db>.intake"), or var/lianhu-intake-<url hash>.journal for PostgreSQL.
    # "off": none.
    journal: str = ""
    journal_max_bytes: int = 8 * 1024 * 1024  # rewritten to the still-unfinished records past this size
    # The same words from the same person arriving by a second channel within this many seconds (a resident's
    # 联户群 message and the same text to 微信客服; an archive copy the ownership rule did not catch) are one
    # utterance: recorded and answered once (bot/intake.py).
    same_words_seconds: int = 600


class ConsoleSettings(_Section):
    """The secretary's console in a browser (bot/console/): WeCom login, session cookies."""

    oauth_base: str = "https://open.weixin.qq.com"  # 网页授权 inside the WeCom client
    sso_base: str = "https://login.work.weixin.qq.com"  # 扫码登录 on a PC browser
    session_ttl_seconds: int = 8 * 3600
    cookie_secure: Literal["auto", "always", "never"] = "auto"  # auto: Secure when reached over https
    session_secret: str = ""  # signs session cookies; empty: derived from [wecom] secret (shared by instances)


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
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    points: PointsSettings = Field(default_factory=PointsSettings)
    matters: MattersSettings = Field(default_factory=MattersSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)

    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    kf: KfSettings = Field(default_factory=KfSettings)
    duties: DutiesSettings = Field(default_factory=DutiesSettings)
    opinions: OpinionsSettings = Field(default_factory=OpinionsSettings)
    assessment: AssessmentSettings = Field(default_factory=AssessmentSettings)


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
    archive = data.get("archive")
    if isinstance(archive, dict) and {"feed_url", "feed_token"} & archive.keys():
        # said here, not by pydantic, whose message would repeat the section's values (the secret among them)
        raise ConfigError(
            "配置有误：[archive] feed_url / feed_token 已经不用了。联户助手直接用腾讯的会话存档 SDK 读取，"
            "请删掉这两项，改填 sdk、corp_id、secret、private_keys（见 docs/channels.md）。"
        )
    try:
        settings = Settings.model_validate(data)
        policy_options(settings)  # the policy sections are checked at load, not at the first message
        return settings
    except ValidationError as exc:
        raise ConfigError(f"配置有误：{exc}") from exc


def policy_options(settings: Settings) -> PolicyOptions:
    """[duties], [opinions], [assessment] as the rules' options (domain/policy.py). Raises ConfigError."""
    from domain import policy

    try:
        return policy.options_from(settings)
    except ValueError as exc:
        raise ConfigError(f"配置有误：{exc}") from exc
