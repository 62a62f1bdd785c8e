"""Fixtures for the Lambda function tests: a Lambda context, Powertools' environment, Firehose events."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).parent / "events"
SERVICE = "telemetry-firehose-transform"
NAMESPACE = "AnalyticsPlatform/Test"


@pytest.fixture
def lambda_context():
    """A stand-in for the Lambda context, as in Powertools' testing docs."""

    @dataclass
    class LambdaContext:
        function_name: str = "telemetry-firehose-transform"
        function_version: str = "$LATEST"
        memory_limit_in_mb: int = 128
        invoked_function_arn: str = "arn:aws:lambda:eu-central-1:123456789012:function:telemetry-firehose-transform"
        aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"
        log_group_name: str = "/aws/lambda/telemetry-firehose-transform"
        log_stream_name: str = "2026/11/23/[$LATEST]0123456789abcdef0123456789abcdef"

        def get_remaining_time_in_millis(self) -> int:
            return 60_000

    return LambdaContext()


@pytest.fixture
def powertools_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment the function runs with (set by the stack), minus anything that mutes metrics."""
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", SERVICE)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    for name in ("POWERTOOLS_DEV", "POWERTOOLS_METRICS_DISABLED"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def load_event() -> Callable[[str], dict[str, Any]]:
    """``load_event("firehose_kinesis_good")``: a Firehose event from ``events/`` (a fresh copy)."""

    def load(name: str) -> dict[str, Any]:
        return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))

    return load


@pytest.fixture(scope="session")
def firehose_record() -> Callable[..., dict[str, Any]]:
    """``firehose_record(data=..., record_id=..., arrival_ms=...)``: one record as Firehose sends it
    for a Kinesis Data Streams source. ``data`` is used as is (a str) or base64-encoded (bytes)."""

    def make(data: str | bytes, record_id: str = "r-1", arrival_ms: int = 1795421702400) -> dict[str, Any]:
        encoded = base64.b64encode(data).decode("ascii") if isinstance(data, bytes) else data
        return {
            "recordId": record_id,
            "approximateArrivalTimestamp": arrival_ms,
            "data": encoded,
            "kinesisRecordMetadata": {
                "shardId": "shardId-000000000000",
                "partitionKey": "pk",
                "approximateArrivalTimestamp": arrival_ms,
                "sequenceNumber": "49657321842005383717219532475013468541925617000000000001",
                "subsequenceNumber": "",
            },
        }

    return make
