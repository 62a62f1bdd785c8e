"""The Glue job (glue_scripts/raw_to_curated.py) in local mode, in incremental runs, on Iceberg.

On AWS the job runs on a schedule with job bookmarks: each run reads only the raw objects
written since the last successful run (by their S3 modification time). Here the emulated
delivery stream sets each object's modification time to its simulated delivery time, and
:class:`Bookmark` hands each run the files delivered up to that run's start and not read
before. ``runs`` runs are spread evenly over the delivery period; the last one starts after the
last delivery, so every file is read exactly once by a successful run.

A failed attempt is what a Glue retry follows: :func:`run_failing_attempt` runs the job with a
failure injected right after its curated commit (before the quarantine's and the bookmark's),
and the bookmark is not advanced, so the retry gets the same files.

The job commits to the Iceberg tables of a local warehouse (a Hadoop catalog, database
``curated``). Each run's counts are taken from the committed tables as well as from the job's
summary: the lines of the files it read, and the rows carrying its run id in the curated table
and in the quarantine, read with pyiceberg (tools/iceberg/tables.py), not with Spark.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.iceberg import tables as iceberg
from tools.pipeline import inventory

DEFAULT_MASTER = "local[2]"
#: A pipeline run's batches are small: few shuffle partitions, few tiny tasks.
SHUFFLE_PARTITIONS = 2
LIST_ON_DRIVER_UP_TO = 1_000_000
#: Where the injected failure strikes: after this table's commit.
FAIL_AFTER = "curated"


class InjectedFailure(RuntimeError):
    """The failure a retried-run scenario injects into an attempt (as a Glue worker lost, a
    timeout, a killed driver would end it)."""


@dataclass
class JobRun:
    run_id: str
    starts_at: dt.datetime
    files: list[Path]
    seconds: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)
    failed: str | None = None  # the injected failure, for a failed attempt
    lines_read: int = 0  # counted in the files it read
    curated_written: int = 0  # curated rows carrying its run id (committed table)
    quarantine_written: int = 0  # quarantine rows carrying its run id (committed table)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "starts_at": self.starts_at.isoformat(), "files": len(self.files),
            "seconds": round(self.seconds, 2), "summary": self.summary, "failed": self.failed,
            "files_lines_read": self.lines_read, "committed_curated_rows": self.curated_written,
            "committed_quarantine_rows": self.quarantine_written,
        }


class Bookmark:
    """The files under ``root`` delivered by a given time and not handed out before."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.seen: set[Path] = set()

    def new_files(self, until: dt.datetime) -> list[Path]:
        fresh = [
            path for path in inventory.files(self.root, "*")
            if path not in self.seen and path.stat().st_mtime <= until.timestamp()
        ]
        self.seen.update(fresh)
        return fresh


def run_times(first: dt.datetime, last: dt.datetime, runs: int) -> list[dt.datetime]:
    """``runs`` start times, evenly spread, the last at ``last``."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    return [first + (last - first) * (k / runs) for k in range(1, runs)] + [last]


@contextlib.contextmanager
def spark_session(master: str = DEFAULT_MASTER) -> Iterator[Any]:
    """The active session if there is one (a test suite's), else a local one stopped afterwards."""
    from pyspark.sql import SparkSession

    from glue_scripts.raw_to_curated import create_local_session

    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    session = create_local_session(master, driver_memory="2g", shuffle_partitions=SHUFFLE_PARTITIONS)
    session.sparkContext.setLogLevel("ERROR")
    # A run reads one to thousands of small objects, given as a list of paths: list them on the
    # driver instead of in a Spark job of their own (Spark's default past 32 paths).
    session.conf.set("spark.sql.sources.parallelPartitionDiscovery.threshold", str(LIST_ON_DRIVER_UP_TO))
    try:
        yield session
    finally:
        session.stop()


def _count_committed(run: JobRun, curated: Path, quarantine: Path) -> None:
    mine = f"run_id = '{run.run_id}'"
    run.curated_written = iceberg.count(curated, mine)
    run.quarantine_written = iceberg.count(quarantine, mine)


def run_job(spark: Any, files: list[Path], warehouse: Path, curated: Path, quarantine: Path, run_id: str,
            starts_at: dt.datetime, *, after_commit: Any = None) -> JobRun:
    """One run over ``files``, as the job's local entry point runs it (curate() on the lines)."""
    from glue_scripts.raw_to_curated import curate, local_tables, read_raw_lines

    run = JobRun(run_id, starts_at, files)
    if not files:  # a scheduled run that finds nothing new
        run.summary = {"run_id": run_id, "rows_in": 0, "curated": 0, "quarantined": 0, "replayed": 0, "quarantined_by_reason": {}}
        return run
    started = time.perf_counter()
    try:
        run.summary = curate(
            spark, read_raw_lines(spark, [str(path) for path in files]), tables=local_tables(spark, warehouse),
            run_id=run_id, started_at=starts_at, after_commit=after_commit,
        )
    finally:
        run.seconds = time.perf_counter() - started
        run.lines_read = inventory.count_lines(files)
        _count_committed(run, curated, quarantine)
    return run


def run_failing_attempt(spark: Any, files: list[Path], warehouse: Path, curated: Path, quarantine: Path, run_id: str,
                        starts_at: dt.datetime) -> JobRun:
    """The run with a failure injected after its :data:`FAIL_AFTER` commit; the attempt, with
    what it committed counted, and its failure recorded (it raises nothing)."""

    def fail(committed: str) -> None:
        if committed == FAIL_AFTER:
            raise InjectedFailure(f"injected failure after the {committed} commit")

    try:
        run_job(spark, files, warehouse, curated, quarantine, run_id, starts_at, after_commit=fail)
    except InjectedFailure as error:
        run = JobRun(run_id, starts_at, files, failed=str(error))
        run.lines_read = inventory.count_lines(files)
        _count_committed(run, curated, quarantine)
        return run
    raise RuntimeError(f"{run_id}: the injected failure did not happen (nothing to curate?)")
