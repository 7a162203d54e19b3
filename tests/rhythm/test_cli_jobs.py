"""`lianhu jobs run / list`: the same once-per-period claim as the scheduler, and a readable listing."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.cli import main
from storage.models import OutboundMessage
from tests.rhythm.conftest import Db


async def test_jobs_run_once_then_list(db: Db, monkeypatch, capsys):
    monkeypatch.setenv("LIANHU_DATABASE_URL", db.url)
    monkeypatch.setenv("LIANHU_DATABASE_AUTO_MIGRATE", "false")
    args = ["jobs", "run", "summary", "--period", "2026-11", "--no-send"]
    assert await asyncio.to_thread(main, args) == 0
    first = capsys.readouterr().out
    assert "2026-11：已运行" in first and "已写入发件箱" in first
    async with db.sm() as s:
        n = await s.scalar(
            select(func.count()).select_from(OutboundMessage).where(OutboundMessage.idempotency_key.like("summary:%"))
        )
    assert n >= 14  # group part(s) + chart + the members' parts
    assert await asyncio.to_thread(main, args) == 0
    assert "本周期已运行过" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["jobs", "list"]) == 0
    listing = capsys.readouterr().out
    assert "summary" in listing and "2026-11 完成" in listing and "year_end" in listing and "下次" in listing
