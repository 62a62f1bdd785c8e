"""Delivery: getting readings to IoT Core or onto the Kinesis stream, at a given pace.

Two publishers with one interface (:class:`Publisher`), so that :func:`run` and its callers (the
command line, ``tools/smoke``) do not care where readings go:

* :class:`IotPublisher` publishes each reading as a device would (QoS 1, one per call): the
  path real devices take, through the IoT rule;
* :class:`KinesisPublisher` puts readings on the stream in ``PutRecords`` batches
  (:class:`RecordBatcher`: 500 records, 5 MiB) and retries only the entries the stream
  rejected, with bounded exponential backoff: the path for load, where one call per reading
  would be the bottleneck.

Neither drops a reading silently: what is not delivered comes back as a :class:`Failure`, and a
request AWS refuses outright stops the run (:class:`PublishError`) with what it lost counted.
:class:`RateLimiter` and :func:`run` pace the readings and collect a :class:`RunSummary`.

Time and AWS come in as arguments (a boto3 client, ``clock``, ``sleep``; real time by default),
so tests drive all of it with botocore's Stubber, a fake clock and a fake sleep.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from .encoding import DEFAULT_TOPIC_PREFIX, TOPIC_PREFIX, encode_reading, topic_for
from .fleet import TelemetrySimulator

#: PutRecords limits: 500 entries and 5 MiB (data plus partition keys) per call, 1 MiB per entry.
KINESIS_MAX_RECORDS = 500
KINESIS_MAX_REQUEST_BYTES = 5 * 1024 * 1024
KINESIS_MAX_RECORD_BYTES = 1024 * 1024

Clock = Callable[[], float]
Sleep = Callable[[float], None]


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
