"""The ground truth: what the platform must make of a fleet, from the fleet's labels alone.

Computed with plain Python from what the simulator generated and knows (which records are
distinct valid readings, which are redeliveries of which reading, which it broke and how),
never by calling the transform, the job or the engine. The contract decisions it encodes
(issue 16): a valid reading is curated once, with its values, its time to the microsecond in
UTC and its ingestion time (the IoT rule's, else the Kinesis arrival of its first delivery); an
invalid record is never curated; a redelivery is never curated a second time.

The saved queries' answers are computed here too, with Trino's documented semantics spelled
out: the curated Iceberg table's timestamps are ``timestamptz``, read as
``timestamp(6) with time zone`` in UTC, to the microsecond (as Athena reads Iceberg tables; the
Hive table of before issue 19 was read at milliseconds, rounded), ``date_trunc`` and
``date_diff`` (complete units) work on those values, ``current_date`` and ``current_timestamp``
(milliseconds) are in the session's zone, UTC. Where the engine may pick either of two rows
(``max_by`` over two readings of the same instant), every acceptable answer is listed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from tools.pipeline.fleet import INVALID, REDELIVERY, Expected, Fleet, SentRecord

UTC = dt.timezone.utc
#: The parameter of silent_devices used by the pipeline: devices silent for at least this many hours.
SILENT_HOURS = 6
LATEST_DAYS_BACK = 1  # latest_reading_per_device reads event_time from the start of current_date - 1 day
SILENT_DAYS_BACK = 30


def curated(fleet: Fleet) -> dict[tuple[str, dt.datetime], Expected]:
    return {reading.key: reading for reading in fleet.expected}


def invalid(fleet: Fleet) -> list[SentRecord]:
    return [record for record in fleet.records if record.label == INVALID]


def redeliveries(fleet: Fleet) -> list[SentRecord]:
    return [record for record in fleet.records if record.label == REDELIVERY]


def engine_time(moment: dt.datetime) -> dt.datetime:
    """A curated timestamp as the engine reads it: UTC (compared as naive), to the microsecond."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def engine_now(moment: dt.datetime) -> dt.datetime:
    """``current_timestamp`` at the instant ``moment``: UTC, whole milliseconds (truncated)."""
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    return naive.replace(microsecond=naive.microsecond // 1000 * 1000)


def busiest_day(fleet: Fleet) -> dt.date:
    counts: dict[dt.date, int] = defaultdict(int)
    for reading in fleet.expected:
        counts[reading.event_date] += 1
    return max(sorted(counts), key=lambda day: counts[day])


def hourly_aggregates(readings: Iterable[Expected], day: dt.date) -> list[tuple]:
    """(device_id, hour, metric, readings, avg, min, max), ordered by device, hour, metric."""
    groups: dict[tuple[str, dt.datetime, str], list[float]] = defaultdict(list)
    for reading in readings:
        if reading.event_date != day:
            continue
        hour = engine_time(reading.event_time).replace(minute=0, second=0, microsecond=0)
        for metric, value in reading.metrics.items():
            groups[(reading.device_id, hour, metric)].append(value)
    return [
        (device, hour, metric, len(values), math.fsum(values) / len(values), min(values), max(values))
        for (device, hour, metric), values in sorted(groups.items())
    ]


def latest_readings(readings: Iterable[Expected], now: dt.datetime) -> list[list[tuple]]:
    """Per device (ordered by device), every acceptable (device_id, event_time, ingested_at,
    metrics, attributes): more than one only when two readings share the latest millisecond."""
    since = now.astimezone(UTC).date() - dt.timedelta(days=LATEST_DAYS_BACK)
    by_device: dict[str, list[Expected]] = defaultdict(list)
    for reading in readings:
        if reading.event_date >= since:
            by_device[reading.device_id].append(reading)
    answer = []
    for device in sorted(by_device):
        newest = max(engine_time(r.event_time) for r in by_device[device])
        answer.append([
            (device, newest, engine_time(r.ingested_at), r.metrics, r.attributes)
            for r in by_device[device] if engine_time(r.event_time) == newest
        ])
    return answer


def silent_devices(readings: Iterable[Expected], now: dt.datetime, hours: int = SILENT_HOURS) -> list[tuple]:
    """(device_id, last_seen, hours_silent) of the devices whose newest reading (within 30 days)
    is older than ``hours``, ordered by last_seen; hours_silent counts complete hours."""
    current = engine_now(now)
    since = current.date() - dt.timedelta(days=SILENT_DAYS_BACK)
    last_seen: dict[str, dt.datetime] = {}
    for reading in readings:
        if reading.event_date >= since:
            seen = engine_time(reading.event_time)
            last_seen[reading.device_id] = max(seen, last_seen.get(reading.device_id, seen))
    silent = [
        (device, seen, _complete_hours(seen, current))
        for device, seen in last_seen.items() if seen < current - dt.timedelta(hours=hours)
    ]
    return sorted(silent, key=lambda row: (row[1], row[0]))


def _complete_hours(start: dt.datetime, end: dt.datetime) -> int:
    """Trino's date_diff('hour', start, end): whole hours elapsed, truncated toward zero."""
    seconds = (end - start) / dt.timedelta(microseconds=1)
    return int(seconds / 3_600_000_000)


# --- Comparing an engine's answer with the truth ----------------------------------------------


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, (float, int)):
        return actual == expected or math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-300)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return actual.keys() == expected.keys() and all(_same(actual[k], expected[k]) for k in expected)
    if isinstance(expected, dt.datetime) and isinstance(actual, dt.datetime):
        return actual.replace(tzinfo=None) == expected and (actual.tzinfo is None or actual.utcoffset() == dt.timedelta(0))
    return actual == expected


def same_row(actual: tuple, expected: tuple) -> bool:
    return len(actual) == len(expected) and all(_same(a, e) for a, e in zip(actual, expected))


def differences(actual: list[tuple], expected: list[Any], *, choices: bool = False, limit: int = 5) -> list[str]:
    """What differs between an answer and the truth (empty if equal). With ``choices``, each
    expected item is a list of acceptable rows."""
    problems = []
    if len(actual) != len(expected):
        problems.append(f"{len(actual)} rows, expected {len(expected)}")
    for index, (row, want) in enumerate(itertools.zip_longest(actual, expected)):
        if row is None or want is None:
            continue
        options = want if choices else [want]
        if not any(same_row(tuple(row), tuple(option)) for option in options):
            problems.append(f"row {index}: {tuple(row)!r} != {options[0]!r}")
        if len(problems) >= limit:
            break
    return problems
