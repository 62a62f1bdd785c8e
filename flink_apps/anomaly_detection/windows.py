"""Sliding event-time windows per (device, metric), and which window scores which reading.

Definitions (L = window length, S = slide, both whole seconds with S dividing L; times in ms):

* Windows are ``[end - L, end)`` for every ``end`` that is a multiple of S (Flink's sliding
  windows, aligned to the epoch).
* **A reading at time t is scored exactly once**, against the window that ends at the end of its
  slide: ``end(t) = (t // S + 1) * S``. That window holds the reading, the L - S before its slide
  and the rest of its slide. So every reading gets a score, none gets ten (one per overlapping
  window), and the statistics it is compared with cover L of event time.
* The readings of slide ``[end - S, end)`` form a *bucket*. A bucket is **evaluated** once: its
  window's mean and standard deviation are computed over the buckets ending in
  ``(end - L, end]`` and each reading in the bucket is scored (see ``scoring``). If the window
  holds fewer than ``min_samples`` readings, the bucket's readings are counted as unscored.
* A bucket is evaluated as soon as the time is past its window: when this sensor's event-time
  clock (its newest reading's time minus the out-of-orderness bound) reaches ``end - 1``, or when
  the job's watermark does (an event-time timer; this flushes a sensor that went quiet, and
  everything at the end of a bounded input), whichever comes first. Buckets are evaluated in
  time order.
* **A reading is late** when its bucket has already been evaluated. It is then neither scored
  nor added to any window: it is counted and written out with the reason. A reading that is
  merely behind the clock but whose bucket is still open is accepted as any other.

Why the sensor's own clock as well as the watermark: the watermark is the slowest shard's
progress, so waiting for it alone delays every alert by the most delayed shard; the sensor's own
clock lets its windows close as soon as its own readings show they are complete.

:class:`SensorState` is the whole state of one key, kept by the Flink operator as one value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from .scoring import Bands, WindowStats, score, severity, window_stats

NEVER = -(2**63)


@dataclass(frozen=True)
class WindowSpec:
    size_ms: int
    slide_ms: int
    min_samples: int
    out_of_orderness_ms: int
    bands: Bands
    min_stddev: float = 0.0

    def __post_init__(self) -> None:
        if self.slide_ms <= 0 or self.size_ms % self.slide_ms or self.slide_ms > self.size_ms:
            raise ValueError(f"slide {self.slide_ms} ms must divide the window length {self.size_ms} ms")
        if self.min_samples < 2:
            raise ValueError("min_samples must be at least 2")

    def bucket_end(self, event_ms: int) -> int:
        """End of the window that scores a reading at ``event_ms`` (the end of its slide)."""
        return (event_ms // self.slide_ms + 1) * self.slide_ms


class Entry(NamedTuple):
    """A reading in a bucket: its time, value, the contract's time text and when it entered the job."""

    event_ms: int
    value: float
    event_time: str
    received_ms: int


@dataclass
class SensorState:
    """One sensor's state. Buckets hold plain tuples in :class:`Entry`'s field order: the operator
    pickles the whole state on every reading, and plain tuples pickle about ten times faster than
    named tuples or dataclasses (measured: 32 vs 200 vs 333 us for a 10-minute window)."""

    #: bucket end -> readings of that slide (Entry fields as a plain tuple), kept while a window needs them.
    buckets: dict[int, list[tuple]] = field(default_factory=dict)
    #: End of the newest evaluated bucket: readings for it or earlier are late.
    evaluated_through: int = NEVER
    #: The sensor's event-time clock: newest reading's time minus the out-of-orderness bound.
    clock: int = NEVER

    def to_tuple(self) -> tuple:
        return self.buckets, self.evaluated_through, self.clock

    @classmethod
    def from_tuple(cls, value: tuple | None) -> SensorState:
        return cls() if value is None else cls(*value)


@dataclass(frozen=True)
class Scored:
    entry: Entry
    score: float
    severity: str | None


@dataclass(frozen=True)
class Evaluation:
    """One evaluated bucket: its window, the window's statistics, and its readings' scores
    (``scored`` is empty and ``unscored`` counts them when the window has too few readings)."""

    window_start: int
    window_end: int
    stats: WindowStats
    scored: tuple[Scored, ...]
    unscored: int


@dataclass(frozen=True)
class Late:
    entry: Entry
    bucket_end: int
    evaluated_through: int
    clock: int


def accept(state: SensorState, spec: WindowSpec, entry: Entry) -> Late | None:
    """Add a reading to its bucket, or return why it is late (its bucket was evaluated). Does not
    advance the clock: call :func:`advance` after, so a reading never closes its own window."""
    end = spec.bucket_end(entry.event_ms)
    if end <= state.evaluated_through:
        return Late(entry, end, state.evaluated_through, state.clock)
    state.buckets.setdefault(end, []).append(tuple(entry))
    return None


def advance(state: SensorState, spec: WindowSpec, event_ms: int) -> list[Evaluation]:
    """Move the sensor's clock to ``event_ms - out_of_orderness`` (never back) and evaluate every
    bucket whose window it has passed."""
    state.clock = max(state.clock, event_ms - spec.out_of_orderness_ms)
    return evaluate_through(state, spec, state.clock)


def evaluate_through(state: SensorState, spec: WindowSpec, time_ms: int) -> list[Evaluation]:
    """Evaluate, oldest first, every pending bucket whose window ends at or before ``time_ms + 1``
    (a window ``[start, end)`` is complete once time ``end - 1`` is reached, as in Flink)."""
    ready = sorted(end for end in state.buckets if end > state.evaluated_through and end - 1 <= time_ms)
    return [_evaluate(state, spec, end) for end in ready]


def _window_values(state: SensorState, spec: WindowSpec, end: int) -> Iterator[float]:
    for bucket_end, entries in state.buckets.items():
        if end - spec.size_ms < bucket_end <= end:
            yield from (entry[1] for entry in entries)


def _evaluate(state: SensorState, spec: WindowSpec, end: int) -> Evaluation:
    entries = [Entry._make(e) for e in sorted(state.buckets[end], key=lambda e: (e[0], e[3]))]
    stats = window_stats(list(_window_values(state, spec, end)))
    state.evaluated_through = end
    # The oldest bucket of this window is in no later window: drop it (and anything older).
    oldest_kept = end - spec.size_ms + spec.slide_ms
    for bucket_end in [b for b in state.buckets if b <= oldest_kept]:
        del state.buckets[bucket_end]
    if stats.count < spec.min_samples:
        return Evaluation(end - spec.size_ms, end, stats, (), len(entries))
    scored = []
    for entry in entries:
        value_score = score(entry.value, stats, spec.min_stddev)
        scored.append(Scored(entry, value_score, severity(value_score, spec.bands)))
    return Evaluation(end - spec.size_ms, end, stats, tuple(scored), 0)
