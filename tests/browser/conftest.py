"""Fixtures for the browser tests: the bot and the emulator on real sockets (tests/transport)."""

from tests.transport.conftest import make_pair  # noqa: F401  (fixture)
