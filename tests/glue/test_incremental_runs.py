"""Incremental runs on dates already curated (issue 16): the curated and the quarantine files
a run writes come from one classification, and the job checks the files it wrote."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pyspark.sql import DataFrame, SparkSession

from glue_scripts import raw_to_curated as job
from tests.glue.conftest import SHUFFLE_PARTITIONS
from tests.glue.readings import T0, line, normalised, write_raw

DAY = T0.date().isoformat()


def cli(raw: Path, output: Path, run_id: str) -> list[str]:
    return [
        "--local", "--input", str(raw), "--output", str(output), "--run-id", run_id,
        "--master", "local[1]", "--shuffle-partitions", str(SHUFFLE_PARTITIONS),
    ]


def reading(second: int) -> str:
    return line(normalised("pump-1", T0 + dt.timedelta(seconds=second)))


def quarantine_lines(output: Path, run_id: str) -> list[dict]:
    files = sorted((output / "quarantine" / f"run_id={run_id}").glob("*.json.gz"))
    return [json.loads(text) for path in files for text in gzip.decompress(path.read_bytes()).decode().splitlines()]


def curated_rows(output: Path) -> int:
    return sum(pq.ParquetFile(path).metadata.num_rows for path in (output / "curated").rglob("*.parquet"))


def test_a_run_on_a_date_already_curated_quarantines_only_the_resent_line(tmp_path: Path) -> None:
    """The issue's minimal case: run 1 one line; run 2 two new lines plus the first one again.
    (Before the fix run 2's summary said 2 curated, 1 quarantined while its quarantine file held
    3 lines: after the curated append Spark recomputed the classification, and the cross-run
    check then found the two rows just written.)"""
    first, second, third = reading(0), reading(1), reading(2)
    write_raw(tmp_path / "raw-1", "a.gz", [first], event_date=DAY, event_hour="08")
    write_raw(tmp_path / "raw-2", "b.gz", [second, third, first], event_date=DAY, event_hour="08")
    output = tmp_path / "out"
    job.run_local(cli(tmp_path / "raw-1", output, "run-1"))
    summary = job.run_local(cli(tmp_path / "raw-2", output, "run-2"))

    assert (summary["curated"], summary["quarantined"], summary["quarantined_by_reason"]) == (2, 1, {"duplicate": 1})
    assert [(row["raw_line"], row["reason"]) for row in quarantine_lines(output, "run-2")] == [(first, job.DUPLICATE)]
    assert curated_rows(output) == 3


def test_the_writes_agree_even_if_every_cached_block_is_dropped_between_them(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eviction recomputes a persisted classification; the keys it compares against are a
    snapshot taken before any write, so the recomputation gives the same answer."""
    first, second = reading(0), reading(1)
    write_raw(tmp_path / "raw-1", "a.gz", [first], event_date=DAY, event_hour="08")
    write_raw(tmp_path / "raw-2", "b.gz", [second, first], event_date=DAY, event_hour="08")
    output = tmp_path / "out"
    job.run_local(cli(tmp_path / "raw-1", output, "run-1"))
    write_all = job.write_curated

    def write_then_evict(rows: DataFrame, curated_path: str) -> None:
        write_all(rows, curated_path)
        spark.catalog.clearCache()

    monkeypatch.setattr(job, "write_curated", write_then_evict)
    summary = job.run_local(cli(tmp_path / "raw-2", output, "run-2"))
    assert (summary["curated"], summary["quarantined"]) == (1, 1)
    assert [row["raw_line"] for row in quarantine_lines(output, "run-2")] == [first]
    assert curated_rows(output) == 2


def test_files_that_do_not_add_up_to_the_rows_read_fail_the_run(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that loses a row after the summary was counted (the case the pre-write check
    cannot see) fails the run loudly, naming what the files hold."""
    lines = [reading(second) for second in range(3)]
    write_raw(tmp_path / "raw", "a.gz", lines, event_date=DAY, event_hour="08")
    write_all = job.write_curated

    def lossy(rows: DataFrame, curated_path: str) -> None:
        write_all(rows.limit(2), curated_path)

    monkeypatch.setattr(job, "write_curated", lossy)
    with pytest.raises(job.WrittenRowsMismatch, match=r"the files written hold 2 curated \+ 0 quarantined rows, but it read 3"):
        job.run_local(cli(tmp_path / "raw", tmp_path / "out", "lossy"))


def test_the_check_counts_only_the_files_this_run_wrote(tmp_path: Path) -> None:
    """Run 2 appends to a date folder that holds run 1's file, and re-uses a quarantine folder
    (a local re-run with the same id): neither earlier file is counted."""
    write_raw(tmp_path / "raw-1", "a.gz", [reading(0), "not json"], event_date=DAY, event_hour="08")
    write_raw(tmp_path / "raw-2", "b.gz", [reading(1), "still not json"], event_date=DAY, event_hour="08")
    output = tmp_path / "out"
    job.run_local(cli(tmp_path / "raw-1", output, "same-id"))
    summary = job.run_local(cli(tmp_path / "raw-2", output, "same-id"))
    assert (summary["curated"], summary["quarantined"]) == (1, 1)
    assert curated_rows(output) == 2
    assert len(quarantine_lines(output, "same-id")) == 2
