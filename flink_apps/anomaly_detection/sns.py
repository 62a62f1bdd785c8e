"""Publishing a notification to the alarm topic, with retries; what cannot be delivered is returned.

Why the application publishes to SNS itself (boto3, in the operator after the de-duplication)
rather than through a Kinesis or Firehose sink and a notifier Lambda:

* The connectors this runtime can use (``flink-connector-kinesis`` 4.3.0-1.19, shaded, and
  ``flink-connector-aws-kinesis-firehose`` 4.3.0-1.19 with the unshaded ``flink-connector-aws-base``)
  carry four classes of the same name compiled against different AWS SDK packages; in one job jar
  only one copy can load. The build keeps ``flink-connector-aws-base``'s, which the Kinesis
  *source* and the Firehose sink work with and the Kinesis *sink* does not (see
  tools/flink/artifacts.py). A Kinesis notification stream is therefore not on offer.
* After de-duplication there is at most one notification per (device, metric) and period, so the
  rate is tiny and a synchronous ``Publish`` per notification costs nothing noticeable. It keeps
  at-least-once without a buffer: a notification is published before the operator moves on; if
  the job fails in between, the replay from the last checkpoint publishes it again (a duplicate
  page, never a lost one). A batching buffer in a Python operator would have no checkpoint hook to
  flush it and could lose what it holds.
* Fewer moving parts than a stream, a Lambda and their alarms.

Retried: throttling, 5xx and connection errors, with exponential back-off (0.2 s doubling, at most
5 s) up to ``max_attempts``. Not retried: errors that another attempt cannot fix (authorisation,
KMS key, topic not found). Either way a notification that is not delivered is returned to the
caller, which writes it to the anomaly sink as ``notification_failed`` and counts it: never lost
silently, and it does not stop the job (the anomaly itself is in the anomaly sink already).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RETRYABLE_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
    "InternalError", "InternalFailure", "ServiceUnavailable", "KMSThrottlingException", "RequestTimeout",
})
#: A subject is limited to 100 characters by SNS.
MAX_SUBJECT = 100


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    attempts: int
    error: str = ""


def subject(notification: dict[str, Any]) -> str:
    text = f"{notification['severity']} anomaly: {notification['device_id']} {notification['metric']}"
    return text[:MAX_SUBJECT]


def message_attributes(notification: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Attributes subscribers can filter on (e.g. CRITICAL only to the pager)."""
    return {
        name: {"DataType": "String", "StringValue": str(notification[name])}
        for name in ("severity", "device_id", "metric")
    }


def backoff(attempt: int, base: float = 0.2, cap: float = 5.0) -> float:
    """Seconds to wait before retry ``attempt`` (1-based)."""
    return min(cap, base * 2 ** (attempt - 1))


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _retryable(error: Exception) -> bool:
    code = _error_code(error)
    if code:
        return code in RETRYABLE_CODES or code.startswith("5")
    # No service answer at all: a connection error or a timeout (botocore's EndpointConnectionError,
    # ReadTimeoutError, ...): worth another attempt.
    return type(error).__name__.endswith(("ConnectionError", "TimeoutError", "Timeout", "ConnectTimeoutError"))


def publish(
    client: Any,
    topic_arn: str,
    notification_line: str,
    *,
    max_attempts: int,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Publish one notification (its JSON line is the message), retrying what may pass later."""
    notification = json.loads(notification_line)
    request = {
        "TopicArn": topic_arn,
        "Message": notification_line,
        "Subject": subject(notification),
        "MessageAttributes": message_attributes(notification),
    }
    for attempt in range(1, max_attempts + 1):
        try:
            client.publish(**request)
            return Outcome(True, attempt)
        except Exception as error:  # noqa: BLE001 - classified below; nothing escapes unreported
            described = f"{type(error).__name__}: {error}"
            if attempt == max_attempts or not _retryable(error):
                return Outcome(False, attempt, described)
            sleep(backoff(attempt))
    raise AssertionError("unreachable: max_attempts must be at least 1")


def failed_record(notification_line: str, outcome: Outcome, failed_at: str) -> str:
    """The anomaly-sink line for a notification that could not be delivered."""
    record = json.loads(notification_line)
    record["record_type"] = "notification_failed"
    record["reason"] = f"not published to the alarm topic after {outcome.attempts} attempt(s): {outcome.error}"
    record["failed_at"] = failed_at
    return json.dumps(record, separators=(",", ":"))
