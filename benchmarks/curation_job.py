"""Throughput and storage of the raw-to-curated Glue job (glue_scripts/raw_to_curated.py), run
locally on a month of generated telemetry, into the curated Iceberg table (one run over all of it;
benchmarks/iceberg_runs.py measures the same table over 30 scheduled runs).

Data, generated into a temporary folder exactly as Firehose writes it: gzip objects of
normalised JSON lines (``telemetry_contract.build_reading`` + ``parse_reading``, serialised
compactly like the Firehose transform) under ``telemetry/event_date=YYYY-MM-DD/event_hour=HH/``,
:data:`OBJECTS_PER_HOUR` objects per hour. Each device reports every ``--interval-seconds``
(with jitter) five metrics that follow random walks, rounded as real sensors report them
(temperature_c 0.1, humidity_pct 0.1, vibration_mm_s 0.01, pressure_kpa 0.01, battery_v 0.001),
with two attributes (site, firmware); ``ingested_at`` is 0.2-2 s after ``event_time``. About
:data:`DUPLICATE_RATE` of the readings are delivered twice (the same line again in a later
object of the same hour's folder, as an at-least-once retry does). Days are generated in
parallel, one process per CPU. The default size (100 devices every ~90 s for 30 days: ~2.9M
rows) takes about 3 minutes on 2 cores, generation included.

Measured, not assumed:

* the job: ``curate()`` on ``local[2]`` (session start-up reported separately) into a fresh
  local Iceberg warehouse, rows in, curated, quarantined (which must be exactly the generated
  redeliveries), wall time, rows/s;
* the floor, in the same session on the same files, run before and after the job: plain Spark
  reading the JSON lines and writing Snappy Parquet partitioned by date, without validation;
  the ratio job / floor (target <= 1.5) says what the job's guarantees cost over bare I/O;
* storage: raw bytes (the gzip objects) and curated bytes (the table's data files), and their ratio;
* the query ratio: the bytes the "hourly aggregates per device" query (columns device_id,
  event_time, metrics) must read for one day from the curated table, i.e. the compressed sizes of
  those columns' chunks in the data files Iceberg plans for that day (pyiceberg's scan planning
  with the day's filter; a map column has a key and a value chunk; both count) plus each file's
  footer, read from the footers with pyarrow. It is divided by
  (a) all raw bytes: the unpartitioned row-format scan the reference architecture's "90% from
  columnar, 80-95% from partitioning" promise is made against (target <= 1%), and (b) that day's
  raw bytes: the raw table is itself partitioned by event_date, so this isolates the columnar gain.

Usage: ``python -m benchmarks.curation_job [--devices N] [--days 30] [--interval-seconds S]
[--seed 7]``; writes ``benchmarks/results/curation.{md,json}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import math
import os
import platform
import random
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks import ROOT, publish

LAMBDA_SRC = ROOT / "lambda_src"
# The Lambda asset root: telemetry_contract is a top-level module there, as in Lambda.
if str(LAMBDA_SRC) not in sys.path:
    sys.path.insert(0, str(LAMBDA_SRC))

DEFAULT_DEVICES = 100
DEFAULT_DAYS = 30
DEFAULT_INTERVAL_SECONDS = 90
DEFAULT_SEED = 7
FIRST_DAY = dt.date(2026, 10, 1)
OBJECTS_PER_HOUR = 4
DUPLICATE_RATE = 0.001
SITES = ("hamburg", "bremen", "kiel", "luebeck")
FIRMWARE = ("2.3.1", "2.4.0", "2.4.2")
#: The columns of the "hourly aggregates per device" query.
QUERY_COLUMNS = ("device_id", "event_time", "metrics")
QUERY_TARGET = 0.01
MASTER = "local[2]"


class Device:
    """One device's identity and the state of its sensors' random walks."""

    def __init__(self, number: int, rng: random.Random) -> None:
        self.device_id = f"pump-{number:04d}"
        self.attributes = {"site": rng.choice(SITES), "firmware": rng.choice(FIRMWARE)}
        self.temperature = rng.uniform(15, 25)
        self.humidity = rng.uniform(35, 60)
        self.vibration = rng.uniform(0.5, 2.5)
        self.pressure = rng.uniform(100.5, 102.0)
        self.battery = rng.uniform(3.9, 4.2)

    def step(self, rng: random.Random) -> dict[str, float]:
        """The next reading's metrics: the walks move on, and each reading adds the sensor's
        own noise before rounding to its resolution."""
        self.temperature = min(max(self.temperature + rng.gauss(0, 0.05), -10), 60)
        self.humidity = min(max(self.humidity + rng.gauss(0, 0.2), 5), 95)
        self.vibration = min(max(self.vibration + rng.gauss(0, 0.05), 0.05), 12)
        self.pressure = min(max(self.pressure + rng.gauss(0, 0.02), 95), 106)
        self.battery = max(self.battery - abs(rng.gauss(0, 0.00002)), 3.3)
        return {
            "temperature_c": round(self.temperature + rng.gauss(0, 0.1), 1),
            "humidity_pct": round(self.humidity + rng.gauss(0, 0.5), 1),
            "vibration_mm_s": round(max(self.vibration + rng.gauss(0, 0.1), 0.0), 2),
            "pressure_kpa": round(self.pressure + rng.gauss(0, 0.03), 2),
            "battery_v": round(self.battery + rng.gauss(0, 0.002), 3),
        }


def generate_day(raw: Path, day_index: int, devices: int, interval_seconds: float, seed: int) -> tuple[int, int, int, int]:
    """Write one day's objects; returns (readings, lines written, text bytes, gzip bytes). Each day's walks
    start from the device's own base state (days are generated independently, in parallel)."""
    from telemetry_contract import build_reading, parse_reading

    encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False)  # the Firehose transform's
    rng = random.Random(seed * 1_000_003 + day_index)
    day = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day_index), dt.time(), tzinfo=dt.timezone.utc)
    # Objects are cut every 1/OBJECTS_PER_HOUR hour, so a line lands in the object of its slot,
    # in arrival order (all devices interleaved, as Firehose receives them).
    slots: list[list[tuple[dt.datetime, str]]] = [[] for _ in range(24 * OBJECTS_PER_HOUR)]
    readings = 0
    for number in range(devices):
        device = Device(number, random.Random(seed * 7919 + number))
        offset = rng.uniform(0, interval_seconds)
        while offset < 86_400:
            event_time = day + dt.timedelta(milliseconds=round(offset * 1000))
            reading = build_reading(device.device_id, event_time, device.step(rng), device.attributes)
            arrival = event_time + dt.timedelta(milliseconds=rng.randint(200, 2000))
            line = encoder.encode(parse_reading(reading, arrival_time=arrival))
            slot = int(offset // (3600 / OBJECTS_PER_HOUR))
            slots[slot].append((arrival, line))
            if rng.random() < DUPLICATE_RATE:  # redelivered in a later object of the same hour's folder
                last_of_hour = slot - slot % OBJECTS_PER_HOUR + OBJECTS_PER_HOUR - 1
                slots[min(slot + 1, last_of_hour)].append((arrival + dt.timedelta(minutes=1), line))
            readings += 1
            offset += interval_seconds * rng.uniform(0.95, 1.05)
    lines = text_size = size = 0
    for slot, contents in enumerate(slots):
        if not contents:
            continue
        hour, part = divmod(slot, OBJECTS_PER_HOUR)
        folder = raw / "telemetry" / f"event_date={day:%Y-%m-%d}" / f"event_hour={hour:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        flushed = day + dt.timedelta(hours=hour, minutes=(part + 1) * 60 // OBJECTS_PER_HOUR)
        name = f"telemetry-raw-1-{flushed:%Y-%m-%d-%H-%M-%S}-{rng.getrandbits(64):016x}.gz"
        text = "".join(f"{line}\n" for _, line in sorted(contents)).encode("ascii")
        data = gzip.compress(text)
        (folder / name).write_bytes(data)
        lines += len(contents)
        text_size += len(text)
        size += len(data)
    return readings, lines, text_size, size


def generate(raw: Path, devices: int, days: int, interval_seconds: float, seed: int) -> dict:
    """Generate every day, in parallel; returns counts and sizes."""
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        results = list(pool.map(generate_day, [raw] * days, range(days), [devices] * days, [interval_seconds] * days, [seed] * days))
    readings = sum(r for r, _, _, _ in results)
    lines = sum(n for _, n, _, _ in results)
    return {
        "readings": readings,
        "lines": lines,
        "redeliveries": lines - readings,
        "objects": sum(1 for _ in raw.rglob("*.gz")),
        "raw_text_bytes": sum(text for _, _, text, _ in results),
        "raw_bytes": sum(size for _, _, _, size in results),
        "raw_bytes_by_date": {
            folder.name.split("=", 1)[1]: sum(path.stat().st_size for path in folder.rglob("*.gz"))
            for folder in sorted((raw / "telemetry").iterdir())
        },
        "seconds": round(time.perf_counter() - start, 2),
    }


#: The floor's schema: the normalised reading's fields, typed as the curated table types them.
FLOOR_SCHEMA = (
    "schema_version int, device_id string, event_time timestamp, ingested_at timestamp, "
    "metrics map<string,double>, attributes map<string,string>, event_date string, event_hour string"
)
FLOOR_TARGET = 1.5


def run_floor(spark, raw: Path, output: Path) -> float:
    """The floor: plain Spark reads the same raw files as JSON lines (schema given, so no
    inference pass) and writes Snappy Parquet partitioned by date. No validation, no
    de-duplication, no counts: the least any curation of these files must cost."""
    start = time.perf_counter()
    (
        spark.read.schema(FLOOR_SCHEMA).option("recursiveFileLookup", "true").json(str(raw))
        .drop("event_hour")
        .write.mode("overwrite").partitionBy("event_date").option("compression", "snappy").parquet(str(output))
    )
    return time.perf_counter() - start


def run_job(raw: Path, output: Path) -> dict:
    """The job as its local entry point runs it, timed around curate() alone, between two runs
    of the floor on the same files in the same session (the first also warms the JVM up; the
    faster of the two is the floor)."""
    from glue_scripts.raw_to_curated import create_local_session, curate, local_tables, read_raw_lines

    start = time.perf_counter()
    spark = create_local_session(MASTER, driver_memory="4g")
    spark.sparkContext.setLogLevel("ERROR")
    session_seconds = time.perf_counter() - start
    floors = [run_floor(spark, raw, output / "floor")]
    start = time.perf_counter()
    summary = curate(spark, read_raw_lines(spark, str(raw)), tables=local_tables(spark, output / "warehouse"), run_id="benchmark")
    seconds = time.perf_counter() - start
    floors.append(run_floor(spark, raw, output / "floor"))
    versions = {"spark": spark.version, "java": spark.sparkContext._jvm.java.lang.System.getProperty("java.version")}
    spark.stop()
    return {"summary": summary, "seconds": seconds, "floor_seconds": floors, "session_seconds": session_seconds, "versions": versions}


def footer_bytes(path: Path) -> int:
    """Thrift footer + its 4-byte length + the 4-byte magic: what a reader fetches per file."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.serialized_size + 8


def planned_files(table_dir: Path, day: str) -> list[Path]:
    """The data files Iceberg plans for a filter on one day of event_time (pyiceberg)."""
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan

    from tools.iceberg import tables as iceberg

    start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), dt.timezone.utc)
    condition = And(GreaterThanOrEqual("event_time", start.isoformat()), LessThan("event_time", (start + dt.timedelta(days=1)).isoformat()))
    return sorted(Path(t.file.file_path.removeprefix("file:")) for t in iceberg.load(table_dir).scan(row_filter=condition).plan_files())


def query_bytes(files: list[Path], columns: tuple[str, ...]) -> dict:
    """Compressed bytes of ``columns``' chunks (all leaves: a map's keys and values) in every
    row group of ``files``, and the files' footers."""
    import pyarrow.parquet as pq

    chunks = footers = row_groups = 0
    for path in files:
        metadata = pq.ParquetFile(path).metadata
        footers += footer_bytes(path)
        row_groups += metadata.num_row_groups
        for group in range(metadata.num_row_groups):
            for index in range(metadata.num_columns):
                chunk = metadata.row_group(group).column(index)
                if chunk.path_in_schema.split(".", 1)[0] in columns:
                    chunks += chunk.total_compressed_size
    return {"files": len(files), "row_groups": row_groups, "column_chunk_bytes": chunks, "footer_bytes": footers, "bytes": chunks + footers}


def measure(devices: int, days: int, interval_seconds: float, seed: int) -> dict:
    from glue_scripts.curated_table import CURATED, TABLE_NAME
    from glue_scripts.raw_to_curated import LOCAL_DATABASE

    with tempfile.TemporaryDirectory(prefix="curation-bench-") as scratch:
        raw, output = Path(scratch) / "raw", Path(scratch) / "out"
        generated = generate(raw, devices, days, interval_seconds, seed)
        print(f"generated {generated['lines']:,} lines in {generated['objects']:,} objects, "
              f"{generated['raw_bytes']:,} bytes, in {generated['seconds']:.1f}s", flush=True)
        job = run_job(raw, output)
        summary = job["summary"]
        expected = {"duplicate": generated["redeliveries"]} if generated["redeliveries"] else {}
        if summary["rows_in"] != generated["lines"] or summary["quarantined_by_reason"] != expected:
            raise SystemExit(f"the job's counts do not match the generated data: {summary} vs {generated}")
        table_dir = output / "warehouse" / LOCAL_DATABASE / TABLE_NAME
        parquet = sorted((table_dir / "data").rglob("*.parquet"))
        curated_bytes = sum(path.stat().st_size for path in parquet)
        dates = sorted(generated["raw_bytes_by_date"])
        query_day = dates[len(dates) // 2]
        day_files = planned_files(table_dir, query_day)
        query = query_bytes(day_files, QUERY_COLUMNS)
        all_columns = query_bytes(day_files, tuple(c.name for c in CURATED.columns))
    day_raw = generated["raw_bytes_by_date"][query_day]
    return {
        "generated": {k: v for k, v in generated.items() if k != "raw_bytes_by_date"},
        "job": {
            "rows_in": summary["rows_in"],
            "curated": summary["curated"],
            "quarantined": summary["quarantined"],
            "quarantined_by_reason": summary["quarantined_by_reason"],
            "event_dates": len(summary["event_dates"]),
            "seconds": round(job["seconds"], 2),
            "rows_per_s": round(summary["rows_in"] / job["seconds"]),
            "session_start_seconds": round(job["session_seconds"], 2),
            "master": MASTER,
        },
        "floor": {
            "runs_seconds": [round(f, 2) for f in job["floor_seconds"]],
            "seconds": round(min(job["floor_seconds"]), 2),
            "rows_per_s": round(summary["rows_in"] / min(job["floor_seconds"])),
            "ratio_job_to_floor": round(job["seconds"] / min(job["floor_seconds"]), 2),
            "target_ratio": FLOOR_TARGET,
        },
        "storage": {
            "raw_bytes": generated["raw_bytes"],
            "curated_bytes": curated_bytes,
            "curated_files": len(parquet),
            "curated_to_raw": round(curated_bytes / generated["raw_bytes"], 4),
            "raw_text_bytes": generated["raw_text_bytes"],
            "raw_bytes_per_row": round(generated["raw_bytes"] / generated["lines"], 1),
            "curated_bytes_per_row": round(curated_bytes / summary["curated"], 1),
        },
        "query": {
            "day": query_day,
            "columns": list(QUERY_COLUMNS),
            **query,
            "day_all_columns_bytes": all_columns["bytes"],
            "day_raw_bytes": day_raw,
            "ratio_to_all_raw": round(query["bytes"] / generated["raw_bytes"], 6),
            "ratio_to_day_raw": round(query["bytes"] / day_raw, 4),
            "ratio_to_all_raw_text": round(query["bytes"] / generated["raw_text_bytes"], 6),
            "target_ratio_to_all_raw": QUERY_TARGET,
        },
        "versions": job["versions"],
    }


def report(figures: dict, devices: int, days: int, interval_seconds: float, seed: int) -> dict:
    import pyarrow

    return {
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "parameters": {
            "devices": devices, "days": days, "interval_seconds": interval_seconds, "seed": seed,
            "objects_per_hour": OBJECTS_PER_HOUR, "duplicate_rate": DUPLICATE_RATE, "first_day": FIRST_DAY.isoformat(),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "spark": figures["versions"]["spark"],
            "java": figures["versions"]["java"],
            "pyarrow": pyarrow.__version__,
            "platform": platform.platform(),
        },
        **{key: value for key, value in figures.items() if key != "versions"},
    }


def percent(ratio: float) -> str:
    return f"{ratio * 100:.2f}%"


def markdown(data: dict) -> str:
    gen, job, storage, query, params = data["generated"], data["job"], data["storage"], data["query"], data["parameters"]
    floor = data["floor"]
    verdict = "meets" if query["ratio_to_all_raw"] <= query["target_ratio_to_all_raw"] else "MISSES"
    rows = [
        ("rows in", f"{job['rows_in']:,}"),
        ("curated", f"{job['curated']:,}"),
        ("quarantined", f"{job['quarantined']:,} {json.dumps(job['quarantined_by_reason'])}"),
        ("job wall time", f"{job['seconds']:.1f} s ({job['master']}; session start {job['session_start_seconds']:.1f} s not included)"),
        ("throughput", f"{job['rows_per_s']:,} rows/s"),
        ("floor: plain read JSON lines, write Snappy Parquet by date", f"{floor['seconds']:.1f} s, {floor['rows_per_s']:,} rows/s "
         f"(runs before and after the job: {', '.join(f'{s:.1f}' for s in floor['runs_seconds'])} s; the faster counts)"),
        ("job / floor", f"{floor['ratio_job_to_floor']:.2f} (target <= {floor['target_ratio']}: "
         f"{'meets' if floor['ratio_job_to_floor'] <= floor['target_ratio'] else 'MISSES'})"),
        ("raw bytes (gzip JSON lines)", f"{storage['raw_bytes']:,} ({storage['raw_bytes_per_row']} B/row, {gen['objects']:,} objects)"),
        ("curated bytes (Snappy Parquet)", f"{storage['curated_bytes']:,} ({storage['curated_bytes_per_row']} B/row, {storage['curated_files']} files)"),
        ("curated / raw", percent(storage["curated_to_raw"])),
        (f"query bytes, {query['day']}, {', '.join(query['columns'])}",
         f"{query['bytes']:,} ({query['column_chunk_bytes']:,} column chunks + {query['footer_bytes']:,} footer)"),
        ("query / all raw bytes", f"{percent(query['ratio_to_all_raw'])} (target <= {percent(query['target_ratio_to_all_raw'])}: {verdict})"),
        ("query / that day's raw bytes", percent(query["ratio_to_day_raw"])),
        ("that day, all curated columns / day raw", percent(query["day_all_columns_bytes"] / query["day_raw_bytes"])),
        ("for scale: raw as uncompressed JSON text", f"{storage['raw_text_bytes']:,} (query / it: {percent(query['ratio_to_all_raw_text'])})"),
    ]
    machine = data["machine"]
    lines = [
        "# Raw-to-curated Glue job: throughput and storage",
        "",
        f"Measured {data['measured_at']}: {params['days']} days x {params['devices']} devices, one reading every "
        f"~{params['interval_seconds']:g} s (seed {params['seed']}), {params['objects_per_hour']} gzip objects per hour, "
        f"{params['duplicate_rate']:.1%} redelivered; generated in {gen['seconds']:.1f} s. "
        f"{machine['cpus']} CPUs, Python {machine['python']}, Spark {machine['spark']}, Java {machine['java']}, "
        f"pyarrow {machine['pyarrow']}.",
        "",
        "| measure | value |",
        "|---|---:|",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
        "Query bytes: what the hourly-aggregates-per-device query must read from the curated table for one day, "
        "from the Parquet footers (compressed column-chunk sizes of device_id, event_time and metrics' key and value "
        "leaves, plus each file's footer). Against all raw bytes it is the saving over an unpartitioned row-format "
        "scan; against that day's raw bytes it is the columnar saving alone (the raw zone is partitioned by date too). "
        "The raw zone is already gzip, which removes most of JSON's repetition, so the columnar saving over it is "
        "smaller than over uncompressed row data.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=DEFAULT_DEVICES, help=f"default {DEFAULT_DEVICES}")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"default {DEFAULT_DAYS}")
    parser.add_argument("--interval-seconds", type=float, default=DEFAULT_INTERVAL_SECONDS, help=f"default {DEFAULT_INTERVAL_SECONDS}")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"default {DEFAULT_SEED}")
    args = parser.parse_args()
    if args.devices < 1 or args.days < 1 or not math.isfinite(args.interval_seconds) or args.interval_seconds <= 0:
        parser.error("--devices and --days must be at least 1, --interval-seconds positive")
    figures = measure(args.devices, args.days, args.interval_seconds, args.seed)
    data = report(figures, args.devices, args.days, args.interval_seconds, args.seed)
    publish("curation", data, markdown)


if __name__ == "__main__":
    main()
