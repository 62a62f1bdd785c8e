"""Window statistics, scores and severity bands, checked against direct arithmetic."""

from __future__ import annotations

import math
import random

import pytest

from flink_apps.anomaly_detection.scoring import CRITICAL, HIGH, MEDIUM, Bands, score, severity, window_stats

BANDS = Bands(2.0, 3.0, 4.0)


def test_population_statistics() -> None:
    values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
    stats = window_stats(values)
    assert (stats.count, stats.mean, stats.stddev) == (8, 5.0, 2.0)  # the textbook population example
    assert score(9.0, stats) == 2.0


def test_a_flat_window_scores_zero_and_never_divides_by_zero() -> None:
    stats = window_stats([0.1] * 30)
    assert stats.stddev == 0.0 and stats.mean == 0.1
    assert score(0.1, stats) == 0.0


def test_the_stddev_floor_caps_scores_of_quantised_sensors() -> None:
    stats = window_stats([87.0] * 29 + [87.01])
    assert score(87.01, stats) > 5  # a true outlier statistically
    assert score(87.01, stats, min_stddev=0.05) == pytest.approx(abs(87.01 - stats.mean) / 0.05)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2.0, None), (2.0000001, MEDIUM), (3.0, MEDIUM), (3.5, HIGH), (4.0, HIGH), (4.01, CRITICAL), (0.0, None)],
)
def test_bands_are_strictly_above_their_threshold(value: float, expected: str | None) -> None:
    assert severity(value, BANDS) == expected


def test_bands_must_rise() -> None:
    with pytest.raises(ValueError, match="thresholds must rise"):
        Bands(3.0, 3.0, 4.0)


@pytest.mark.parametrize("n", [6, 10, 11, 18, 60])
def test_samuelson_bound_on_a_reading_inside_its_window(n: int) -> None:
    """The largest possible score with n readings is sqrt(n - 1), reached by one outlier among
    n - 1 equal readings: why HIGH needs 11 readings and CRITICAL 18 (see the module doc)."""
    values = [0.0] * (n - 1) + [1.0]
    assert score(1.0, window_stats(values)) == pytest.approx(math.sqrt(n - 1))
    rng = random.Random(n)
    for _ in range(200):
        sample = [rng.gauss(0, 1) for _ in range(n)]
        stats = window_stats(sample)
        assert max(score(v, stats) for v in sample) <= math.sqrt(n - 1) + 1e-9


def test_the_statistics_agree_with_exact_arithmetic() -> None:
    import statistics

    rng = random.Random(7)
    for n in (2, 10, 60, 600):
        values = [round(rng.uniform(-1, 1) * 10 ** rng.randint(-3, 6), 3) for _ in range(n)]
        stats = window_stats(values)
        assert stats.mean == pytest.approx(statistics.fmean(values), rel=1e-15, abs=1e-12)
        assert stats.stddev == pytest.approx(statistics.pstdev(values), rel=1e-12)
