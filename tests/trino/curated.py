"""A small curated dataset written as the Glue job writes it, and the saved queries' answers
computed from it in plain Python (no SQL engine), for tests/trino/test_saved_queries.py.

Layout and types follow the job (glue_scripts/raw_to_curated.py): Hive-style folders
``event_date=YYYY-MM-DD`` (the UTC date of event_time) holding Snappy Parquet without the
partition column; timestamps as Parquet TIMESTAMP_MICROS adjusted to UTC with millisecond
values (the job cuts times to milliseconds); ``metrics`` map<string,double> (never empty, no
null values: the contract), ``attributes`` map<string,string>, ``ingested_at`` possibly null.

The ground truths spell out the semantics that bite:
- ``current_date`` and ``current_timestamp`` are taken in UTC (Athena's session time zone);
- the partition filters compare *dates* (``event_date >= current_date - INTERVAL '1' DAY``
  keeps all of yesterday and today, and any future date; nothing of the day before);
- ``date_diff('hour', a, b)`` counts *complete* hours (floor of the elapsed time), not hour
  boundaries crossed;
- ``max_by(x, event_time)`` is x of the newest reading even when that x is NULL;
- ``date_trunc('hour', ...)`` buckets [hh:00:00.000, hh:59:59.999];
- ``CROSS JOIN UNNEST(metrics)`` yields one row per metric present in the reading, so a
  metric's count is the readings that carry it;
- ``ORDER BY`` on varchar is by code point (binary), ``'Z' < 'a' < 'é'``; rows tied on the
  ORDER BY key of silent_devices come in any order.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

UTC = dt.timezone.utc
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
MS = dt.timedelta(milliseconds=1)


@dataclass(frozen=True)
class Reading:
    device_id: str
    event_time: dt.datetime  # aware, UTC, whole milliseconds
    metrics: dict[str, float]
    ingested_at: dt.datetime | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    schema_version: int = 1

    @property
    def event_date(self) -> dt.date:
        return self.event_time.astimezone(UTC).date()


SCHEMA = pa.schema(
    [
        ("device_id", pa.string()),
        ("event_time", pa.timestamp("us", tz="UTC")),
        ("ingested_at", pa.timestamp("us", tz="UTC")),
        ("schema_version", pa.int32()),
        ("metrics", pa.map_(pa.string(), pa.float64())),
        ("attributes", pa.map_(pa.string(), pa.string())),
    ]
)


def write_curated(folder: Path, readings: list[Reading]) -> None:
    """The readings as the job's curated output: one Snappy Parquet file per event date."""
    by_date: dict[dt.date, list[Reading]] = defaultdict(list)
    for reading in readings:
        assert reading.event_time.microsecond % 1000 == 0, "the job writes whole milliseconds"
        by_date[reading.event_date].append(reading)
    for day, rows in by_date.items():
        table = pa.Table.from_pylist(
            [
                {
                    "device_id": r.device_id,
                    "event_time": r.event_time,
                    "ingested_at": r.ingested_at,
                    "schema_version": r.schema_version,
                    "metrics": list(r.metrics.items()),
                    "attributes": list(r.attributes.items()),
                }
                for r in sorted(rows, key=lambda r: (r.device_id, r.event_time))
            ],
            schema=SCHEMA,
        )
        part = folder / f"event_date={day.isoformat()}"
        part.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, part / "part-00000-test.c000.snappy.parquet", compression="snappy")


def naive(t: dt.datetime | None) -> dt.datetime | None:
    """A UTC instant as Trino returns a ``timestamp(3)``: naive, in UTC."""
    return None if t is None else t.astimezone(UTC).replace(tzinfo=None)


def utc_now() -> dt.datetime:
    return dt.datetime.now(UTC)


# --- Ground truths -----------------------------------------------------------------------------


def latest_reading_per_device(readings: list[Reading], now: dt.datetime) -> list[tuple]:
    """(device_id, event_time, ingested_at, metrics, attributes) of each device's newest
    reading among the partitions from yesterday (UTC) on, by device_id."""
    since = now.astimezone(UTC).date() - DAY
    newest: dict[str, Reading] = {}
    for r in readings:
        if r.event_date >= since and (r.device_id not in newest or r.event_time > newest[r.device_id].event_time):
            newest[r.device_id] = r
    return [
        (r.device_id, naive(r.event_time), naive(r.ingested_at), r.metrics, r.attributes)
        for device, r in sorted(newest.items())
    ]


def hourly_aggregates_per_device(readings: list[Reading], day: dt.date) -> list[tuple]:
    """(device_id, hour, metric, readings, avg, min, max) over the partition of ``day``."""
    groups: dict[tuple, list[float]] = defaultdict(list)
    for r in readings:
        if r.event_date == day:
            hour = naive(r.event_time).replace(minute=0, second=0, microsecond=0)
            for metric, value in r.metrics.items():
                groups[(r.device_id, hour, metric)].append(value)
    return [
        (device, hour, metric, len(values), math.fsum(values) / len(values), min(values), max(values))
        for (device, hour, metric), values in sorted(groups.items())
    ]


def complete_hours(start: dt.datetime, end: dt.datetime) -> int:
    """Whole hours elapsed from start to end (towards zero), at millisecond precision."""
    elapsed_ms = (end - start) // MS
    hours = abs(elapsed_ms) // (3600 * 1000)
    return hours if elapsed_ms >= 0 else -hours


def silent_devices(readings: list[Reading], now: dt.datetime, hours: int) -> list[tuple]:
    """(device_id, last_seen, hours_silent) of the devices seen in the partitions of the last
    30 days (UTC) but not in the last ``hours`` hours, by last_seen (ties in any order)."""
    now = now.astimezone(UTC)
    # current_timestamp at millisecond precision, as the query sees it.
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    since = now.date() - 30 * DAY
    last: dict[str, dt.datetime] = {}
    for r in readings:
        if r.event_date >= since:
            last[r.device_id] = max(last.get(r.device_id, r.event_time), r.event_time)
    silent = [(d, t) for d, t in last.items() if t < now - hours * HOUR]
    return [(d, naive(t), complete_hours(t, now)) for d, t in sorted(silent, key=lambda item: (item[1], item[0]))]


def tie_groups(rows: list[tuple], key_index: int) -> list[set[tuple]]:
    """Consecutive rows grouped by an ORDER BY key: the order within a group is unspecified."""
    groups: list[set[tuple]] = []
    previous = object()
    for row in rows:
        if row[key_index] != previous:
            groups.append(set())
            previous = row[key_index]
        groups[-1].add(row)
    return groups
