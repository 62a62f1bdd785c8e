"""Buckets, evaluation and lateness for one (device, metric), on hand-made timelines."""

from __future__ import annotations

import pytest

from flink_apps.anomaly_detection.scoring import Bands
from flink_apps.anomaly_detection.windows import Entry, Late, SensorState, WindowSpec, accept, advance, evaluate_through

S = 1000
SPEC = WindowSpec(size_ms=60 * S, slide_ms=10 * S, min_samples=4, out_of_orderness_ms=5 * S, bands=Bands(2, 3, 4))


def feed(state: SensorState, times_values: list[tuple[float, float]]):
    evaluations, late = [], []
    for seconds, value in times_values:
        entry = Entry(int(seconds * S), value, f"t{seconds}", 0)
        outcome = accept(state, SPEC, entry)
        if outcome is not None:
            late.append(outcome)
        evaluations.extend(advance(state, SPEC, entry.event_ms))
    return evaluations, late


def test_a_reading_is_scored_once_in_the_window_ending_at_the_end_of_its_slide() -> None:
    assert [SPEC.bucket_end(ms) for ms in (0, 9_999, 10_000, 10_001)] == [10_000, 10_000, 20_000, 20_000]
    state = SensorState()
    evaluations, late = feed(state, [(s, float(s % 3)) for s in range(0, 100, 2)])
    assert late == []
    scored = [s.entry.event_ms for e in evaluations for s in e.scored]
    unscored = sum(e.unscored for e in evaluations)
    # Readings up to the clock's reach are evaluated exactly once (none twice), in time order.
    assert len(scored) == len(set(scored)) and scored == sorted(scored)
    assert scored[0] == 0 and unscored == 0  # the first bucket already holds 5 readings
    final = evaluate_through(state, SPEC, 10**12)  # the end-of-input watermark
    scored += [s.entry.event_ms for e in final for s in e.scored]
    assert scored == [s * S for s in range(0, 100, 2)]


def test_a_window_is_the_length_before_its_end_and_its_statistics_cover_it() -> None:
    state = SensorState()
    feed(state, [(s, 1.0 if s < 60 else 3.0) for s in range(0, 130, 10)])
    *_, evaluation = evaluate_through(state, SPEC, 130 * S)
    assert (evaluation.window_start, evaluation.window_end) == (70 * S, 130 * S)
    assert evaluation.stats.count == 6 and evaluation.stats.mean == 3.0  # readings 70..120 s


def test_the_clock_closes_a_window_only_after_the_out_of_orderness_bound() -> None:
    state = SensorState()
    evaluations, _ = feed(state, [(1, 1.0), (2, 2.0), (3, 1.0), (4, 2.0), (14, 0.0)])
    assert evaluations == []  # clock 9 s: the window ending at 10 s is complete at 9.999 s
    evaluations, _ = feed(state, [(15, 0.0)])
    assert [e.window_end for e in evaluations] == [10 * S]


def test_a_reading_whose_window_was_evaluated_is_late_and_changes_nothing() -> None:
    state = SensorState()
    feed(state, [(s, 1.0) for s in range(0, 30)])
    before = {end: list(entries) for end, entries in state.buckets.items()}
    evaluations, late = feed(state, [(3, 100.0)])
    assert evaluations == [] and len(late) == 1
    assert isinstance(late[0], Late) and late[0].bucket_end == 10 * S and late[0].evaluated_through == 20 * S
    assert state.buckets == before
    # Behind the clock but in an open bucket: accepted like any reading.
    _, late = feed(state, [(21, 1.0)])
    assert late == []


def test_too_few_readings_leave_a_bucket_unscored() -> None:
    state = SensorState()
    feed(state, [(1, 1.0), (2, 50.0), (3, 1.0)])
    (evaluation,) = evaluate_through(state, SPEC, 10**12)
    assert evaluation.scored == () and evaluation.unscored == 3 and evaluation.stats.count == 3


def test_buckets_no_later_window_needs_are_dropped() -> None:
    state = SensorState()
    feed(state, [(s, 1.0) for s in range(0, 200, 5)])
    assert min(state.buckets) > state.evaluated_through - SPEC.size_ms + SPEC.slide_ms


@pytest.mark.parametrize(("size", "slide"), [(60, 7), (60, 120), (60, 0)])
def test_the_slide_must_divide_the_window(size: int, slide: int) -> None:
    with pytest.raises(ValueError, match="must divide"):
        WindowSpec(size * S, slide * S, 4, 0, Bands(2, 3, 4))
