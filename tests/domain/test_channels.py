"""Channel ownership as a table: every (channel, chat) pair and whether it is handled."""

from __future__ import annotations

import pytest

from domain.channels import owns

#   channel    chat     internal  bot listens  handled
CASES = [
    ("aibot", "group", True, True, True),  # @ in the 党员群: the 智能机器人's callback
    ("ws", "group", True, True, True),
    ("archive", "group", True, True, False),  # …and its archive copy is ignored
    ("archive", "group", True, False, True),  # no 智能机器人 configured: the archive is the only ear
    ("aibot", "group", True, False, True),  # it arrived, so the 智能机器人 does listen (settings may not say so)
    ("archive", "group", False, True, True),  # 联户群 with residents: only the archive reads it
    ("archive", "group", False, False, True),
    ("aibot", "group", False, True, False),
    ("archive", "single", None, True, False),  # a member's private chat seen in the archive
    ("archive", "single", None, False, False),
    ("aibot", "single", None, True, True),
    ("app", "single", None, True, True),
    ("kf", "single", None, True, True),
    ("console", "single", None, True, True),
    ("aibot", "group", None, True, True),  # a group the roster does not know: the bot says so
    ("archive", "group", None, True, False),
]


@pytest.mark.parametrize(("channel", "chat", "internal", "bot", "handled"), CASES)
def test_owner_table(channel, chat, internal, bot, handled):
    assert owns(channel, chat, internal, bot_listens=bot) is handled


def test_exactly_one_channel_owns_each_group():
    # with a 智能机器人 both channels may bring a group's words; without one only the archive does
    for internal in (True, False):
        owners = [c for c in ("aibot", "ws", "archive") if owns(c, "group", internal, bot_listens=True)]
        assert owners == (["aibot", "ws"] if internal else ["archive"]), internal
        assert owns("archive", "group", internal, bot_listens=False)
