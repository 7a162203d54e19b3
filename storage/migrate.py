"""Run alembic from anywhere with the configured URL (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from storage.db import ensure_sqlite_dir

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def revisions(url: str = "sqlite+aiosqlite://") -> list:
    """Every revision, oldest first (for the up/down/up stairway test)."""
    return list(reversed(list(ScriptDirectory.from_config(alembic_config(url)).walk_revisions())))
