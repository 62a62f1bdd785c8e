"""The application's dataflow on a local Flink mini-cluster, over the seeded fleet, against the
oracle (tests/flink/scenario.py) and the designed anomalies."""

from __future__ import annotations

import base64
import json

import pytest

from tests.flink import scenario
from tests.flink.conftest import OVERRIDES

pytestmark = pytest.mark.flink

SINK, NOTIFY = "anomaly_sink", "notification_sink"


def of_type(run: dict, record_type: str) -> list[dict]:
    return [r for r in run["sinks"][SINK] if r["record_type"] == record_type]


def key(record: dict) -> tuple[str, str, str, str]:
    return record["device_id"], record["metric"], record["event_time"], record["severity"]


def assert_matches_oracle(run: dict, expected: scenario.Expected) -> None:
    anomalies = sorted(of_type(run, "anomaly"), key=key)
    oracle = sorted(expected.anomalies, key=key)
    assert [key(a) for a in anomalies] == [key(o) for o in oracle]
    for got, want in zip(anomalies, oracle):
        assert got["score"] == pytest.approx(want["score"], abs=1e-6)
        assert got["mean"] == pytest.approx(want["mean"], rel=1e-12)
        assert got["stddev"] == pytest.approx(want["stddev"], rel=1e-12)
        assert got["sample_count"] == want["sample_count"]
        assert got["window_end"] == scenario.iso(scenario.T0.fromtimestamp(want["window_end_ms"] / 1000, scenario.T0.tzinfo))
    notified = [(n["device_id"], n["metric"], n["event_time"], n["severity"], n["suppressed_before"]) for n in run["sinks"][NOTIFY]]
    assert sorted(notified) == sorted((n["device_id"], n["metric"], n["event_time"], n["severity"], n["suppressed_before"]) for n in expected.notifications)


def test_the_anomalies_and_notifications_are_the_oracles(default_run: dict, fleet: scenario.Scenario) -> None:
    assert_matches_oracle(default_run, scenario.oracle(fleet.records))


def test_every_designed_spike_is_found_with_its_severity_and_nothing_else(default_run: dict) -> None:
    found = {(a["device_id"], a["metric"], a["event_time"]): a["severity"] for a in of_type(default_run, "anomaly")}
    designed = {(s.device, s.metric, scenario.iso(s.moment)): s.severity for s in scenario.SPIKES}
    assert found == designed  # no anomaly in the steady readings, none missed, each in its band


def test_an_anomaly_record_carries_its_window_and_times(default_run: dict) -> None:
    (record,) = [a for a in of_type(default_run, "anomaly") if a["device_id"] == "pump-a" and a["metric"] == "temperature_c"]
    assert (record["window_start"], record["window_end"]) == ("2026-11-23T08:06:00.000Z", "2026-11-23T08:16:00.000Z")
    assert record["value"] == 21.7 and record["sample_count"] == 60
    assert record["received_at"] <= record["window_closed_at"] <= record["detected_at"]


def test_late_readings_are_counted_and_written_with_the_reason(default_run: dict, fleet: scenario.Scenario) -> None:
    late = of_type(default_run, "late_reading")
    assert [(r["device_id"], r["metric"], r["event_time"]) for r in late] == fleet.late
    assert "its window ending 2026-11-23T08:06:00.000Z was already evaluated" in late[0]["reason"]
    assert late[0]["value"] == 70.0  # a spike, but late: neither scored nor in any window
    assert default_run["counts"]["readingsLate"] == len(fleet.late)
    # Out of order within the bound is not late.
    assert not set(fleet.reordered) & {(r["device_id"], r["metric"], r["event_time"]) for r in late}


def test_bad_records_are_counted_and_kept_with_their_bytes_and_reason(default_run: dict) -> None:
    rejected = of_type(default_run, "rejected_record")
    got = sorted((base64.b64decode(r["raw_base64"]), r["reason"]) for r in rejected)
    want = sorted(scenario.BAD_RECORDS)
    assert [raw for raw, _ in got] == [raw for raw, _ in want]
    for (_, reason), (_, fragment) in zip(got, want):
        assert fragment in reason
    assert default_run["counts"]["recordsRejected"] == len(scenario.BAD_RECORDS)


def test_the_counters_account_for_every_reading(default_run: dict, fleet: scenario.Scenario) -> None:
    expected = scenario.oracle(fleet.records)
    counts = default_run["counts"]
    assert counts["readingsParsed"] == expected.parsed == counts["readingsScored"] + counts["readingsUnscored"] + counts["readingsLate"]
    assert (counts["readingsScored"], counts["readingsUnscored"]) == (expected.scored, expected.unscored)
    assert counts["anomaliesDetected"] == len(of_type(default_run, "anomaly"))
    assert (counts["notificationsSent"], counts["notificationsSuppressed"]) == (len(expected.notifications), expected.suppressed)
    assert len(default_run["sinks"][SINK]) == counts["anomaliesDetected"] + counts["readingsLate"] + counts["recordsRejected"]


def test_the_minimum_sample_count_holds_back_a_sparse_sensor(default_run: dict, tuned_run: dict, fleet: scenario.Scenario) -> None:
    sparse = scenario.SPARSE_DEVICE
    assert not [a for a in of_type(default_run, "anomaly") if a["device_id"] == sparse]
    # With min.samples 5 the same job scores it, and its spike is found.
    tuned = [a for a in of_type(tuned_run, "anomaly") if a["device_id"] == sparse]
    assert [a["event_time"] for a in tuned] == [scenario.iso(scenario.SPARSE_SPIKE)]


def test_properties_reach_the_job(tuned_run: dict, fleet: scenario.Scenario) -> None:
    params = scenario.Params(min_samples=int(OVERRIDES["Detection"]["min.samples"]),
                             dedup_period_ms=int(OVERRIDES["Notifications"]["dedup.period.seconds"]) * 1000)
    expected = scenario.oracle(fleet.records, params)
    assert_matches_oracle(tuned_run, expected)
    flapping = [n for n in tuned_run["sinks"][NOTIFY] if (n["device_id"], n["metric"]) == ("pump-a", "vibration_mm_s")]
    assert len(flapping) == 4  # a one-minute period: every spike of the flapping sensor pages
