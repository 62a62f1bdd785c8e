"""A simulated fleet's Kinesis records, each labelled with what the simulator knows about it.

The readings come from the device simulator (``scripts.simulate_devices.TelemetrySimulator``,
driven by a simulated clock: one reading per device every ``interval_seconds``, its own
transmission jitter and late readings). On top of that, with the simulator's public helpers
(``build_reading``'s output, ``encode_reading``), this module adds what real fleets send and the
simulator alone does not:

* two delivery paths: devices behind the IoT rule (which adds ``ingested_at``, epoch millis)
  and devices putting straight onto the stream (no ``ingested_at``: the transform uses the
  Kinesis arrival time);
* clock skew (a few devices' clocks run minutes ahead or behind) and devices gone silent;
* schema drift the contract accepts (a new metric from newer firmware, integer counters, no
  attributes, other time formats, Unicode) and drift it refuses (an unknown field, version 2);
* redelivery: a producer retry (same bytes seconds later), a late retry (hours later, after the
  next job run), an MQTT QoS 1 republish (same reading, new ``ingested_at``);
* garbage and contract breaks, and the contract's edge cases as decided for issue 16:
  microsecond times kept, finer ones rejected; integers a double cannot hold rejected (the fleet
  sends odd integers beyond 2^53, which no double holds, and counters up to 2^53 - 1, which
  every double holds); lone surrogates rejected.

Every record carries a label: ``valid`` (a distinct reading, the ground truth's row), ``redelivery``
(of which reading) or ``invalid`` (which defect). The ground truth (:mod:`tools.pipeline.truth`)
is computed from these labels alone, never by running the transform or the job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scripts.simulate_devices import TelemetrySimulator, encode_reading

UTC = dt.timezone.utc
VALID, REDELIVERY, INVALID = "valid", "redelivery", "invalid"
DEFAULT_INTERVAL_SECONDS = 240.0
#: Shards of the simulated on-demand stream (records are spread by the MD5 of their partition key).
SHARDS = 4
#: 2^53: the largest integer every double holds exactly is below it; the decision is to reject beyond.
MAX_EXACT_INTEGER = 2**53


@dataclass(frozen=True)
class Expected:
    """A distinct valid reading as the curated table must hold it (UTC, microseconds)."""

    device_id: str
    event_time: dt.datetime
    ingested_at: dt.datetime
    metrics: dict[str, float]
    attributes: dict[str, str]
    case: str  # "plain" or the awkward-but-valid case it exercises

    @property
    def key(self) -> tuple[str, dt.datetime]:
        return self.device_id, self.event_time

    @property
    def event_date(self) -> dt.date:
        return self.event_time.date()


@dataclass(frozen=True)
class SentRecord:
    """One Kinesis record: its bytes, arrival and what the simulator made it."""

    data: bytes
    partition_key: str
    arrival_ms: int
    label: str  # VALID, REDELIVERY or INVALID
    case: str  # the awkward case (valid), the redelivery kind, or the defect (invalid)
    reading: int | None = None  # index into Fleet.expected (valid and redelivery)
    sequence_number: str = ""
    shard_id: str = ""


@dataclass
class Fleet:
    devices: list[str]
    start: dt.datetime
    end: dt.datetime
    records: list[SentRecord]  # in arrival order
    expected: list[Expected]
    silent_since: dict[str, dt.datetime] = field(default_factory=dict)

    def count(self, label: str) -> int:
        return sum(1 for record in self.records if record.label == label)


def utc_ms(moment: dt.datetime) -> int:
    return round(moment.timestamp() * 1000)


def from_ms(ms: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=ms)


def iso_z(moment: dt.datetime, micro: bool = False) -> str:
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds" if micro else "milliseconds")
    return text + "Z"


# --- Awkward but valid: each changes the published reading in place --------------------------------
# The two time formats are applied after the reading's time is final (see generate()).


def _integer_counters(reading: dict[str, Any], rng: random.Random) -> None:
    """Integer counters up to 2^53 - 1 (exact as doubles)."""
    reading["metrics"]["uptime_s"] = rng.randint(0, 10**7)
    reading["metrics"]["bytes_sent"] = MAX_EXACT_INTEGER - rng.randint(1, 10**6)


def _no_attributes(reading: dict[str, Any], rng: random.Random) -> None:
    reading.pop("attributes", None)


def _unicode(reading: dict[str, Any], rng: random.Random) -> None:
    reading.setdefault("attributes", {})["note"] = rng.choice(("Gdańsk Halle 3", "Ölpumpe 🚀", "東京 ✓", "naïve café"))


def _extreme_floats(reading: dict[str, Any], rng: random.Random) -> None:
    reading["metrics"]["leak_rate"] = rng.choice((1e-300, 5e-324, 123456.78901234567, -0.5e-10))


def _time_format(reading: dict[str, Any], rng: random.Random) -> None:
    """Applied in generate(), once the time is final."""


#: case -> (share of the readings, change).
AWKWARD: dict[str, tuple[float, Callable[[dict[str, Any], random.Random], None]]] = {
    "offset_microseconds": (0.01, _time_format),  # local time with an offset, and microseconds
    "epoch_millis": (0.01, _time_format),
    "integer_counters": (0.01, _integer_counters),
    "no_attributes": (0.01, _no_attributes),
    "unicode": (0.01, _unicode),
    "extreme_floats": (0.005, _extreme_floats),
}
LOCAL_OFFSETS_HOURS = (5.5, -3, 1, 9)
#: A second reading of the same device this many microseconds later (a burst sampler).
SUB_MILLISECOND = "sub_millisecond"
SUB_MILLISECOND_GAP_US = 250
SUB_MILLISECOND_PROBABILITY = 0.005


# --- Invalid: each builds the record's bytes from a valid published reading ----------------------


def _compact(reading: dict[str, Any]) -> bytes:
    return encode_reading(reading)


def _ascii_json(reading: dict[str, Any]) -> bytes:
    return json.dumps(reading, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _with(reading: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**reading, **changes}


def _metrics_with(reading: dict[str, Any], **metrics: Any) -> dict[str, Any]:
    return {**reading, "metrics": {**reading["metrics"], **metrics}}


INVALID_BUILDERS: dict[str, Callable[[dict[str, Any], random.Random], bytes]] = {
    "not_utf8": lambda r, rng: b"\xff\xfe" + _compact(r)[2:],
    "truncated_json": lambda r, rng: _compact(r)[: len(_compact(r)) // 2],
    "json_array": lambda r, rng: b"[" + _compact(r) + b"]",
    "random_bytes": lambda r, rng: bytes(rng.getrandbits(8) for _ in range(48)),
    "nan_metric": lambda r, rng: json.dumps(_metrics_with(r, temperature_c=float("nan"))).encode(),
    "unknown_field": lambda r, rng: _compact(_with(r, location={"lat": 53.55, "lon": 9.99})),
    "schema_version_2": lambda r, rng: _compact(_with(r, schema_version=2)),
    "metric_as_string": lambda r, rng: _compact(_metrics_with(r, temperature_c=str(r["metrics"]["temperature_c"]))),
    "integer_beyond_2_53": lambda r, rng: _compact(_metrics_with(r, bytes_sent=MAX_EXACT_INTEGER + 2 * rng.randint(1, 10**6) + 1)),
    "lone_surrogate": lambda r, rng: _ascii_json(_with(r, attributes={**r.get("attributes", {}), "label": "sensor \ud83d"})),
    # Digits 7-9 never all zero: "...125000000Z" would be an exact (accepted) time, not a finer one.
    "nanoseconds": lambda r, rng: _compact(
        _with(r, event_time=r["event_time"][:-1] + f"{rng.randint(0, 999):03d}{rng.randint(1, 999):03d}Z")
    ),
    "no_utc_offset": lambda r, rng: _compact(_with(r, event_time=r["event_time"][:-1])),
    "epoch_seconds": lambda r, rng: _compact(_with(r, event_time=utc_ms(dt.datetime.fromisoformat(r["event_time"])) // 1000)),
    "bad_device_id": lambda r, rng: _compact(_with(r, device_id="pump 7/../x")),
    "too_large": lambda r, rng: _compact(r) + b" " * (128 * 1024),
}
INVALID_RATE = 0.0008  # share of the readings with each defect

REDELIVERY_KINDS = {
    # kind: (probability per valid record, delay range in seconds)
    "producer_retry": (0.01, (1.0, 30.0)),
    "late_retry": (0.004, (2 * 3600.0, 8 * 3600.0)),
    "iot_republish": (0.006, (1.0, 60.0)),
}


class _Builder:
    """Accumulates records and the expected rows while the simulated clock runs."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.records: list[SentRecord] = []
        self.expected: list[Expected] = []
        self.keys: set[tuple[str, dt.datetime]] = set()

    def unique_time(self, device_id: str, moment: dt.datetime) -> dt.datetime:
        """Two generated readings of one device never share a time (a late reading can land on
        another's millisecond); the later one moves on by a millisecond."""
        while (device_id, moment) in self.keys:
            moment += dt.timedelta(milliseconds=1)
        self.keys.add((device_id, moment))
        return moment

    def send_valid(self, reading: dict[str, Any], event_time: dt.datetime, arrival: dt.datetime, via_iot: bool, case: str) -> None:
        arrival_ms = utc_ms(arrival)
        ingested_ms = arrival_ms - self.rng.randint(5, 50) if via_iot else arrival_ms
        published = dict(reading, ingested_at=ingested_ms) if via_iot else reading
        index = len(self.expected)
        self.expected.append(
            Expected(
                device_id=reading["device_id"],
                event_time=event_time,
                ingested_at=from_ms(ingested_ms),
                metrics={name: float(value) for name, value in reading["metrics"].items()},
                attributes=dict(reading.get("attributes") or {}),
                case=case,
            )
        )
        self.add(_compact(published), reading["device_id"], arrival_ms, VALID, case, index)
        for kind, (probability, (low, high)) in REDELIVERY_KINDS.items():
            if self.rng.random() >= probability or (kind == "iot_republish" and not via_iot):
                continue
            again = arrival_ms + round(self.rng.uniform(low, high) * 1000)
            data = _compact(dict(reading, ingested_at=again - 20)) if kind == "iot_republish" else _compact(published)
            self.add(data, reading["device_id"], again, REDELIVERY, kind, index)

    def add(self, data: bytes, partition_key: str, arrival_ms: int, label: str, case: str, index: int | None = None) -> None:
        self.records.append(SentRecord(data, partition_key, arrival_ms, label, case, index))


def _shard(partition_key: str) -> str:
    digest = int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")
    return f"shardId-{(digest * SHARDS) >> 128:012d}"


def generate(
    devices: int,
    days: float,
    seed: int,
    *,
    end: dt.datetime,
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
) -> Fleet:
    """The fleet's records over ``days`` ending at ``end``, in arrival order, deterministic for a
    given seed and end."""
    if devices < 1 or days <= 0:
        raise ValueError("devices must be at least 1 and days positive")
    rng = random.Random(f"fleet-{seed}")
    start = end - dt.timedelta(days=days)
    clock = [start]
    simulator = TelemetrySimulator(
        devices, seed=seed, now=lambda: clock[0], jitter_seconds=5.0, late_probability=0.02, late_max_seconds=3 * 3600.0
    )
    ids = simulator.device_ids
    via_iot = {device: rng.random() < 0.6 for device in ids}
    skew = {device: dt.timedelta(milliseconds=rng.choice((-1, 1)) * rng.randint(30_000, 900_000)) for device in ids if rng.random() < 0.1}
    silent = rng.sample(ids, max(1, devices // 10))
    span_hours = days * 24
    silent_since = {device: end - dt.timedelta(hours=rng.uniform(min(7.0, span_hours / 2), min(30.0, span_hours * 0.9))) for device in silent}
    total = math.floor(devices * days * 86400 / interval_seconds)
    # Which call gets which defect or awkward case is drawn up front, so that even a small
    # fleet has every one of them (at least one defect and two awkward readings of each kind).
    defect_count = max(1, round(total * INVALID_RATE))
    planned = [name for name in INVALID_BUILDERS for _ in range(defect_count)]
    planned += [name for name, (rate, _) in AWKWARD.items() for _ in range(max(2, round(total * rate)))]
    planned += [SUB_MILLISECOND] * max(2, round(total * SUB_MILLISECOND_PROBABILITY))
    if len(planned) > total:
        raise ValueError(f"a fleet of {total} readings is too small for its {len(planned)} planned cases")
    case_at = dict(zip(rng.sample(range(total), len(planned)), planned))
    builder = _Builder(rng)
    carried: list[str] = []
    step = dt.timedelta(seconds=interval_seconds / devices)
    for call in range(total):
        clock[0] = start + step * call
        reading = simulator.next_reading()
        device = reading["device_id"]
        case = case_at.get(call)
        if device in silent_since and clock[0] >= silent_since[device]:
            if case:  # a silent device sends nothing: the planned case moves to the next reading
                carried.append(case)
            continue
        if case is None and carried:
            case = carried.pop()
        case = case or "plain"
        arrival = clock[0] + dt.timedelta(milliseconds=rng.randint(20, 800))
        event_time = dt.datetime.fromisoformat(reading["event_time"].replace("Z", "+00:00"))
        # Device clocks tick in milliseconds (sub-millisecond times are the deliberate cases below).
        event_time = event_time.replace(microsecond=event_time.microsecond // 1000 * 1000) + skew.get(device, dt.timedelta())
        reading["event_time"] = iso_z(event_time)
        if reading["attributes"].get("firmware") == "2.0.0":  # newer firmware reports one more metric
            reading["metrics"]["pressure_kpa"] = round(101.3 + rng.gauss(0, 0.4), 2)
        if case in INVALID_BUILDERS:
            builder.add(INVALID_BUILDERS[case](reading, rng), device, utc_ms(arrival), INVALID, case)
            continue
        if case in AWKWARD:
            AWKWARD[case][1](reading, rng)
        if case == "offset_microseconds":
            event_time += dt.timedelta(microseconds=rng.randint(1, 999))
        event_time = builder.unique_time(device, event_time)
        if case == "offset_microseconds":
            zone = dt.timezone(dt.timedelta(hours=rng.choice(LOCAL_OFFSETS_HOURS)))
            reading["event_time"] = event_time.astimezone(zone).isoformat(timespec="microseconds")
        elif case == "epoch_millis":
            reading["event_time"] = utc_ms(event_time)
        else:
            reading["event_time"] = iso_z(event_time)
        builder.send_valid(reading, event_time, arrival, via_iot[device], case)
        if case == SUB_MILLISECOND:
            second = event_time + dt.timedelta(microseconds=SUB_MILLISECOND_GAP_US)
            if (device, second) not in builder.keys:
                builder.keys.add((device, second))
                burst = dict(reading, event_time=iso_z(second, micro=True))
                burst["metrics"] = {**reading["metrics"], "vibration_mm_s": round(rng.uniform(0.5, 9.0), 3)}
                builder.send_valid(burst, second, arrival + dt.timedelta(milliseconds=1), via_iot[device], SUB_MILLISECOND)
    records = sorted(builder.records, key=lambda record: record.arrival_ms)
    numbered = [
        SentRecord(
            r.data, r.partition_key, r.arrival_ms, r.label, r.case, r.reading,
            sequence_number=f"4960{n:052d}",
            shard_id=_shard(r.partition_key),
        )
        for n, r in enumerate(records)
    ]
    return Fleet(devices=ids, start=start, end=end, records=numbered, expected=builder.expected, silent_since=silent_since)
