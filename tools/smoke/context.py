"""The smoke test's options, its run state, and the injectable time and clients tests replace."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from config import AppConfig
from constructs_lib import ResourceNamer
from tools.aws_env import ClientFactory

#: Smoke devices are ``smoke-<run id>-0001``...: the prefix tells their rows apart from real ones.
DEVICE_PREFIX = "smoke"


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def event_instant(value: object) -> dt.datetime | None:
    """A record's ``event_time`` as an aware datetime, or None when it is not an ISO-8601 string."""
    try:
        return _instant(value) if isinstance(value, str) else None
    except ValueError:
        return None


class StageFailed(Exception):
    """The stage's check did not hold; the message says what was seen (and the fix, if known)."""


@dataclass(frozen=True)
class SmokeOptions:
    devices: int = 3
    readings: int = 30
    rate: float = 10.0
    target: str = "iot"
    raw_timeout: float = 900.0
    search_timeout: float = 600.0
    workflow_timeout: float = 3600.0
    query_timeout: float = 600.0
    poll_seconds: float = 15.0
    athena_role_arn: str | None = None
    athena_as_caller: bool = False
    seed: int | None = None


@dataclass(frozen=True)
class Targets:
    """Physical names, from the stacks' outputs."""

    raw_bucket: str
    stream_name: str
    workflow_name: str
    analysts_workgroup: str
    search_delivery_stream: str
    cluster_identifier: str
    admin_secret_arn: str


@dataclass
class SmokeContext:
    config: AppConfig
    options: SmokeOptions
    clients: ClientFactory
    #: ``role_clients(credentials)``: a client factory using AssumeRole credentials.
    role_clients: Callable[[dict[str, Any]], ClientFactory]
    progress: Callable[[str], None] = lambda text: None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)
    run_id: str = ""
    started_at: dt.datetime | None = None
    account: str = ""
    partition: str = "aws"
    targets: Targets | None = None
    #: The readings as sent, parsed by the contract (device_id, event_time, event_date, ...).
    sent: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.started_at is None:
            self.started_at = self.now()
        if not self.run_id:
            self.run_id = self.started_at.strftime("%Y%m%dt%H%M%S")

    @property
    def env_name(self) -> str:
        return self.config.environment.name

    @property
    def namer(self) -> ResourceNamer:
        return ResourceNamer(project=self.config.environment.project, stage=self.env_name)

    @property
    def device_prefix(self) -> str:
        return f"{DEVICE_PREFIX}-{self.run_id}"

    @property
    def device_ids(self) -> set[str]:
        return {reading["device_id"] for reading in self.sent}

    @property
    def sent_keys(self) -> set[tuple[str, dt.datetime]]:
        """(device_id, event time as an instant): what the curated zone keeps once per reading.
        Instants, not text: the same time may be written with milliseconds or microseconds."""
        return {(reading["device_id"], _instant(reading["event_time"])) for reading in self.sent}

    @property
    def event_dates(self) -> list[str]:
        return sorted({reading["event_date"] for reading in self.sent})

    def require_targets(self) -> Targets:
        if self.targets is None:
            raise StageFailed("the stack outputs were not discovered")
        return self.targets
