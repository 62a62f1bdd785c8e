"""A window's statistics, a reading's anomaly score and its severity: pure arithmetic.

Score of a reading ``x`` in a window of readings ``W`` (``x`` is one of them)::

    score(x, W) = |x - mean(W)| / max(stddev(W), min_stddev)      and 0 when that divisor is 0

``stddev`` is the **population** standard deviation (divide by n, not n - 1): the window is the
whole set of readings the reading is compared with, not a sample from which a wider population is
estimated, and the reading itself is in it. Two consequences worth knowing:

* A divisor of 0 happens only when every reading in the window is identical, this one included,
  so its deviation is 0 too: it scores 0 (not an anomaly, not a division by zero).
* The score of a reading that is in its own window is bounded: by Samuelson's inequality
  ``score <= sqrt(n - 1)`` for a window of n readings (3.0 for n = 10, 7.7 for n = 60). A score
  can exceed threshold ``t`` only in a window of more than ``t^2 + 1`` readings: 6 for MEDIUM
  above 2, 11 for HIGH above 3, 18 for CRITICAL above 4. Keep this in mind when choosing the
  window length, ``min.samples`` and the devices' reading rate.

Mean and deviation: two passes of ``math.fsum`` (correctly rounded sums; a few units in the last
place from the exact values), and a window whose readings are all equal is recognised first, so its
deviation is exactly 0 and no rounding noise becomes a score. (``statistics.pstdev`` is exact but
took 190 us for 60 readings against about 10 us here; the tests compare with it.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Severity names, lowest first. A score above ``alert`` is MEDIUM, above ``high`` HIGH, above
#: ``critical`` CRITICAL; at or below ``alert`` it is no anomaly.
MEDIUM, HIGH, CRITICAL = "MEDIUM", "HIGH", "CRITICAL"
SEVERITY_RANK = {MEDIUM: 1, HIGH: 2, CRITICAL: 3}
NOTIFIED_SEVERITIES = frozenset({HIGH, CRITICAL})


@dataclass(frozen=True)
class Bands:
    alert: float
    high: float
    critical: float

    def __post_init__(self) -> None:
        if not 0 < self.alert < self.high < self.critical:
            raise ValueError(f"thresholds must rise above 0: {self.alert} < {self.high} < {self.critical}")


@dataclass(frozen=True)
class WindowStats:
    count: int
    mean: float
    stddev: float


def window_stats(values: Sequence[float]) -> WindowStats:
    """Count, mean and population standard deviation of a non-empty window."""
    if not values:
        raise ValueError("a window without readings has no statistics")
    count = len(values)
    if min(values) == max(values):
        return WindowStats(count, float(values[0]), 0.0)
    mean = math.fsum(values) / count
    return WindowStats(count, mean, math.sqrt(math.fsum((v - mean) ** 2 for v in values) / count))


def score(value: float, stats: WindowStats, min_stddev: float = 0.0) -> float:
    """|value - mean| / max(stddev, min_stddev); 0 when that divisor is 0 (see the module doc)."""
    divisor = max(stats.stddev, min_stddev)
    if divisor == 0:
        return 0.0
    return abs(value - stats.mean) / divisor


def severity(value_score: float, bands: Bands) -> str | None:
    """The band a score falls in, or None at or below the alert threshold ("above" is strict)."""
    if value_score > bands.critical:
        return CRITICAL
    if value_score > bands.high:
        return HIGH
    if value_score > bands.alert:
        return MEDIUM
    return None
