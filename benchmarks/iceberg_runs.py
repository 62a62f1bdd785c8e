"""The curated Iceberg table over a month of scheduled runs with late arrivals: data files per
day partition before and after maintenance, and whether a run's cost grows with the history.

Data, generated as Firehose writes it (benchmarks/curation_job.py's devices and encoding): every
day's readings, of which :data:`LATE_RATE` arrive 1 to :data:`MAX_LATE_DAYS` days late and
:data:`curation_job.DUPLICATE_RATE` are delivered twice. Firehose partitions by event time, so a
late reading lands in its own day's folder, in an object delivered on a later day. Each
scheduled run (one a day, as a daily schedule runs it) reads the objects delivered that day:
what the job bookmark hands it.

Measured, not assumed:

* **files per day partition** (the current snapshot's data files, from the table's metadata)
  after :data:`RUNS` runs with no maintenance at all (the worst case), then after one pass of
  the maintenance the Glue table optimizers do (glue_scripts/lakehouse.maintain with
  curated_table.MAINTENANCE: ``rewrite_data_files`` bin-pack, ``expire_snapshots``,
  ``remove_orphan_files``), then in the steady state: :data:`STEADY_RUNS` further daily runs,
  each followed by maintenance, measured right before each maintenance (the most files a
  reader meets when the optimizers keep up). Target: at most 2 per partition at steady state;
* **run time**: each run's ``curate()`` wall time; the 30th run's over the first's (target
  <= 1.2: the MERGE reads only the days its batch touches, so a run's cost must not follow the
  table's history), and, less sensitive to one noisy run, the median of runs 26-30 over that of
  runs 2-6;
* **query bytes**: what the one-day, three-column query (device_id, event_time, metrics) reads:
  the files Iceberg plans for that day (pyiceberg's scan planning with the day's filter) and, in
  them, those columns' chunks plus each file's footer; before and after maintenance, against
  all raw bytes.

Usage: ``python -m benchmarks.iceberg_runs [--devices 40] [--runs 30] [--interval-seconds 120]``;
writes ``benchmarks/results/iceberg-runs.{md,json}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks import ROOT, publish
from benchmarks.curation_job import DUPLICATE_RATE, OBJECTS_PER_HOUR, QUERY_COLUMNS, QUERY_TARGET, Device

LAMBDA_SRC = ROOT / "lambda_src"
if str(LAMBDA_SRC) not in sys.path:
    sys.path.insert(0, str(LAMBDA_SRC))

RUNS = 30
STEADY_RUNS = 3
DEFAULT_DEVICES = 40
DEFAULT_INTERVAL_SECONDS = 120
LATE_RATE = 0.02
MAX_LATE_DAYS = 3
FIRST_DAY = dt.date(2026, 10, 1)
FILES_TARGET = 2
GROWTH_TARGET = 1.2
MASTER = "local[2]"


def generate_day(raw: Path, day_index: int, devices: int, interval_seconds: float, seed: int, last_delivery: int) -> dict:
    """One day's readings, written into the folder of the day each is delivered
    (``raw/delivery-NN/telemetry/event_date=.../event_hour=HH/``); returns counts."""
    from telemetry_contract import build_reading, parse_reading

    encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
    rng = random.Random(seed * 1_000_003 + day_index)
    day = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day_index), dt.time(), tzinfo=dt.timezone.utc)
    objects: dict[tuple[int, int, int], list[str]] = {}
    readings = late = redelivered = 0
    for number in range(devices):
        device = Device(number, random.Random(seed * 7919 + number))
        offset = rng.uniform(0, interval_seconds)
        while offset < 86_400:
            event_time = day + dt.timedelta(milliseconds=round(offset * 1000))
            reading = build_reading(device.device_id, event_time, device.step(rng), device.attributes)
            arrival = event_time + dt.timedelta(milliseconds=rng.randint(200, 2000))
            delivery = day_index
            if rng.random() < LATE_RATE:
                delivery = min(day_index + rng.randint(1, MAX_LATE_DAYS), last_delivery)
                late += delivery > day_index
            line = encoder.encode(parse_reading(reading, arrival_time=arrival))
            slot = (delivery, event_time.hour, int(offset % 3600 // (3600 / OBJECTS_PER_HOUR)))
            objects.setdefault(slot, []).append(line)
            if rng.random() < DUPLICATE_RATE:
                objects.setdefault((delivery, event_time.hour, OBJECTS_PER_HOUR - 1), []).append(line)
                redelivered += 1
            readings += 1
            offset += interval_seconds * rng.uniform(0.95, 1.05)
    raw_bytes: Counter = Counter()
    for (delivery, hour, part), lines in objects.items():
        folder = raw / f"delivery-{delivery:02d}" / "telemetry" / f"event_date={day:%Y-%m-%d}" / f"event_hour={hour:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        data = gzip.compress("".join(f"{line}\n" for line in lines).encode("ascii"))
        (folder / f"telemetry-raw-1-{part}-{rng.getrandbits(64):016x}.gz").write_bytes(data)
        raw_bytes[day.date().isoformat()] += len(data)
    return {"readings": readings, "late": late, "redelivered": redelivered, "raw_bytes": dict(raw_bytes)}


def generate(raw: Path, devices: int, days: int, interval_seconds: float, seed: int) -> dict:
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        results = list(pool.map(generate_day, [raw] * days, range(days), [devices] * days, [interval_seconds] * days,
                                [seed] * days, [days - 1] * days))
    raw_bytes: Counter = Counter()
    for result in results:
        raw_bytes.update(result["raw_bytes"])
    return {
        "readings": sum(r["readings"] for r in results), "late": sum(r["late"] for r in results),
        "redelivered": sum(r["redelivered"] for r in results), "raw_bytes_by_day": dict(sorted(raw_bytes.items())),
        "raw_bytes": sum(raw_bytes.values()), "seconds": round(time.perf_counter() - started, 1),
    }


def files_per_day(spark, ref) -> dict[str, int]:
    from glue_scripts import lakehouse

    return dict(sorted(Counter(f["day"].isoformat() for f in lakehouse.data_files(spark, ref)).items()))


def file_stats(per_day: dict[str, int]) -> dict:
    counts = list(per_day.values())
    return {"partitions": len(counts), "max": max(counts), "mean": round(statistics.fmean(counts), 2),
            "distribution": dict(sorted(Counter(counts).items()))}


def query_bytes(table_dir: Path, day: dt.date) -> dict:
    """What the one-day query reads: the data files Iceberg plans for the day (pyiceberg), and in
    them the query's column chunks (a map's key and value leaves both) plus each footer."""
    import pyarrow.parquet as pq
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan

    from tools.iceberg import tables as iceberg

    table = iceberg.load(table_dir)
    start = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
    condition = And(GreaterThanOrEqual("event_time", start.isoformat()), LessThan("event_time", (start + dt.timedelta(days=1)).isoformat()))
    files = [Path(task.file.file_path.removeprefix("file:")) for task in table.scan(row_filter=condition).plan_files()]
    chunks = footers = 0
    for path in files:
        metadata = pq.ParquetFile(path).metadata
        footers += metadata.serialized_size + 8
        for group in range(metadata.num_row_groups):
            for index in range(metadata.num_columns):
                chunk = metadata.row_group(group).column(index)
                if chunk.path_in_schema.split(".", 1)[0] in QUERY_COLUMNS:
                    chunks += chunk.total_compressed_size
    return {"files_planned": len(files), "column_chunk_bytes": chunks, "footer_bytes": footers, "bytes": chunks + footers}


def measure(devices: int, runs: int, interval_seconds: float, seed: int) -> dict:
    from glue_scripts import curated_table, lakehouse
    from glue_scripts.raw_to_curated import create_local_session, curate, local_tables, read_raw_lines

    days = runs + STEADY_RUNS
    with tempfile.TemporaryDirectory(prefix="iceberg-runs-") as scratch:
        raw, warehouse = Path(scratch) / "raw", Path(scratch) / "warehouse"
        generated = generate(raw, devices, days, interval_seconds, seed)
        print(f"generated {generated['readings']:,} readings ({generated['late']:,} late, {generated['redelivered']:,} "
              f"redelivered) for {days} days in {generated['seconds']} s", flush=True)
        spark = create_local_session(MASTER, driver_memory="3g", shuffle_partitions=4)
        spark.sparkContext.setLogLevel("ERROR")
        tables = local_tables(spark, warehouse)
        timings, summaries = [], []

        def run(index: int) -> None:
            started = time.perf_counter()
            summary = curate(spark, read_raw_lines(spark, str(raw / f"delivery-{index:02d}")), tables=tables, run_id=f"day-{index:02d}")
            timings.append(round(time.perf_counter() - started, 2))
            summaries.append({k: summary[k] for k in ("rows_in", "curated", "quarantined", "replayed")} | {"days": len(summary["event_dates"])})
            print(f"run {index + 1}: {summaries[-1]} in {timings[-1]} s", flush=True)

        for index in range(runs):
            run(index)
        table_dir = Path(lakehouse.live_definition(spark, tables.curated_ref)["location"].removeprefix("file:"))
        query_day = FIRST_DAY + dt.timedelta(days=runs // 2)
        before = files_per_day(spark, tables.curated_ref)
        physical_before = sum(1 for _ in (table_dir / "data").rglob("*.parquet"))
        query_before = query_bytes(table_dir, query_day)
        started = time.perf_counter()
        maintenance = lakehouse.maintain(spark, tables.curated_ref, curated_table.MAINTENANCE)
        maintenance_seconds = round(time.perf_counter() - started, 1)
        after = files_per_day(spark, tables.curated_ref)
        physical_after = sum(1 for _ in (table_dir / "data").rglob("*.parquet"))
        query_after = query_bytes(table_dir, query_day)
        steady = []
        for index in range(runs, days):
            run(index)
            steady.append(file_stats(files_per_day(spark, tables.curated_ref)))
            lakehouse.maintain(spark, tables.curated_ref, curated_table.MAINTENANCE)
        versions = {"spark": spark.version}
        spark.stop()
    first, last = timings[0], timings[runs - 1]
    early, late = statistics.median(timings[1:6]), statistics.median(timings[runs - 5:runs])
    raw_bytes = generated["raw_bytes"]
    return {
        "generated": {k: v for k, v in generated.items() if k != "raw_bytes_by_day"},
        "runs": {"count": runs, "seconds": timings[:runs], "summaries": summaries[:runs]},
        "growth": {
            "first_seconds": first, "last_seconds": last, "ratio_last_to_first": round(last / first, 2),
            "median_2_6": early, "median_last_5": late, "ratio_medians": round(late / early, 2), "target": GROWTH_TARGET,
        },
        "files_per_day": {
            "before_maintenance": file_stats(before), "after_maintenance": file_stats(after),
            "steady_state_before_each_maintenance": steady,
            "steady_state_max": max(s["max"] for s in steady), "target": FILES_TARGET,
            "physical_data_files_before": physical_before, "physical_data_files_after": physical_after,
        },
        "maintenance": {"seconds": maintenance_seconds, "settings": curated_table.MAINTENANCE,
                        "result": {k: (v if isinstance(v, int) else {kk: str(vv) for kk, vv in v.items()}) for k, v in maintenance.items()}},
        "query": {
            "day": query_day.isoformat(), "columns": list(QUERY_COLUMNS), "before_maintenance": query_before,
            "after_maintenance": query_after, "raw_bytes": raw_bytes,
            "ratio_before": round(query_before["bytes"] / raw_bytes, 6), "ratio_after": round(query_after["bytes"] / raw_bytes, 6),
            "target": QUERY_TARGET,
        },
        "versions": versions,
    }


def markdown(data: dict) -> str:
    files, growth, query = data["files_per_day"], data["growth"], data["query"]
    verdict = lambda ok: "meets" if ok else "MISSES"  # noqa: E731
    p = data["parameters"]
    rows = [
        ("data files per day partition after 30 runs, no maintenance", f"max {files['before_maintenance']['max']}, mean {files['before_maintenance']['mean']} "
         f"({files['before_maintenance']['distribution']})"),
        ("... after one maintenance pass", f"max {files['after_maintenance']['max']}, mean {files['after_maintenance']['mean']}"),
        ("... steady state (daily run, then maintenance): before each maintenance",
         f"max {files['steady_state_max']} (target <= {files['target']}: {verdict(files['steady_state_max'] <= files['target'])})"),
        ("data files on disk before / after maintenance", f"{files['physical_data_files_before']} / {files['physical_data_files_after']}"),
        ("maintenance pass", f"{data['maintenance']['seconds']} s"),
        ("run 1 / run 30", f"{growth['first_seconds']} s / {growth['last_seconds']} s"),
        ("run 30 / run 1", f"{growth['ratio_last_to_first']} (target <= {growth['target']}: {verdict(growth['ratio_last_to_first'] <= growth['target'])})"),
        ("median of runs 26-30 / median of runs 2-6", f"{growth['ratio_medians']} ({growth['median_last_5']} s / {growth['median_2_6']} s)"),
        (f"one-day query ({query['day']}; {', '.join(query['columns'])}) / all raw bytes, before maintenance",
         f"{query['ratio_before'] * 100:.3f}% ({query['before_maintenance']['bytes']:,} B in {query['before_maintenance']['files_planned']} files)"),
        ("... after maintenance", f"{query['ratio_after'] * 100:.3f}% ({query['after_maintenance']['bytes']:,} B in "
         f"{query['after_maintenance']['files_planned']} files; target <= {query['target'] * 100:g}%: {verdict(query['ratio_after'] <= query['target'])})"),
    ]
    gen = data["generated"]
    return "\n".join([
        "# The curated Iceberg table over a month of scheduled runs",
        "",
        f"Measured {data['measured_at']}: {p['runs']} daily runs + {STEADY_RUNS} steady-state runs, {p['devices']} devices every "
        f"~{p['interval_seconds']:g} s, {gen['readings']:,} readings ({gen['late']:,} late by 1-{MAX_LATE_DAYS} days, "
        f"{gen['redelivered']:,} redelivered), {gen['raw_bytes']:,} raw bytes; Spark {data['versions']['spark']} on {MASTER}, "
        f"{data['machine']['cpus']} CPUs.",
        "",
        "| measure | value |",
        "|---|---:|",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
        f"Run times (s): {data['runs']['seconds']}",
    ]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=DEFAULT_DEVICES)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--interval-seconds", type=float, default=DEFAULT_INTERVAL_SECONDS)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.devices < 1 or args.runs < 6 or args.interval_seconds <= 0:
        parser.error("--devices >= 1, --runs >= 6, --interval-seconds positive")
    figures = measure(args.devices, args.runs, args.interval_seconds, args.seed)
    data = {
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "parameters": {"devices": args.devices, "runs": args.runs, "interval_seconds": args.interval_seconds, "seed": args.seed,
                       "late_rate": LATE_RATE, "max_late_days": MAX_LATE_DAYS, "duplicate_rate": DUPLICATE_RATE},
        "machine": {"cpus": os.cpu_count()},
        **figures,
    }
    publish("iceberg-runs", data, markdown)


if __name__ == "__main__":
    main()
