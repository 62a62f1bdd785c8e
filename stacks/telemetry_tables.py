"""The curated telemetry table: its schema, location and the named queries that read it.

The schema is written out here, not inferred by a crawler, so that a reviewer sees every column
and type in the template and a change to them is a visible diff. It must match what the
raw-to-curated job writes (glue_scripts/raw_to_curated.py ``CURATED_COLUMNS``);
tests/unit/stacks/test_catalog_stack.py keeps the two equal.
"""

from __future__ import annotations

import string
from pathlib import Path

from aws_cdk import aws_glue as glue

from constructs_lib import NamedQuery

TABLE_NAME = "telemetry"
#: Where the job writes (curated bucket) and what it reads (raw bucket), and its quarantine.
RAW_PREFIX = "telemetry/"
CURATED_PREFIX = "telemetry/"
QUARANTINE_PREFIX = "quarantine/telemetry/"

CURATED_COLUMNS = (
    glue.Column(name="device_id", type=glue.Schema.STRING, comment="Device id, from the MQTT topic"),
    glue.Column(name="event_time", type=glue.Schema.TIMESTAMP, comment="When the device took the reading (UTC)"),
    glue.Column(name="ingested_at", type=glue.Schema.TIMESTAMP, comment="When IoT Core received it (UTC); may be null"),
    glue.Column(name="schema_version", type=glue.Schema.INTEGER, comment="Telemetry contract version"),
    glue.Column(
        name="metrics",
        type=glue.Schema.map(glue.Schema.STRING, glue.Schema.DOUBLE),
        comment="Metric name -> value",
    ),
    glue.Column(
        name="attributes",
        type=glue.Schema.map(glue.Schema.STRING, glue.Schema.STRING),
        comment="Attribute name -> value (site, firmware, ...)",
    ),
)
PARTITION_KEYS = (glue.Column(name="event_date", type=glue.Schema.DATE, comment="UTC date of event_time"),)

QUERIES_DIR = Path(__file__).resolve().parent / "queries"
#: file stem -> (saved query name, description)
NAMED_QUERIES = {
    "latest_reading_per_device": ("latest-reading-per-device", "Newest reading of every device seen in the last two days"),
    "hourly_aggregates_per_device": (
        "hourly-aggregates-per-device",
        "Count, avg, min and max per device, metric and hour for one day (parameter: the day, YYYY-MM-DD)",
    ),
    "silent_devices": ("silent-devices", "Devices with no reading for at least N hours (parameter: N)"),
}


def query_sql(stem: str, *, database: str, table: str = TABLE_NAME) -> str:
    """The SQL of ``queries/<stem>.sql`` with ``${database}`` and ``${table}`` filled in."""
    template = string.Template((QUERIES_DIR / f"{stem}.sql").read_text())
    return template.substitute(database=database, table=table)


def named_queries(database: str) -> list[NamedQuery]:
    return [
        NamedQuery(name=name, description=description, database=database, sql=query_sql(stem, database=database))
        for stem, (name, description) in NAMED_QUERIES.items()
    ]
