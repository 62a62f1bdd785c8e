"""Notification de-duplication per (device, metric) over a period of event time."""

from __future__ import annotations

from flink_apps.anomaly_detection.notifications import NotifyState, decide, expires_at

PERIOD = 900_000


def run(events: list[tuple[int, str]]) -> list[tuple[int, str, int]]:
    state, sent = None, []
    for at, severity in events:
        decision = decide(state, at, severity, PERIOD)
        state = decision.state
        if decision.notify:
            sent.append((at, severity, decision.suppressed_before))
    return sent


def test_a_flapping_sensor_pages_once_per_period() -> None:
    minute = 60_000
    events = [(m * minute, "CRITICAL") for m in (0, 2, 4, 6, 14)] + [(15 * minute, "CRITICAL"), (16 * minute, "CRITICAL")]
    assert run(events) == [(0, "CRITICAL", 0), (15 * minute, "CRITICAL", 4)]


def test_an_escalation_is_sent_at_once_and_opens_a_new_period() -> None:
    minute = 60_000
    events = [(0, "HIGH"), (1 * minute, "HIGH"), (2 * minute, "CRITICAL"), (3 * minute, "HIGH"), (16 * minute, "HIGH"), (17 * minute, "HIGH")]
    assert run(events) == [(0, "HIGH", 0), (2 * minute, "CRITICAL", 1), (17 * minute, "HIGH", 2)]


def test_the_state_expires_a_period_after_the_last_notification() -> None:
    assert expires_at(NotifyState(1_000, 2), PERIOD) == 901_000
