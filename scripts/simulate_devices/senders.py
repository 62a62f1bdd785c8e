"""Publish realistic device telemetry to a deployed environment, through IoT Core or straight
onto the Kinesis stream.

Run from the repository root (see ``scripts/README.md``)::

    python -m scripts.simulate_devices --devices 20 --rate 50 --duration 60
    python -m scripts.simulate_devices --target kinesis --stream-name <stream> --count 10000 --rate 500

Every reading is built with :func:`telemetry_contract.build_reading`, so the simulator cannot
publish anything the Firehose transform would reject. The pieces are plain classes that tests
drive with botocore's Stubber, a fake clock and a fake sleep:

* :class:`TelemetrySimulator` -- per-device state evolving as a random walk, deterministic given
  a seed and a clock;
* :class:`RecordBatcher` -- groups Kinesis entries into ``PutRecords`` calls (500 records, 5 MiB);
* :class:`IotPublisher` / :class:`KinesisPublisher` -- deliver readings through a boto3 client;
  Kinesis retries only the entries that failed, with bounded exponential backoff;
* :class:`RateLimiter` and :func:`run` -- pace the readings and collect a :class:`RunSummary`;
* :func:`main` -- the thin command line around them.

Exit codes: 0 every reading was delivered; 1 some were not (each one is printed) or AWS refused
the run; 2 bad arguments; 130 interrupted (after flushing what was buffered).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import re
import secrets
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TextIO, TypeVar

# lambda_src/ is the Lambda asset root: it holds telemetry_contract.py, the one shared definition
# of a reading (deployed with the Firehose transform, shipped to Glue). `python -m
# scripts.simulate_devices` from the repository root only puts the root on sys.path, so the asset
# root is added explicitly before the contract is imported.
_LAMBDA_SRC = str(Path(__file__).resolve().parents[2] / "lambda_src")
if _LAMBDA_SRC not in sys.path:
    sys.path.insert(0, _LAMBDA_SRC)

import boto3  # noqa: E402
import botocore.config  # noqa: E402
from botocore.exceptions import BotoCoreError, ClientError  # noqa: E402
from tqdm import tqdm  # noqa: E402

import telemetry_contract  # noqa: E402

DEFAULT_TOPIC_PREFIX = "telemetry"
DEFAULT_DEVICE_PREFIX = "sim"

#: Same rule as ``ingestion.topic_prefix`` in config/model.py: one topic level, so the IoT rule
#: finds the device id at ``topic(2)``.
TOPIC_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
#: Leaves room for ``-<number>`` within the contract's 128-character device id.
DEVICE_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
STREAM_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")
STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/[a-zA-Z0-9_.-]{1,128}$")

#: PutRecords limits: 500 entries and 5 MiB (data plus partition keys) per call, 1 MiB per entry.
KINESIS_MAX_RECORDS = 500
KINESIS_MAX_REQUEST_BYTES = 5 * 1024 * 1024
KINESIS_MAX_RECORD_BYTES = 1024 * 1024

SITES = ("hamburg", "lyon", "porto", "turin", "gdansk", "aarhus")
FIRMWARE = ("1.4.2", "1.5.0", "1.5.1", "2.0.0")
FIRMWARE_WEIGHTS = (1, 3, 4, 2)
MODELS = ("pump-a100", "pump-a200", "compressor-c5")

Clock = Callable[[], float]
Sleep = Callable[[float], None]
Now = Callable[[], dt.datetime]
ClientFactory = Callable[..., Any]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def topic_for(prefix: str, device_id: str) -> str:
    """The MQTT topic a device publishes on: ``<prefix>/<device_id>/telemetry``."""
    return f"{prefix}/{device_id}/telemetry"


def encode_reading(reading: Mapping[str, Any]) -> bytes:
    """The reading as published: compact UTF-8 JSON (the same bytes for MQTT and Kinesis)."""
    return json.dumps(reading, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def device_ids(count: int, prefix: str = DEFAULT_DEVICE_PREFIX) -> list[str]:
    """``sim-0001`` ... ``sim-<count>``, zero-padded to at least four digits."""
    width = max(4, len(str(count)))
    return [f"{prefix}-{number:0{width}d}" for number in range(1, count + 1)]


# --------------------------------------------------------------------------------------------
# Readings
# --------------------------------------------------------------------------------------------


@dataclass
class DeviceState:
    """One device's slowly changing state; :meth:`step` advances it by one reading."""

    device_id: str
    attributes: dict[str, str]
    temperature_baseline: float
    humidity_baseline: float
    vibration_baseline: float
    temperature_c: float
    humidity_pct: float
    vibration_mm_s: float
    battery_pct: float
    battery_drain: float

    #: Plausible bounds the random walks never leave.
    TEMPERATURE_RANGE = (-40.0, 85.0)
    BATTERY_REPLACED_BELOW = 5.0

    @classmethod
    def create(cls, device_id: str, rng: random.Random) -> DeviceState:
        temperature = rng.uniform(16.0, 32.0)
        humidity = rng.uniform(30.0, 70.0)
        vibration = rng.uniform(0.5, 3.0)
        return cls(
            device_id=device_id,
            attributes={
                "site": rng.choice(SITES),
                "firmware": rng.choices(FIRMWARE, weights=FIRMWARE_WEIGHTS)[0],
                "model": rng.choice(MODELS),
                "source": "simulator",
            },
            temperature_baseline=temperature,
            humidity_baseline=humidity,
            vibration_baseline=vibration,
            temperature_c=temperature + rng.gauss(0.0, 0.5),
            humidity_pct=humidity + rng.gauss(0.0, 2.0),
            vibration_mm_s=vibration,
            battery_pct=rng.uniform(60.0, 100.0),
            battery_drain=rng.uniform(0.005, 0.03),
        )

    def step(self, rng: random.Random) -> dict[str, float]:
        """Advance one reading (mean-reverting random walks) and return the metrics."""
        low, high = self.TEMPERATURE_RANGE
        self.temperature_c = _clamp(
            self.temperature_c + 0.05 * (self.temperature_baseline - self.temperature_c) + rng.gauss(0.0, 0.2),
            low,
            high,
        )
        self.humidity_pct = _clamp(
            self.humidity_pct + 0.05 * (self.humidity_baseline - self.humidity_pct) + rng.gauss(0.0, 0.8),
            0.0,
            100.0,
        )
        self.vibration_mm_s = max(
            0.0,
            self.vibration_mm_s + 0.1 * (self.vibration_baseline - self.vibration_mm_s) + rng.gauss(0.0, 0.15),
        )
        # A short mechanical shock now and then shows up in one reading only.
        vibration = self.vibration_mm_s * rng.uniform(3.0, 6.0) if rng.random() < 0.01 else self.vibration_mm_s
        self.battery_pct = max(0.0, self.battery_pct - self.battery_drain * rng.uniform(0.5, 1.5))
        if self.battery_pct < self.BATTERY_REPLACED_BELOW:
            self.battery_pct = 100.0  # the technician swapped the battery
        return {
            "temperature_c": round(self.temperature_c, 2),
            "humidity_pct": round(self.humidity_pct, 1),
            "vibration_mm_s": round(vibration, 3),
            "battery_pct": round(self.battery_pct, 2),
        }


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


class TelemetrySimulator:
    """Readings for ``devices`` simulated devices, one device after the other (round robin).

    ``event_time`` is ``now()`` minus up to ``jitter_seconds`` (transmission delay); with
    probability ``late_probability`` a reading is late by 60 s to ``late_max_seconds`` instead,
    which exercises event-time partitioning (it lands in an earlier hour). Given a ``seed`` and
    a deterministic ``now``, the sequence of readings is reproducible.
    """

    LATE_MIN_SECONDS = 60.0

    def __init__(
        self,
        devices: int,
        *,
        seed: int | None = None,
        device_prefix: str = DEFAULT_DEVICE_PREFIX,
        now: Now = utc_now,
        jitter_seconds: float = 0.0,
        late_probability: float = 0.0,
        late_max_seconds: float = 3 * 3600.0,
    ) -> None:
        if devices < 1:
            raise ValueError("devices must be at least 1")
        if not DEVICE_PREFIX.fullmatch(device_prefix):
            raise ValueError(f"device prefix {device_prefix!r} must match {DEVICE_PREFIX.pattern}")
        if jitter_seconds < 0:
            raise ValueError("jitter_seconds must not be negative")
        if not 0.0 <= late_probability <= 1.0:
            raise ValueError("late_probability must be between 0 and 1")
        if late_max_seconds < self.LATE_MIN_SECONDS:
            raise ValueError(f"late_max_seconds must be at least {self.LATE_MIN_SECONDS:g}")
        self._rng = random.Random(seed)
        self._now = now
        self._jitter = jitter_seconds
        self._late_probability = late_probability
        self._late_max = late_max_seconds
        self.devices = [DeviceState.create(device_id, self._rng) for device_id in device_ids(devices, device_prefix)]
        self._next = 0

    @property
    def device_ids(self) -> list[str]:
        return [device.device_id for device in self.devices]

    def next_reading(self) -> dict[str, Any]:
        device = self.devices[self._next]
        self._next = (self._next + 1) % len(self.devices)
        metrics = device.step(self._rng)
        delay = self._rng.uniform(0.0, self._jitter) if self._jitter else 0.0
        if self._late_probability and self._rng.random() < self._late_probability:
            delay = self._rng.uniform(self.LATE_MIN_SECONDS, self._late_max)
        event_time = self._now() - dt.timedelta(seconds=delay)
        return telemetry_contract.build_reading(device.device_id, event_time, metrics, device.attributes)

    def readings(self, count: int) -> list[dict[str, Any]]:
        return [self.next_reading() for _ in range(count)]


# --------------------------------------------------------------------------------------------
# Delivery
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """A reading that was not delivered, and why."""

    device_id: str
    event_time: str
    error_code: str
    error_message: str = ""

    def describe(self) -> str:
        message = f": {self.error_message}" if self.error_message else ""
        return f"not delivered: device {self.device_id} event_time {self.event_time} -- {self.error_code}{message}"


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: list[Failure] = field(default_factory=list)

    def __iadd__(self, other: DeliveryReport) -> DeliveryReport:
        self.sent += other.sent
        self.failed.extend(other.failed)
        return self


class PublishError(Exception):
    """AWS refused a request outright (after botocore's own retries): the run stops.

    ``report`` holds what that request had delivered before and the readings it lost."""

    def __init__(self, message: str, report: DeliveryReport) -> None:
        super().__init__(message)
        self.report = report


def _error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code", "ClientError")
    return type(error).__name__


class Publisher(Protocol):
    def add(self, reading: Mapping[str, Any]) -> DeliveryReport: ...

    def tick(self, upcoming_idle: float = 0.0) -> DeliveryReport: ...

    def flush(self) -> DeliveryReport: ...

    def discard(self) -> list[Failure]: ...


def iot_data_endpoint(iot_client: Any) -> str:
    """``https://<account-specific-prefix>-ats.iot.<region>.amazonaws.com``."""
    address = iot_client.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
    return f"https://{address}"


class IotPublisher:
    """Publishes each reading as a device would: QoS 1 on ``<prefix>/<device_id>/telemetry``."""

    def __init__(self, client: Any, topic_prefix: str = DEFAULT_TOPIC_PREFIX) -> None:
        if not TOPIC_PREFIX.fullmatch(topic_prefix):
            raise ValueError(f"topic prefix {topic_prefix!r} must match {TOPIC_PREFIX.pattern}")
        self._client = client
        self.topic_prefix = topic_prefix

    def add(self, reading: Mapping[str, Any]) -> DeliveryReport:
        try:
            self._client.publish(
                topic=topic_for(self.topic_prefix, reading["device_id"]), qos=1, payload=encode_reading(reading)
            )
        except (ClientError, BotoCoreError) as error:
            failure = Failure(reading["device_id"], reading["event_time"], _error_code(error), str(error))
            raise PublishError(f"IoT publish failed: {error}", DeliveryReport(failed=[failure])) from error
        return DeliveryReport(sent=1)

    def tick(self, upcoming_idle: float = 0.0) -> DeliveryReport:
        return DeliveryReport()

    def flush(self) -> DeliveryReport:
        return DeliveryReport()

    def discard(self) -> list[Failure]:
        return []


T = TypeVar("T")


class RecordBatcher(Generic[T]):
    """Groups items into batches of at most ``max_records`` items and ``max_bytes`` bytes.

    :meth:`add` returns the batches that became complete (usually none, sometimes one)."""

    def __init__(
        self,
        max_records: int = KINESIS_MAX_RECORDS,
        max_bytes: int = KINESIS_MAX_REQUEST_BYTES,
        max_item_bytes: int = KINESIS_MAX_RECORD_BYTES,
    ) -> None:
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.max_item_bytes = min(max_item_bytes, max_bytes)
        self._items: list[T] = []
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def pending_bytes(self) -> int:
        return self._bytes

    def add(self, item: T, size: int) -> list[list[T]]:
        if size > self.max_item_bytes:
            raise ValueError(f"an item of {size} bytes exceeds the {self.max_item_bytes}-byte limit")
        ready: list[list[T]] = []
        if self._items and self._bytes + size > self.max_bytes:
            ready.append(self.take())
        self._items.append(item)
        self._bytes += size
        if len(self._items) >= self.max_records:
            ready.append(self.take())
        return ready

    def take(self) -> list[T]:
        items, self._items, self._bytes = self._items, [], 0
        return items


@dataclass(frozen=True)
class KinesisEntry:
    device_id: str
    event_time: str
    data: bytes

    @classmethod
    def from_reading(cls, reading: Mapping[str, Any]) -> KinesisEntry:
        return cls(reading["device_id"], reading["event_time"], encode_reading(reading))

    @property
    def request_entry(self) -> dict[str, Any]:
        return {"Data": self.data, "PartitionKey": self.device_id}

    @property
    def size(self) -> int:
        return len(self.data) + len(self.device_id.encode("utf-8"))


def backoff_delays(max_retries: int, base: float, cap: float) -> list[float]:
    """Seconds to wait before retry 1..max_retries: ``base * 2**(n-1)``, at most ``cap``."""
    return [min(cap, base * 2**attempt) for attempt in range(max_retries)]


class KinesisPublisher:
    """Puts readings on the stream with ``PutRecords``, partition key = device id.

    Entries are buffered until a batch is full (500 records or 5 MiB) or the oldest has waited
    ``linger_seconds``. Entries the stream rejects (``ErrorCode``, typically
    ``ProvisionedThroughputExceededException``) are retried alone, up to ``max_retries`` times
    with exponential backoff; what still fails is returned as :class:`Failure`, never dropped.
    """

    def __init__(
        self,
        client: Any,
        stream: str,
        *,
        max_retries: int = 5,
        backoff_base: float = 0.1,
        backoff_max: float = 5.0,
        linger_seconds: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        batcher: RecordBatcher[KinesisEntry] | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        self._client = client
        self._stream_param = {"StreamARN": stream} if stream.startswith("arn:") else {"StreamName": stream}
        self._delays = backoff_delays(max_retries, backoff_base, backoff_max)
        self._linger = linger_seconds
        self._clock = clock
        self._sleep = sleep
        self._batcher: RecordBatcher[KinesisEntry] = batcher or RecordBatcher()
        self._oldest_at: float | None = None
        self.calls = 0

    @property
    def pending(self) -> int:
        return len(self._batcher)

    def add(self, reading: Mapping[str, Any]) -> DeliveryReport:
        entry = KinesisEntry.from_reading(reading)
        report = DeliveryReport()
        for batch in self._batcher.add(entry, entry.size):
            report += self._send(batch)
        if len(self._batcher) == 1:
            self._oldest_at = self._clock()
        return report

    def tick(self, upcoming_idle: float = 0.0) -> DeliveryReport:
        """Sends the buffer if its oldest entry would otherwise wait longer than the linger."""
        if len(self._batcher) and self._oldest_at is not None:
            if self._clock() + upcoming_idle - self._oldest_at >= self._linger:
                return self.flush()
        return DeliveryReport()

    def flush(self) -> DeliveryReport:
        batch = self._batcher.take()
        self._oldest_at = None
        return self._send(batch) if batch else DeliveryReport()

    def discard(self) -> list[Failure]:
        """Empties the buffer without sending (after an abort); the entries become failures."""
        self._oldest_at = None
        reason = "the run stopped before it was sent"
        return [Failure(e.device_id, e.event_time, "NotSent", reason) for e in self._batcher.take()]

    def _send(self, batch: Sequence[KinesisEntry]) -> DeliveryReport:
        report = DeliveryReport()
        pending = list(batch)
        errors: list[tuple[str, str]] = []
        for attempt in range(len(self._delays) + 1):
            if attempt:
                self._sleep(self._delays[attempt - 1])
            try:
                self.calls += 1
                response = self._client.put_records(Records=[e.request_entry for e in pending], **self._stream_param)
            except (ClientError, BotoCoreError) as error:
                code = _error_code(error)
                report.failed.extend(Failure(e.device_id, e.event_time, code, str(error)) for e in pending)
                raise PublishError(f"Kinesis PutRecords failed: {error}", report) from error
            results = response["Records"]
            if len(results) != len(pending):
                reason = "PutRecords returned a different number of results"
                report.failed.extend(Failure(e.device_id, e.event_time, "UnexpectedResponse", reason) for e in pending)
                raise PublishError(
                    f"Kinesis PutRecords returned {len(results)} results for {len(pending)} records", report
                )
            retry = [(e, r) for e, r in zip(pending, results) if r.get("ErrorCode")]
            report.sent += len(pending) - len(retry)
            if not retry:
                return report
            pending = [e for e, _ in retry]
            errors = [(r["ErrorCode"], r.get("ErrorMessage", "")) for _, r in retry]
        report.failed.extend(
            Failure(e.device_id, e.event_time, code, message) for e, (code, message) in zip(pending, errors)
        )
        return report


# --------------------------------------------------------------------------------------------
# Pacing and the run
# --------------------------------------------------------------------------------------------


class RateLimiter:
    """Paces events at ``rate`` per second: event ``n`` is due at ``start + n / rate``.

    The schedule is absolute, so time spent publishing is not added on top of the waits, and
    after a stall (a backoff, a slow call) the limiter catches up instead of drifting."""

    def __init__(
        self, rate: float, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep, start: float | None = None
    ) -> None:
        if not rate > 0 or not math.isfinite(rate):
            raise ValueError("rate must be a positive number")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._start = start
        self.count = 0
        self.slept = 0.0

    def delay(self) -> float:
        """Seconds until the next event is due (0 when it is due already)."""
        if self._start is None:
            self._start = self._clock()
        return max(0.0, self._start + self.count / self.rate - self._clock())

    def wait(self) -> float:
        """Sleeps until the next event is due and counts it; returns the seconds slept."""
        seconds = self.delay()
        if seconds > 0:
            self._sleep(seconds)
            self.slept += seconds
        self.count += 1
        return seconds


def planned_readings(rate: float, *, count: int | None = None, duration: float | None = None) -> int:
    """``count``, or the readings due within ``duration`` seconds at ``rate`` (at least one)."""
    if count is not None:
        return count
    if duration is None:
        raise ValueError("give count or duration")
    return max(1, math.ceil(round(duration * rate, 9)))


@dataclass
class RunSummary:
    planned: int
    generated: int
    sent: int
    failures: list[Failure]
    elapsed: float
    target_rate: float
    interrupted: bool = False
    error: str | None = None

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def achieved_rate(self) -> float | None:
        return self.sent / self.elapsed if self.elapsed > 0 else None

    @property
    def unaccounted(self) -> int:
        """Readings whose request was cut off by an interrupt: delivered or not, unknown."""
        return self.generated - self.sent - self.failed

    @property
    def exit_code(self) -> int:
        if self.failures or self.error or self.unaccounted:
            return 1
        if self.interrupted:
            return 130
        return 0

    def lines(self) -> list[str]:
        rate = f"{self.achieved_rate:.1f}/s" if self.achieved_rate is not None else "n/a"
        lines = [
            f"sent {self.sent}, failed {self.failed} of {self.generated} readings generated "
            f"({self.planned} planned); elapsed {self.elapsed:.2f} s; achieved rate {rate} "
            f"(target {self.target_rate:g}/s)"
        ]
        if self.unaccounted:
            lines.append(f"unknown: {self.unaccounted} readings were in a request cut off by the interrupt")
        if self.interrupted:
            lines.append("interrupted: stopped early after flushing what was buffered")
        if self.error:
            lines.append(f"stopped: {self.error}")
        return lines


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def run(
    simulator: TelemetrySimulator,
    publisher: Publisher,
    *,
    rate: float,
    count: int | None = None,
    duration: float | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    progress: Any = None,
) -> RunSummary:
    """Generates and publishes readings at ``rate`` until ``count`` readings, or ``duration``
    seconds (whichever is given), have gone; returns what was and was not delivered."""
    planned = planned_readings(rate, count=count, duration=duration)
    progress = progress if progress is not None else _NoProgress()
    start = clock()
    limiter = RateLimiter(rate, clock=clock, sleep=sleep, start=start)
    totals = DeliveryReport()
    generated = 0
    interrupted = False
    error: str | None = None

    def account(report: DeliveryReport) -> None:
        totals.sent += report.sent
        totals.failed.extend(report.failed)
        progress.update(report.sent + len(report.failed))
        if report.failed:
            progress.set_postfix_str(f"failed={len(totals.failed)}")

    try:
        try:
            for _ in range(planned):
                # With a duration, stop at the deadline even when publishing fell behind the rate.
                if duration is not None and generated and clock() - start >= duration:
                    break
                idle = limiter.delay()
                if idle > 0:
                    account(publisher.tick(idle))
                limiter.wait()
                reading = simulator.next_reading()
                generated += 1
                account(publisher.add(reading))
                account(publisher.tick())
        except KeyboardInterrupt:
            interrupted = True
        try:
            account(publisher.flush())
        except KeyboardInterrupt:  # a batch cut off mid-request shows up as "unknown" below
            interrupted = True
    except PublishError as stop:
        error = str(stop)
        account(stop.report)
        account(DeliveryReport(failed=publisher.discard()))
    finally:
        progress.close()
    return RunSummary(
        planned=planned,
        generated=generated,
        sent=totals.sent,
        failures=totals.failed,
        elapsed=clock() - start,
        target_rate=rate,
        interrupted=interrupted,
        error=error,
    )


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _int_at_least(minimum: int):
    """An argparse type: a whole number >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    value = _float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = _float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _probability(text: str) -> float:
    value = _float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        if not pattern.fullmatch(text):
            raise argparse.ArgumentTypeError(f"{what} {text!r} must match {pattern.pattern}")
        return text

    return check


def _stream(text: str) -> str:
    if STREAM_NAME.fullmatch(text) or STREAM_ARN.fullmatch(text):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is neither a Kinesis stream name nor a stream ARN")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.simulate_devices",
        description="Publish simulated device telemetry to a deployed environment "
        "(IoT Core topic or the Kinesis stream). Exit code 0 only when every reading was delivered.",
    )
    amount = parser.add_mutually_exclusive_group(required=True)
    amount.add_argument("--duration", type=_positive_float, metavar="SECONDS", help="publish for this many seconds")
    amount.add_argument("--count", type=_positive_int, metavar="READINGS", help="publish this many readings in total")
    parser.add_argument("--devices", type=_positive_int, default=10, metavar="N", help="simulated devices (default 10)")
    parser.add_argument(
        "--rate",
        type=_positive_float,
        default=10.0,
        metavar="R",
        help="readings per second, all devices together (default 10)",
    )
    parser.add_argument("--target", choices=("iot", "kinesis"), default="iot", help="where to publish (default iot)")
    parser.add_argument(
        "--topic-prefix",
        type=_matching(TOPIC_PREFIX, "topic prefix"),
        metavar="PREFIX",
        help=f"iot: topics are PREFIX/<device_id>/telemetry (default {DEFAULT_TOPIC_PREFIX}; "
        "the environment's ingestion.topic_prefix)",
    )
    parser.add_argument(
        "--stream-name", type=_stream, metavar="NAME_OR_ARN", help="kinesis: the stream (required for kinesis)"
    )
    parser.add_argument("--region", help="AWS region (default: the profile's or the environment's)")
    parser.add_argument("--profile", help="AWS named profile (default: the default credential chain)")
    parser.add_argument("--seed", type=int, help="random seed for reproducible readings (default: random, printed)")
    parser.add_argument(
        "--device-prefix",
        type=_matching(DEVICE_PREFIX, "device prefix"),
        default=DEFAULT_DEVICE_PREFIX,
        help=f"device ids are PREFIX-0001, PREFIX-0002, ... (default {DEFAULT_DEVICE_PREFIX})",
    )
    parser.add_argument(
        "--jitter-ms",
        type=_non_negative_float,
        default=0.0,
        metavar="MS",
        help="event_time up to MS milliseconds before now (default 0)",
    )
    parser.add_argument(
        "--late-probability",
        type=_probability,
        default=0.0,
        metavar="P",
        help="share of readings sent late, to exercise event-time partitioning (default 0)",
    )
    parser.add_argument(
        "--late-max-seconds",
        type=_positive_float,
        default=3 * 3600.0,
        metavar="SECONDS",
        help="a late reading's event_time is 60 s to SECONDS in the past (default 10800)",
    )
    parser.add_argument(
        "--max-retries",
        type=_non_negative_int,
        default=5,
        help="kinesis: retries of the entries a PutRecords call rejected (default 5, exponential backoff from 0.1 s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.target == "kinesis":
        if args.stream_name is None:
            parser.error("--target kinesis needs --stream-name")
        if args.topic_prefix is not None:
            parser.error("--topic-prefix applies to --target iot only (Kinesis records carry no topic)")
    else:
        if args.stream_name is not None:
            parser.error("--stream-name applies to --target kinesis only")
    if args.topic_prefix is None:
        args.topic_prefix = DEFAULT_TOPIC_PREFIX
    if args.late_max_seconds < TelemetrySimulator.LATE_MIN_SECONDS:
        parser.error(f"--late-max-seconds must be at least {TelemetrySimulator.LATE_MIN_SECONDS:g}")
    return args


def boto3_client_factory(region: str | None, profile: str | None) -> ClientFactory:
    """``factory(service_name, **kwargs)`` creating clients of one session (standard retries)."""
    session = boto3.session.Session(profile_name=profile, region_name=region)
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 5})

    def client(service_name: str, **kwargs: Any) -> Any:
        return session.client(service_name, config=config, **kwargs)

    return client


def make_publisher(
    args: argparse.Namespace, client_factory: ClientFactory, *, clock: Clock, sleep: Sleep
) -> Publisher:
    if args.target == "kinesis":
        return KinesisPublisher(
            client_factory("kinesis"), args.stream_name, max_retries=args.max_retries, clock=clock, sleep=sleep
        )
    endpoint = iot_data_endpoint(client_factory("iot"))
    return IotPublisher(client_factory("iot-data", endpoint_url=endpoint), args.topic_prefix)


def main(
    argv: Sequence[str] | None = None,
    *,
    client_factory: ClientFactory | None = None,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
    now: Now | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """The command line; the keyword arguments let tests inject clients, time and streams."""
    args = parse_args(argv)
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    simulator = TelemetrySimulator(
        args.devices,
        seed=seed,
        device_prefix=args.device_prefix,
        now=now or utc_now,
        jitter_seconds=args.jitter_ms / 1000.0,
        late_probability=args.late_probability,
        late_max_seconds=args.late_max_seconds,
    )
    if args.target == "kinesis":
        destination = f"stream {args.stream_name}"
    else:
        destination = f"topics {topic_for(args.topic_prefix, '<device_id>')}"
    try:
        factory = client_factory or boto3_client_factory(args.region, args.profile)
        publisher = make_publisher(args, factory, clock=clock, sleep=sleep)
    except (ClientError, BotoCoreError) as error:
        print(f"error: cannot set up the {args.target} target: {error}", file=err)
        return 1

    planned = planned_readings(args.rate, count=args.count, duration=args.duration)
    print(
        f"publishing {planned} readings from {args.devices} devices at {args.rate:g}/s to {destination} (seed {seed})",
        file=out,
    )
    progress = tqdm(total=planned, unit="reading", file=err, disable=args.no_progress, dynamic_ncols=True)
    summary = run(
        simulator,
        publisher,
        rate=args.rate,
        count=args.count,
        duration=args.duration,
        clock=clock,
        sleep=sleep,
        progress=progress,
    )
    for failure in summary.failures:
        print(failure.describe(), file=err)
    for line in summary.lines():
        print(line, file=out)
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
