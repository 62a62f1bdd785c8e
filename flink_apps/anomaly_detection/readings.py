"""From a Kinesis record's bytes to the readings the detector scores, or a rejection with a reason.

A record is one published reading (the telemetry contract, ``telemetry_contract.py``, the same
module the Firehose transform validates with, so the stream has one definition of a good reading).
It carries several metrics; the detector keys by (device, metric), so one record becomes one
:class:`MetricReading` per metric. Anything the contract refuses (not UTF-8, not JSON, a missing
field, a non-numeric or non-finite value, a time out of range, ...) becomes a :class:`Rejection`
that keeps the original bytes: it is counted and written to the anomaly sink, never fatal and
never dropped.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import telemetry_contract as contract

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class MetricReading:
    """One metric of one reading. ``event_ms`` is the reading's time in epoch milliseconds (Flink's
    event-time unit; a sub-millisecond part is kept in ``event_time``, the contract's text)."""

    device_id: str
    metric: str
    event_ms: int
    value: float
    event_time: str


@dataclass(frozen=True)
class Rejection:
    reason: str
    raw: bytes


def event_millis(moment: dt.datetime) -> int:
    """Epoch milliseconds, rounded down (exact integer arithmetic, no float)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds) // 1000


def decode(raw: bytes) -> list[MetricReading] | Rejection:
    """The record's readings, one per metric in name order, or why it was refused."""
    if len(raw) > contract.MAX_READING_BYTES:
        return Rejection(f"record of {len(raw)} bytes exceeds {contract.MAX_READING_BYTES}", raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return Rejection(f"not UTF-8 text: {error.reason} at byte {error.start}", raw)
    try:
        document = json.loads(text)
    except ValueError as error:
        return Rejection(f"not JSON: {error}", raw)
    try:
        reading = contract.parse_reading(document)
    except contract.ContractError as error:
        return Rejection(f"breaks the telemetry contract: {error}", raw)
    moment = contract.parse_timestamp(reading["event_time"], "event_time")
    event_ms = event_millis(moment)
    return [
        MetricReading(reading["device_id"], name, event_ms, float(value), reading["event_time"])
        for name, value in sorted(reading["metrics"].items())
    ]
