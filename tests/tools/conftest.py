"""Fixtures of the tool tests."""

from __future__ import annotations

import pytest

from tests.tools.aws_stubs import StubbedClients


@pytest.fixture(autouse=True)
def every_stubbed_call_was_made():
    """After each test: every response a test queued was asked for (no check skipped a call)."""
    StubbedClients.made.clear()
    yield
    for clients in StubbedClients.made:
        clients.assert_done()
