"""The tables Spark creates are exactly the ones glue_scripts/curated_table.py declares (the
definition the CDK side declares in the Glue Data Catalog), and a column added to the definition
evolves the table in place: no data file rewritten, old rows read it as null, the job goes on."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from glue_scripts import curated_table, lakehouse
from glue_scripts import raw_to_curated as job
from glue_scripts.curated_table import CURATED, QUARANTINE, Column
from tests.glue import tables
from tests.glue.readings import T0, line, normalised, write_raw


@pytest.fixture(scope="module")
def created(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> job.Tables:
    output = tmp_path_factory.mktemp("created")
    tables_ = tables.tables(spark, output)
    job.ensure_tables(spark, tables_, create=True)
    return tables_


@pytest.mark.parametrize("definition", [CURATED, QUARANTINE], ids=lambda d: d.name)
def test_spark_creates_exactly_the_declared_table(spark: SparkSession, created: job.Tables, definition) -> None:
    ref = created.curated_ref if definition is CURATED else created.quarantine_ref
    live = lakehouse.live_definition(spark, ref)
    assert live["schema"] == definition.iceberg_schema()  # names, ids, types, docs, optional
    assert live["partition_spec"] == definition.iceberg_partition_spec()
    assert live["sort_order"] == definition.iceberg_sort_order()
    assert {k: live["properties"].get(k) for k in definition.properties} == dict(definition.properties)
    metadata_dir = Path(live["location"].removeprefix("file:")) / "metadata"
    newest = max(metadata_dir.glob("v*.metadata.json"), key=lambda p: int(p.name[1:].split(".")[0]))
    assert json.loads(newest.read_text())["format-version"] == curated_table.FORMAT_VERSION == 2


def test_the_definition_is_what_the_issue_asks_for() -> None:
    assert CURATED.iceberg_partition_spec()["fields"] == [
        {"name": "event_time_day", "transform": "day", "source-id": 2, "field-id": 1000}
    ]
    assert [f["source-id"] for f in CURATED.iceberg_sort_order()["fields"]] == [1, 2]  # device_id, event_time
    assert CURATED.properties["write.parquet.compression-codec"] == "zstd"
    ids = [c.field_id for c in CURATED.columns]
    nested = [i for c in CURATED.columns if isinstance(c.type, curated_table.MapType) for i in (c.type.key_id, c.type.value_id)]
    assert len(set(ids + nested)) == len(ids + nested), "field ids are unique"


def test_the_glue_job_arguments_name_the_catalog_the_conf_configures() -> None:
    arguments = curated_table.job_arguments(raw_path="s3://raw/telemetry/", warehouse="s3://curated/", database="db")
    assert {key.lstrip("-") for key in arguments} >= set(job.GLUE_ARGUMENTS)
    conf = dict(part.split("=", 1) for part in arguments["--conf"].split(" --conf "))
    assert conf == curated_table.glue_spark_conf("s3://curated/")
    assert conf[f"spark.sql.catalog.{arguments['--iceberg_catalog']}.catalog-impl"] == "org.apache.iceberg.aws.glue.GlueCatalog"
    assert arguments["--datalake-formats"] == "iceberg"


def test_adding_a_nullable_column_evolves_the_table_in_place(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = line(normalised("pump-1", T0))
    write_raw(tmp_path / "raw-1", "a.gz", [first], event_date=str(T0.date()), event_hour="08")
    output = tmp_path / "out"
    cli = ["--output", str(output), "--master", "local[1]", "--shuffle-partitions", "2", "--local"]
    job.run_local([*cli, "--input", str(tmp_path / "raw-1"), "--run-id", "before"])
    files_before = {f["path"] for f in tables.data_files(spark, output)}

    evolved = dataclasses.replace(CURATED, columns=(*CURATED.columns, Column(14, "firmware", "string", "Firmware version")))
    monkeypatch.setattr(curated_table, "CURATED", evolved)
    ddl = job.ensure_tables(spark, tables.tables(spark, output), create=False)
    assert ddl == [f"ALTER TABLE {tables.tables(spark, output).curated_ref.ident} ADD COLUMN firmware string "
                   "COMMENT 'Firmware version' AFTER run_id"]
    assert {f["path"] for f in tables.data_files(spark, output)} == files_before  # metadata only
    assert lakehouse.live_definition(spark, tables.tables(spark, output).curated_ref)["schema"] == evolved.iceberg_schema()

    second = line(normalised("pump-1", T0 + dt.timedelta(seconds=1)))
    write_raw(tmp_path / "raw-2", "b.gz", [second, first], event_date=str(T0.date()), event_hour="08")
    summary = job.run_local([*cli, "--input", str(tmp_path / "raw-2"), "--run-id", "after"])
    assert (summary["curated"], summary["quarantined"]) == (1, 1)  # the job keeps working
    rows = tables.curated(spark, output).orderBy("event_time").collect()
    assert [(r["run_id"], r["firmware"]) for r in rows] == [("before", None), ("after", None)]
    assert files_before <= {f["path"] for f in tables.data_files(spark, output)}  # the old file untouched


def test_a_changed_type_or_a_dropped_column_is_refused(
    spark: SparkSession, created: job.Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only adding a nullable column is done by the job; anything else needs a reviewed migration."""
    retyped = dataclasses.replace(CURATED, columns=(*CURATED.columns[:3], Column(4, "schema_version", "long", "x"), *CURATED.columns[4:]))
    with pytest.raises(lakehouse.TableDrift, match="differs from its definition"):
        lakehouse.ensure_table(spark, created.curated_ref, retyped, create=False)
    dropped = dataclasses.replace(CURATED, columns=CURATED.columns[:-1])
    with pytest.raises(lakehouse.TableDrift, match=r"columns its definition lacks: \['run_id'\]"):
        lakehouse.ensure_table(spark, created.curated_ref, dropped, create=False)


def test_on_glue_a_missing_table_is_an_error_not_created(spark: SparkSession, tmp_path: Path) -> None:
    with pytest.raises(lakehouse.TableMissing, match="declared in CloudFormation"):
        job.ensure_tables(spark, tables.tables(spark, tmp_path), create=False)


def test_a_session_without_the_catalog_is_a_clear_error(spark: SparkSession) -> None:
    with pytest.raises(lakehouse.CatalogNotConfigured, match="spark.sql.catalog.glue_catalog"):
        lakehouse.check_catalog(spark, "glue_catalog")


def test_day_conditions_merge_consecutive_days() -> None:
    days = [dt.date(2026, 11, 23), dt.date(2026, 11, 21), dt.date(2026, 11, 22), dt.date(2026, 11, 25)]
    assert lakehouse.day_condition("t.event_time", days, or_null=True) == (
        "((t.event_time >= TIMESTAMP '2026-11-21 00:00:00' AND t.event_time < TIMESTAMP '2026-11-24 00:00:00') OR "
        "(t.event_time >= TIMESTAMP '2026-11-25 00:00:00' AND t.event_time < TIMESTAMP '2026-11-26 00:00:00') OR "
        "t.event_time IS NULL)"
    )
    assert lakehouse.day_condition("x", []) == "FALSE"


def test_maintenance_compacts_a_day_to_one_file_and_keeps_every_row(spark: SparkSession, tmp_path: Path) -> None:
    """The optimizers' work as Iceberg's procedures (lakehouse.maintain with MAINTENANCE): two runs
    leave two files in a day; after maintenance one, with the same rows."""
    output = tmp_path / "out"
    for run in range(2):
        write_raw(tmp_path / f"raw-{run}", "a.gz", [line(normalised("pump-1", T0 + dt.timedelta(seconds=run)))],
                  event_date=str(T0.date()), event_hour="08")
        job.run_local(["--local", "--input", str(tmp_path / f"raw-{run}"), "--output", str(output), "--run-id", f"r{run}",
                       "--master", "local[1]", "--shuffle-partitions", "2"])
    rows = sorted(tuple(r) for r in tables.curated(spark, output).collect())
    assert len(tables.data_files(spark, output)) == 2
    result = lakehouse.maintain(spark, tables.tables(spark, output).curated_ref, curated_table.MAINTENANCE)
    assert result["rewrite_data_files"]["rewritten_data_files_count"] == 2
    assert len(tables.data_files(spark, output)) == 1
    assert sorted(tuple(r) for r in tables.curated(spark, output).collect()) == rows
