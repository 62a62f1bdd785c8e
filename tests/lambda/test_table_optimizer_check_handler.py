"""IcebergTableMaintenance's optimizer check: what GetTableOptimizer's answer means (failed, suspended,
stale, fine), the datapoints it publishes, and that an optimizer it cannot read fails the invocation
after the others are published (Glue and CloudWatch through botocore's Stubber: a call the Stubber
was not told to expect raises)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.custom_resource_fakes import load_handler

handler = load_handler("table_optimizer_check")

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.timezone.utc)


def optimizer(enabled: bool = True, event_type: str | None = "completed", hours_ago: float = 2, error: str | None = None) -> dict:
    found: dict[str, Any] = {"type": "retention", "configuration": {"roleArn": "arn:aws:iam::111122223333:role/o", "enabled": enabled}}
    if event_type is not None:
        start = NOW - dt.timedelta(hours=hours_ago)
        found["lastRun"] = {"eventType": event_type, "startTimestamp": start, "endTimestamp": start + dt.timedelta(minutes=5)}
        if error is not None:
            found["lastRun"]["error"] = error
    return found


@pytest.mark.parametrize(("optimizer_type", "found", "unhealthy", "says"), [
    ("retention", optimizer(), False, None),
    ("retention", optimizer(event_type="in_progress"), False, None),
    ("compaction", optimizer(event_type="failed", error="AccessDenied on s3://team-lake/telemetry/"), True, "the last run failed: AccessDenied"),
    ("compaction", optimizer(enabled=False), True, "not enabled"),
    ("retention", optimizer(hours_ago=49), True, "no run for 49.0 hours (limit 48)"),
    ("orphan_file_deletion", optimizer(hours_ago=49), True, "no run for 49.0 hours"),
    ("compaction", optimizer(hours_ago=500), False, None),  # compaction runs when the table needs it
    ("retention", optimizer(event_type=None), False, None),  # never ran: nothing to measure from
])
def test_assess(optimizer_type: str, found: dict, unhealthy: bool, says: str | None) -> None:
    assessment = handler.assess(optimizer_type, found, NOW, 48)
    assert assessment.unhealthy is unhealthy
    assert (says is None and assessment.reasons == []) or any(says in reason for reason in assessment.reasons), assessment.reasons


def test_hours_since_last_run_only_for_the_scheduled_optimizers() -> None:
    assert handler.assess("retention", optimizer(hours_ago=3), NOW, 48).hours_since_last_run == 3.0
    assert handler.assess("compaction", optimizer(hours_ago=3), NOW, 48).hours_since_last_run is None


def test_the_datapoints() -> None:
    data = handler.metric_data(handler.assess("retention", optimizer(hours_ago=3), NOW, 48), "team_db", "telemetry", NOW)
    dimensions = [{"Name": "Database", "Value": "team_db"}, {"Name": "Table", "Value": "telemetry"},
                  {"Name": "Optimizer", "Value": "retention"}]
    assert data == [
        {"MetricName": "OptimizerUnhealthy", "Dimensions": dimensions, "Timestamp": NOW, "Value": 0.0, "Unit": "Count"},
        {"MetricName": "HoursSinceLastRun", "Dimensions": dimensions, "Timestamp": NOW, "Value": 3.0, "Unit": "None"},
    ]


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for name, value in {"CATALOG_ID": "111122223333", "DATABASE_NAME": "team_db", "TABLE_NAME": "telemetry",
                        "OPTIMIZER_TYPES": "compaction,retention", "MAX_HOURS_WITHOUT_RUN": "48",
                        "METRICS_NAMESPACE": "IcebergTableMaintenance"}.items():
        monkeypatch.setenv(name, value)
    made = {name: boto3.client(name, region_name="eu-west-1") for name in ("glue", "cloudwatch")}
    monkeypatch.setattr(boto3, "client", lambda name, **_: made[name])
    monkeypatch.setattr(handler, "utc_now", lambda: NOW)
    stubs = {name: Stubber(client) for name, client in made.items()}
    for stub in stubs.values():
        stub.activate()
    yield stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def _expect_get(stubs: dict, optimizer_type: str, found: dict) -> None:
    stubs["glue"].add_response(
        "get_table_optimizer", {"CatalogId": "111122223333", "DatabaseName": "team_db", "TableName": "telemetry", "TableOptimizer": found},
        {"CatalogId": "111122223333", "DatabaseName": "team_db", "TableName": "telemetry", "Type": optimizer_type},
    )


def _expect_put(stubs: dict, unhealthy: float, optimizer_type: str, hours: float | None = None) -> None:
    dimensions = [{"Name": "Database", "Value": "team_db"}, {"Name": "Table", "Value": "telemetry"},
                  {"Name": "Optimizer", "Value": optimizer_type}]
    data = [{"MetricName": "OptimizerUnhealthy", "Dimensions": dimensions, "Timestamp": NOW, "Value": unhealthy, "Unit": "Count"}]
    if hours is not None:
        data.append({"MetricName": "HoursSinceLastRun", "Dimensions": dimensions, "Timestamp": NOW, "Value": hours, "Unit": "None"})
    stubs["cloudwatch"].add_response("put_metric_data", {}, {"Namespace": "IcebergTableMaintenance", "MetricData": data})


def test_the_handler_publishes_one_assessment_per_optimizer(clients) -> None:
    _expect_get(clients, "compaction", {**optimizer(enabled=False), "type": "compaction"})
    _expect_put(clients, 1.0, "compaction")
    _expect_get(clients, "retention", optimizer())
    _expect_put(clients, 0.0, "retention", hours=2.0)
    assert handler.lambda_handler({}, None) == {"compaction": True, "retention": False}


def test_an_optimizer_that_cannot_be_read_fails_the_invocation_after_the_others_are_published(clients) -> None:
    clients["glue"].add_client_error("get_table_optimizer", "EntityNotFoundException", "Table optimizer not found")
    _expect_get(clients, "retention", optimizer())
    _expect_put(clients, 0.0, "retention", hours=2.0)
    with pytest.raises(RuntimeError, match=r"GetTableOptimizer failed for \['compaction'\] of team_db.telemetry"):
        handler.lambda_handler({}, None)
