"""The streaming stack's saved query ``anomalies-per-device-for-a-day``, executed on Trino (Athena
v3's engine) over records the anomaly detector's own code writes (flink_apps/anomaly_detection/
records.py), its answer compared with a ground truth counted here in Python.

The table is created in Trino with the stack's columns (stacks/anomaly_records.py) and the string
``event_date`` partition column Firehose's prefix gives it; in AWS it is a JSON table with partition
projection, which changes where rows are read from, not what the SQL computes. The data holds what
the query must leave out: other days, late readings and rejected records (not anomalies), and a
notification record (the copy of an anomaly that went to SNS).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

import pytest

from stacks.anomaly_records import ANOMALY_COLUMNS, PARTITION_COLUMN, TABLE_NAME, anomaly_queries
from tools.trino.saved_queries import run_sql, sql_literal

pytestmark = pytest.mark.trino

DATABASE = "analytics_dev_streaming"
DAY = "2027-01-15"
DAY_MS = int(dt.datetime(2027, 1, 15, tzinfo=dt.timezone.utc).timestamp() * 1000)  # the day's first instant
TRINO_TYPES = {"string": "varchar", "double": "double", "bigint": "bigint"}


def anomaly_line(device: str, metric: str, score: float, severity: str, detected_ms: int) -> str:
    from flink_apps.anomaly_detection import records
    from flink_apps.anomaly_detection.scoring import WindowStats
    from flink_apps.anomaly_detection.windows import Entry, Evaluation, Scored

    entry = Entry(event_ms=detected_ms - 1000, value=42.0, event_time="device-text", received_ms=detected_ms - 500)
    scored = Scored(entry=entry, score=score, severity=severity)
    evaluation = Evaluation(window_start=detected_ms - 600_000, window_end=detected_ms,
                            stats=WindowStats(count=20, mean=20.0, stddev=5.0), scored=(scored,), unscored=0)
    return records.anomaly(device, metric, evaluation, scored, detected_ms, detected_ms)


def dataset() -> list[tuple[str, str]]:
    """(event_date, JSON line) pairs: anomalies of the day and of the next, plus what is not an anomaly."""
    from flink_apps.anomaly_detection import records
    from flink_apps.anomaly_detection.windows import Entry, Late

    day = ("2027-01-15", DAY_MS)
    next_day = ("2027-01-16", DAY_MS + 86_400_000)
    lines = []
    for (date, start), device, metric, score, severity, minute in [
        (day, "pump-1", "temperature", 2.5, "MEDIUM", 10),
        (day, "pump-1", "temperature", 4.5, "CRITICAL", 20),
        (day, "pump-1", "temperature", 4.2, "CRITICAL", 30),
        (day, "pump-1", "vibration", 3.5, "HIGH", 40),
        (day, "pump-2", "temperature", 2.1, "MEDIUM", 1439),  # the day's last minute
        (next_day, "pump-1", "temperature", 9.0, "CRITICAL", 0),  # the next day: left out
    ]:
        lines.append((date, anomaly_line(device, metric, score, severity, start + minute * 60_000)))
    critical = anomaly_line("pump-1", "temperature", 4.5, "CRITICAL", DAY_MS + 20 * 60_000)
    entry = Entry(event_ms=DAY_MS, value=1.0, event_time="t", received_ms=DAY_MS + 1)
    lines += [
        (day[0], records.notification(critical, 0, DAY_MS + 20 * 60_000 + 5)),  # the SNS copy: not counted again
        (day[0], records.late("pump-3", "temperature", Late(entry, DAY_MS, DAY_MS + 60_000, DAY_MS + 90_000), 30_000, DAY_MS + 100_000)),
        (day[0], records.rejected("not JSON", b"\xff\xfe", DAY_MS + 7)),
    ]
    return lines


def truth(lines: list[tuple[str, str]], day: str) -> list[tuple]:
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for date, line in lines:
        record = json.loads(line)
        if date == day and record["record_type"] == "anomaly":
            groups[(record["device_id"], record["metric"], record["severity"])].append(record)
    return [
        (*key, len(rows), max(r["score"] for r in rows), min(r["detected_at"] for r in rows), max(r["detected_at"] for r in rows))
        for key, rows in sorted(groups.items())
    ]


@pytest.fixture(scope="module")
def anomalies_table(trino_server):
    lines = dataset()
    trino_server.execute(f'CREATE SCHEMA IF NOT EXISTS "{DATABASE}"')
    trino_server.execute(f'DROP TABLE IF EXISTS "{DATABASE}"."{TABLE_NAME}"')
    columns = ", ".join(f'"{c.name}" {TRINO_TYPES[c.type.input_string]}' for c in ANOMALY_COLUMNS)
    trino_server.execute(f'CREATE TABLE "{DATABASE}"."{TABLE_NAME}" ({columns}, "{PARTITION_COLUMN}" varchar)')
    rows = []
    for date, line in lines:
        record = json.loads(line)
        assert set(record) <= {c.name for c in ANOMALY_COLUMNS}, "the detector writes a field the table lacks"
        values = [record.get(c.name) for c in ANOMALY_COLUMNS] + [date]
        rows.append("(" + ", ".join("NULL" if v is None else sql_literal(v) for v in values) + ")")
    trino_server.execute(f'INSERT INTO "{DATABASE}"."{TABLE_NAME}" VALUES {", ".join(rows)}')
    yield lines
    trino_server.execute(f'DROP TABLE IF EXISTS "{DATABASE}"."{TABLE_NAME}"')


def saved_sql() -> str:
    (query,) = anomaly_queries(DATABASE)
    return query.sql


def test_the_saved_query_counts_each_devices_anomalies_of_the_day(trino_server, anomalies_table) -> None:
    expected = truth(anomalies_table, DAY)
    assert len(expected) == 4 and expected[0][:4] == ("pump-1", "temperature", "CRITICAL", 2)
    assert run_sql(trino_server, saved_sql(), DATABASE, [DAY]) == expected


def test_a_day_without_anomalies_answers_nothing_and_a_malformed_day_is_refused(trino_server, anomalies_table) -> None:
    assert run_sql(trino_server, saved_sql(), DATABASE, ["2027-01-14"]) == []
    with pytest.raises(Exception, match="(?i)cannot cast|invalid|date"):
        run_sql(trino_server, saved_sql(), DATABASE, ["15/01/2027"])


def test_a_wrong_query_is_caught(trino_server, anomalies_table) -> None:
    """Counting every record type (the SNS copies, late and rejected records) gives another answer."""
    wrong = saved_sql().replace("AND record_type = 'anomaly'", "")
    assert run_sql(trino_server, wrong, DATABASE, [DAY]) != truth(anomalies_table, DAY)
