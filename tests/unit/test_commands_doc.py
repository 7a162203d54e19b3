"""docs/commands.md lists every command of the one table (domain/commands.py), with its usage as the bot says it."""

from pathlib import Path

from domain.commands import COMMANDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "commands.md"


def test_every_command_of_the_table_is_documented():
    text = DOC.read_text(encoding="utf-8")
    cells = {c.usage: "`" + c.usage.replace("|", "\\|") + "`" for c in COMMANDS.values()}  # "|" escaped in a table
    missing = [usage for usage, cell in cells.items() if cell not in text]
    assert missing == []
