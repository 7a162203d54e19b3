"""A local WeCom (企业微信) emulator for tests and `lianhu demo`; see docs/emulator.md."""

from emulator.faults import Faults
from emulator.server import Emulator, Entry, SayResult, start_emulator
from emulator.world import Chat, EmulatorSettings, User, World

__all__ = [
    "Chat",
    "Emulator",
    "EmulatorSettings",
    "Entry",
    "Faults",
    "SayResult",
    "User",
    "World",
    "start_emulator",
]
