"""Fixtures shared with the transport tests."""

from tests.transport.conftest import make_pair  # noqa: F401  (fixture)
