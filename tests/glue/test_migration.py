"""Moving an environment's Parquet/Hive curated zone (the layout of the job before issue 19)
into the Iceberg tables: every reading arrives exactly once, the migration can run again, and
the incremental runs after it stay idempotent."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from glue_scripts import migrate_to_iceberg as migration
from glue_scripts import raw_to_curated as job
from tests.glue import tables
from tests.glue.readings import line, normalised, write_raw

UTC = dt.timezone.utc
DAYS = (dt.datetime(2026, 11, 20, tzinfo=UTC), dt.datetime(2026, 11, 21, 23, 59, 59, 999_500, tzinfo=UTC))


def old_readings() -> list[dict]:
    """Readings as the old job curated them (two days, microseconds, no attributes, null ingestion)."""
    readings = []
    for start in DAYS:
        for device in ("pump-1", "fan-2"):
            for second in range(3):
                reading = normalised(device, start - dt.timedelta(seconds=second), metrics={"temp": 20.0 + second})
                readings.append(reading)
    readings[0] = normalised("pump-1", DAYS[0], metrics={"temp": 20.0}, attributes={}, ingested_after=None)
    return readings


def write_old_layout(spark: SparkSession, root: Path, readings: list[dict]) -> tuple[Path, Path]:
    """What the old job wrote: Snappy Parquet, TIMESTAMP_MICROS, one folder per event_date
    (Hive style, the date not in the files), and gzip JSON lines of its quarantine per run."""
    rows = [
        (r["device_id"], r["event_time"], r.get("ingested_at"), 1, r["metrics"], r.get("attributes") or {}, r["event_date"])
        for r in readings
    ]
    frame = spark.createDataFrame(
        rows, "device_id string, event_time string, ingested_at string, schema_version int, "
        "metrics map<string,double>, attributes map<string,string>, event_date string",
    ).select(
        "device_id", F.col("event_time").cast("timestamp").alias("event_time"), F.col("ingested_at").cast("timestamp").alias("ingested_at"),
        "schema_version", "metrics", "attributes", F.col("event_date").cast("date").alias("event_date"),
    )
    curated = root / "curated" / "telemetry"
    frame.repartition("event_date").sortWithinPartitions("event_date", "device_id", "event_time").write.partitionBy(
        "event_date").option("compression", "snappy").parquet(str(curated))
    quarantine = root / "curated" / "quarantine" / "telemetry" / "run_id=old-run"
    quarantine.mkdir(parents=True)
    lines = [
        {"raw_line": "not json", "raw_line_base64": None, "reason": "not_json_object", "source_file": "s3://raw/a.gz",
         "run_id": "old-run", "quarantined_at": "2026-11-21T01:00:00.000Z"},
        {"raw_line": line(readings[1]), "raw_line_base64": None, "reason": "duplicate", "source_file": "s3://raw/b.gz",
         "run_id": "old-run", "quarantined_at": "2026-11-21T01:00:00.000Z"},
    ]
    (quarantine / "part-00000.json.gz").write_bytes(gzip.compress("".join(json.dumps(x) + "\n" for x in lines).encode()))
    return curated, quarantine.parent


def test_the_old_parquet_table_moves_to_iceberg_exactly_once(spark: SparkSession, tmp_path: Path) -> None:
    readings = old_readings()
    curated_path, quarantine_path = write_old_layout(spark, tmp_path / "old", readings)
    assert sorted(p.name for p in curated_path.iterdir() if p.is_dir()) == ["event_date=2026-11-19", "event_date=2026-11-20", "event_date=2026-11-21"]
    output = tmp_path / "new"
    tables_ = tables.tables(spark, output)

    summary = migration.migrate(spark, old_curated_path=str(curated_path), old_quarantine_path=str(quarantine_path),
                                tables=tables_, run_id="migration-1")
    assert summary == {"run_id": "migration-1", "old_curated_rows": len(readings), "curated_added": len(readings),
                       "old_quarantine_lines": 2, "quarantine_added": 2}

    migrated = {(r["device_id"], r["event_time"]): r for r in tables.curated(spark, output).collect()}
    assert len(migrated) == len(readings) == tables.curated(spark, output).count()
    for reading in readings:
        row = migrated[(reading["device_id"], dt.datetime.fromisoformat(reading["event_time"].replace("Z", "+00:00")).replace(tzinfo=None))]
        assert row["metrics"] == reading["metrics"] and row["attributes"] == (reading.get("attributes") or {})
        assert row["run_id"] == "migration-1" and row["record_id"] is None
    # 23:59:59.9995 stays in its day (microseconds kept; the old Hive table read it rounded up).
    last = max(migrated)
    assert last[1] == dt.datetime(2026, 11, 21, 23, 59, 59, 999_500)

    again = migration.migrate(spark, old_curated_path=str(curated_path), old_quarantine_path=str(quarantine_path),
                              tables=tables_, run_id="migration-2")
    assert (again["curated_added"], again["quarantine_added"]) == (0, 0)  # a second run adds nothing


def test_incremental_runs_after_the_migration_stay_idempotent(spark: SparkSession, tmp_path: Path) -> None:
    readings = old_readings()
    curated_path, _ = write_old_layout(spark, tmp_path / "old", readings)
    output = tmp_path / "new"
    migration.migrate(spark, old_curated_path=str(curated_path), tables=tables.tables(spark, output), run_id="migration")
    new = normalised("pump-1", DAYS[1] + dt.timedelta(minutes=5))
    redelivered = readings[3]  # curated by the old job, sent again
    write_raw(tmp_path / "raw", "a.gz", [line(new), line(redelivered)], event_date=new["event_date"], event_hour="00")
    cli = ["--local", "--input", str(tmp_path / "raw"), "--output", str(output), "--master", "local[1]", "--shuffle-partitions", "2"]

    first = job.run_local([*cli, "--run-id", "after-1"])
    assert (first["curated"], first["quarantined"], first["quarantined_by_reason"]) == (1, 1, {"duplicate": 1})
    committed = tables.snapshots(spark, output)
    repeat = job.run_local([*cli, "--run-id", "after-2"])
    assert (repeat["curated"], repeat["quarantined"], repeat["replayed"]) == (0, 0, 2)
    assert tables.snapshots(spark, output) == committed
    assert tables.curated(spark, output).count() == len(readings) + 1
    assert tables.curated(spark, output).groupBy(*job.KEY_COLUMNS).count().where("count > 1").count() == 0


@pytest.mark.parametrize("missing", ["curated"])
def test_a_migration_that_cannot_find_the_old_table_fails(spark: SparkSession, tmp_path: Path, missing: str) -> None:
    with pytest.raises(Exception, match="PATH_NOT_FOUND|does not exist"):
        migration.migrate(spark, old_curated_path=str(tmp_path / "nothing"), tables=tables.tables(spark, tmp_path / "new"),
                          run_id="m")
