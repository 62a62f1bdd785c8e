"""What the simulator's tests share: a fake clock, fake-credential clients, and the Stubber
responses and expected requests of IoT Core and Kinesis (the fixtures are in conftest.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
from botocore.stub import Stubber

from scripts import simulate_devices as sim

NOW = dt.datetime(2026, 11, 23, 8, 15, 2, 125000, tzinfo=dt.timezone.utc)
ENDPOINT = "abc123example-ats.iot.eu-west-1.amazonaws.com"


class FakeTime:
    """A monotonic clock that only moves when slept on (or advanced by hand)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def fixed_now() -> dt.datetime:
    return NOW


def client(service: str, **kwargs: Any) -> Any:
    return boto3.client(
        service, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing", **kwargs
    )


# The botocore model gives FailedRecordCount a minimum of 1, so the Stubber refuses the 0 that
# the real API returns on full success: successful stub responses omit the field (the publisher
# reads the per-entry ErrorCode, not the count).
def ok_results(n: int) -> list[dict[str, str]]:
    return [{"SequenceNumber": str(4960000000000 + i), "ShardId": "shardId-000000000000"} for i in range(n)]


def ok() -> dict[str, str]:
    return ok_results(1)[0]


def throttled() -> dict[str, str]:
    return {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded for shard shardId-0"}


def internal_failure() -> dict[str, str]:
    return {"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service failure."}


def entries(readings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"Data": sim.encode_reading(r), "PartitionKey": r["device_id"]} for r in readings]


def expect_put(
    stub: Stubber, stream: str, readings: list[dict[str, Any]], results: list[dict[str, str]] | None = None
) -> None:
    """Queue a PutRecords call carrying exactly ``readings``; all succeed unless ``results``."""
    results = results if results is not None else ok_results(len(readings))
    response: dict[str, Any] = {"Records": results}
    failed = sum(1 for r in results if "ErrorCode" in r)
    if failed:
        response["FailedRecordCount"] = failed
    stub.add_response("put_records", response, {"StreamName": stream, "Records": entries(readings)})


def expect_publish(stub: Stubber, prefix: str, reading: dict[str, Any]) -> None:
    expected = {"topic": f"{prefix}/{reading['device_id']}/telemetry", "qos": 1, "payload": sim.encode_reading(reading)}
    stub.add_response("publish", {}, expected)
