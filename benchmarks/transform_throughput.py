"""Throughput and memory of the Firehose transform, against the floor of re-encoding the same batch.

The batch is ~6 MB of base64 record data (Lambda's request cap), built with a fixed seed from
valid readings (``telemetry_contract.build_reading``: 3-8 metrics, two attributes, random device
ids, event times spread over one day, ``ingested_at`` added as the IoT rule does), wrapped as
Firehose sends them from a Kinesis stream.

Targets, each measured in a fresh Python process started the same way, round-robin over the
repeats (median reported, with min and max):

* ``floor``: base64 decode + ``json.loads`` + ``json.dumps`` (compact) + base64 encode of every
  record with the plain standard-library calls, and nothing else; ``ratio = transform / floor``.
* ``floor (prebuilt codec)``: the same work with the primitives the transform itself uses
  (``binascii``, a prebuilt ``JSONEncoder``): the transform's real overhead is validation.
* ``transform``: ``transform_records(records).as_response()``, i.e. the handler's work minus
  logging and metrics. The response budget is lifted so every record is fully transformed, like
  the floor (with the real 6,000,000-byte budget a 6 MB batch cannot all be Ok; the report says
  how a maximal real request fares).
* ``parse_reading alone``: ``telemetry_contract.parse_reading`` over the already-decoded
  readings, for scale: the part of the transform's cost that is the contract's.

Each process does what a Lambda invocation does around the measured call: the event arrives as
a JSON string and is parsed into dicts, and the response is serialized afterwards. Its peak RSS
(``ru_maxrss``) is the Lambda-relevant memory figure; ``tracemalloc`` peak of a second, untimed
call shows what the call itself allocates.

Usage: ``python -m benchmarks.transform_throughput [--repeats N]``; writes
``benchmarks/results/transform.{md,json}``.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

from benchmarks import ROOT, publish

LAMBDA_SRC = ROOT / "lambda_src"
FLOOR = "floor"
FLOOR_TUNED = "floor (prebuilt codec)"
TRANSFORM = "transform"
CONTRACT = "parse_reading alone"
TARGETS = (FLOOR, FLOOR_TUNED, TRANSFORM, CONTRACT)
DEFAULT_SEED = 20261123
DEFAULT_TARGET_BYTES = 6_000_000
METRIC_NAMES = ("temperature_c", "vibration_mm_s", "pressure_bar", "rpm", "current_a", "voltage_v", "flow_l_min", "humidity_pct")
SITES = ("hamburg", "bremen", "kiel", "luebeck")

# The Lambda asset root: its modules import each other as top-level modules, as in Lambda.
if str(LAMBDA_SRC) not in sys.path:
    sys.path.insert(0, str(LAMBDA_SRC))


def build_event(seed: int = DEFAULT_SEED, target_bytes: int = DEFAULT_TARGET_BYTES) -> dict:
    """A Firehose event (Kinesis Data Streams source) whose records' ``data`` add up to ``target_bytes``."""
    from telemetry_contract import build_reading

    rng = random.Random(seed)
    day = dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc)
    devices = [f"{rng.choice(('pump', 'fan', 'meter'))}-{rng.randrange(100_000):05d}" for _ in range(2_000)]
    records: list[dict] = []
    total = 0
    sequence = 49657321842005383717219532475013468541925617000000000000
    while total < target_bytes:
        event_time = day + dt.timedelta(milliseconds=rng.randrange(86_400_000))
        metrics = {name: round(rng.uniform(-50, 500), rng.choice((0, 1, 2, 3))) for name in rng.sample(METRIC_NAMES, rng.randint(3, 8))}
        reading = build_reading(
            rng.choice(devices), event_time, metrics, {"site": rng.choice(SITES), "line": f"l{rng.randint(1, 9)}"}
        )
        arrival_ms = int(event_time.timestamp() * 1000) + rng.randrange(50, 2_000)
        reading["ingested_at"] = arrival_ms - rng.randrange(0, 50)  # added by the IoT topic rule
        data = base64.b64encode(json.dumps(reading).encode("utf-8")).decode("ascii")
        sequence += 1
        records.append({
            "recordId": f"{sequence}000000000000",
            "approximateArrivalTimestamp": arrival_ms,
            "data": data,
            "kinesisRecordMetadata": {
                "shardId": f"shardId-{rng.randrange(4):012d}",
                "partitionKey": reading["device_id"],
                "approximateArrivalTimestamp": arrival_ms,
                "sequenceNumber": str(sequence),
                "subsequenceNumber": "",
            },
        })
        total += len(data)
    return {
        "invocationId": "0b6b1f6e-5a5e-4c1e-9d1a-bench",
        "deliveryStreamArn": "arn:aws:firehose:eu-central-1:123456789012:deliverystream/telemetry-raw-bench",
        "sourceKinesisStreamArn": "arn:aws:kinesis:eu-central-1:123456789012:stream/telemetry-bench",
        "region": "eu-central-1",
        "records": records,
    }


def floor(records: list[dict]) -> list[str]:
    """Re-encode every record with the plain standard-library calls, nothing else."""
    b64decode, b64encode, loads, dumps = base64.b64decode, base64.b64encode, json.loads, json.dumps
    return [
        b64encode((dumps(loads(b64decode(r["data"])), separators=(",", ":")) + "\n").encode()).decode()
        for r in records
    ]


def floor_tuned(records: list[dict]) -> list[str]:
    """The floor with the transform's own primitives (binascii, a prebuilt encoder and decoder)."""
    import binascii

    a2b, b2a = binascii.a2b_base64, binascii.b2a_base64
    decode, encode = json.JSONDecoder().decode, json.JSONEncoder(separators=(",", ":")).encode
    return [
        b2a((encode(decode(a2b(r["data"], strict_mode=True).decode("utf-8"))) + "\n").encode("ascii"), newline=False).decode("ascii")
        for r in records
    ]


def worker(target: str, seed: int, target_bytes: int) -> dict:
    """One measurement, in this (fresh) process; returns the figures as a dict."""
    payload = json.dumps(build_event(seed, target_bytes))  # what the runtime receives...
    event = json.loads(payload)  # ...and hands to the handler
    del payload
    records = event["records"]

    if target == TRANSFORM:
        from firehose_transform.transform import transform_records

        def call(records: list[dict]):
            return transform_records(records, response_budget=sys.maxsize).as_response()
    elif target == CONTRACT:
        from telemetry_contract import parse_reading

        readings = [json.loads(base64.b64decode(r["data"])) for r in records]  # untimed

        def call(records: list[dict]):
            return [parse_reading(reading) for reading in readings]
    else:
        call = floor if target == FLOOR else floor_tuned

    start = time.perf_counter()
    output = call(records)
    elapsed = time.perf_counter() - start

    if target == TRANSFORM and not all(r["result"] == "Ok" for r in output["records"]):
        raise SystemExit("the benchmark batch must be all valid readings")
    serialized = json.dumps(output)  # what the runtime sends back
    out_bytes = len(serialized)
    del serialized, output
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    tracemalloc.start()
    output = call(records)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del output
    return {
        "target": target,
        "records": len(records),
        "input_data_bytes": sum(len(r["data"]) for r in records),
        "output_bytes": out_bytes,
        "seconds": elapsed,
        "max_rss_mb": max_rss_mb,
        "tracemalloc_peak_mb": traced_peak / 1e6,
    }


def run_worker(target: str, seed: int, target_bytes: int) -> dict:
    argv = [sys.executable, "-m", "benchmarks.transform_throughput", "--worker", target,
            "--seed", str(seed), "--target-bytes", str(target_bytes)]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{target}: worker failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(repeats: int, seed: int, target_bytes: int) -> dict[str, list[dict]]:
    samples: dict[str, list[dict]] = {t: [] for t in TARGETS}
    for round_number in range(1, repeats + 1):
        for target in TARGETS:
            samples[target].append(run_worker(target, seed, target_bytes))
        print(f"round {round_number}/{repeats}: " + ", ".join(f"{t} {samples[t][-1]['seconds']:.3f}s" for t in TARGETS), flush=True)
    return samples


def with_real_budget(seed: int, target_bytes: int) -> dict:
    """How the batch fares under the handler's real response budget. A 6 MB batch of data is over
    Lambda's 6 MiB request cap once wrapped as an event, so this takes the largest prefix of it
    that Lambda would accept as a request."""
    from firehose_transform.transform import LAMBDA_RESPONSE_LIMIT_BYTES, RESPONSE_BUDGET_BYTES, transform_records

    event = build_event(seed, target_bytes)
    full_event_bytes = len(json.dumps(event))
    envelope = len(json.dumps({**event, "records": []}))
    size, count = envelope, 0
    for record in event["records"]:
        size += len(json.dumps(record)) + (2 if count else 0)
        if size > LAMBDA_RESPONSE_LIMIT_BYTES:  # the same 6 MiB cap applies to the request
            break
        count += 1
    records = event["records"][:count]
    result = transform_records(records)
    return {
        "full_event_bytes": full_event_bytes,
        "request_records": count,
        "request_data_bytes": sum(len(r["data"]) for r in records),
        "budget_bytes": RESPONSE_BUDGET_BYTES,
        "ok": result.ok,
        "failed": result.failed,
        "failed_by_reason": result.failed_by_reason,
        "response_bytes": result.response_bytes,
    }


def report(samples: dict[str, list[dict]], repeats: int, seed: int, target_bytes: int) -> dict:
    def median(target: str, key: str) -> float:
        return statistics.median(s[key] for s in samples[target])

    first = samples[TRANSFORM][0]
    rows = {}
    for target, runs in samples.items():
        seconds = [s["seconds"] for s in runs]
        rows[target] = {
            "median_s": round(statistics.median(seconds), 4),
            "min_s": round(min(seconds), 4),
            "max_s": round(max(seconds), 4),
            "records_per_s": round(first["records"] / statistics.median(seconds)),
            "ratio_to_floor": round(statistics.median(seconds) / median(FLOOR, "seconds"), 2),
            "ratio_to_floor_tuned": round(statistics.median(seconds) / median(FLOOR_TUNED, "seconds"), 2),
            # Best run against best run: less sensitive to a noisy (shared) machine than medians.
            "ratio_to_floor_of_minimums": round(min(seconds) / min(s["seconds"] for s in samples[FLOOR]), 2),
            "max_rss_mb": round(median(target, "max_rss_mb"), 1),
            "tracemalloc_peak_mb": round(median(target, "tracemalloc_peak_mb"), 1),
            "output_bytes": runs[0]["output_bytes"],
            "samples_s": [round(v, 4) for v in seconds],
        }
    return {
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "repeats": repeats,
        "seed": seed,
        "batch": {"records": first["records"], "input_data_bytes": first["input_data_bytes"], "target_bytes": target_bytes},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "targets": {"ratio": "transform / floor <= 2", "max_rss_mb": "< 128 (smallest Lambda memory size)"},
        "results": rows,
        "with_real_response_budget": with_real_budget(seed, target_bytes),
    }


def markdown(data: dict) -> str:
    batch, real = data["batch"], data["with_real_response_budget"]
    lines = [
        "# Firehose transform throughput",
        "",
        f"Measured {data['measured_at']}: {batch['records']} records, {batch['input_data_bytes']:,} bytes of base64 data "
        f"(seed {data['seed']}); {data['repeats']} fresh processes per target (median; min-max), "
        f"{data['machine']['cpus']} CPUs, Python {data['machine']['python']}.",
        "",
        "| target | median (s) | min-max (s) | records/s | ratio to floor | ratio to floor, min/min | ratio to prebuilt-codec floor | peak RSS (MB) | tracemalloc peak (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for target, row in data["results"].items():
        lines.append(
            f"| {target} | {row['median_s']:.3f} | {row['min_s']:.3f}-{row['max_s']:.3f} | {row['records_per_s']:,} | "
            f"{row['ratio_to_floor']:.2f} | {row['ratio_to_floor_of_minimums']:.2f} | {row['ratio_to_floor_tuned']:.2f} | {row['max_rss_mb']:.1f} | {row['tracemalloc_peak_mb']:.1f} |"
        )
    lines += [
        "",
        f"Targets: transform/floor {data['targets']['ratio'].split('<=')[1].strip()}x or less; peak RSS {data['targets']['max_rss_mb']}.",
        "Peak RSS is the whole process: interpreter, imports, the event as the runtime parses it, the call and the "
        "serialized response.",
        "",
        f"The whole batch as an event is {real['full_event_bytes']:,} bytes, over Lambda's 6 MiB request cap: it measures "
        "throughput, it is not a possible invocation (the response budget is lifted for it). The largest request "
        f"Lambda would accept from it holds {real['request_records']} records ({real['request_data_bytes']:,} bytes of data); "
        f"with the handler's real response budget ({real['budget_bytes']:,} bytes) that request gives {real['ok']} Ok and "
        f"{real['failed']} failed{' ' + json.dumps(real['failed_by_reason']) if real['failed'] else ''} "
        f"(response {real['response_bytes']:,} bytes).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per target (default 5)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=argparse.SUPPRESS)
    parser.add_argument("--target-bytes", type=int, default=DEFAULT_TARGET_BYTES, help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=TARGETS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.seed, args.target_bytes)))
        return
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    data = report(measure(args.repeats, args.seed, args.target_bytes), args.repeats, args.seed, args.target_bytes)
    publish("transform", data, markdown)


if __name__ == "__main__":
    main()
