"""The JSON lines the application writes: one object per line, ``record_type`` first.

To the anomaly sink (the Firehose delivery stream; the streaming stack lands them under anomalies/event_date=YYYY-MM-DD/, one table with ``record_type`` as a column):

* ``anomaly``: a reading whose score is above the alert threshold.
* ``late_reading``: a reading whose window had already been evaluated (see ``windows``).
* ``rejected_record``: a Kinesis record that is no valid reading, with the reason and the
  original bytes (base64).

To the notification stream: ``notification``, an anomaly's fields plus ``suppressed_before``.

Times are ISO-8601 UTC with milliseconds and ``Z`` (``event_time`` keeps the reading's own text,
which may carry microseconds). Wall-clock stamps: ``received_at``, when the reading entered the
job; ``window_closed_at`` (anomalies), when what closed its window entered the job (the sensor's
reading that moved its clock past the window, or the watermark's timer); ``detected_at``, when the
record was made. ``detected_at - window_closed_at`` is the job's own processing latency;
``detected_at - received_at`` adds the wait for the window to close, which is by design up to one
slide plus the out-of-orderness bound of event time.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from .windows import Entry, Evaluation, Late, Scored

ANOMALY, LATE, REJECTED, NOTIFICATION = "anomaly", "late_reading", "rejected_record", "notification"

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def iso_millis(epoch_ms: int) -> str:
    moment = _EPOCH + dt.timedelta(milliseconds=epoch_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), allow_nan=False)


def anomaly(
    device_id: str, metric: str, evaluation: Evaluation, scored: Scored, trigger_ms: int, detected_ms: int
) -> str:
    entry = scored.entry
    return _line({
        "record_type": ANOMALY,
        "device_id": device_id,
        "metric": metric,
        "severity": scored.severity,
        "score": round(scored.score, 6),
        "value": entry.value,
        "mean": evaluation.stats.mean,
        "stddev": evaluation.stats.stddev,
        "sample_count": evaluation.stats.count,
        "window_start": iso_millis(evaluation.window_start),
        "window_end": iso_millis(evaluation.window_end),
        "event_time": entry.event_time,
        "received_at": iso_millis(entry.received_ms),
        "window_closed_at": iso_millis(trigger_ms),
        "detected_at": iso_millis(detected_ms),
    })


def late(device_id: str, metric: str, late_reading: Late, out_of_orderness_ms: int, detected_ms: int) -> str:
    entry: Entry = late_reading.entry
    return _line({
        "record_type": LATE,
        "reason": (
            f"late: its window ending {iso_millis(late_reading.bucket_end)} was already evaluated (this sensor's "
            f"windows are evaluated through {iso_millis(late_reading.evaluated_through)}; out-of-orderness "
            f"bound {out_of_orderness_ms // 1000} s); not scored and not counted in any window"
        ),
        "device_id": device_id,
        "metric": metric,
        "value": entry.value,
        "event_time": entry.event_time,
        "window_end": iso_millis(late_reading.bucket_end),
        "received_at": iso_millis(entry.received_ms),
        "detected_at": iso_millis(detected_ms),
    })


def rejected(reason: str, raw: bytes, received_ms: int) -> str:
    return _line({
        "record_type": REJECTED,
        "reason": reason,
        "raw_base64": base64.b64encode(raw).decode("ascii"),
        "raw_bytes": len(raw),
        "received_at": iso_millis(received_ms),
        "detected_at": iso_millis(received_ms),
    })


def notification(anomaly_line: str, suppressed_before: int, detected_ms: int) -> str:
    record = json.loads(anomaly_line)
    record["record_type"] = NOTIFICATION
    record["suppressed_before"] = suppressed_before
    record["notified_at"] = iso_millis(detected_ms)
    return _line(record)
