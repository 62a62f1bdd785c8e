"""The saved Athena queries, executed on Trino (the engine of Athena v3) over an Iceberg table
declared as the job's (glue_scripts/curated_table.py), each answer compared with a ground truth
computed in Python (tests/trino/curated.py). The queries are the text of
glue_scripts/curated_table.SAVED_QUERIES, the Iceberg table's queries, run in the curated
database with their ``?`` filled as an analyst fills them (PREPARE + EXECUTE ... USING literals,
session in UTC). The synthesised ``AWS::Athena::NamedQuery`` resources carry the same text (the
catalog stack builds them from it; ``test_the_saved_queries_are_the_templates`` compares them).

Two queries read the clock (current_date, current_timestamp). The data is placed around the
test's "now" so that every boundary is a minute or more away from where the query runs, and
each answer is checked against the truth at the instants just before and just after the query
(when those two truths differ, an hour or a day rolled over during the query: it is re-run).

``test_a_wrong_query_is_caught`` shows each comparison can fail: plausible mistakes (boundary
counting instead of complete hours, a wider scan, a lost NULL, another time zone, another
bucket) give answers that differ from the truth.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import pytest

from glue_scripts.curated_table import CURATED, SAVED_QUERIES, TABLE_NAME
from tests.trino import curated
from tests.trino.curated import DAY, HOUR, MS, UTC, Reading
from tools.trino.saved_queries import (
    SavedQueryError,
    run_saved_query,
    run_sql,
    saved_query,
    saved_query_names,
    sql_literal,
)

pytestmark = pytest.mark.trino

SILENT_HOURS = 3


# --- The dataset --------------------------------------------------------------------------------


def build_readings(now: dt.datetime) -> tuple[list[Reading], dt.date]:
    """Readings around ``now`` (UTC, whole ms) and the day the hourly test aggregates."""
    today = now.date()
    midnight = dt.datetime.combine(today, dt.time(), UTC)
    hour_start = now.replace(minute=0, second=0, microsecond=0)
    site = {"site": "plant-1", "firmware": "2.4.1"}
    readings = [
        # latest_reading_per_device
        # alpha: the newest reading (today 00:00:00.000, the first instant of the window's
        # second day) has no ingested_at: max_by gives NULL, not yesterday's value.
        Reading("alpha", midnight - 16 * HOUR, {"temp": 20.5}, ingested_at=midnight - 16 * HOUR + 3 * MS, attributes=site),
        Reading("alpha", midnight, {"temp": 21.0, "humidity": 40.0}, ingested_at=None, attributes={"site": "plant-2"}),
        # beta: last seen at the last millisecond of the day before yesterday: outside the scan.
        Reading("beta", midnight - DAY - MS, {"temp": 5.0}, ingested_at=midnight - DAY),
        # delta: the first millisecond of yesterday: inside.
        Reading("delta", midnight - DAY, {"temp": 7.25}, ingested_at=midnight - DAY + 2 * MS),
        # Two readings 1 ms apart: the later one wins (millisecond precision survives).
        Reading("Gauge-7", midnight - 12 * HOUR, {"pressure": 1.0}, ingested_at=midnight - 12 * HOUR + 5 * MS),
        Reading("Gauge-7", midnight - 12 * HOUR + MS, {"pressure": 2.0}, ingested_at=midnight - 12 * HOUR + 9 * MS),
        # A device whose clock runs ahead: tomorrow's partition is scanned too.
        Reading("émile", midnight + DAY + 2 * HOUR, {"temp": 30.0}, ingested_at=now),
        # silent_devices (window: the partitions of the last 30 days; N = SILENT_HOURS)
        # 2 minutes past N hours silent: listed; 3 complete hours.
        Reading("s-just-silent", now - SILENT_HOURS * HOUR - 2 * 60_000 * MS, {"temp": 1.0}),
        # 2 minutes short of N hours: not listed.
        Reading("s-not-yet", now - SILENT_HOURS * HOUR + 2 * 60_000 * MS, {"temp": 1.0}),
        # Last seen at hh:59:59.999 five hour-boundaries before now's hour: 4 complete hours
        # (a boundary-counting date_diff says 5).
        Reading("s-boundary", hour_start - 5 * HOUR + HOUR - MS, {"temp": 1.0}),
        # Two devices silent since the same instant: tied on the ORDER BY key.
        Reading("s-tie-b", now - 10 * HOUR, {"temp": 1.0}),
        Reading("s-tie-a", now - 10 * HOUR, {"temp": 2.0}),
        # Older readings do not matter once a recent one exists.
        Reading("s-recent", now - 20 * DAY, {"temp": 1.0}),
        Reading("s-recent", now - HOUR, {"temp": 1.0}),
        # The first instant of the 30-day window: listed; the last of the day before: not.
        Reading("s-window-edge", midnight - 30 * DAY, {"temp": 1.0}),
        Reading("s-outside", midnight - 30 * DAY - MS, {"temp": 1.0}),
    ]
    # hourly_aggregates_per_device, on a day inside the silent window, around its edges.
    day = today - 3 * DAY
    start = dt.datetime.combine(day, dt.time(), UTC)
    readings += [
        Reading("pump-1", start - MS, {"temp": 99.0}),  # the day before: not aggregated
        Reading("pump-1", start, {"temp": 10.0, "vibration": 0.125}),
        Reading("pump-1", start + 30 * 60_000 * MS, {"temp": -2.5}),
        Reading("pump-1", start + HOUR - MS, {"temp": 1e15 + 0.5, "vibration": 0.375}),
        Reading("pump-1", start + HOUR, {"temp": 11.0}),  # the next hour
        Reading("pump-1", start + DAY - MS, {"temp": 12.0, "rpm": 1500.0}),
        Reading("pump-1", start + DAY, {"temp": 99.0}),  # the next day: not aggregated
        Reading("Pump-2", start + 5 * HOUR + 7 * MS, {"temp": 0.1}),
        Reading("Pump-2", start + 5 * HOUR + 8 * MS, {"temp": 0.2}),
        Reading("Pump-2", start + 5 * HOUR + 9 * MS, {"temp": 0.3, "rpm": -0.0}),
    ]
    return readings, day


@pytest.fixture(scope="module")
def dataset(trino_server, tmp_path_factory):
    """The readings, written as an Iceberg table and served as the curated table."""
    now = curated.utc_now()
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    readings, day = build_readings(now)
    folder = tmp_path_factory.mktemp("curated") / "telemetry"
    curated.write_curated(trino_server, folder, readings)
    return readings, day


@pytest.fixture(scope="module")
def template(synthesised):
    """The dev catalog stack's template: the saved queries as analysts get them."""
    dev = synthesised("dev")
    [stack] = [name for name in dev.stack_names() if name.endswith("-catalog")]
    return dev.template(stack)


def answer_at_one_instant(run: Callable[[], list[tuple]], truth: Callable[[dt.datetime], list]) -> tuple[list, list]:
    """(answer, truth at the query's instant): re-run while an hour or a day rolls over."""
    for _ in range(3):
        before = curated.utc_now()
        rows = run()
        after = curated.utc_now()
        expected = truth(before)
        if expected == truth(after):
            return rows, expected
    raise AssertionError("the clock crossed an hour boundary during each of three runs")


def assert_rows_equal(actual: list[tuple], expected: list[tuple]) -> None:
    """Equal row by row; doubles within 1e-12 relative (avg's summation order may differ)."""
    assert len(actual) == len(expected), f"{len(actual)} rows, expected {len(expected)}:\n{actual}\n{expected}"
    for got, want in zip(actual, expected):
        assert len(got) == len(want)
        for a, b in zip(got, want):
            if isinstance(b, float):
                assert isinstance(a, float) and math.isclose(a, b, rel_tol=1e-12), f"{got} != {want}"
            else:
                assert a == b, f"{got} != {want}"


# --- The queries as analysts get them -----------------------------------------------------------


def test_the_saved_queries_are_the_templates(template) -> None:
    """run_saved_query without a template uses curated_table.SAVED_QUERIES; the stack synthesises
    exactly those (stacks/telemetry_tables.py named_queries), so what runs here is what analysts get."""
    assert saved_query_names() == sorted(SAVED_QUERIES)
    for name in saved_query_names():
        assert saved_query(name, template) == saved_query(name)


def test_the_table_is_the_declared_one(trino_server, dataset) -> None:
    """Same columns, Iceberg types, order, partitioning and sort order as curated_table.CURATED."""
    described = trino_server.query(f'DESCRIBE "{trino_server.database}"."{TABLE_NAME}"')
    assert [(row[0], row[1]) for row in described] == [(c.name, curated.trino_type(c.type)) for c in CURATED.columns]
    properties = dict(trino_server.query(f'SELECT key, value FROM "{TABLE_NAME}$properties"'))
    assert properties.get("write.format.default", "PARQUET").upper() == "PARQUET"
    [(spec,)] = trino_server.query(f'SHOW CREATE TABLE "{TABLE_NAME}"')
    assert "partitioning = ARRAY['day(event_time)']" in spec and "sorted_by = ARRAY['device_id ASC NULLS FIRST','event_time ASC NULLS FIRST']" in spec


def test_the_session_is_utc(trino_server) -> None:
    [(zone, today)] = trino_server.query("SELECT current_timezone(), current_date")
    assert zone == "UTC"
    assert today in {curated.utc_now().date(), (curated.utc_now() - dt.timedelta(seconds=5)).date()}


def test_timestamps_are_read_as_utc_instants(trino_server, dataset) -> None:
    """Iceberg timestamptz -> timestamp(6) with time zone, the same instant, in UTC."""
    readings, _ = dataset
    rows = trino_server.query(f"SELECT event_time, ingested_at FROM {TABLE_NAME} WHERE device_id = 'Gauge-7' ORDER BY event_time")
    assert rows == [(curated.naive(r.event_time), curated.naive(r.ingested_at)) for r in readings if r.device_id == "Gauge-7"]


# --- Each saved query against its ground truth --------------------------------------------------


def test_latest_reading_per_device(trino_server, dataset) -> None:
    readings, _ = dataset
    rows, expected = answer_at_one_instant(
        lambda: run_saved_query(trino_server, "latest_reading_per_device", []),
        lambda now: curated.latest_reading_per_device(readings, now),
    )
    assert_rows_equal(rows, expected)
    devices = [row[0] for row in rows]
    assert "beta" not in devices and {"alpha", "delta", "Gauge-7", "émile"} <= set(devices)
    assert devices == sorted(devices)  # binary order: 'Gauge-7' < 'alpha' < 'émile'


@pytest.mark.parametrize("offset_days", [0, -1, 1, 30], ids=["the-day", "day-before", "day-after", "no-data"])
def test_hourly_aggregates_per_device(trino_server, dataset, offset_days) -> None:
    readings, day = dataset
    wanted = day + offset_days * DAY
    rows = run_saved_query(trino_server, "hourly_aggregates_per_device", [wanted.isoformat()])
    expected = curated.hourly_aggregates_per_device(readings, wanted)
    assert_rows_equal(rows, expected)
    if offset_days == 0:
        # The day's first and last milliseconds are in; pump-1's 00 hour has 3 temps.
        assert rows[0][:4] == ("Pump-2", curated.naive(dt.datetime.combine(day, dt.time(5), UTC)), "rpm", 1)
        assert ("pump-1", curated.naive(dt.datetime.combine(day, dt.time(0), UTC)), "temp", 3) in [r[:4] for r in rows]
        assert ("pump-1", curated.naive(dt.datetime.combine(day, dt.time(23), UTC)), "rpm", 1) in [r[:4] for r in rows]


@pytest.mark.parametrize("hours", [0, SILENT_HOURS, 24 * 31])
def test_silent_devices(trino_server, dataset, hours) -> None:
    readings, _ = dataset
    rows, expected = answer_at_one_instant(
        lambda: run_saved_query(trino_server, "silent_devices", [hours]),
        lambda now: curated.silent_devices(readings, now, hours),
    )
    assert curated.tie_groups(rows, 1) == curated.tie_groups(expected, 1)
    by_device = {row[0]: row for row in rows}
    assert "s-outside" not in by_device and "émile" not in by_device  # outside the scan / in the future
    if hours == SILENT_HOURS:
        assert by_device["s-just-silent"][2] == SILENT_HOURS and "s-not-yet" not in by_device
        assert by_device["s-boundary"][2] == 4  # complete hours, not boundaries crossed
        assert {"s-tie-a", "s-tie-b", "s-window-edge"} <= set(by_device) and "s-recent" not in by_device


# --- The checks can fail ------------------------------------------------------------------------

MUTATIONS = {
    "date_diff-counts-boundaries": (
        "silent_devices",
        "date_diff('hour', max(event_time), current_timestamp)",
        "date_diff('hour', date_trunc('hour', max(event_time)), date_trunc('hour', current_timestamp))",
        [SILENT_HOURS],
    ),
    "silent-window-31-days": ("silent_devices", "INTERVAL '30' DAY", "INTERVAL '31' DAY", [SILENT_HOURS]),
    "silent-clock-not-utc": (
        "silent_devices",
        "HAVING max(event_time) < current_timestamp",
        "HAVING max(event_time) < CAST(current_timestamp AT TIME ZONE 'Asia/Kolkata' AS timestamp)",
        [SILENT_HOURS],
    ),
    "silent-threshold-3-minutes-late": ("silent_devices", "max(event_time) <", "max(event_time) - INTERVAL '3' MINUTE <", [SILENT_HOURS]),
    "latest-max-not-max_by": ("latest_reading_per_device", "max_by(ingested_at, event_time)", "max(ingested_at)", []),
    "latest-window-3-days": ("latest_reading_per_device", "INTERVAL '1' DAY", "INTERVAL '2' DAY", []),
    "hourly-bucket-by-minute": ("hourly_aggregates_per_device", "date_trunc('hour', event_time)", "date_trunc('minute', event_time)", None),
    "hourly-from-the-day-on": (
        "hourly_aggregates_per_device", "WHERE CAST(event_time AS date) = CAST(? AS date)",
        "WHERE CAST(event_time AS date) >= CAST(? AS date)", None,
    ),
    "hourly-day-in-another-zone": (
        "hourly_aggregates_per_device", "WHERE CAST(event_time AS date)",
        "WHERE CAST(event_time AT TIME ZONE 'America/New_York' AS date)", None,
    ),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_a_wrong_query_is_caught(trino_server, dataset, mutation) -> None:
    readings, day = dataset
    name, old, new, parameters = MUTATIONS[mutation]
    query = saved_query(name)
    assert old in query.sql, f"the mutation {mutation} no longer applies to {name}"
    wrong_sql = query.sql.replace(old, new)
    if name == "hourly_aggregates_per_device":
        rows = run_sql(trino_server, wrong_sql, query.database, [day.isoformat()])
        assert rows != curated.hourly_aggregates_per_device(readings, day)
        return
    truth = {
        "silent_devices": lambda now: curated.tie_groups(curated.silent_devices(readings, now, SILENT_HOURS), 1),
        "latest_reading_per_device": lambda now: curated.latest_reading_per_device(readings, now),
    }[name]
    rows, expected = answer_at_one_instant(lambda: run_sql(trino_server, wrong_sql, query.database, parameters), truth)
    assert (curated.tie_groups(rows, 1) if name == "silent_devices" else rows) != expected


# --- Parameters at the boundary -----------------------------------------------------------------


def test_parameters_are_counted(trino_server, dataset) -> None:
    with pytest.raises(SavedQueryError, match=r"1 parameter\(s\) \(\?\); got 0"):
        run_saved_query(trino_server, "silent_devices", [])
    with pytest.raises(SavedQueryError, match="no saved query 'silent'"):
        run_saved_query(trino_server, "silent", [3])


def test_a_bad_day_is_an_error_not_an_empty_answer(trino_server, dataset) -> None:
    from trino.exceptions import TrinoUserError

    with pytest.raises(TrinoUserError, match="2026-13-01"):
        run_saved_query(trino_server, "hourly-aggregates-per-device", ["2026-13-01"])


def test_parameters_are_sql_literals() -> None:
    assert sql_literal("2026-11-23") == "'2026-11-23'"
    assert sql_literal("it's") == "'it''s'"
    assert sql_literal(6) == "6"
    assert sql_literal(dt.date(2026, 11, 23)) == "DATE '2026-11-23'"
    assert sql_literal(dt.datetime(2026, 11, 23, 1, 2, 3, 4000, tzinfo=UTC)) == "TIMESTAMP '2026-11-23 01:02:03.004'"
    with pytest.raises(SavedQueryError):
        sql_literal(float("nan"))
