"""Every quarantine reason, each from a minimal bad line, and lines that must stay curatable.

All lines are validated in one Spark job (module fixture); the tests look the outcome up."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from pyspark.sql import SparkSession

from glue_scripts import raw_to_curated as job
from tests.glue.readings import T0, line, normalised

GOOD = normalised()
GOOD_LINE = line(GOOD)


def changed(**fields: Any) -> str:
    """The good reading with some fields replaced (``...=DELETE`` removes one), as a raw line."""
    record = {**GOOD, **fields}
    return line({key: value for key, value in record.items() if value is not DELETE})


DELETE = object()
HOUR_TEN = normalised(event_time=T0.replace(hour=10))

# (reason, case id, raw line). A line's first failing rule decides; a type mismatch must never
# reach the curated table as a null.
BAD_LINES: list[tuple[str, str, str]] = [
    (job.NOT_JSON_OBJECT, "prose", "not json"),
    (job.NOT_JSON_OBJECT, "empty line", ""),
    (job.NOT_JSON_OBJECT, "array", f"[{GOOD_LINE}]"),
    (job.NOT_JSON_OBJECT, "json null", "null"),
    (job.NOT_JSON_OBJECT, "two readings on one line", GOOD_LINE + line(normalised("fan-1"))),
    (job.NOT_JSON_OBJECT, "text after the object", GOOD_LINE + " trailing"),
    (job.NOT_JSON_OBJECT, "truncated", GOOD_LINE[:-1]),
    (job.NOT_JSON_OBJECT, "bare NaN", GOOD_LINE.replace('"temperature_c":21.5', '"temperature_c":NaN')),
    (job.INVALID_UNICODE, "lone high surrogate", changed(attributes={"label": "sensor \ud83d"})),
    (job.INVALID_UNICODE, "lone low surrogate", changed(attributes={"label": "\ude00 after"})),
    (job.INVALID_UNICODE, "reversed pair", changed(attributes={"label": "\ude00\ud83d"})),
    (job.INVALID_UNICODE, "upper-case escape", GOOD_LINE.replace('"site":"hamburg"', '"site":"x\\uD83D"')),
    (job.INVALID_UNICODE, "escaped backslash, then a lone low one", changed(attributes={"label": "\\\udc00"})),
    (job.INVALID_UNICODE, "in a metric name", changed(metrics={"t\ud83d": 1.0})),
    (job.INVALID_UNICODE, "in the device id", changed(device_id="pump-\ud83d")),
    (job.UNKNOWN_FIELD, "extra key", changed(colour="red")),
    *((job.MISSING_FIELD + name, "absent", changed(**{name: DELETE})) for name in job.REQUIRED_FIELDS),
    (job.MISSING_FIELD + "device_id", "null", changed(device_id=None)),
    (job.BAD_TYPE + "schema_version", "string", changed(schema_version="1")),
    (job.BAD_TYPE + "schema_version", "float", changed(schema_version=1.0)),
    (job.BAD_TYPE + "schema_version", "boolean", changed(schema_version=True)),
    (job.BAD_TYPE + "device_id", "number", changed(device_id=42)),
    (job.BAD_TYPE + "device_id", "boolean", changed(device_id=True)),
    (job.BAD_TYPE + "event_hour", "number", line({**HOUR_TEN, "event_hour": 10})),
    (job.BAD_TYPE + "metrics", "string", changed(metrics="21.5")),
    (job.BAD_TYPE + "metrics", "array", changed(metrics=[21.5])),
    (job.BAD_TYPE + "attributes", "string", changed(attributes="hamburg")),
    (job.UNSUPPORTED_SCHEMA_VERSION, "2", changed(schema_version=2)),
    (job.BAD_DEVICE_ID, "space", changed(device_id="pump 42")),
    (job.BAD_DEVICE_ID, "too long", changed(device_id="p" * 129)),
    (job.BAD_DEVICE_ID, "object", changed(device_id={"id": "pump-0042"})),
    (job.BAD_EVENT_TIME, "no zone", changed(event_time="2026-11-23T08:15:02.125")),
    (job.BAD_EVENT_TIME, "offset instead of Z", changed(event_time="2026-11-23T09:15:02.125+01:00")),
    (job.BAD_EVENT_TIME, "two-digit millis", changed(event_time="2026-11-23T08:15:02.12Z")),
    (job.BAD_EVENT_TIME, "four fractional digits", changed(event_time="2026-11-23T08:15:02.1255Z")),
    (job.BAD_EVENT_TIME, "seven fractional digits", changed(event_time="2026-11-23T08:15:02.1255001Z")),
    (job.BAD_EVENT_TIME, "micros that should be millis", changed(event_time="2026-11-23T08:15:02.125000Z")),
    (job.BAD_EVENT_TIME, "february 30th", changed(event_time="2026-02-30T08:15:02.125Z")),
    (job.BAD_EVENT_TIME, "before 2000", changed(event_time="1999-12-31T23:59:59.999Z")),
    (job.BAD_EVENT_TIME, "epoch millis", changed(event_time=1795425302125)),
    (job.BAD_INGESTED_AT, "prose", changed(ingested_at="yesterday")),
    (job.BAD_INGESTED_AT, "epoch millis", changed(ingested_at=1795425303000)),
    (job.BAD_INGESTED_AT, "after 2100", changed(ingested_at="2100-01-01T00:00:00.000Z")),
    (job.PARTITION_MISMATCH, "date", changed(event_date="2026-11-24")),
    (job.PARTITION_MISMATCH, "hour", changed(event_hour="09")),
    (job.PARTITION_MISMATCH, "unpadded hour", changed(event_hour="8")),
    (job.BAD_METRICS, "empty", changed(metrics={})),
    (job.BAD_METRICS, "too many", changed(metrics={f"m{i}": i for i in range(job.MAX_METRICS + 1)})),
    (job.BAD_METRICS, "string value", changed(metrics={"temperature_c": "hot"})),
    (job.BAD_METRICS, "NaN as a string", changed(metrics={"temperature_c": "NaN"})),
    (job.BAD_METRICS, "boolean value", changed(metrics={"temperature_c": True})),
    (job.BAD_METRICS, "null value", changed(metrics={"temperature_c": None})),
    (job.BAD_METRICS, "bad name", changed(metrics={"1st": 1.0})),
    (job.BAD_METRICS, "beyond float range", changed(metrics={"temperature_c": 1}).replace('"temperature_c":1', '"temperature_c":1e400')),
    (job.INEXACT_METRIC, "2^53 + 1", changed(metrics={"bytes_total": 2**53 + 1})),
    (job.INEXACT_METRIC, "a 64-bit byte counter", changed(metrics={"temperature_c": 21.5, "bytes_total": 9007199255316501})),
    (job.INEXACT_METRIC, "negative", changed(metrics={"balance": -(2**53) - 1})),
    (job.INEXACT_METRIC, "u64 max", changed(metrics={"bytes_total": 2**64 - 1})),
    (job.INEXACT_METRIC, "39 digits", changed(metrics={"huge": 10**38 + 1})),
    (job.BAD_ATTRIBUTES, "number value", changed(attributes={"site": 5})),
    (job.BAD_ATTRIBUTES, "null value", changed(attributes={"site": None})),
    (job.BAD_ATTRIBUTES, "object value", changed(attributes={"site": {"city": "hamburg"}})),
    (job.BAD_ATTRIBUTES, "too long", changed(attributes={"site": "h" * 257})),
    (job.BAD_ATTRIBUTES, "too many", changed(attributes={f"a{i}": "x" for i in range(job.MAX_ATTRIBUTES + 1)})),
    (job.BAD_ATTRIBUTES, "bad name", changed(attributes={"my site": "hamburg"})),
]

# Lines the contract accepts, including the corners a careless check would reject.
GOOD_LINES: list[tuple[str, str]] = [
    ("as the transform writes it", GOOD_LINE),
    ("no ingested_at", line(normalised(ingested_after=None))),
    ("ingested_at absent", changed(ingested_at=DELETE)),
    ("attributes empty", line(normalised(attributes={}))),
    ("attributes absent", changed(attributes=DELETE)),
    ("attributes null", changed(attributes=None)),
    ("integer metric", line(normalised(metrics={"rpm": 1450}))),
    ("100 metrics", line(normalised(metrics={f"m{i}": float(i) for i in range(job.MAX_METRICS)}))),
    ("numeric device id", line(normalised("4711"))),
    ("device id that reads as a boolean", line(normalised("true"))),
    ("device id that reads as NaN", line(normalised("NaN"))),
    ("hour 10", line(HOUR_TEN)),
    ("midnight", line(normalised(event_time=dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc)))),
    ("escapes and non-ASCII in attributes", line(normalised(attributes={"site": 'Hamburg "Süd"\n😀', "a": "\\"}))),
    ("non-ASCII written raw", json.dumps(normalised(attributes={"site": "Lübeck 😀"}), ensure_ascii=False)),
    ("spaces between tokens", json.dumps(GOOD)),
    ("keys in another order", line(dict(reversed(list(GOOD.items()))))),
    ("an attribute named like a field", line(normalised(attributes={"device_id": "other"}))),
    ("integer 2^53", line(normalised(metrics={"n": 2**53}))),
    ("integer 2^60, which a double holds exactly", line(normalised(metrics={"n": 2**60}))),
    ("u64 a double holds exactly", line(normalised(metrics={"n": 2**64 - 2048}))),
    ("integer -2^60", line(normalised(metrics={"n": -(2**60)}))),
    ("integer 2^100", line(normalised(metrics={"n": 2**100}))),
    ("16-digit integer below 2^53", line(normalised(metrics={"n": 1234567890123456}))),
    ("decimal literal beyond 2^53", changed(metrics={"n": 1}).replace('"n":1', '"n":9007199254740993.0')),
    ("exponent literal", changed(metrics={"n": 1}).replace('"n":1', '"n":9.007199254740993e15')),
    ("escaped backslash before u-text", line(normalised(attributes={"a": "\\ud83d"}))),
    ("microseconds", line(normalised(event_time=T0 + dt.timedelta(microseconds=500)))),
    ("one microsecond", line(normalised(event_time=T0.replace(microsecond=1)))),
    ("microsecond ingested_at", line(normalised(ingested_after=dt.timedelta(microseconds=1500)))),
]


@pytest.fixture(scope="module")
def outcomes(spark: SparkSession) -> dict[str, dict[str, Any]]:
    """Raw line -> its validated row (as a dict), for every line above, in one Spark job."""
    lines = [text for _, _, text in BAD_LINES] + [text for _, text in GOOD_LINES]
    assert len(set(lines)) == len(lines), "each case needs its own line"
    frame = spark.createDataFrame([(text, "test") for text in lines], "raw_line string, source_file string")
    rows = job.validate(frame).collect()
    assert len(rows) == len(lines)
    return {row["raw_line"]: row.asDict() for row in rows}


@pytest.mark.parametrize(("reason", "raw_line"), [(r, t) for r, _, t in BAD_LINES], ids=[f"{r}-{c}" for r, c, _ in BAD_LINES])
def test_a_bad_line_is_quarantined_with_its_reason(outcomes: dict, reason: str, raw_line: str) -> None:
    assert outcomes[raw_line]["reason"] == reason


@pytest.mark.parametrize("raw_line", [t for _, t in GOOD_LINES], ids=[c for c, _ in GOOD_LINES])
def test_a_good_line_is_curatable(outcomes: dict, raw_line: str) -> None:
    assert outcomes[raw_line]["reason"] is None


def test_every_reason_has_a_case() -> None:
    # duplicates: test_deduplication.py; bytes that are not UTF-8 cannot be a Python str: test_raw_bytes.py
    covered = {reason for reason, _, _ in BAD_LINES} | {job.DUPLICATE, job.NOT_UTF8}
    assert covered == set(job.QUARANTINE_REASONS)


def test_a_curatable_row_carries_the_readings_values(outcomes: dict) -> None:
    row = outcomes[GOOD_LINE]
    assert row["device_id"] == "pump-0042"
    assert row["event_time"] == T0.replace(tzinfo=None)  # the session is UTC; Spark returns naive UTC
    assert row["ingested_at"] == (T0 + dt.timedelta(milliseconds=875)).replace(tzinfo=None)
    assert row["schema_version"] == 1
    assert row["metrics"] == {"temperature_c": 21.5, "vibration_mm_s": 0.8}
    assert row["attributes"] == {"site": "hamburg"}
    assert row["event_date"] == dt.date(2026, 11, 23)


def test_absent_attributes_are_curated_as_an_empty_map(outcomes: dict) -> None:
    assert outcomes[changed(attributes=DELETE)]["attributes"] == {}
    assert outcomes[changed(attributes=None)]["attributes"] == {}


def test_integer_metrics_become_doubles(outcomes: dict) -> None:
    assert outcomes[line(normalised(metrics={"rpm": 1450}))]["metrics"] == {"rpm": 1450.0}


def test_escaped_attribute_values_arrive_unescaped(outcomes: dict) -> None:
    attributes = {"site": 'Hamburg "Süd"\n😀', "a": "\\"}
    assert outcomes[line(normalised(attributes=attributes))]["attributes"] == attributes


def test_integers_a_double_holds_exactly_arrive_exactly(outcomes: dict) -> None:
    for number in (2**53, 2**60, 2**64 - 2048, -(2**60), 2**100):
        assert outcomes[line(normalised(metrics={"n": number}))]["metrics"] == {"n": number}


def test_microseconds_arrive_intact(outcomes: dict) -> None:
    row = outcomes[line(normalised(event_time=T0 + dt.timedelta(microseconds=500)))]
    assert row["event_time"] == (T0 + dt.timedelta(microseconds=500)).replace(tzinfo=None)
    row = outcomes[line(normalised(ingested_after=dt.timedelta(microseconds=1500)))]
    assert row["ingested_at"] == (T0 + dt.timedelta(microseconds=1500)).replace(tzinfo=None)


def test_the_timestamp_pattern_is_exactly_the_contracts_canonical_form() -> None:
    """Milliseconds, or six digits when the sub-millisecond part is not zero (issue 16)."""
    import re

    for text in ("2026-11-23T08:15:02.125Z", "2026-11-23T08:15:02.125500Z", "2026-11-23T08:15:02.000001Z"):
        assert re.fullmatch(job.TIMESTAMP_PATTERN, text), text
    for text in ("2026-11-23T08:15:02.125000Z", "2026-11-23T08:15:02.1255Z", "2026-11-23T08:15:02.1255001Z", "2026-11-23T08:15:02Z"):
        assert not re.fullmatch(job.TIMESTAMP_PATTERN, text), text
