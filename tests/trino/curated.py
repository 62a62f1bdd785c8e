"""A small curated dataset in an Iceberg table declared as glue_scripts/curated_table.py declares
the job's, and the saved queries' answers computed from it in plain Python (no SQL engine), for
tests/trino/test_saved_queries.py.

The table is written through Trino into a folder of its own (same columns, Iceberg types,
``day(event_time)`` partitioning and ``device_id, event_time`` sort order as the job's table),
then registered as the curated table exactly as the job's tables are (``TrinoServer.point_at``);
what the job itself writes is read by the end-to-end test. Timestamps are ``timestamptz`` with
whole-millisecond values, ``metrics`` map<string,double> (never empty, no null values: the
contract), ``attributes`` map<string,string>, ``ingested_at`` possibly null.

The ground truths spell out the semantics that bite:
- ``current_date`` and ``current_timestamp`` are taken in UTC (Athena's session time zone);
- the day filters compare *instants* from the start of a UTC day (``event_time >= start of
  yesterday`` keeps all of yesterday and today, and any future time; nothing of the day before);
- ``date_diff('hour', a, b)`` counts *complete* hours (floor of the elapsed time), not hour
  boundaries crossed;
- ``max_by(x, event_time)`` is x of the newest reading even when that x is NULL;
- ``date_trunc('hour', ...)`` buckets [hh:00:00.000, hh:59:59.999999];
- ``CROSS JOIN UNNEST(metrics)`` yields one row per metric present in the reading, so a
  metric's count is the readings that carry it;
- ``ORDER BY`` on varchar is by code point (binary), ``'Z' < 'a' < 'é'``; rows tied on the
  ORDER BY key of silent_devices come in any order.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from glue_scripts.curated_table import CURATED, MapType

UTC = dt.timezone.utc
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
MS = dt.timedelta(milliseconds=1)
_TRINO_TYPES = {"string": "varchar", "timestamptz": "timestamp(6) with time zone", "int": "integer", "double": "double"}
_staging = itertools.count(1)


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


def trino_type(kind: str | MapType) -> str:
    """An Iceberg type of the definition as Trino's Iceberg connector reads it."""
    if isinstance(kind, MapType):
        return f"map({_TRINO_TYPES[kind.key]}, {_TRINO_TYPES[kind.value]})"
    return _TRINO_TYPES[kind]


def _literal(value, kind: str | MapType) -> str:
    if value is None:
        return f"CAST(NULL AS {trino_type(kind)})"
    if isinstance(kind, MapType):
        keys = ", ".join(f"'{k}'" for k in value)
        values = ", ".join(f"DOUBLE '{v!r}'" if kind.value == "double" else f"'{v}'" for v in value.values())
        return f"CAST(MAP(ARRAY[{keys}], ARRAY[{values}]) AS {trino_type(kind)})"
    if kind == "timestamptz":
        return f"TIMESTAMP '{value.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f} UTC'"
    if kind == "int":
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def write_curated(server, folder: Path, readings: list[Reading]) -> None:
    """The readings as an Iceberg table in ``folder``, declared like the job's, then served as the
    curated table. Written through a staging schema and unregistered there (files kept)."""
    staging = f"staging_{next(_staging)}"
    columns = ", ".join(f'"{c.name}" {trino_type(c.type)}' for c in CURATED.columns)
    server.execute('CREATE SCHEMA IF NOT EXISTS "staging"')
    server.execute(
        f'CREATE TABLE "staging"."{staging}" ({columns}) WITH (format = \'PARQUET\', format_version = 2, '
        f"location = 'local://{folder.resolve()}', partitioning = ARRAY['day(event_time)'], sorted_by = ARRAY['device_id', 'event_time'])"
    )
    values = {"source_file": "s3://raw/test.gz", "run_id": "test"}
    rows = []
    for n, r in enumerate(readings):
        record = {**r.__dict__, **values, "record_id": f"r{n}:1"}
        rows.append("(" + ", ".join(_literal(record.get(c.name), c.type) for c in CURATED.columns) + ")")
    server.execute(f'INSERT INTO "staging"."{staging}" VALUES ' + ", ".join(rows))
    server.execute(f"CALL system.unregister_table(schema_name => 'staging', table_name => '{staging}')")
    server.point_at(folder)


def naive(t: dt.datetime | None) -> dt.datetime | None:
    """A UTC instant as Trino returns an Iceberg ``timestamp(6) with time zone``: aware, in UTC.
    (The name is from the Hive table's days, whose timestamps came back naive.)"""
    return None if t is None else t.astimezone(UTC)


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
