"""The curated zone's Iceberg tables, as plain data: one definition for the job and the CDK.

The job (raw_to_curated.py, through lakehouse.py) creates, checks and evolves the tables from
these definitions; the CDK side declares the same tables in the Glue Data Catalog from them, so
that a reviewer sees schema, partition spec, sort order and properties in the templates and both
sides cannot drift (tests/glue/test_curated_table.py holds the table Spark creates equal to
:meth:`TableDefinition.iceberg_schema`, :meth:`~TableDefinition.iceberg_partition_spec` and
:meth:`~TableDefinition.iceberg_sort_order`). The saved Athena queries over the table live here
too (:data:`SAVED_QUERIES`): their filters follow the partition spec.

No import of pyspark, aws_cdk or anything of this repository: Glue ships this file beside the job
(``--extra-py-files``), and the CDK app imports it without Spark installed.

Why the table looks the way it does:

* **Partitioned by ``day(event_time)``** (hidden partitioning: the partition is derived from
  ``event_time``, so a query filters on ``event_time`` and Iceberg prunes the days; there is no
  ``event_date`` column any more). A run's MERGE reads only the days its batch touches, so its
  cost follows the batch, not the table's history.
* **Sorted by ``device_id, event_time``**: a device's readings lie together in a file, so the
  Parquet min/max statistics prune files and row groups for a device or a time range, and
  compression is better (the same device id, neighbouring times).
* **Lineage columns** (``source_file``, ``record_id``, ``run_id``): which raw line each row
  came from and which run committed it. ``record_id`` identifies one raw line occurrence
  (SHA-256 of the raw object's path and the line's bytes, then ``:<n>`` for the n-th identical
  line in that object); the job's idempotency rests on it (see glue_scripts/README.md,
  "Commit sequence").
* **Format v2**, ZSTD Parquet (Iceberg's default codec and Athena engine v3's default for
  Iceberg tables, AWS Athena guide "Use Iceberg table compression"; smaller than Snappy, which
  is what the one-day query's bytes are measured on), 128 MiB target files (AWS's guidance for Iceberg on S3: 128 to 512 MB), hash
  distribution by partition (one file per day per run instead of one per task and day), old
  metadata files deleted after commit, keeping the last 50.
* Timestamps are ``timestamptz`` (Spark's ``timestamp``): instants in UTC, to the microsecond.
  Athena queries them (Athena's Iceberg DDL can only create ``timestamp``; the table is created
  by CloudFormation and the job, not by Athena DDL).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Iceberg format version of both tables.
FORMAT_VERSION = 2
#: Iceberg primitive type -> Spark SQL type.
_SPARK_TYPES = {"string": "string", "int": "int", "long": "bigint", "double": "double", "timestamptz": "timestamp", "date": "date"}


@dataclass(frozen=True)
class MapType:
    """An Iceberg map with optional values (the ids are part of the table's schema)."""

    key_id: int
    key: str
    value_id: int
    value: str

    def iceberg(self) -> dict[str, Any]:
        return {
            "type": "map", "key-id": self.key_id, "key": self.key,
            "value-id": self.value_id, "value": self.value, "value-required": False,
        }

    def spark(self) -> str:
        return f"map<{_SPARK_TYPES[self.key]},{_SPARK_TYPES[self.value]}>"


@dataclass(frozen=True)
class Column:
    """A top-level column: Iceberg field id, name, Iceberg type, comment. Every column is
    optional (nullable): a required column could not be added to an existing table in place."""

    field_id: int
    name: str
    type: str | MapType
    doc: str

    def iceberg(self) -> dict[str, Any]:
        kind = self.type.iceberg() if isinstance(self.type, MapType) else self.type
        return {"id": self.field_id, "name": self.name, "required": False, "type": kind, "doc": self.doc}

    @property
    def spark_type(self) -> str:
        return self.type.spark() if isinstance(self.type, MapType) else _SPARK_TYPES[self.type]


@dataclass(frozen=True)
class TableDefinition:
    """One Iceberg table: columns in order, the day partition of one timestamp column, the sort
    order and the table properties."""

    name: str
    description: str
    columns: tuple[Column, ...]
    partition_source: str  # partitioned by day(<partition_source>)
    sort_columns: tuple[str, ...]
    properties: Mapping[str, str] = field(default_factory=dict)

    #: Iceberg's first partition field id, and the name Spark gives ``days(<column>)``.
    PARTITION_FIELD_ID = 1000

    @property
    def partition_field_name(self) -> str:
        return f"{self.partition_source}_day"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def iceberg_schema(self) -> dict[str, Any]:
        """The schema as Iceberg's table metadata holds it (``schemas[current-schema-id]``,
        without ``schema-id``): what CloudFormation's ``IcebergTableInput.Schema`` declares."""
        return {"type": "struct", "fields": [c.iceberg() for c in self.columns]}

    def iceberg_partition_spec(self) -> dict[str, Any]:
        return {"spec-id": 0, "fields": [{
            "name": self.partition_field_name, "transform": "day",
            "source-id": self.column(self.partition_source).field_id, "field-id": self.PARTITION_FIELD_ID,
        }]}

    def iceberg_sort_order(self) -> dict[str, Any]:
        return {"order-id": 1, "fields": [
            {"transform": "identity", "source-id": self.column(name).field_id, "direction": "asc", "null-order": "nulls-first"}
            for name in self.sort_columns
        ]}

    def table_properties(self) -> dict[str, str]:
        """Everything ``TBLPROPERTIES`` sets (``format-version`` included)."""
        return {"format-version": str(FORMAT_VERSION), **self.properties}

    def spark_ddl(self, identifier: str) -> str:
        """``CREATE TABLE`` for Spark with the Iceberg extensions (the sort order is a separate
        ``ALTER TABLE ... WRITE ORDERED BY``: :meth:`spark_sort_ddl`)."""
        columns = ",\n  ".join(f"{c.name} {c.spark_type} COMMENT '{_sql_text(c.doc)}'" for c in self.columns)
        properties = ",\n  ".join(f"'{k}' = '{v}'" for k, v in self.table_properties().items())
        return (
            f"CREATE TABLE {identifier} (\n  {columns}\n)\nUSING iceberg\n"
            f"PARTITIONED BY (days({self.partition_source}))\n"
            f"COMMENT '{_sql_text(self.description)}'\n"
            f"TBLPROPERTIES (\n  {properties}\n)"
        )

    def spark_sort_ddl(self, identifier: str) -> str:
        """The sort order, with hash distribution by partition (``WRITE ORDERED BY`` alone would
        set range distribution, splitting one day's rows over several tasks and files)."""
        order = ", ".join(f"{c} ASC NULLS FIRST" for c in self.sort_columns)
        return f"ALTER TABLE {identifier} WRITE DISTRIBUTED BY PARTITION LOCALLY ORDERED BY {order}"


def _sql_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


#: Properties both tables share. ``write.merge.distribution-mode`` as well as the plain one:
#: the job's MERGE is an insert-only merge, which Iceberg plans as a write of its own kind.
COMMON_PROPERTIES = {
    "write.format.default": "parquet",
    "write.parquet.compression-codec": "zstd",
    "write.target-file-size-bytes": str(128 * 1024 * 1024),
    "write.distribution-mode": "hash",
    "write.merge.distribution-mode": "hash",
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "50",
    # Read by expire_snapshots when no age is given, and the values the Glue retention optimizer
    # is configured with (MAINTENANCE below).
    "history.expire.max-snapshot-age-ms": str(5 * 24 * 3600 * 1000),
    "history.expire.min-snapshots-to-keep": "1",
}

TABLE_NAME = "telemetry"
QUARANTINE_TABLE_NAME = "telemetry_quarantine"

#: The curated table. Field ids: the columns 1..9, then the maps' key and value ids, as Iceberg
#: assigns them when it creates the table; a column added later takes the next free id (14...).
CURATED = TableDefinition(
    name=TABLE_NAME,
    description="Validated, de-duplicated device readings: one row per (device_id, event_time)",
    columns=(
        Column(1, "device_id", "string", "Device id, from the MQTT topic"),
        Column(2, "event_time", "timestamptz", "When the device took the reading (UTC, microseconds)"),
        Column(3, "ingested_at", "timestamptz", "When IoT Core or Kinesis received it (UTC); may be null"),
        Column(4, "schema_version", "int", "Telemetry contract version"),
        Column(5, "metrics", MapType(10, "string", 11, "double"), "Metric name -> value"),
        Column(6, "attributes", MapType(12, "string", 13, "string"), "Attribute name -> value (site, firmware, ...)"),
        Column(7, "source_file", "string", "Lineage: the raw object the reading was read from"),
        Column(8, "record_id", "string", "Lineage: the raw line (SHA-256 of object and line, then :n for its n-th copy)"),
        Column(9, "run_id", "string", "Lineage: the job run that curated the reading"),
    ),
    partition_source="event_time",
    sort_columns=("device_id", "event_time"),
    properties=COMMON_PROPERTIES,
)

#: Every line the job did not curate, with its reason; queryable in Athena. Partitioned by the
#: day of the reading's own time where the line has one (duplicates, most invalid readings),
#: else the null partition: a retried run finds its earlier quarantine rows in the same days it
#: reads in the curated table.
QUARANTINE = TableDefinition(
    name=QUARANTINE_TABLE_NAME,
    description="Raw lines the curation job did not curate, each with one reason",
    columns=(
        Column(1, "record_id", "string", "The raw line (as the curated table's record_id)"),
        Column(2, "source_file", "string", "The raw object the line was read from"),
        Column(3, "raw_line", "string", "The line as read (U+FFFD where its bytes are not UTF-8)"),
        Column(4, "raw_line_base64", "string", "The line's exact bytes, base64, when they are not UTF-8; else null"),
        Column(5, "reason", "string", "Why it was not curated (glue_scripts/README.md, Quarantine reasons)"),
        Column(6, "event_time", "timestamptz", "The reading's time where the line has a valid one; else null"),
        Column(7, "run_id", "string", "The job run that quarantined it"),
        Column(8, "quarantined_at", "timestamptz", "When that run started (UTC)"),
    ),
    partition_source="event_time",
    sort_columns=("event_time",),
    properties=COMMON_PROPERTIES,
)
TABLES = (CURATED, QUARANTINE)

# --- Table maintenance -------------------------------------------------------------------------

#: What the Glue Data Catalog table optimizers are configured with (compaction, snapshot
#: retention, orphan file deletion), and what the local maintenance (lakehouse.maintain, the
#: benchmark) runs as Iceberg's procedures with the same values.
MAINTENANCE = {
    # rewrite_data_files: bin-pack a partition once it has this many files (Glue's compaction
    # optimizer triggers on small files itself; its strategy is binpack).
    "compaction_strategy": "binpack",
    "compaction_min_input_files": 2,
    "target_file_size_bytes": 128 * 1024 * 1024,
    # expire_snapshots: Glue's retention optimizer defaults, written as table properties above.
    "snapshot_retention_days": 5,
    "snapshots_to_keep": 1,
    "clean_expired_files": True,
    # remove_orphan_files: files no snapshot references, older than this (Glue's default: 3 days).
    "orphan_file_retention_days": 3,
}

# --- The Glue job's Iceberg settings ----------------------------------------------------------

#: The Spark catalog name the job uses on Glue (and the CDK side configures).
GLUE_CATALOG_NAME = "glue_catalog"
ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"


def glue_spark_conf(warehouse: str, catalog: str = GLUE_CATALOG_NAME) -> dict[str, str]:
    """The Spark settings that make ``catalog`` the Glue Data Catalog with Iceberg's S3 file IO
    (AWS Glue developer guide, "Using the Iceberg framework in AWS Glue"). They must be set when
    the session starts, so on Glue they go into the ``--conf`` job argument (:func:`glue_conf_argument`)."""
    return {
        "spark.sql.extensions": ICEBERG_EXTENSIONS,
        f"spark.sql.catalog.{catalog}": "org.apache.iceberg.spark.SparkCatalog",
        f"spark.sql.catalog.{catalog}.warehouse": warehouse,
        f"spark.sql.catalog.{catalog}.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
        f"spark.sql.catalog.{catalog}.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
    }


def glue_conf_argument(warehouse: str, catalog: str = GLUE_CATALOG_NAME) -> str:
    """The value of the ``--conf`` job argument: Glue reads one ``--conf`` key, so the settings
    are joined as ``k=v --conf k=v ...``."""
    return " --conf ".join(f"{key}={value}" for key, value in glue_spark_conf(warehouse, catalog).items())


def job_arguments(*, raw_path: str, warehouse: str, database: str, catalog: str = GLUE_CATALOG_NAME) -> dict[str, str]:
    """The raw-to-curated job's default arguments (see glue_scripts/README.md, "Glue job")."""
    return {
        "--datalake-formats": "iceberg",
        "--conf": glue_conf_argument(warehouse, catalog),
        "--raw_path": raw_path,
        "--iceberg_catalog": catalog,
        "--curated_database": database,
        "--curated_table": TABLE_NAME,
        "--quarantine_table": QUARANTINE_TABLE_NAME,
    }


# --- The saved Athena queries ------------------------------------------------------------------


@dataclass(frozen=True)
class SavedQuery:
    name: str
    description: str
    sql: str  # ${database} and ${table} to be filled

    def render(self, database: str, table: str = TABLE_NAME) -> str:
        return string.Template(self.sql).substitute(database=database, table=table)


#: file-stem-like key -> the saved query. Each filters on event_time, so Iceberg reads only the
#: days asked for (the table's hidden day partitions).
SAVED_QUERIES = {
    "latest_reading_per_device": SavedQuery(
        "latest-reading-per-device",
        "Newest reading of every device seen in the last two days",
        """\
-- Latest reading per device: the newest event of every device that reported since the start
-- of yesterday (UTC); older days are not read (see silent_devices for devices gone quiet).
SELECT
    device_id,
    max(event_time) AS event_time,
    max_by(ingested_at, event_time) AS ingested_at,
    max_by(metrics, event_time) AS metrics,
    max_by(attributes, event_time) AS attributes
FROM "${database}"."${table}"
WHERE event_time >= CAST(current_date - INTERVAL '1' DAY AS timestamp(6) with time zone)
GROUP BY device_id
ORDER BY device_id
""",
    ),
    "hourly_aggregates_per_device": SavedQuery(
        "hourly-aggregates-per-device",
        "Count, avg, min and max per device, metric and hour for one day (parameter: the day, YYYY-MM-DD)",
        """\
-- Hourly aggregates per device and metric for one day (UTC). Parameter: the day, 'YYYY-MM-DD'.
-- Reads one day partition and three columns (device_id, event_time, metrics).
SELECT
    device_id,
    date_trunc('hour', event_time) AS hour,
    metric,
    count(*) AS readings,
    avg(value) AS avg_value,
    min(value) AS min_value,
    max(value) AS max_value
FROM "${database}"."${table}"
CROSS JOIN UNNEST(metrics) AS reading (metric, value)
WHERE CAST(event_time AS date) = CAST(? AS date)
GROUP BY device_id, date_trunc('hour', event_time), metric
ORDER BY device_id, hour, metric
""",
    ),
    "silent_devices": SavedQuery(
        "silent-devices",
        "Devices with no reading for at least N hours (parameter: N)",
        """\
-- Devices silent for at least N hours: a reading within the past 30 days (UTC) but none for N
-- hours. Parameter: N (hours). Devices silent for more than 30 days are outside the scan.
SELECT
    device_id,
    max(event_time) AS last_seen,
    date_diff('hour', max(event_time), current_timestamp) AS hours_silent
FROM "${database}"."${table}"
WHERE event_time >= CAST(current_date - INTERVAL '30' DAY AS timestamp(6) with time zone)
GROUP BY device_id
HAVING max(event_time) < current_timestamp - ? * INTERVAL '1' HOUR
ORDER BY last_seen
""",
    ),
}
