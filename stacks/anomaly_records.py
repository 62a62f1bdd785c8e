"""The anomaly sink's records as the PyFlink application writes them
(flink_apps/anomaly_detection/records.py), and the saved query over them.

One table holds the four record types the application writes to its Firehose sink (``anomaly``,
``late_reading``, ``rejected_record``, ``notification_failed``): a record leaves the other types'
fields null. Times are ISO-8601 strings with a Z as the application writes them (``event_time``
is the device's own text), so nothing is reinterpreted on the way. A test builds each record type
with the application's own code and holds its fields to these columns.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_glue as glue

from constructs_lib import NamedQuery

TABLE_NAME = "anomalies"
PREFIX = "anomalies/"
#: The day of arrival in the analytics zone (UTC), the table's projected partition.
PARTITION_COLUMN = "event_date"
#: The streaming saved queries, apart from the curated-table ones in queries/.
QUERIES_DIR = Path(__file__).resolve().parent / "queries" / "streaming"

ANOMALY_COLUMNS = tuple(
    glue.Column(name=name, type=kind, comment=comment)
    for name, kind, comment in (
        ("record_type", glue.Schema.STRING, "anomaly, late_reading, rejected_record or notification_failed"),
        ("device_id", glue.Schema.STRING, "Device id"),
        ("metric", glue.Schema.STRING, "Metric name"),
        ("severity", glue.Schema.STRING, "MEDIUM, HIGH or CRITICAL"),
        ("score", glue.Schema.DOUBLE, "|value - mean| / stddev of the reading's window"),
        ("value", glue.Schema.DOUBLE, "The reading's value"),
        ("mean", glue.Schema.DOUBLE, "Mean of the window"),
        ("stddev", glue.Schema.DOUBLE, "Population standard deviation of the window"),
        ("sample_count", glue.Schema.BIG_INT, "Readings in the window"),
        ("window_start", glue.Schema.STRING, "Window start (event time, ISO-8601)"),
        ("window_end", glue.Schema.STRING, "Window end (event time, ISO-8601)"),
        ("event_time", glue.Schema.STRING, "The reading's time as the device sent it"),
        ("received_at", glue.Schema.STRING, "When the application received the record"),
        ("window_closed_at", glue.Schema.STRING, "When the window was evaluated"),
        ("detected_at", glue.Schema.STRING, "When the anomaly was emitted"),
        ("reason", glue.Schema.STRING, "Why a record was late, rejected or not notified"),
        ("raw_base64", glue.Schema.STRING, "A rejected record's original bytes, base64"),
        ("raw_bytes", glue.Schema.BIG_INT, "Length of those bytes"),
        ("suppressed_before", glue.Schema.BIG_INT, "Notifications suppressed by de-duplication before this one"),
        ("notified_at", glue.Schema.STRING, "When the notification was attempted"),
        ("failed_at", glue.Schema.STRING, "When publishing it failed for good"),
    )
)


def anomaly_queries(database: str) -> list[NamedQuery]:
    """The saved queries over the anomalies table of ``database``."""
    sql = (QUERIES_DIR / "anomalies_per_device_for_a_day.sql").read_text(encoding="utf-8")
    return [
        NamedQuery(
            name="anomalies-per-device-for-a-day",
            description="Anomalies per device, metric and severity for one day (parameter: the day, 'YYYY-MM-DD')",
            database=database,
            sql=sql.replace("${database}", database).replace("${table}", TABLE_NAME),
        )
    ]
