"""The committed tables of a local run (``<output>/warehouse``), read back for the checks."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from glue_scripts import lakehouse
from glue_scripts import raw_to_curated as job


def tables(spark: SparkSession, output: Path) -> job.Tables:
    return job.local_tables(spark, output / "warehouse")


def curated(spark: SparkSession, output: Path) -> DataFrame:
    return spark.table(tables(spark, output).curated_ref.ident)


def quarantine(spark: SparkSession, output: Path) -> DataFrame:
    return spark.table(tables(spark, output).quarantine_ref.ident)


def snapshots(spark: SparkSession, output: Path) -> dict[str, int | None]:
    t = tables(spark, output)
    return {"curated": lakehouse.current_snapshot(spark, t.curated_ref), "quarantine": lakehouse.current_snapshot(spark, t.quarantine_ref)}


def data_files(spark: SparkSession, output: Path) -> list[dict]:
    return lakehouse.data_files(spark, tables(spark, output).curated_ref)


def local_path(uri: str) -> Path:
    """A data file's path from Iceberg's ``file:/...`` location."""
    return Path(uri.removeprefix("file:"))


def without_snapshots(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "snapshots"}
