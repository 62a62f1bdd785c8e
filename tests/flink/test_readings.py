"""Kinesis record bytes to per-metric readings, or a rejection that keeps the bytes."""

from __future__ import annotations

import json

import pytest

from flink_apps.anomaly_detection.readings import MetricReading, Rejection, decode


def record(**fields: object) -> bytes:
    reading = {"schema_version": 1, "device_id": "pump-7", "event_time": "2026-11-23T09:15:02.125+01:00",
               "metrics": {"temperature_c": 21.5, "vibration_mm_s": 1}}
    reading.update(fields)
    return json.dumps(reading).encode()


def test_one_reading_per_metric_in_utc_epoch_millis() -> None:
    assert decode(record()) == [
        MetricReading("pump-7", "temperature_c", 1795421702125, 21.5, "2026-11-23T08:15:02.125Z"),
        MetricReading("pump-7", "vibration_mm_s", 1795421702125, 1.0, "2026-11-23T08:15:02.125Z"),
    ]


def test_microseconds_are_kept_in_the_text_and_floored_in_millis() -> None:
    (reading,) = decode(record(event_time="2026-11-23T08:15:02.125999Z", metrics={"t": 1}))
    assert (reading.event_ms % 1000, reading.event_time) == (125, "2026-11-23T08:15:02.125999Z")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe{}", "not UTF-8 text: invalid start byte at byte 0"),
        (b"{\"schema_version\": 1", "not JSON"),
        (b"[1, 2]", "breaks the telemetry contract: reading: expected a JSON object, got list"),
        (record(metrics={"t": "high"}), "metrics.t: expected a number, got str"),
        (record(metrics={"t": float("nan")}), "metrics.t: must be finite"),
        (json.dumps({"schema_version": 1, "device_id": "d", "event_time": 1795421702125}).encode(), "missing required field(s): metrics"),
        (record(event_time="yesterday"), "event_time: 'yesterday' is not an ISO-8601 timestamp"),
        (b"x" * (128 * 1024 + 1), "exceeds 131072"),
    ],
)
def test_a_bad_record_is_rejected_with_its_reason_and_bytes(raw: bytes, reason: str) -> None:
    result = decode(raw)
    assert isinstance(result, Rejection)
    assert reason in result.reason
    assert result.raw == raw
