"""A parser over the demo roster, built once per session (jieba init is the slow part)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nlp.parser import Parser

REPO = Path(__file__).resolve().parents[2]
DEMO_ROSTER = REPO / "devtools" / "demo_data" / "roster.xlsx"
# the shared material sits beside the repository, or beside the worktrees' folder
SHARED = next(
    (p for p in (REPO / ".." / "shared", REPO / ".." / ".." / "shared") if (p / "fixtures").is_dir()),
    REPO / ".." / "shared",
).resolve()
TODAY = date(2026, 11, 26)  # a Thursday


@pytest.fixture(scope="session")
def roster():
    from storage.roster_file import load_roster

    return load_roster(DEMO_ROSTER).to_nlp_roster()


@pytest.fixture(scope="session")
def parser(roster) -> Parser:
    return Parser(roster)


@pytest.fixture
def parse(parser):
    def _parse(text: str, sender: str | None = None, today: date = TODAY, chat: str = "group2"):
        return parser.parse(text, sender=sender, chat=chat, today=today)

    return _parse
