"""The curated zone's Iceberg tables from Spark: sessions, catalogs, reads at a snapshot, the
insert-only MERGE, counts on the committed data, schema evolution and maintenance.

Only I/O lives here (raw_to_curated.py decides what to write, this module writes it). It runs
the same on Glue (catalog ``glue_catalog``: the Glue Data Catalog with S3FileIO, configured by
the job's ``--conf``; see curated_table.glue_spark_conf) and locally (a Hadoop catalog over a
warehouse folder, the Iceberg runtime jar that ``make iceberg`` fetched). No awsglue import.

Why some things are done as they are:

* Reads for the classification name a **snapshot id** (``VERSION AS OF``), taken before the
  run writes: every recomputation of a lazily evaluated plan then sees the same rows, whatever
  the run committed since (issue 16's failure mode cannot recur).
* The MERGE's ``ON`` clause restricts the target to the **days the batch touches**
  (:func:`day_condition`), so Iceberg plans only those day partitions: a run reads what its
  batch needs, not the table's history.
* The MERGE has only ``WHEN NOT MATCHED THEN INSERT``: Iceberg runs it as an anti-join and an
  append (no row is rewritten, no delete file written), and a row whose key is already there is
  not inserted again: the write is idempotent by itself, whatever the classification said.
* Local catalogs are registered at run time under a name derived from the warehouse folder, so
  one Spark session (a test suite's) serves any number of warehouses; ``cache-enabled=false``
  makes each read see the catalog's current state, as a fresh Glue run does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession

try:  # in the repository
    from glue_scripts.curated_table import ICEBERG_EXTENSIONS, TableDefinition
except ImportError:  # on Glue, where --extra-py-files puts the modules at the top level
    from curated_table import ICEBERG_EXTENSIONS, TableDefinition  # type: ignore[no-redef]


class TableMissing(RuntimeError):
    """The table is not in the catalog and this run may not create it (on Glue, CloudFormation
    declares it)."""


class TableDrift(RuntimeError):
    """The live table differs from its definition in a way the job must not fix by itself
    (a type change, a column removed or renamed, another partition spec or sort order)."""


class CatalogNotConfigured(RuntimeError):
    """The Spark session has no Iceberg catalog of the given name (the job's --conf is missing)."""


@dataclass(frozen=True)
class TableRef:
    catalog: str
    database: str
    table: str

    @property
    def ident(self) -> str:
        return f"{self.catalog}.{self.database}.{self.table}"


# --- Sessions and catalogs ---------------------------------------------------------------------


def local_session_builder(builder: Any, runtime_jar: str) -> Any:
    """``builder`` with the Iceberg runtime on the class path and Iceberg's SQL extensions
    (MERGE, CALL, WRITE ORDERED BY): both must be set before the session starts."""
    return builder.config("spark.jars", runtime_jar).config("spark.sql.extensions", ICEBERG_EXTENSIONS)


def local_catalog(spark: SparkSession, warehouse: str) -> str:
    """A Hadoop catalog over ``warehouse`` (a folder), registered in this session; its name."""
    name = "wh_" + hashlib.sha1(warehouse.encode()).hexdigest()[:12]
    prefix = f"spark.sql.catalog.{name}"
    if spark.conf.get(prefix, None) is None:
        spark.conf.set(f"{prefix}.type", "hadoop")
        spark.conf.set(f"{prefix}.warehouse", warehouse)
        spark.conf.set(f"{prefix}.cache-enabled", "false")
        spark.conf.set(prefix, "org.apache.iceberg.spark.SparkCatalog")
    return name


def check_catalog(spark: SparkSession, catalog: str) -> None:
    """Fail clearly, naming the setting, when ``catalog`` is not an Iceberg catalog here."""
    if spark.conf.get(f"spark.sql.catalog.{catalog}", None) is None:
        raise CatalogNotConfigured(
            f"no Spark catalog {catalog!r}: set spark.sql.catalog.{catalog}=org.apache.iceberg.spark.SparkCatalog and its "
            "warehouse, catalog-impl and io-impl in the job's --conf (glue_scripts/README.md, Glue job)"
        )
    extensions = spark.conf.get("spark.sql.extensions", "") or ""
    if ICEBERG_EXTENSIONS not in extensions:
        raise CatalogNotConfigured(f"spark.sql.extensions must include {ICEBERG_EXTENSIONS} (MERGE INTO needs it)")


# --- The table and its definition ----------------------------------------------------------------


def _jvm_table(spark: SparkSession, ref: TableRef) -> Any:
    jvm = spark.sparkContext._jvm
    return jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(spark._jsparkSession, ref.ident)


def table_exists(spark: SparkSession, ref: TableRef) -> bool:
    return bool(spark.catalog.tableExists(ref.ident))


def live_definition(spark: SparkSession, ref: TableRef) -> dict[str, Any]:
    """The table's current schema, partition spec, sort order and properties, as Iceberg's
    metadata JSON writes them (so they compare with TableDefinition.iceberg_*())."""
    jvm = spark.sparkContext._jvm
    table = _jvm_table(spark, ref)
    schema = json.loads(jvm.org.apache.iceberg.SchemaParser.toJson(table.schema()))
    schema.pop("schema-id", None)
    return {
        "schema": schema,
        "partition_spec": json.loads(jvm.org.apache.iceberg.PartitionSpecParser.toJson(table.spec())),
        "sort_order": json.loads(jvm.org.apache.iceberg.SortOrderParser.toJson(table.sortOrder())),
        "properties": dict(table.properties()),
        "location": str(table.location()),
    }


def ensure_table(spark: SparkSession, ref: TableRef, definition: TableDefinition, *, create: bool) -> list[str]:
    """The table as defined: created if missing and ``create``, evolved in place where the
    definition adds nullable columns; returns the DDL it ran.

    Adding a column is metadata only (Iceberg assigns it the next field id; no data file is
    rewritten; old files read it as null). Anything else that differs raises TableDrift: a
    changed type, a dropped or renamed column, another partition spec or sort order need a
    reviewed migration, not a job run."""
    statements: list[str] = []
    if not table_exists(spark, ref):
        if not create:
            raise TableMissing(f"{ref.ident} does not exist; it is declared in CloudFormation (the CDK side), not by the job")
        statements += [f"CREATE NAMESPACE IF NOT EXISTS {ref.catalog}.{ref.database}", definition.spark_ddl(ref.ident),
                       definition.spark_sort_ddl(ref.ident)]
        for statement in statements:
            spark.sql(statement)
    live = live_definition(spark, ref)
    live_fields = {f["name"]: f for f in live["schema"]["fields"]}
    declared = [c.name for c in definition.columns]
    removed = [name for name in live_fields if name not in declared]
    if removed:
        raise TableDrift(f"{ref.ident} has columns its definition lacks: {removed} (dropping a column needs a reviewed migration)")
    previous = None
    for column in definition.columns:
        if column.name not in live_fields:
            position = f" AFTER {previous}" if previous else " FIRST"
            doc = column.doc.replace("\\", "\\\\").replace("'", "\\'")
            statement = f"ALTER TABLE {ref.ident} ADD COLUMN {column.name} {column.spark_type} COMMENT '{doc}'{position}"
            spark.sql(statement)
            statements.append(statement)
        previous = column.name
    live = live_definition(spark, ref)
    problems = _differences(live, definition)
    if problems:
        raise TableDrift(f"{ref.ident} differs from its definition: " + "; ".join(problems))
    return statements


def _differences(live: dict[str, Any], definition: TableDefinition) -> list[str]:
    problems = []
    if live["schema"]["fields"] != definition.iceberg_schema()["fields"]:
        problems.append(f"schema {live['schema']['fields']} != declared {definition.iceberg_schema()['fields']}")
    if live["partition_spec"]["fields"] != definition.iceberg_partition_spec()["fields"]:
        problems.append(f"partition spec {live['partition_spec']} != declared {definition.iceberg_partition_spec()}")
    if live["sort_order"]["fields"] != definition.iceberg_sort_order()["fields"]:
        problems.append(f"sort order {live['sort_order']} != declared {definition.iceberg_sort_order()}")
    wrong = {k: (live["properties"].get(k), v) for k, v in definition.table_properties().items()
             if k != "format-version" and live["properties"].get(k) != v}
    if wrong:
        problems.append(f"properties (live, declared): {wrong}")
    return problems


def current_snapshot(spark: SparkSession, ref: TableRef) -> int | None:
    """The id of the table's current snapshot (None while it has none)."""
    snapshot = _jvm_table(spark, ref).currentSnapshot()
    return None if snapshot is None else int(snapshot.snapshotId())


def snapshot_summary(spark: SparkSession, ref: TableRef, snapshot_id: int) -> dict[str, str]:
    return dict(_jvm_table(spark, ref).snapshot(snapshot_id).summary())


# --- Reads, MERGE, counts -------------------------------------------------------------------------


def day_condition(column: str, days: Iterable[dt.date], *, or_null: bool = False) -> str:
    """A SQL condition true for ``column`` on any of ``days`` (UTC; the session's zone is UTC),
    as half-open ranges, consecutive days merged: a filter Iceberg turns into day-partition
    pruning. ``FALSE`` for no day; ``or_null`` adds ``column IS NULL`` (the null partition)."""
    ranges: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1][1] == day:
            ranges[-1][1] = day + dt.timedelta(days=1)
        else:
            ranges.append([day, day + dt.timedelta(days=1)])
    parts = [f"({column} >= TIMESTAMP '{start} 00:00:00' AND {column} < TIMESTAMP '{end} 00:00:00')" for start, end in ranges]
    if or_null:
        parts.append(f"{column} IS NULL")
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def read_at(spark: SparkSession, ref: TableRef, snapshot_id: int | None, columns: Sequence[str], condition: str,
            schema: str) -> DataFrame:
    """``columns`` of the rows meeting ``condition`` as of ``snapshot_id`` (an empty frame of
    ``schema`` for a table without a snapshot yet)."""
    if snapshot_id is None:
        return spark.createDataFrame([], schema)
    return spark.sql(f"SELECT {', '.join(columns)} FROM {ref.ident} VERSION AS OF {snapshot_id} WHERE {condition}")


def merge_new_rows(spark: SparkSession, ref: TableRef, rows: DataFrame, keys: Sequence[str], target_condition: str) -> int | None:
    """``MERGE INTO ref USING rows ON keys AND <target_condition on t> WHEN NOT MATCHED THEN
    INSERT *``; returns the snapshot it committed (None if it committed none).

    ``rows`` must have the table's columns (in any order). ``target_condition`` is written
    against ``t``: the days the rows fall on, so only those partitions are scanned."""
    view = f"merge_source_{ref.table}"
    rows.createOrReplaceTempView(view)
    before = current_snapshot(spark, ref)
    on = " AND ".join(f"t.{key} = s.{key}" for key in keys)
    try:
        spark.sql(f"MERGE INTO {ref.ident} t USING {view} s ON {on} AND {target_condition} WHEN NOT MATCHED THEN INSERT *")
    finally:
        spark.catalog.dropTempView(view)
    after = current_snapshot(spark, ref)
    return None if after == before else after


def count_added(spark: SparkSession, ref: TableRef, before: int | None, after: int | None) -> int:
    """Rows in the data files committed after snapshot ``before`` up to ``after``, read from
    those files (Iceberg's incremental read of appended data), not taken from a summary."""
    if after is None or after == before:
        return 0
    if before is None:
        return int(spark.sql(f"SELECT count(*) FROM {ref.ident} VERSION AS OF {after}").first()[0])
    added = spark.read.format("iceberg").option("start-snapshot-id", str(before)).option("end-snapshot-id", str(after))
    return added.load(ref.ident).count()


def data_files(spark: SparkSession, ref: TableRef) -> list[dict[str, Any]]:
    """The current snapshot's data files: path, partition day, rows, bytes."""
    rows = spark.sql(f"SELECT file_path, partition, record_count, file_size_in_bytes FROM {ref.ident}.files").collect()
    return [
        {"path": r["file_path"], "day": r["partition"][0], "records": r["record_count"], "bytes": r["file_size_in_bytes"]}
        for r in rows
    ]


# --- Maintenance ---------------------------------------------------------------------------------


def maintain(spark: SparkSession, ref: TableRef, settings: dict[str, Any], *, now: dt.datetime | None = None) -> dict[str, Any]:
    """What the Glue Data Catalog table optimizers do, as Iceberg's procedures with the same
    settings (curated_table.MAINTENANCE): compaction (``rewrite_data_files``, bin-packing each
    partition with at least ``compaction_min_input_files`` files towards the target size),
    snapshot retention (``expire_snapshots``: older than the retention, keeping at least
    ``snapshots_to_keep``; Spark's procedure always deletes the files only expired snapshots
    referenced, which is ``clean_expired_files`` of the Glue optimizer), orphan file deletion (``remove_orphan_files``: unreferenced files
    older than their retention). Returns each procedure's result row."""
    now = now or dt.datetime.now(dt.timezone.utc)
    system = f"{ref.catalog}.system"
    table = f"{ref.database}.{ref.table}"
    rewrite = spark.sql(
        f"CALL {system}.rewrite_data_files(table => '{table}', strategy => '{settings['compaction_strategy']}', "
        f"options => map('min-input-files', '{settings['compaction_min_input_files']}', "
        f"'target-file-size-bytes', '{settings['target_file_size_bytes']}'))"
    ).first().asDict()
    expire_before = now - dt.timedelta(days=settings["snapshot_retention_days"])
    expire = spark.sql(
        f"CALL {system}.expire_snapshots(table => '{table}', older_than => TIMESTAMP '{expire_before:%Y-%m-%d %H:%M:%S}', "
        f"retain_last => {settings['snapshots_to_keep']})"
    ).first().asDict()
    orphans_before = now - dt.timedelta(days=settings["orphan_file_retention_days"])
    orphans = spark.sql(
        f"CALL {system}.remove_orphan_files(table => '{table}', older_than => TIMESTAMP '{orphans_before:%Y-%m-%d %H:%M:%S}')"
    ).collect()
    return {"rewrite_data_files": rewrite, "expire_snapshots": expire, "remove_orphan_files": len(orphans)}
