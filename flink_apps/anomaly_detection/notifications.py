"""Which HIGH and CRITICAL anomalies page the on-call: at most one per (device, metric) and period.

Rule, per (device, metric), in the anomalies' event time:

* The first HIGH or CRITICAL anomaly is notified and opens a period of ``period_ms``.
* Within the period, an anomaly of the same or a lower severity is suppressed (counted); one of a
  higher severity (HIGH, then CRITICAL) is notified at once and opens a new period: an escalation
  is news, a repetition is not.
* After the period an anomaly is notified again. A notification carries ``suppressed_before``:
  how many of the key's anomalies were suppressed since its previous notification, as long as the
  key's state lived (the timer below ends it; every anomaly is in the anomaly sink regardless, and
  the ``notificationsSuppressed`` counter has the total).

Event time, not the clock on the wall: a replay of the stream after an outage, or a restart from a
snapshot, makes the same decisions as the live run did. The operator clears the key's state with a
timer at the end of the period, so a sensor that stops flapping costs no state.
"""

from __future__ import annotations

from dataclasses import dataclass

from .scoring import SEVERITY_RANK


@dataclass(frozen=True)
class NotifyState:
    last_event_ms: int
    last_rank: int
    suppressed: int = 0


@dataclass(frozen=True)
class Decision:
    notify: bool
    state: NotifyState
    #: On a notification: how many anomalies were suppressed since the previous one.
    suppressed_before: int = 0


def decide(state: NotifyState | None, event_ms: int, severity: str, period_ms: int) -> Decision:
    rank = SEVERITY_RANK[severity]
    if state is None or event_ms >= state.last_event_ms + period_ms or rank > state.last_rank:
        suppressed = 0 if state is None else state.suppressed
        return Decision(True, NotifyState(event_ms, rank), suppressed)
    return Decision(False, NotifyState(state.last_event_ms, state.last_rank, state.suppressed + 1))


def expires_at(state: NotifyState, period_ms: int) -> int:
    """Event time from which the state is no longer needed (the next anomaly would be notified)."""
    return state.last_event_ms + period_ms
