"""``make pipeline`` / ``python -m tools.pipeline``: the whole data path, staged and reported.

Stages: synthesise dev and read the delivery stream -> generate the fleet -> Firehose with the
real transform -> the Glue job in ``runs`` incremental runs on the Iceberg tables, one of them
(``fail_run``, default the second) failing after its curated commit and retried -> the saved
queries on Trino -> the job repeated on all raw files (it must commit nothing) -> the report (stdout, and
``report.json``/``report.md`` in the output folder, default ``build/pipeline``, git-ignored).
Exit status 0 when every accounting identity holds and every query equals the ground truth
(or Trino is not installed: the query stage is then skipped, with the reason); 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from glue_scripts.curated_table import QUARANTINE_TABLE_NAME, TABLE_NAME
from glue_scripts.raw_to_curated import LOCAL_DATABASE
from tools.pipeline import curation, inventory, queries, report, truth
from tools.pipeline.delivery_config import DeliveryConfig, synthesise_dev
from tools.pipeline.firehose import DeliveryStream, FirehoseStats, deliver
from tools.pipeline.fleet import Fleet, generate
from tools.pipeline.lambda_runtime import CLOUDWATCH, LambdaRuntime

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUTPUT = ROOT / "build" / "pipeline"


@dataclass
class Layout:
    root: Path

    @property
    def bucket(self) -> Path:  # the raw bucket
        return self.root / "s3" / "raw"

    @property
    def warehouse(self) -> Path:  # the curated bucket: the Iceberg warehouse of a Hadoop catalog
        return self.root / "s3" / "curated"

    @property
    def curated(self) -> Path:  # the curated Iceberg table's folder
        return self.warehouse / LOCAL_DATABASE / TABLE_NAME

    @property
    def quarantine(self) -> Path:  # the quarantine Iceberg table's folder
        return self.warehouse / LOCAL_DATABASE / QUARANTINE_TABLE_NAME

    @property
    def transform_log(self) -> Path:
        return self.root / "cloudwatch" / "transform.log"


@dataclass
class PipelineResult:
    parameters: dict[str, Any]
    config: DeliveryConfig
    fleet: Fleet
    output: Layout
    firehose: FirehoseStats = field(default_factory=FirehoseStats)
    raw_files: list[Path] = field(default_factory=list)
    error_records: list[dict[str, Any]] = field(default_factory=list)
    runs: list[curation.JobRun] = field(default_factory=list)
    #: the failed attempt of a retried run (its retry is in ``runs``), and the tables' state
    #: right after it and after its retry
    failed_attempt: curation.JobRun | None = None
    after_failed_attempt: dict[str, Any] = field(default_factory=dict)
    after_retry: dict[str, Any] = field(default_factory=dict)
    repeat: curation.JobRun | None = None
    before_repeat: dict[str, Any] = field(default_factory=dict)
    after_repeat: dict[str, Any] = field(default_factory=dict)
    answers: list[queries.Answer] = field(default_factory=list)
    query_skip_reason: str | None = None
    trino_startup: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


class _Stage:
    def __init__(self, result: PipelineResult, name: str, say: Any) -> None:
        self.result, self.name, self.say = result, name, say

    def __enter__(self) -> _Stage:
        self.started = time.perf_counter()
        self.say(f"== {self.name}")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.result.timings[self.name] = self.result.timings.get(self.name, 0.0) + time.perf_counter() - self.started


def run_pipeline(
    devices: int = 20, days: float = 1, seed: int = 7, runs: int = 3, *, output: Path = DEFAULT_OUTPUT,
    end: dt.datetime | None = None, config: DeliveryConfig | None = None, trino_server: Any = None,
    run_queries: bool = True, repeat: bool = True, progress: bool = True, say: Any = print, fail_run: int | None = 2,
) -> PipelineResult:
    """Every stage; ``config`` and ``trino_server`` let a test pass what its session has already
    (the synthesised dev delivery stream, a running Trino). ``fail_run``: the scheduled run
    whose first attempt fails after its curated commit and is retried (None: none)."""
    end = end or dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)
    layout = Layout(Path(output))
    shutil.rmtree(layout.root, ignore_errors=True)
    layout.root.mkdir(parents=True)
    parameters = {"devices": devices, "days": days, "seed": seed, "runs": runs, "fail_run": fail_run, "end": end.isoformat()}
    started = time.perf_counter()
    if config is None:
        t0 = time.perf_counter()
        say("== synthesise dev: the delivery stream's settings")
        config = synthesise_dev(layout.root / "synth.log")
        synth_seconds = time.perf_counter() - t0
    else:
        synth_seconds = 0.0
    fleet_started = time.perf_counter()
    fleet = generate(devices, days, seed, end=end)
    result = PipelineResult(parameters, config, fleet, layout)
    result.timings["synthesise dev"] = synth_seconds
    result.timings["generate fleet"] = time.perf_counter() - fleet_started
    say(f"   {len(fleet.records):,} Kinesis records from {devices} devices over {days} days")

    with _Stage(result, "firehose + transform", say):
        CLOUDWATCH.open(layout.transform_log)
        try:
            runtime = LambdaRuntime(config.handler, config.environment, function_name=f"{config.stack_name}-{config.function_logical_id}",
                                    memory_mib=config.function_memory_mib,
                                    arn=f"arn:aws:lambda:local:000000000000:function:{config.stack_name}-{config.function_logical_id}")
            with tqdm(total=len(fleet.records), unit="record", disable=not progress, file=sys.stderr) as bar:
                result.firehose = deliver(fleet.records, DeliveryStream(config, layout.bucket, runtime, seed=seed), bar)
        finally:
            CLOUDWATCH.close()
        result.raw_files = inventory.files(layout.bucket / config.data_root, "*")
        result.error_records = inventory.error_records(layout.bucket, config.error_prefix.split("!{", 1)[0])

    with _Stage(result, "glue job, incremental runs", say), curation.spark_session() as spark:
        bookmark = curation.Bookmark(layout.bucket / config.data_root)
        deliveries = sorted(o.delivered_at for o in result.firehose.objects if o.kind == "data")
        tables = (layout.warehouse, layout.curated, layout.quarantine)
        for number, starts_at in enumerate(curation.run_times(fleet.start, deliveries[-1], runs), 1):
            files = bookmark.new_files(starts_at)
            run_id = f"run-{number}"
            if number == fail_run and files:
                attempt = curation.run_failing_attempt(spark, files, *tables, run_id, starts_at)
                result.failed_attempt, result.after_failed_attempt = attempt, _state(layout)
                say(f"   run {number} at {starts_at:%Y-%m-%d %H:%M}Z: {len(files):,} new files; {attempt.failed}, having "
                    f"committed {attempt.curated_written:,} curated rows; the bookmark stays, the retry reads the same files")
                run_id = f"run-{number}-retry"
            run = curation.run_job(spark, files, *tables, run_id, starts_at)
            if run_id.endswith("-retry"):
                result.after_retry = _state(layout)
            result.runs.append(run)
            s = run.summary
            say(f"   {run_id} at {starts_at:%Y-%m-%d %H:%M}Z: {len(files):,} new files, {s['rows_in']:,} rows in, "
                f"{s['curated']:,} curated, {s['quarantined']:,} quarantined, {s['replayed']:,} replayed ({run.seconds:.1f} s)")

        if run_queries:
            with _Stage(result, "saved queries on trino", say):
                _queries(result, trino_server, say)

        if repeat:
            with _Stage(result, "glue job, repeated on all raw files", say):
                result.before_repeat = _state(layout)
                result.repeat = curation.run_job(spark, result.raw_files, *tables, "repeat", deliveries[-1])
                result.after_repeat = _state(layout)
    result.timings["total"] = time.perf_counter() - started
    return result


def _state(layout: Layout) -> dict[str, Any]:
    """Both tables' current snapshot and data files (with their SHA-256), and row counts."""
    return {
        "curated": inventory.table_state(layout.curated), "quarantine": inventory.table_state(layout.quarantine),
        "curated_rows": inventory.table_rows(layout.curated), "quarantine_rows": inventory.table_rows(layout.quarantine),
    }


def _queries(result: PipelineResult, server: Any, say: Any) -> None:
    day = truth.busiest_day(result.fleet)
    if server is not None:
        server.point_at(result.output.curated, result.output.quarantine)
        result.answers = queries.run(server, result.fleet.expected, day)
        return
    reason = queries.trino_unavailable()
    if reason is not None:
        result.query_skip_reason = reason
        say(f"   skipped: {reason}")
        return
    result.answers, result.trino_startup = queries.run_on_trino(result.output.curated, result.output.quarantine,
                                                                result.fleet.expected, day)
    for answer in result.answers:
        say(f"   {answer.name}{tuple(answer.parameters)}: {len(answer.rows):,} rows, "
            f"{'equals the ground truth' if not answer.problems else 'DIFFERS: ' + '; '.join(answer.problems)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--days", type=float, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="incremental job runs (default 3)")
    parser.add_argument("--fail-run", type=int, default=2,
                        help="the run whose first attempt fails after its curated commit and is retried (default 2; 0: none)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="default build/pipeline (emptied first)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.devices < 1 or args.days <= 0 or args.runs < 1:
        parser.error("--devices and --runs must be at least 1, --days positive")
    result = run_pipeline(args.devices, args.days, args.seed, args.runs, output=args.output, progress=not args.no_progress,
                          fail_run=args.fail_run or None)
    data = report.build(result)
    json_path, md_path = report.write(data, result.output.root)
    print()
    print(report.markdown(data))
    print(f"report: {md_path} and {json_path}")
    ok = data["all_identities_hold"] and data["queries_match_ground_truth"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
