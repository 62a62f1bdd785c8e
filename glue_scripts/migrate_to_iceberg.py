"""One-time job: move an environment's Parquet/Hive curated zone into the Iceberg tables.

Before issue 19 the job appended Snappy Parquet under ``<curated>/telemetry/event_date=YYYY-MM-DD/``
(the Hive table ``telemetry``, partitioned by ``event_date``) and gzip JSON lines under
``<curated>/quarantine/telemetry/run_id=<run>/``. This job reads both and MERGEs them into the
Iceberg tables of glue_scripts/curated_table.py:

* every curated reading keeps its values; ``event_date`` is dropped (the table partitions by
  ``day(event_time)``, which is the same day: the old job checked it); the lineage columns are
  null except ``run_id``, which names this migration (the old files kept no lineage);
* every old quarantine line keeps its line, reason, source file, run and time; its
  ``record_id`` is ``legacy-<SHA-256 of run id, source file and line>:<n>`` (never a record id
  the job makes, whose digests have no prefix), and ``event_time`` is the line's own where it
  has a valid one (the partition).

Why a MERGE (``CALL system.migrate`` / ``add_files`` would register the old files in place):
the old files have no lineage columns, their ``event_date`` column and Hive partitioning differ
from the table's hidden ``day(event_time)`` spec, and MERGE keyed on the reading makes the
migration itself idempotent: a run that failed half-way, or a second run, inserts only what is
missing. The old files are read, never changed or deleted; drop them (and the old Hive table)
once the new table is checked (:func:`migrate` returns the counts to check against).

Run it once per environment, with the scheduled job paused, before the first Iceberg run:
on Glue as its own job with the same ``--datalake-formats``/``--conf`` as the curation job and
``--old_curated_path``, ``--old_quarantine_path`` (optional) and the table arguments; locally,
:func:`migrate` on a session from raw_to_curated.create_local_session.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

try:  # in the repository
    from glue_scripts import curated_table as table_defs
    from glue_scripts import lakehouse
    from glue_scripts import raw_to_curated as job
except ImportError:  # on Glue, where --extra-py-files puts the modules at the top level
    import curated_table as table_defs  # type: ignore[no-redef]
    import lakehouse  # type: ignore[no-redef]
    import raw_to_curated as job  # type: ignore[no-redef]

OLD_PARTITION_COLUMN = "event_date"
OLD_QUARANTINE_SCHEMA = (
    "raw_line string, raw_line_base64 string, reason string, source_file string, run_id string, quarantined_at timestamp"
)


def read_old_curated(spark: SparkSession, path: str) -> DataFrame:
    """The old curated Parquet (Hive folders ``event_date=...``), the reading's columns."""
    return spark.read.parquet(path).select(*(name for name, _ in job.CURATED_COLUMNS))


def read_old_quarantine(spark: SparkSession, path: str) -> DataFrame:
    """The old quarantine's gzip JSON lines (``run_id=<run>/`` folders; the run id is in each line too)."""
    return (
        spark.read.schema(OLD_QUARANTINE_SCHEMA)
        .option("recursiveFileLookup", "true")
        .option("timestampFormat", "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
        .json(path)
    )


def legacy_quarantine_rows(old: DataFrame) -> DataFrame:
    """The old quarantine lines with the quarantine table's columns."""
    digest = F.sha2(F.concat_ws("\u0000", F.coalesce("run_id", F.lit("")), F.coalesce("source_file", F.lit("")), "raw_line"), 256)
    copy = F.row_number().over(Window.partitionBy("_digest").orderBy("_digest"))
    event_time = F.expr("try_cast(get_json_object(raw_line, '$.event_time') AS timestamp)")
    numbered = old.withColumn("_digest", digest).withColumn("_copy", copy)
    values = {
        "record_id": F.concat(F.lit("legacy-"), "_digest", F.lit(":"), F.col("_copy").cast("string")),
        "event_time": event_time,
    }
    return numbered.select(*(values.get(c.name, F.col(c.name)).alias(c.name) for c in table_defs.QUARANTINE.columns))


def migrate(
    spark: SparkSession,
    *,
    old_curated_path: str,
    tables: job.Tables,
    run_id: str,
    old_quarantine_path: str | None = None,
    create_tables: bool = True,
) -> dict[str, Any]:
    """MERGE the old curated rows (keyed on the reading) and old quarantine lines (keyed on
    their legacy record id) into the Iceberg tables; returns what was read and what was added.

    Nothing is lost: the function fails (:class:`job.WrittenRowsMismatch`) unless every old
    curated reading is in the table afterwards (the rows added now plus those already there,
    counted on the committed table over the old days) and every old quarantine line likewise."""
    job.ensure_tables(spark, tables, create=create_tables)
    old = read_old_curated(spark, old_curated_path).cache()
    days = [row["day"] for row in old.select(F.to_date("event_time").alias("day")).distinct().collect()]
    condition = lakehouse.day_condition("event_time", days)
    rows = old.select(
        *(F.col(name) for name, _ in job.CURATED_COLUMNS),
        F.lit(None).cast("string").alias("source_file"),
        F.lit(None).cast("string").alias("record_id"),
        F.lit(run_id).alias("run_id"),
    )
    before = lakehouse.current_snapshot(spark, tables.curated_ref)
    committed = lakehouse.merge_new_rows(spark, tables.curated_ref, rows, job.KEY_COLUMNS, lakehouse.day_condition("t.event_time", days))
    after = committed or before
    summary: dict[str, Any] = {
        "run_id": run_id,
        "old_curated_rows": old.count(),
        "curated_added": lakehouse.count_added(spark, tables.curated_ref, before, after),
    }
    present = old.join(
        spark.sql(f"SELECT device_id, event_time FROM {tables.curated_ref.ident} VERSION AS OF {after} WHERE {condition}"),
        list(job.KEY_COLUMNS), "left_semi",
    ).count() if after is not None else 0
    old.unpersist()
    if present != summary["old_curated_rows"]:
        raise job.WrittenRowsMismatch(f"migration {run_id}: {summary['old_curated_rows']} old readings, {present} in the table")
    if old_quarantine_path is not None:
        legacy = legacy_quarantine_rows(read_old_quarantine(spark, old_quarantine_path)).cache()
        q_days = [r["day"] for r in legacy.select(F.to_date("event_time").alias("day")).distinct().collect() if r["day"]]
        q_before = lakehouse.current_snapshot(spark, tables.quarantine_ref)
        q_committed = lakehouse.merge_new_rows(
            spark, tables.quarantine_ref, legacy, ("record_id",), lakehouse.day_condition("t.event_time", q_days, or_null=True)
        )
        q_after = q_committed or q_before
        summary["old_quarantine_lines"] = legacy.count()
        summary["quarantine_added"] = lakehouse.count_added(spark, tables.quarantine_ref, q_before, q_after)
        q_present = legacy.join(
            spark.sql(f"SELECT record_id FROM {tables.quarantine_ref.ident} VERSION AS OF {q_after}"), "record_id", "left_semi"
        ).count() if q_after is not None else 0
        legacy.unpersist()
        if q_present != summary["old_quarantine_lines"]:
            raise job.WrittenRowsMismatch(f"migration {run_id}: {summary['old_quarantine_lines']} old quarantine lines, {q_present} in the table")
    return summary


def glue_main(argv: Sequence[str]) -> dict[str, Any]:
    """The one-time Glue job (UNVERIFIED outside Glue, like the curation job's entry point):
    ``--old_curated_path``, optional ``--old_quarantine_path``, ``--iceberg_catalog``,
    ``--curated_database``, ``--curated_table``, ``--quarantine_table``."""
    from awsglue.context import GlueContext
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    names = ["JOB_RUN_ID", "old_curated_path", "iceberg_catalog", "curated_database", "curated_table", "quarantine_table"]
    optional = "old_quarantine_path" if any(a.startswith("--old_quarantine_path") for a in argv) else None
    args = getResolvedOptions(list(argv), names + ([optional] if optional else []))
    spark = job.configure_session(GlueContext(SparkContext.getOrCreate()).spark_session)
    lakehouse.check_catalog(spark, args["iceberg_catalog"])
    tables = job.Tables(args["iceberg_catalog"], args["curated_database"], args["curated_table"], args["quarantine_table"])
    return migrate(spark, old_curated_path=args["old_curated_path"], old_quarantine_path=args.get("old_quarantine_path"),
                   tables=tables, run_id=f"migration-{args['JOB_RUN_ID']}", create_tables=False)


if __name__ == "__main__":
    print(glue_main(sys.argv))
