"""Settings: file < environment, clear errors, and config.example.toml documents every key."""

import tomllib
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_example_documents_every_key_and_loads():
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for section, field in Settings.model_fields.items():
        assert section in data, f"[{section}] missing from config.example.toml"
        model = field.annotation
        assert set(data[section]) == set(model.model_fields), f"[{section}] keys differ"
    load_settings(EXAMPLE, environ={})


def test_environment_overrides_file(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[database]\nurl = "sqlite+aiosqlite:///a.db"\n[server]\nport = 1\n', encoding="utf-8")
    s = load_settings(
        f,
        environ={
            "LIANHU_DATABASE_URL": "postgresql+asyncpg://x/y",
            "LIANHU_SERVER_PORT": "9",
            "LIANHU_ROLES_TOWNSHIP_USERIDS": "a, b",
        },
    )
    assert s.database.url == "postgresql+asyncpg://x/y"
    assert s.server.port == 9
    assert s.roles.township_userids == ["a", "b"]


@pytest.mark.parametrize("text", ["[server]\nport = 'x'\n", "[nosuch]\na = 1\n", "not toml ==="])
def test_bad_config_is_a_clear_error(tmp_path, text):
    f = tmp_path / "c.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_settings(f, environ={})


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="不存在"):
        load_settings(tmp_path / "nope.toml", environ={})
