"""The Lambda entry point, invoked as Lambda invokes it, with Firehose's own event format."""

from __future__ import annotations

import base64
import importlib
import io
import json
from types import SimpleNamespace

import pytest

from firehose_transform.transform import transform_records

from .conftest import NAMESPACE, SERVICE


@pytest.fixture
def handler(powertools_env):
    """The handler module, imported with Powertools' environment set, its log lines captured."""
    module = importlib.import_module("firehose_transform.handler")
    assert (module.metrics.namespace, module.metrics.service) == (NAMESPACE, SERVICE)
    logs = io.StringIO()
    previous = module.logger.registered_handler.setStream(logs)
    module.metrics.clear_metrics()
    yield SimpleNamespace(module=module, logs=logs)
    module.logger.registered_handler.setStream(previous)
    module.metrics.clear_metrics()


def emf_blobs(stdout: str) -> list[dict]:
    return [blob for line in stdout.splitlines() if line.startswith("{") and "_aws" in (blob := json.loads(line))]


def counts(blob: dict) -> dict[str, float]:
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    values = {}
    for metric in directive["Metrics"]:
        assert metric["Unit"] == "Count"
        value = blob[metric["Name"]]
        values[metric["Name"]] = sum(value) if isinstance(value, list) else value
    return values


def log_lines(handler) -> list[dict]:
    return [json.loads(line) for line in handler.logs.getvalue().splitlines()]


def test_a_good_event_returns_all_ok_and_counts_it(handler, load_event, lambda_context, capsys) -> None:
    event = load_event("firehose_kinesis_good")
    response = handler.module.lambda_handler(event, lambda_context)

    assert list(response) == ["records"]
    assert [r["recordId"] for r in response["records"]] == [r["recordId"] for r in event["records"]]
    for record in response["records"]:
        assert set(record) == {"recordId", "result", "data", "metadata"}
        assert record["result"] == "Ok"
        assert set(record["metadata"]["partitionKeys"]) == {"event_date", "event_hour"}
        assert base64.b64decode(record["data"], validate=True).decode().endswith("}\n")
    assert response == transform_records(event["records"]).as_response()
    json.dumps(response)  # what the runtime will do with it

    (blob,) = emf_blobs(capsys.readouterr().out)
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == NAMESPACE
    assert directive["Dimensions"] == [["service"]]
    assert blob["service"] == SERVICE
    assert counts(blob) == {"RecordsProcessed": 4, "RecordsOk": 4, "RecordsFailed": 0}
    assert [line["level"] for line in log_lines(handler)] == ["INFO"]


def test_a_mixed_event_counts_and_logs_each_failure_without_its_content(handler, load_event, lambda_context, capsys) -> None:
    event = load_event("firehose_kinesis_mixed")
    response = handler.module.lambda_handler(event, lambda_context)

    assert [r["recordId"] for r in response["records"]] == [r["recordId"] for r in event["records"]]
    failed = [(i, r) for i, r in enumerate(response["records"]) if r["result"] == "ProcessingFailed"]
    assert [i for i, _ in failed] == [1, 2, 3, 5, 6]
    for i, record in failed:
        assert record["data"] == event["records"][i]["data"]
        assert "metadata" not in record

    (blob,) = emf_blobs(capsys.readouterr().out)
    assert counts(blob) == {"RecordsProcessed": 8, "RecordsOk": 3, "RecordsFailed": 5}

    lines = log_lines(handler)
    warnings = [line for line in lines if line["level"] == "WARNING"]
    assert [(w["record_id"], w["reason"]) for w in warnings] == [
        (event["records"][1]["recordId"], "invalid_base64"),
        (event["records"][2]["recordId"], "not_json"),
        (event["records"][3]["recordId"], "contract:event_time"),
        (event["records"][5]["recordId"], "not_utf8"),
        (event["records"][6]["recordId"], "not_object"),
    ]
    assert all(w["function_request_id"] == lambda_context.aws_request_id for w in warnings)  # inject_lambda_context
    (summary,) = [line for line in lines if line["level"] == "INFO"]
    assert (summary["records"], summary["ok"], summary["failed"]) == (8, 3, 5)
    assert summary["invocation_id"] == event["invocationId"]

    text = handler.logs.getvalue()
    for _, record in failed:
        assert record["data"] not in text
    assert "2026-11-23T09:15:02" not in text and "pump-0042" not in text  # no reading content either


def test_a_batch_of_garbage_never_raises(handler, firehose_record, lambda_context, capsys) -> None:
    records = [firehose_record(data, record_id=f"r-{i}") for i, data in enumerate(["", "%%%", "AAAA", "bnVsbA=="])]
    event = {
        "invocationId": "i-1",
        "deliveryStreamArn": "arn:aws:firehose:eu-central-1:123456789012:deliverystream/x",
        "sourceKinesisStreamArn": "arn:aws:kinesis:eu-central-1:123456789012:stream/x",
        "region": "eu-central-1",
        "records": records,
    }
    response = handler.module.lambda_handler(event, lambda_context)
    assert [(r["recordId"], r["result"], r["data"]) for r in response["records"]] == [
        (r["recordId"], "ProcessingFailed", r["data"]) for r in records
    ]
    (blob,) = emf_blobs(capsys.readouterr().out)
    assert counts(blob) == {"RecordsProcessed": 4, "RecordsOk": 0, "RecordsFailed": 4}


# --- the OpenSearch entry point: document_handler -------------------------------------------------


def test_the_document_handler_returns_documents_without_partition_keys(handler, load_event, lambda_context, capsys) -> None:
    event = load_event("firehose_kinesis_good")
    response = handler.module.document_handler(event, lambda_context)

    assert [r["recordId"] for r in response["records"]] == [r["recordId"] for r in event["records"]]
    for record in response["records"]:
        assert set(record) == {"recordId", "result", "data"}
        assert record["result"] == "Ok"
        assert base64.b64decode(record["data"], validate=True).decode().endswith("}")
    assert response == transform_records(event["records"], output_format="document").as_response()
    lines = handler.module.lambda_handler(load_event("firehose_kinesis_good"), lambda_context)
    assert [json.loads(base64.b64decode(r["data"])) for r in response["records"]] == [
        json.loads(base64.b64decode(r["data"])) for r in lines["records"]
    ]

    first, second = emf_blobs(capsys.readouterr().out)
    assert counts(first) == counts(second) == {"RecordsProcessed": 4, "RecordsOk": 4, "RecordsFailed": 0}
    assert first["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NAMESPACE and first["service"] == SERVICE


def test_the_document_handler_fails_and_logs_records_like_the_raw_zone_handler(handler, load_event, lambda_context, capsys) -> None:
    event = load_event("firehose_kinesis_mixed")
    response = handler.module.document_handler(event, lambda_context)

    failed = [i for i, r in enumerate(response["records"]) if r["result"] == "ProcessingFailed"]
    assert failed == [1, 2, 3, 5, 6]
    for i in failed:
        assert response["records"][i]["data"] == event["records"][i]["data"]
    (blob,) = emf_blobs(capsys.readouterr().out)
    assert counts(blob) == {"RecordsProcessed": 8, "RecordsOk": 3, "RecordsFailed": 5}
    warnings = [line for line in log_lines(handler) if line["level"] == "WARNING"]
    assert [w["reason"] for w in warnings] == ["invalid_base64", "not_json", "contract:event_time", "not_utf8", "not_object"]
    assert "pump-0042" not in handler.logs.getvalue()
