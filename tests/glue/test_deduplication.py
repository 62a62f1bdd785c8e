"""At-least-once delivery: a reading (device_id, event_time) is curated once, within a run and
across runs; a raw line already committed (a retry, a repeat) is replayed, never written twice."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_scripts import raw_to_curated as job
from tests.glue.readings import T0, line, normalised

MS = dt.timedelta(milliseconds=1)


def validated(spark: SparkSession, lines: list[str]) -> DataFrame:
    frame = spark.createDataFrame([(text, f"file-{i}") for i, text in enumerate(lines)], "raw_line string, source_file string")
    # A checkpoint, as the job caches its validated rows: otherwise every branch of a plan built
    # on them would compile the validation again (seconds per branch, for a handful of rows).
    rows = job.validate(frame).localCheckpoint()
    assert rows.where(F.col("reason").isNotNull()).count() == sum(text == "not json" for text in lines), "valid fixtures"
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


def identified(spark: SparkSession, lines: list[str]) -> DataFrame:
    return job.with_record_ids(validated(spark, lines))


def outcomes(classified: DataFrame) -> dict[str, tuple[str, str | None]]:
    return {row["raw_line"]: (row["outcome"], row["reason"]) for row in classified.collect()}


NOTHING_CURATED = "device_id string, event_time timestamp, record_id string"


def test_across_runs_a_key_curated_by_another_line_is_a_duplicate(spark: SparkSession) -> None:
    old, new = line(normalised()), line(normalised(event_time=T0 + dt.timedelta(seconds=1)))
    rows = identified(spark, [old, new])
    curated_before = spark.createDataFrame([("pump-0042", T0.replace(tzinfo=None), "another-line:1")], NOTHING_CURATED)
    classified = job.classify(rows, curated_before, spark.createDataFrame([], "record_id string"))
    assert outcomes(classified) == {old: (job.QUARANTINED, job.DUPLICATE), new: (job.CURATED, None)}


def test_a_key_migrated_without_lineage_is_a_duplicate(spark: SparkSession) -> None:
    """Rows moved from the Parquet table have no record id: a match is still a match."""
    reading = line(normalised())
    curated_before = spark.createDataFrame([("pump-0042", T0.replace(tzinfo=None), None)], NOTHING_CURATED)
    classified = job.classify(identified(spark, [reading]), curated_before, spark.createDataFrame([], "record_id string"))
    assert outcomes(classified) == {reading: (job.QUARANTINED, job.DUPLICATE)}


def test_a_key_curated_by_this_very_line_is_replayed_not_a_duplicate(spark: SparkSession) -> None:
    """A retry re-reads what its failed attempt curated: same record id, nothing to write."""
    reading = line(normalised())
    rows = identified(spark, [reading])
    (record_id,) = [row["record_id"] for row in rows.collect()]
    curated_before = spark.createDataFrame([("pump-0042", T0.replace(tzinfo=None), record_id)], NOTHING_CURATED)
    classified = job.classify(rows, curated_before, spark.createDataFrame([], "record_id string"))
    assert outcomes(classified) == {reading: (job.REPLAYED, None)}


def test_a_line_already_quarantined_is_replayed(spark: SparkSession) -> None:
    rows = identified(spark, ["not json", line(normalised())])
    ids = {row["raw_line"]: row["record_id"] for row in rows.collect()}
    quarantined = spark.createDataFrame([(ids["not json"],)], "record_id string")
    classified = job.classify(rows, spark.createDataFrame([], NOTHING_CURATED), quarantined)
    assert outcomes(classified) == {"not json": (job.REPLAYED, job.NOT_JSON_OBJECT), line(normalised()): (job.CURATED, None)}


def test_record_ids_tell_identical_lines_of_one_object_apart(spark: SparkSession) -> None:
    """The n-th copy of a line in an object gets :n; the same line in another object another id."""
    reading = line(normalised())
    frame = spark.createDataFrame(
        [(reading, "s3://raw/a.gz"), (reading, "s3://raw/a.gz"), (reading, "s3://raw/b.gz")], "raw_line string, source_file string"
    )
    ids = sorted(row["record_id"] for row in job.with_record_ids(frame).collect())
    assert len(set(ids)) == 3
    assert sorted(i.rsplit(":", 1)[1] for i in ids) == ["1", "1", "2"]
    again = sorted(row["record_id"] for row in job.with_record_ids(frame.repartition(3)).collect())
    assert again == ids  # independent of how the input is split


def test_readings_half_a_millisecond_apart_are_two_readings(spark: SparkSession) -> None:
    """Times keep microseconds, so the key tells them apart (issue 16: they used to collapse)."""
    first = line(normalised(event_time=T0))
    second = line(normalised(event_time=T0 + dt.timedelta(microseconds=500)))
    marked = job.mark_duplicates_within_run(validated(spark, [first, second]))
    assert kept(marked) == sorted([first, second])
