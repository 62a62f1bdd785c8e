"""Fixtures of the simulator's tests.

AWS is never called: every client is wrapped in an activated botocore Stubber before its first
call, and main() only ever gets clients from the injected factory (the real one is disabled, in
scripts.simulate_devices.cli where main() looks it up).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from scripts import simulate_devices as sim
from tests.scripts.simulate_devices.helpers import client


@pytest.fixture(autouse=True)
def no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, no config files, and main() cannot build a real client."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a test tried to create a real boto3 client factory")

    monkeypatch.setattr(sim.cli, "boto3_client_factory", refuse)


@pytest.fixture
def kinesis() -> Iterator[tuple[Any, Stubber]]:
    kinesis_client = client("kinesis")
    with Stubber(kinesis_client) as stubber:
        yield kinesis_client, stubber
        stubber.assert_no_pending_responses()
