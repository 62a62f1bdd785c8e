"""The simulated fleet: devices, their readings, and the awkward cases real devices produce.

:class:`TelemetrySimulator` is the model; both this command line and ``tools/pipeline`` (which
builds its whole test fleet from it with a seed) depend on it being deterministic: given a seed
and a ``now``, the readings are the same, byte for byte, on every run. That is why every random
choice comes from the one ``random.Random(seed)`` in a fixed order, and why nothing here reads the
real clock unless ``now`` is left at :func:`utc_now`.

What a fleet does besides sending plain readings, so that the pipeline sees it:

* each metric is a mean-reverting random walk around the device's own baseline (so a device's
  series looks like one machine, not noise), kept within plausible bounds;
* vibration spikes for a single reading now and then (a mechanical shock);
* batteries drain slowly and are swapped when nearly flat (a jump back to 100 %);
* ``event_time`` trails ``now`` by a transmission jitter, and some readings arrive late by
  minutes to hours, which lands them in an earlier event-time partition.

The readings themselves are built by the shared contract (:mod:`.encoding`), never by hand.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .encoding import telemetry_contract

DEFAULT_DEVICE_PREFIX = "sim"

#: Leaves room for ``-<number>`` within the contract's 128-character device id.
DEVICE_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,100}$")

SITES = ("hamburg", "lyon", "porto", "turin", "gdansk", "aarhus")
FIRMWARE = ("1.4.2", "1.5.0", "1.5.1", "2.0.0")
FIRMWARE_WEIGHTS = (1, 3, 4, 2)
MODELS = ("pump-a100", "pump-a200", "compressor-c5")

Now = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The real time: the default ``now`` (the command line); tests and the pipeline pass their own."""
    return dt.datetime.now(dt.timezone.utc)


def device_ids(count: int, prefix: str = DEFAULT_DEVICE_PREFIX) -> list[str]:
    """``sim-0001`` ... ``sim-<count>``, zero-padded to at least four digits."""
    width = max(4, len(str(count)))
    return [f"{prefix}-{number:0{width}d}" for number in range(1, count + 1)]


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
