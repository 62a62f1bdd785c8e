"""The dataflow, with its source and sinks injected: thin PyFlink glue around the pure modules.

::

    raw records (bytes) ──parse──▶ readings ──watermarks──▶ keyBy(device, metric) ──detect──▶ anomalies
          │ rejected (side output)                                 │ late (side output)        │
          ▼                                                        ▼                           ▼
    anomaly sink (Firehose): anomalies, late readings, rejected records, undelivered notifications
                                                          HIGH/CRITICAL ──keyBy──▶ notify once ──▶ notification sink (SNS)

The caller gives a ``DataStream`` of raw record bytes (Kinesis in production, a collection in
tests) and a :class:`Sinks` (Firehose and Kinesis in production, collecting sinks in tests).
Every stateful operator has a fixed ``uid`` so snapshots survive code changes: renaming one loses
its state, like renaming a stateful CloudFormation resource.

Counters (Flink metrics, in the metric group ``kinesisanalytics`` that Managed Flink exports to
CloudWatch): ``recordsRejected``, ``readingsParsed``, ``readingsLate``, ``readingsScored``,
``readingsUnscored`` (window below ``min.samples``), ``anomaliesDetected``,
``notificationsSent``, ``notificationsSuppressed``; the deployed job's publisher adds
``notificationsPublished`` and ``notificationsFailed`` (connectors.PublishToSns).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import telemetry_contract as contract
from pyflink.common import Duration, Types, WatermarkStrategy
from pyflink.common.watermark_strategy import TimestampAssigner
from pyflink.datastream import DataStream, OutputTag
from pyflink.datastream.functions import KeyedProcessFunction, ProcessFunction, RuntimeContext
from pyflink.datastream.state import ValueStateDescriptor

from . import records
from .notifications import NotifyState, decide, expires_at
from .readings import Rejection, decode, event_millis
from .scoring import NOTIFIED_SEVERITIES, Bands
from .windows import Entry, Late, SensorState, WindowSpec, accept, advance, evaluate_through

#: (device_id, metric, event_ms, value, event_time text, received_ms)
READING_TYPE = Types.TUPLE([Types.STRING(), Types.STRING(), Types.LONG(), Types.DOUBLE(), Types.STRING(), Types.LONG()])
RAW_TYPE = Types.PRIMITIVE_ARRAY(Types.BYTE())
REJECTED = OutputTag("rejected-records", Types.STRING())
LATE = OutputTag("late-readings", Types.STRING())
METRIC_GROUP = "kinesisanalytics"
#: Local runs only: a directory where each function writes its counters when it closes, so tests
#: can check them (a mini-cluster's metrics are not otherwise readable from Python).
COUNTS_DIR_ENV = "ANOMALY_DETECTION_COUNTS_DIR"


@dataclass(frozen=True)
class DetectionParams:
    """What the dataflow needs from the settings (see ``properties.Settings``)."""

    window: WindowSpec
    dedup_period_ms: int
    out_of_orderness_ms: int
    idleness_ms: int

    @classmethod
    def from_settings(cls, settings) -> DetectionParams:
        return cls(
            window=WindowSpec(
                size_ms=settings.window_size_ms,
                slide_ms=settings.window_slide_ms,
                min_samples=settings.min_samples,
                out_of_orderness_ms=settings.out_of_orderness_ms,
                bands=Bands(settings.alert_threshold, settings.high_threshold, settings.critical_threshold),
                min_stddev=settings.min_stddev,
            ),
            dedup_period_ms=settings.dedup_period_ms,
            out_of_orderness_ms=settings.out_of_orderness_ms,
            idleness_ms=settings.idleness_ms,
        )


class Sinks(Protocol):
    def anomalies(self, lines: DataStream) -> None:
        """Anomalies, late readings and rejected records: JSON strings, one record each."""

    def notifications(self, lines: DataStream) -> DataStream | None:
        """De-duplicated HIGH and CRITICAL anomalies (JSON strings) to deliver; returns the lines of
        those it could not deliver (for the anomaly sink), or None if it has no such output."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Counted:
    """Counters registered in ``open``; also kept in a dict for the local run's dump."""

    COUNTERS: tuple[str, ...] = ()

    def open_counters(self, context: RuntimeContext) -> None:
        group = context.get_metrics_group().add_group(METRIC_GROUP)
        self._counters = {name: group.counter(name) for name in self.COUNTERS}
        self._counts = dict.fromkeys(self.COUNTERS, 0)
        self._subtask = context.get_index_of_this_subtask()

    def inc(self, name: str, amount: int = 1) -> None:
        if amount:
            self._counters[name].inc(amount)
            self._counts[name] += amount

    def dump_counters(self) -> None:
        directory = os.environ.get(COUNTS_DIR_ENV)
        if directory:
            path = Path(directory) / f"{type(self).__name__}-{self._subtask}-{os.getpid()}.json"
            path.write_text(json.dumps(self._counts))


class ParseReadings(ProcessFunction, Counted):
    """Bytes to per-metric readings; a record that is no reading goes to the side output."""

    COUNTERS = ("recordsRejected", "readingsParsed")

    def open(self, runtime_context: RuntimeContext) -> None:
        self.open_counters(runtime_context)

    def close(self) -> None:
        self.dump_counters()

    def process_element(self, value, ctx):
        received = now_ms()
        # bytes from a collection, or a Row whose first field is the Kinesis record's data.
        raw = bytes(value if isinstance(value, (bytes, bytearray)) else value[0])
        result = decode(raw)
        if isinstance(result, Rejection):
            self.inc("recordsRejected")
            yield REJECTED, records.rejected(result.reason, result.raw, received)
            return
        self.inc("readingsParsed", len(result))
        for reading in result:
            yield reading.device_id, reading.metric, reading.event_ms, reading.value, reading.event_time, received


class ReadingTime(TimestampAssigner):
    def extract_timestamp(self, value, record_timestamp) -> int:
        return value[2]


class DetectAnomalies(KeyedProcessFunction, Counted):
    """Per (device, metric): buckets, evaluation and scoring (``windows``), late readings out."""

    COUNTERS = ("readingsLate", "readingsScored", "readingsUnscored", "anomaliesDetected")

    def __init__(self, window: WindowSpec) -> None:
        self.window = window

    def open(self, runtime_context: RuntimeContext) -> None:
        self.open_counters(runtime_context)
        # The sensor's state as one plain tuple (SensorState.to_tuple): written on every reading,
        # and plain tuples pickle about ten times faster than dataclasses.
        self.state = runtime_context.get_state(ValueStateDescriptor("sensor", Types.PICKLED_BYTE_ARRAY()))

    def close(self) -> None:
        self.dump_counters()

    def process_element(self, value, ctx):
        device_id, metric, event_ms, reading_value, event_time, received_ms = value
        sensor = self._load()
        entry = Entry(event_ms, reading_value, event_time, received_ms)
        bucket_end = self.window.bucket_end(event_ms)
        if bucket_end - 1 <= ctx.timer_service().current_watermark():
            # The job's watermark has passed this window: evaluated already, or (state cleared
            # after its last window) as good as evaluated.
            late = Late(entry, bucket_end, max(sensor.evaluated_through, bucket_end), sensor.clock)
        else:
            late = accept(sensor, self.window, entry)
        if late is not None:
            self.inc("readingsLate")
            yield LATE, records.late(device_id, metric, late, self.window.out_of_orderness_ms, now_ms())
        else:
            ctx.timer_service().register_event_time_timer(bucket_end - 1)
        yield from self._emit(device_id, metric, advance(sensor, self.window, event_ms), received_ms)
        self._save(sensor)

    def _load(self) -> SensorState:
        return SensorState.from_tuple(self.state.value())

    def _save(self, sensor: SensorState) -> None:
        self.state.update(sensor.to_tuple())

    def on_timer(self, timestamp: int, ctx):
        if self.state.value() is None:
            return
        sensor = self._load()
        device_id, metric = ctx.get_current_key()
        yield from self._emit(device_id, metric, evaluate_through(sensor, self.window, timestamp), now_ms())
        if sensor.buckets:
            self._save(sensor)
        else:
            # Nothing pending: the watermark is past every window of this sensor, which the
            # lateness check above covers without the state.
            self.state.clear()

    def _emit(self, device_id: str, metric: str, evaluations, trigger_ms: int):
        """Anomaly lines of ``evaluations``; ``trigger_ms``: when what closed the windows (a reading,
        or the watermark's timer) entered this job or fired."""
        for evaluation in evaluations:
            self.inc("readingsScored", len(evaluation.scored))
            self.inc("readingsUnscored", evaluation.unscored)
            for scored in evaluation.scored:
                if scored.severity is not None:
                    self.inc("anomaliesDetected")
                    yield records.anomaly(device_id, metric, evaluation, scored, trigger_ms, now_ms())


class NotifyOnce(KeyedProcessFunction, Counted):
    """Per (device, metric): the first HIGH/CRITICAL anomaly of a period, and escalations. It
    skips MEDIUM anomalies itself (a filter before it would be one more Python operator, and
    PyFlink then reports a uid collision for the chained operators)."""

    COUNTERS = ("notificationsSent", "notificationsSuppressed")

    def __init__(self, period_ms: int) -> None:
        self.period_ms = period_ms

    def open(self, runtime_context: RuntimeContext) -> None:
        self.open_counters(runtime_context)
        self.state = runtime_context.get_state(ValueStateDescriptor("notified", Types.PICKLED_BYTE_ARRAY()))

    def close(self) -> None:
        self.dump_counters()

    def process_element(self, value, ctx):
        anomaly = json.loads(value)
        if anomaly["severity"] not in NOTIFIED_SEVERITIES:
            return
        event_ms = event_millis(contract.parse_timestamp(anomaly["event_time"], "event_time"))
        decision = decide(self.state.value(), event_ms, anomaly["severity"], self.period_ms)
        self.state.update(decision.state)
        if decision.notify:
            self.inc("notificationsSent")
            ctx.timer_service().register_event_time_timer(expires_at(decision.state, self.period_ms))
            yield records.notification(value, decision.suppressed_before, now_ms())
        else:
            self.inc("notificationsSuppressed")

    def on_timer(self, timestamp: int, ctx):
        state: NotifyState | None = self.state.value()
        if state is not None and timestamp >= expires_at(state, self.period_ms):
            self.state.clear()
        return iter(())


def _sensor_key(value) -> tuple[str, str]:
    return value[0], value[1]


def _anomaly_key(line: str) -> tuple[str, str]:
    record = json.loads(line)
    return record["device_id"], record["metric"]


KEY_TYPE = Types.TUPLE([Types.STRING(), Types.STRING()])


def build_pipeline(raw: DataStream, params: DetectionParams, sinks: Sinks) -> None:
    """Wire the dataflow from ``raw`` (record bytes) to ``sinks``."""
    parsed = raw.process(ParseReadings(), output_type=READING_TYPE).name("parse readings").uid("parse-readings")
    watermarks = (
        WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(params.out_of_orderness_ms))
        .with_idleness(Duration.of_millis(params.idleness_ms))
        .with_timestamp_assigner(ReadingTime())
    )
    readings = parsed.assign_timestamps_and_watermarks(watermarks).name("reading time").uid("reading-time")
    anomalies = (
        readings.key_by(_sensor_key, key_type=KEY_TYPE)
        .process(DetectAnomalies(params.window), output_type=Types.STRING())
        .name("detect anomalies")
        .uid("detect-anomalies")
    )
    notifications = (
        anomalies.key_by(_anomaly_key, key_type=KEY_TYPE)
        .process(NotifyOnce(params.dedup_period_ms), output_type=Types.STRING())
        .name("notify once per period")
        .uid("notify-once")
    )
    undelivered = sinks.notifications(notifications)
    extra = [undelivered] if undelivered is not None else []
    sinks.anomalies(anomalies.union(anomalies.get_side_output(LATE), parsed.get_side_output(REJECTED), *extra))
