"""An operator's first commands on an empty machine answer in words, never with a traceback."""

from __future__ import annotations

from bot.cli import main


def test_jobs_list_on_an_empty_default_database_creates_the_tables(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LIANHU_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    assert main(["jobs", "list"]) == 0
    assert "还没有支部" in capsys.readouterr().out


def test_a_database_without_tables_is_named_not_dumped(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LIANHU_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bare.db'}")
    monkeypatch.setenv("LIANHU_DATABASE_AUTO_MIGRATE", "false")
    assert main(["jobs", "list"]) == 2
    err = capsys.readouterr().err
    assert "数据库用不了" in err and "lianhu db upgrade" in err and "Traceback" not in err
