"""At-least-once delivery: a reading (device_id, event_time) is curated once, within a run and
across runs."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_scripts import raw_to_curated as job
from tests.glue.readings import T0, line, normalised

MS = dt.timedelta(milliseconds=1)


def validated(spark: SparkSession, lines: list[str]) -> DataFrame:
    frame = spark.createDataFrame([(text, f"file-{i}") for i, text in enumerate(lines)], "raw_line string, source_file string")
    rows = job.validate(frame)
    assert rows.where(F.col("reason").isNotNull()).count() == 0, "the fixtures must be valid readings"
    return rows


def kept(rows: DataFrame) -> list[str]:
    return sorted(row["raw_line"] for row in rows.where(F.col("reason").isNull()).collect())


def test_within_a_run_the_earliest_ingested_delivery_is_kept(spark: SparkSession) -> None:
    deliveries = [line(normalised(ingested_after=delay * MS)) for delay in (900, 300, 600)]
    no_ingested_at = line(normalised(ingested_after=None))  # sorts after any known ingestion time
    other = line(normalised("fan-7"))
    marked = job.mark_duplicates_within_run(validated(spark, [*deliveries, no_ingested_at, other]))
    assert kept(marked) == sorted([deliveries[1], other])
    reasons = {row["raw_line"]: row["reason"] for row in marked.collect()}
    assert reasons[deliveries[0]] == reasons[deliveries[2]] == reasons[no_ingested_at] == job.DUPLICATE


def test_within_a_run_ties_are_broken_by_the_raw_line(spark: SparkSession) -> None:
    first, second = sorted(line(normalised(metrics={"temperature_c": t})) for t in (21.5, 22.5))
    assert kept(job.mark_duplicates_within_run(validated(spark, [second, first]))) == [first]


def test_an_identical_line_delivered_twice_is_curated_once(spark: SparkSession) -> None:
    reading = line(normalised())
    marked = job.mark_duplicates_within_run(validated(spark, [reading, reading]))
    assert [row["reason"] for row in marked.orderBy("source_file").collect()] == [None, job.DUPLICATE]


def test_across_runs_a_key_already_curated_is_a_duplicate(spark: SparkSession) -> None:
    old, new = line(normalised()), line(normalised(event_time=T0 + dt.timedelta(seconds=1)))
    curated_before = spark.createDataFrame([("pump-0042", T0.replace(tzinfo=None))], "device_id string, event_time timestamp")
    marked = job.mark_duplicates_across_runs(validated(spark, [old, new]), curated_before)
    assert {row["raw_line"]: row["reason"] for row in marked.collect()} == {old: job.DUPLICATE, new: None}


def test_the_first_run_finds_no_curated_keys(spark: SparkSession, tmp_path) -> None:
    keys = job.read_curated_keys(spark, str(tmp_path / "curated"), ["2026-11-23"])
    assert keys.columns == list(job.KEY_COLUMNS)
    assert keys.count() == 0


def test_readings_half_a_millisecond_apart_are_two_readings(spark: SparkSession) -> None:
    """Times keep microseconds, so the key tells them apart (issue 16: they used to collapse)."""
    first = line(normalised(event_time=T0))
    second = line(normalised(event_time=T0 + dt.timedelta(microseconds=500)))
    marked = job.mark_duplicates_within_run(validated(spark, [first, second]))
    assert kept(marked) == sorted([first, second])
