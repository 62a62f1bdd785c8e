"""The application's dataflow on a local Flink mini-cluster, over a bounded input: for the tests and
the benchmark (``apache-flink`` from PyPI; no AWS, no connector jars).

``python -m flink_apps.anomaly_detection.local_run --input records.jsonl --output result.json``
reads one JSON object per line, ``{"b64": "<the Kinesis record's bytes, base64>"}`` (base64 so
that records which are not UTF-8 can be fed too), runs :func:`pipeline.build_pipeline` with a
collection source and collecting sinks, and writes what each sink received, the counters, and
timings. ``--mode passthrough`` runs the floor the benchmark compares with: the same source
through one Python operator into the same collecting sink.

Differences from the deployed job, on purpose: the source is a collection instead of Kinesis, the
sinks collect instead of writing to Firehose and Kinesis, and the watermark is emitted only at
the end of the input (``--watermark-interval-ms 0``, the default here) so which readings are late
depends on the data alone, never on the timing of a periodic watermark; the per-sensor clock
(see ``windows``) still closes windows as readings arrive.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pyflink.common import Configuration, Types
from pyflink.datastream import DataStream, StreamExecutionEnvironment

from .pipeline import COUNTS_DIR_ENV, DetectionParams, build_pipeline, now_ms
from .properties import DETECTION, NOTIFICATIONS, SCHEMA, settings_from_groups

ANOMALY_SINK, NOTIFICATION_SINK = "anomaly_sink", "notification_sink"
#: PyFlink's collection source cannot carry ``bytes`` (its Java bridge fails on them), so the
#: records travel as base64 text and a first operator turns them back into the record's bytes.
RECORD_TYPE = Types.PICKLED_BYTE_ARRAY()


def _record_bytes(text: str) -> bytes:
    return base64.b64decode(text)


def bounded_source(env: StreamExecutionEnvironment, records: list[bytes]) -> DataStream:
    """The records as a bounded stream of bytes, standing in for the Kinesis source."""
    texts = [base64.b64encode(record).decode("ascii") for record in records]
    return env.from_collection(texts, type_info=Types.STRING()).map(_record_bytes, output_type=RECORD_TYPE).name("records")
#: A consumer ARN and sink names for local settings: the local run touches no AWS resource.
LOCAL_GROUPS = {
    "TelemetrySource": {"efo.consumer.arn": "arn:aws:kinesis:eu-west-1:000000000000:stream/local/consumer/local:1"},
    "AnomalySink": {"delivery.stream.name": "local"},
    "Notifications": {"topic.arn": "arn:aws:sns:eu-west-1:000000000000:local"},
}


def local_params(overrides: dict[str, dict[str, str]] | None = None) -> DetectionParams:
    """Detection parameters from the defaults plus ``overrides`` (Detection / Notifications keys),
    validated exactly as the deployed job validates its properties."""
    groups = {group: dict(values) for group, values in LOCAL_GROUPS.items()}
    for group, values in (overrides or {}).items():
        if group not in (DETECTION, NOTIFICATIONS):
            raise ValueError(f"local runs override only {DETECTION} and {NOTIFICATIONS}, not {group}")
        groups.setdefault(group, {}).update(values)
    return DetectionParams.from_settings(settings_from_groups(groups))


class CollectingSinks:
    """Tags each sink's lines and collects them all at the end of the bounded run; the tagging
    operator stamps the wall clock, so the benchmark can measure latency up to the sink."""

    def __init__(self) -> None:
        self.streams: list[DataStream] = []

    def _collect(self, lines: DataStream, sink: str) -> None:
        # A new chain: PyFlink's optimizer would otherwise fuse this map into the operator before
        # it, and a fused operator carrying that operator's uid collides with it ("Hash collision
        # on user-specified ID"). The deployed job's sinks are Java operators, never fused.
        tagged = lines.map(lambda line: f"{sink}\t{now_ms()}\t{line}", output_type=Types.STRING())
        self.streams.append(tagged.name(f"tag {sink}").start_new_chain())

    def anomalies(self, lines: DataStream) -> None:
        self._collect(lines, ANOMALY_SINK)

    def notifications(self, lines: DataStream) -> None:
        self._collect(lines, NOTIFICATION_SINK)
        return None

    def union(self) -> DataStream:
        first, *rest = self.streams
        return first.union(*rest) if rest else first


@dataclass
class LocalResult:
    sinks: dict[str, list[dict]] = field(default_factory=lambda: {ANOMALY_SINK: [], NOTIFICATION_SINK: []})
    #: Wall clock (ms) at which each sink line passed the tagging operator, aligned with ``sinks``.
    emitted_ms: dict[str, list[int]] = field(default_factory=lambda: {ANOMALY_SINK: [], NOTIFICATION_SINK: []})
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    records_in: int = 0


def environment(parallelism: int, watermark_interval_ms: int) -> StreamExecutionEnvironment:
    config = Configuration()
    config.set_integer("parallelism.default", parallelism)
    config.set_string("pipeline.auto-watermark-interval", f"{watermark_interval_ms} ms")
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(parallelism)
    # The mini-cluster starts Python workers with this interpreter (the deployed job leaves it to
    # the service), and they import the application from this environment's PYTHONPATH.
    env.set_python_executable(sys.executable)
    return env


def run(records: list[bytes], params: DetectionParams, *, parallelism: int = 1, watermark_interval_ms: int = 0) -> LocalResult:
    """Run the application's dataflow over ``records`` and return what its sinks received."""
    env = environment(parallelism, watermark_interval_ms)
    sinks = CollectingSinks()
    build_pipeline(bounded_source(env, records), params, sinks)
    result = LocalResult(records_in=len(records))
    with tempfile.TemporaryDirectory(prefix="anomaly-counts-") as counts_dir:
        os.environ[COUNTS_DIR_ENV] = counts_dir
        started = time.perf_counter()
        with sinks.union().execute_and_collect("anomaly detection (local)") as collected:
            for item in collected:
                sink, emitted, line = item.split("\t", 2)
                result.sinks[sink].append(json.loads(line))
                result.emitted_ms[sink].append(int(emitted))
        result.seconds = time.perf_counter() - started
        for path in Path(counts_dir).glob("*.json"):
            for name, value in json.loads(path.read_text()).items():
                result.counts[name] = result.counts.get(name, 0) + value
    return result


def passthrough(records: list[bytes], *, parallelism: int = 1) -> LocalResult:
    """The floor: the same source through one Python operator to the same kind of collecting sink
    (each line stamped with the wall clock, as the job's sink lines are)."""
    env = environment(parallelism, 0)
    lines = bounded_source(env, records).map(
        lambda raw: f"{ANOMALY_SINK}\t{now_ms()}\t{len(raw)}", output_type=Types.STRING()
    ).name("pass through")
    result = LocalResult(records_in=len(records))
    started = time.perf_counter()
    with lines.execute_and_collect("pass-through floor (local)") as collected:
        for item in collected:
            _, emitted, _ = item.split("\t", 2)
            result.emitted_ms[ANOMALY_SINK].append(int(emitted))
    result.seconds = time.perf_counter() - started
    result.counts["passed"] = len(result.emitted_ms[ANOMALY_SINK])
    return result


def read_records(path: Path) -> list[bytes]:
    return [base64.b64decode(json.loads(line)["b64"]) for line in path.read_text().splitlines() if line.strip()]


def write_records(path: Path, records: list[bytes]) -> None:
    path.write_text("".join(json.dumps({"b64": base64.b64encode(r).decode("ascii")}) + "\n" for r in records))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--mode", choices=("job", "passthrough"), default="job")
    parser.add_argument(
        "--overrides", type=json.loads, default=[{}],
        help=f'JSON {{group: {{key: value}}}} over the defaults, groups {DETECTION} and {NOTIFICATIONS} '
        f'(keys: {", ".join(SCHEMA[DETECTION])}, ...); a JSON list of them runs the job once for each, '
        "one after the other on the same mini-cluster, and the output is a list",
    )
    parser.add_argument("--parallelism", type=int, default=1)
    parser.add_argument("--watermark-interval-ms", type=int, default=0)
    args = parser.parse_args(argv)
    records = read_records(args.input)
    overrides = args.overrides if isinstance(args.overrides, list) else [args.overrides]
    results = []
    for override in overrides:
        if args.mode == "passthrough":
            result = passthrough(records, parallelism=args.parallelism)
        else:
            result = run(
                records, local_params(override),
                parallelism=args.parallelism, watermark_interval_ms=args.watermark_interval_ms,
            )
        results.append({
            "records_in": result.records_in,
            "seconds": result.seconds,
            "counts": result.counts,
            "sinks": result.sinks,
            "emitted_ms": result.emitted_ms,
        })
    args.output.write_text(json.dumps(results if isinstance(args.overrides, list) else results[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
