"""The SNS publisher: what it sends, what it retries, and that nothing undelivered is lost."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from flink_apps.anomaly_detection import sns

TOPIC = "arn:aws:sns:eu-central-1:123456789012:alarms"
LINE = json.dumps({"record_type": "notification", "device_id": "pump-7", "metric": "temperature_c", "severity": "CRITICAL", "score": 5.2})


class FlakyClient:
    """Fails with the given errors, then succeeds; records every request."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.requests: list[dict] = []

    def publish(self, **request):
        self.requests.append(request)
        if self.errors:
            raise self.errors.pop(0)
        return {"MessageId": "m-1"}


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "Publish")


def test_the_request_a_real_client_accepts() -> None:
    client = boto3.client("sns", region_name="eu-central-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response("publish", {"MessageId": "m-1"}, {
            "TopicArn": TOPIC, "Message": LINE, "Subject": "CRITICAL anomaly: pump-7 temperature_c",
            "MessageAttributes": {
                "severity": {"DataType": "String", "StringValue": "CRITICAL"},
                "device_id": {"DataType": "String", "StringValue": "pump-7"},
                "metric": {"DataType": "String", "StringValue": "temperature_c"},
            },
        })
        assert sns.publish(client, TOPIC, LINE, max_attempts=3) == sns.Outcome(True, 1)
        stub.assert_no_pending_responses()


def test_throttling_and_connection_errors_are_retried_with_backoff() -> None:
    client = FlakyClient(client_error("Throttling"), EndpointConnectionError(endpoint_url="https://sns"), client_error("InternalError"))
    waits: list[float] = []
    assert sns.publish(client, TOPIC, LINE, max_attempts=5, sleep=waits.append) == sns.Outcome(True, 4)
    assert waits == [0.2, 0.4, 0.8]


def test_an_error_another_attempt_cannot_fix_is_not_retried() -> None:
    client = FlakyClient(client_error("AuthorizationError"))
    outcome = sns.publish(client, TOPIC, LINE, max_attempts=5, sleep=lambda _: pytest.fail("no retry expected"))
    assert (outcome.delivered, outcome.attempts) == (False, 1) and "AuthorizationError" in outcome.error


def test_after_the_last_attempt_the_notification_comes_back_for_the_anomaly_sink() -> None:
    client = FlakyClient(*[client_error("Throttling")] * 3)
    outcome = sns.publish(client, TOPIC, LINE, max_attempts=3, sleep=lambda _: None)
    assert (outcome.delivered, outcome.attempts, len(client.requests)) == (False, 3, 3)
    record = json.loads(sns.failed_record(LINE, outcome, "2026-11-23T08:00:00.000Z"))
    assert record["record_type"] == "notification_failed" and record["device_id"] == "pump-7"
    assert record["reason"].startswith("not published to the alarm topic after 3 attempt(s): ClientError")


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [sns.backoff(n) for n in range(1, 8)] == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]


def test_the_subject_fits_sns_limit() -> None:
    long = json.loads(LINE) | {"device_id": "d" * 128}
    assert len(sns.subject(long)) == sns.MAX_SUBJECT
