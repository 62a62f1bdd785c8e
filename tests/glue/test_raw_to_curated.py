"""The job end to end on local files: two runs through the command line, then the committed
Iceberg tables they leave (read back through Spark's catalog and, for the files, pyarrow)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from glue_scripts import curated_table as table_defs
from glue_scripts import raw_to_curated as job
from tests.glue.conftest import SHUFFLE_PARTITIONS
from tests.glue import tables
from tests.glue.readings import line, normalised, write_raw

DAY_1, DAY_2, DAY_3 = "2026-11-23", "2026-11-24", "2026-11-25"
BAD_LINES = ["not json", line({**normalised(), "schema_version": "1"})]


def at(day: str, hour: int, second: int) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, second=second, tzinfo=dt.timezone.utc)


def readings(devices: list[str], day: str, hour: int, count: int) -> list[str]:
    return [line(normalised(device, at(day, hour, second))) for second in range(count) for device in devices]


def cli(raw: Path, output: Path, run_id: str) -> list[str]:
    return [
        "--local", "--input", str(raw), "--output", str(output), "--run-id", run_id,
        "--master", "local[1]", "--shuffle-partitions", str(SHUFFLE_PARTITIONS),
    ]


def files_per_day(spark: SparkSession, output: Path) -> dict[str, int]:
    days: dict[str, int] = {}
    for data_file in tables.data_files(spark, output):
        days[data_file["day"].isoformat()] = days.get(data_file["day"].isoformat(), 0) + 1
    return days


@dataclass
class Runs:
    output: Path
    first: dict[str, Any]
    second: dict[str, Any]
    #: day -> data files of the curated table, right after the first run
    files_after_first: dict[str, int]
    first_lines: dict[str, list[str]]
    second_lines: dict[str, list[str]]


@pytest.fixture(scope="module")
def runs(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Run 1: day 1 as gzip (two hours, a redelivery, bad lines) and day 2 as a plain file.
    Run 2: a new day 3, plus a repeat of one of run 1's objects and a late redelivery."""
    base = tmp_path_factory.mktemp("runs")
    output = base / "out"
    raw_1, raw_2 = base / "raw-1", base / "raw-2"
    redelivered = line(normalised("pump-1", at(DAY_1, 8, 0), ingested_after=dt.timedelta(seconds=5)))
    first_lines = {
        "day 1, 08 (gzip)": readings(["pump-1", "pump-2"], DAY_1, 8, 5) + BAD_LINES,
        "day 1, 09 (gzip)": readings(["pump-1", "fan-3"], DAY_1, 9, 3) + [redelivered],
        "day 2 (plain)": readings(["pump-1"], DAY_2, 0, 4),
    }
    write_raw(raw_1, "a.gz", first_lines["day 1, 08 (gzip)"], event_date=DAY_1, event_hour="08")
    repeated = write_raw(raw_1, "b.gz", first_lines["day 1, 09 (gzip)"], event_date=DAY_1, event_hour="09")
    write_raw(raw_1, "c", first_lines["day 2 (plain)"], event_date=DAY_2, event_hour="00", gzipped=False)
    first = job.run_local(cli(raw_1, output, "run-1"))
    files_after_first = files_per_day(spark, output)

    second_lines = {
        "day 3": readings(["pump-1", "pump-2"], DAY_3, 12, 2),
        "repeat of day 1, 09": first_lines["day 1, 09 (gzip)"],
        "late redelivery": [line(normalised("pump-2", at(DAY_1, 8, 4), ingested_after=dt.timedelta(minutes=30)))],
    }
    write_raw(raw_2, "d.gz", second_lines["day 3"], event_date=DAY_3, event_hour="12")
    (raw_2 / "telemetry" / f"event_date={DAY_1}" / "event_hour=09").mkdir(parents=True)
    shutil.copy(repeated, raw_2 / "telemetry" / f"event_date={DAY_1}" / "event_hour=09" / "b.gz")
    write_raw(raw_2, "e.gz", second_lines["late redelivery"], event_date=DAY_1, event_hour="08")
    second = job.run_local(cli(raw_2, output, "run-2"))
    return Runs(output, first, second, files_after_first, first_lines, second_lines)


def test_the_first_run_counts_every_row_once(runs: Runs) -> None:
    assert tables.without_snapshots(runs.first) == {
        "run_id": "run-1",
        "rows_in": 23,
        "curated": 20,
        "quarantined": 3,
        "replayed": 0,
        "quarantined_by_reason": {"bad_type:schema_version": 1, "duplicate": 1, "not_json_object": 1},
        "event_dates": [DAY_1, DAY_2],
    }


def test_the_second_run_quarantines_what_the_first_curated(runs: Runs) -> None:
    """A copy of run 1's object under another key is other raw lines (other record ids): its
    readings are redeliveries, quarantined, not replays."""
    assert tables.without_snapshots(runs.second) == {
        "run_id": "run-2",
        "rows_in": 12,
        "curated": 4,
        "quarantined": 8,
        "replayed": 0,
        "quarantined_by_reason": {"duplicate": 8},
        "event_dates": [DAY_3],
    }


def test_rows_in_is_curated_plus_quarantined_plus_replayed(runs: Runs) -> None:
    for summary in (runs.first, runs.second):
        assert summary["rows_in"] == summary["curated"] + summary["quarantined"] + summary["replayed"]
        assert summary["quarantined"] == sum(summary["quarantined_by_reason"].values())


def test_the_committed_tables_hold_every_line_read_exactly_once(spark: SparkSession, runs: Runs) -> None:
    """On the committed data: curated + quarantine rows = lines read, and no record id twice."""
    curated, quarantine = tables.curated(spark, runs.output), tables.quarantine(spark, runs.output)
    lines_read = sum(len(lines) for lines in [*runs.first_lines.values(), *runs.second_lines.values()])
    assert curated.count() + quarantine.count() == lines_read
    ids = curated.select("record_id").union(quarantine.select("record_id"))
    assert ids.distinct().count() == lines_read


def test_each_reading_is_curated_exactly_once(spark: SparkSession, runs: Runs) -> None:
    curated = tables.curated(spark, runs.output)
    assert curated.count() == runs.first["curated"] + runs.second["curated"]
    assert curated.groupBy(*job.KEY_COLUMNS).count().where("count > 1").count() == 0


def test_the_redelivery_kept_is_the_first_ingested(spark: SparkSession, runs: Runs) -> None:
    curated = tables.curated(spark, runs.output)
    (row,) = curated.where((F.col("device_id") == "pump-1") & (F.col("event_time") == at(DAY_1, 8, 0))).collect()
    assert row["ingested_at"] == (at(DAY_1, 8, 0) + dt.timedelta(milliseconds=875)).replace(tzinfo=None)


def test_gzip_and_plain_files_are_both_read(spark: SparkSession, runs: Runs) -> None:
    curated = tables.curated(spark, runs.output)
    days = {row["day"].isoformat(): row["count"] for row in curated.groupBy(F.to_date("event_time").alias("day")).count().collect()}
    assert days == {DAY_1: 16, DAY_2: 4, DAY_3: 4}


def test_curated_rows_carry_their_lineage(spark: SparkSession, runs: Runs) -> None:
    rows = tables.curated(spark, runs.output).collect()
    assert {row["run_id"] for row in rows} == {"run-1", "run-2"}
    assert all(row["source_file"].endswith((".gz", "/c")) and row["record_id"].endswith(":1") for row in rows)


def test_parquet_files_hold_utc_micros_zstd_sorted_by_device_and_time(spark: SparkSession, runs: Runs) -> None:
    for data_file in tables.data_files(spark, runs.output):
        path = tables.local_path(data_file["path"])
        schema = pq.read_schema(path)
        assert schema.names == [c.name for c in table_defs.CURATED.columns]
        assert schema.field("event_time").type == pa.timestamp("us", tz="UTC")
        assert schema.field("metrics").type == pa.map_(pa.string(), pa.float64())
        metadata = pq.ParquetFile(path).metadata
        codecs = {metadata.row_group(g).column(c).compression for g in range(metadata.num_row_groups) for c in range(metadata.num_columns)}
        assert codecs == {"ZSTD"}, path
        keys = pq.read_table(path, columns=list(job.KEY_COLUMNS)).to_pylist()
        assert keys == sorted(keys, key=lambda row: (row["device_id"], row["event_time"])), path
        assert {row["event_time"].date() for row in keys} == {data_file["day"]}, "one day partition per file"


def test_a_run_writes_one_file_per_day(spark: SparkSession, runs: Runs) -> None:
    assert runs.files_after_first == {DAY_1: 1, DAY_2: 1}
    assert files_per_day(spark, runs.output) == {DAY_1: 1, DAY_2: 1, DAY_3: 1}


def quarantined(spark: SparkSession, runs: Runs, run_id: str) -> list[dict[str, Any]]:
    return [row.asDict() for row in tables.quarantine(spark, runs.output).where(F.col("run_id") == run_id).collect()]


def test_quarantine_rows_have_exactly_the_quarantine_columns(spark: SparkSession, runs: Runs) -> None:
    rows = quarantined(spark, runs, "run-1")
    assert [list(row) for row in rows] == [[name for name, _ in job.QUARANTINE_COLUMNS]] * 3
    assert {row["raw_line"]: row["reason"] for row in rows} == {
        BAD_LINES[0]: job.NOT_JSON_OBJECT,
        BAD_LINES[1]: job.BAD_TYPE + "schema_version",
        runs.first_lines["day 1, 09 (gzip)"][-1]: job.DUPLICATE,
    }
    assert all(row["source_file"].endswith((".gz", "/c")) and row["record_id"] for row in rows)
    assert len({row["quarantined_at"] for row in rows}) == 1
    times = {row["raw_line"]: row["event_time"] for row in rows}
    assert times[BAD_LINES[0]] is None  # not JSON: no time, the null partition
    assert times[runs.first_lines["day 1, 09 (gzip)"][-1]] == at(DAY_1, 8, 0).replace(tzinfo=None)


def test_the_second_runs_quarantine_is_its_own(spark: SparkSession, runs: Runs) -> None:
    repeats = runs.second_lines["repeat of day 1, 09"] + runs.second_lines["late redelivery"]
    assert sorted(row["raw_line"] for row in quarantined(spark, runs, "run-2")) == sorted(repeats)


def test_each_run_leaves_its_summary(runs: Runs) -> None:
    for summary in (runs.first, runs.second):
        saved = json.loads((runs.output / "_runs" / f"{summary['run_id']}.json").read_text())
        assert saved == summary


def test_rows_lost_between_reading_and_writing_stop_the_run(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = readings(["pump-1"], DAY_1, 8, 3)
    write_raw(tmp_path / "raw", "a.gz", lines, event_date=DAY_1, event_hour="08")
    keep_all = job.mark_duplicates_within_run
    monkeypatch.setattr(job, "mark_duplicates_within_run", lambda rows: keep_all(rows).where(F.col("raw_line") != lines[1]))
    with pytest.raises(job.RowCountMismatch, match="read 3 rows but would write 2 curated"):
        job.run_local(cli(tmp_path / "raw", tmp_path / "out", "lossy"))
    assert tables.snapshots(spark, tmp_path / "out") == {"curated": None, "quarantine": None}  # nothing committed


def test_the_command_line_prints_the_summary(spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_raw(tmp_path / "raw", "a", ["not json"], event_date=DAY_1, event_hour="08", gzipped=False)
    job.main(cli(tmp_path / "raw", tmp_path / "out", "cli"))
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed == json.loads((tmp_path / "out" / "_runs" / "cli.json").read_text())
    assert printed["quarantined_by_reason"] == {job.NOT_JSON_OBJECT: 1}
    assert tables.snapshots(spark, tmp_path / "out")["curated"] is None  # nothing to curate: no commit


def test_a_missing_input_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        job.main(["--local", "--input", str(tmp_path / "nope"), "--output", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert f"--input {tmp_path / 'nope'}: no such file or directory" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_run_id_that_is_not_a_safe_name_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        job.main(["--local", "--input", str(tmp_path), "--output", str(tmp_path / "out"), "--run-id", "../x"])
    assert "--run-id" in capsys.readouterr().err


def test_glue_lines_are_rebuilt_from_the_csv_columns(spark: SparkSession) -> None:
    """Glue's CSV read splits a line only at the separator, which a valid line never holds."""
    split = spark.createDataFrame(
        [("{\"a\":1}", None, "s3://raw/a.gz"), ("bad", "line", "s3://raw/b.gz")],
        "col0 string, col1 string, source_file string",
    )
    rebuilt = [tuple(row) for row in job.lines_from_glue_frame(split).collect()]
    assert rebuilt == [('{"a":1}', "s3://raw/a.gz"), (f"bad{job.GLUE_LINE_SEPARATOR}line", "s3://raw/b.gz")]


def test_a_glue_read_of_no_new_files_is_an_empty_batch(spark: SparkSession) -> None:
    nothing = spark.createDataFrame([], "struct<>")
    lines = job.lines_from_glue_frame(nothing)
    assert lines.columns == list(job.LINE_COLUMNS)
    assert lines.count() == 0
