"""Incremental runs, repeats and retries on the committed Iceberg tables: every raw line ends up
exactly once in the curated table or the quarantine, however often a run is repeated and
wherever an attempt failed (issue 16's case, issue 19's commit sequence)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession

from glue_scripts import lakehouse
from glue_scripts import raw_to_curated as job
from tests.glue import tables
from tests.glue.conftest import SHUFFLE_PARTITIONS
from tests.glue.readings import T0, line, normalised, write_raw

DAY = T0.date().isoformat()


def cli(raw: Path, output: Path, run_id: str) -> list[str]:
    return [
        "--local", "--input", str(raw), "--output", str(output), "--run-id", run_id,
        "--master", "local[1]", "--shuffle-partitions", str(SHUFFLE_PARTITIONS),
    ]


def reading(second: int, *, ingested_after: dt.timedelta = dt.timedelta(milliseconds=875)) -> str:
    return line(normalised("pump-1", T0 + dt.timedelta(seconds=second), ingested_after=ingested_after))


def state(spark: SparkSession, output: Path) -> dict:
    """What is committed: both tables' rows (as sorted tuples) and current snapshots."""
    curated = sorted(tuple(r) for r in tables.curated(spark, output).select("record_id", "device_id", "event_time", "run_id").collect())
    quarantine = sorted(tuple(r) for r in tables.quarantine(spark, output).select("record_id", "reason", "run_id").collect())
    return {"curated": curated, "quarantine": quarantine, "snapshots": tables.snapshots(spark, output)}


def exactly_once(spark: SparkSession, output: Path, lines_read: int) -> None:
    """Curated + quarantine rows = lines read, and every record id once across both tables."""
    curated, quarantine = tables.curated(spark, output), tables.quarantine(spark, output)
    assert curated.count() + quarantine.count() == lines_read
    assert curated.select("record_id").union(quarantine.select("record_id")).distinct().count() == lines_read


def test_a_run_on_a_day_already_curated_quarantines_only_the_resent_line(spark: SparkSession, tmp_path: Path) -> None:
    """Issue 16's minimal case: run 1 one line; run 2 two new lines plus the first one again
    (redelivered in another object)."""
    first, second, third = reading(0), reading(1), reading(2)
    write_raw(tmp_path / "raw-1", "a.gz", [first], event_date=DAY, event_hour="08")
    write_raw(tmp_path / "raw-2", "b.gz", [second, third, first], event_date=DAY, event_hour="08")
    output = tmp_path / "out"
    job.run_local(cli(tmp_path / "raw-1", output, "run-1"))
    summary = job.run_local(cli(tmp_path / "raw-2", output, "run-2"))

    assert (summary["curated"], summary["quarantined"], summary["replayed"], summary["quarantined_by_reason"]) == (2, 1, 0, {"duplicate": 1})
    assert [(r["raw_line"], r["reason"]) for r in tables.quarantine(spark, output).collect()] == [(first, job.DUPLICATE)]
    assert tables.curated(spark, output).count() == 3


def test_a_retried_run_after_a_partial_write_changes_nothing_it_had_committed(
    spark: SparkSession, tmp_path: Path
) -> None:
    """The attempt commits the curated MERGE, then fails before the quarantine's (and so before
    the bookmark). The retry reads the same files: its own curated rows are replayed (same
    record ids), not quarantined as redeliveries; the quarantine gets exactly what was missing.
    A further repeat commits nothing at all."""
    old = reading(0)
    write_raw(tmp_path / "raw-0", "a.gz", [old], event_date=DAY, event_hour="08")
    lines = [reading(1), reading(2), reading(2, ingested_after=dt.timedelta(seconds=9)), old, "not json"]
    write_raw(tmp_path / "raw", "b.gz", lines, event_date=DAY, event_hour="08")
    output = tmp_path / "out"
    tables_ = tables.tables(spark, output)
    job.curate(spark, job.read_raw_lines(spark, str(tmp_path / "raw-0")), tables=tables_, run_id="run-0")

    def fail_after(table: str):
        def hook(committed: str) -> None:
            if committed == table:
                raise RuntimeError(f"injected failure after the {table} commit")
        return hook

    with pytest.raises(RuntimeError, match="after the curated commit"):
        job.curate(spark, job.read_raw_lines(spark, str(tmp_path / "raw")), tables=tables_, run_id="run-1",
                   after_commit=fail_after("curated"))
    partial = state(spark, output)
    assert len(partial["curated"]) == 3 and len(partial["quarantine"]) == 0  # run-0's + the attempt's 2

    retry = job.curate(spark, job.read_raw_lines(spark, str(tmp_path / "raw")), tables=tables_, run_id="run-1-attempt-2")
    assert (retry["curated"], retry["quarantined"], retry["replayed"]) == (0, 3, 2)
    assert retry["quarantined_by_reason"] == {"duplicate": 2, "not_json_object": 1}
    after = state(spark, output)
    assert after["curated"] == partial["curated"]  # not one curated row added, removed or changed
    assert after["snapshots"]["curated"] == partial["snapshots"]["curated"]
    exactly_once(spark, output, lines_read=1 + len(lines))

    repeat = job.curate(spark, job.read_raw_lines(spark, str(tmp_path / "raw")), tables=tables_, run_id="run-1-attempt-3")
    assert (repeat["curated"], repeat["quarantined"], repeat["replayed"]) == (0, 0, len(lines))
    assert state(spark, output) == after  # no commit at all: same rows, same snapshots


def test_a_run_failing_after_both_commits_is_replayed_whole(spark: SparkSession, tmp_path: Path) -> None:
    """Failed after the quarantine MERGE, before the bookmark: the retry finds every line
    committed and commits nothing."""
    lines = [reading(0), reading(0, ingested_after=dt.timedelta(seconds=3)), "not json"]
    write_raw(tmp_path / "raw", "a.gz", lines, event_date=DAY, event_hour="08")
    output = tmp_path / "out"
    tables_ = tables.tables(spark, output)

    def fail(committed: str) -> None:
        if committed == "quarantine":
            raise RuntimeError("injected failure before the bookmark")

    with pytest.raises(RuntimeError, match="before the bookmark"):
        job.curate(spark, job.read_raw_lines(spark, str(tmp_path / "raw")), tables=tables_, run_id="a1", after_commit=fail)
    committed = state(spark, output)
    retry = job.curate(spark, job.read_raw_lines(spark, str(tmp_path / "raw")), tables=tables_, run_id="a2")
    assert (retry["curated"], retry["quarantined"], retry["replayed"]) == (0, 0, 3)
    assert state(spark, output) == committed
    exactly_once(spark, output, lines_read=3)


def test_the_commits_agree_even_if_every_cached_block_is_dropped_between_them(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eviction recomputes a persisted classification; it reads the tables at the snapshot taken
    before any write, so the recomputation gives the same answer (issue 16)."""
    first, second = reading(0), reading(1)
    write_raw(tmp_path / "raw-1", "a.gz", [first], event_date=DAY, event_hour="08")
    write_raw(tmp_path / "raw-2", "b.gz", [second, first], event_date=DAY, event_hour="08")
    output = tmp_path / "out"
    job.run_local(cli(tmp_path / "raw-1", output, "run-1"))
    merge = lakehouse.merge_new_rows

    def merge_then_evict(*args, **kwargs):
        committed = merge(*args, **kwargs)
        spark.catalog.clearCache()
        return committed

    monkeypatch.setattr(lakehouse, "merge_new_rows", merge_then_evict)
    summary = job.run_local(cli(tmp_path / "raw-2", output, "run-2"))
    assert (summary["curated"], summary["quarantined"]) == (1, 1)
    assert [r["raw_line"] for r in tables.quarantine(spark, output).collect()] == [first]
    assert tables.curated(spark, output).count() == 2


def test_commits_that_do_not_add_up_to_the_rows_read_fail_the_run(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that loses a row after the summary was counted (what the pre-write check cannot
    see) fails the run loudly, naming what the commits added."""
    write_raw(tmp_path / "raw", "a.gz", [reading(second) for second in range(3)], event_date=DAY, event_hour="08")
    merge = lakehouse.merge_new_rows

    def lossy(spark_: SparkSession, ref, rows: DataFrame, *args, **kwargs):
        return merge(spark_, ref, rows.limit(2), *args, **kwargs)

    monkeypatch.setattr(lakehouse, "merge_new_rows", lossy)
    with pytest.raises(job.WrittenRowsMismatch, match=r"its commits added 2 curated \+ 0 quarantined rows, but it read 3"):
        job.run_local(cli(tmp_path / "raw", tmp_path / "out", "lossy"))
