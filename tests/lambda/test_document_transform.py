"""The OpenSearch variant of the transform (``output_format=DOCUMENT``): the same normalised
reading as the raw zone gets, one JSON object per record, no partition keys, no newline; the
failure semantics and the response budget are those of the JSON-lines variant."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firehose_transform.transform import (
    DOCUMENT,
    JSON_LINES,
    OUTPUT_FORMATS,
    RESPONSE_SIZE_LIMIT,
    transform_records,
)
from telemetry_contract import NORMALISED_FIELDS

from .test_transform_properties import SETTINGS, b64, batch, payloads, records_from, valid_readings


def decoded(out) -> str:
    return base64.b64decode(out.data, validate=True).decode("ascii")


def documents(result) -> list[str]:
    return [decoded(r) for r in result.records if r.result == "Ok"]


def check_document_invariants(records: list[dict], result) -> None:
    """One output per input in order; Ok: one compact JSON object, no newline, no metadata, the
    same object the JSON-lines variant writes for that record; failed: exactly as JSON lines."""
    lines = transform_records(records)
    response = result.as_response()
    assert [r["recordId"] for r in response["records"]] == [r["recordId"] for r in records]
    assert result.processed == len(records) == result.ok + result.failed
    assert result.response_bytes == len(json.dumps(response).encode("utf-8"))
    for record, out, line in zip(records, response["records"], lines.as_response()["records"], strict=True):
        assert "metadata" not in out
        if out["result"] == "Ok":
            text = base64.b64decode(out["data"], validate=True).decode("ascii")
            assert "\n" not in text and "\r" not in text
            document = json.loads(text)
            assert list(document) == list(NORMALISED_FIELDS)
            assert line["result"] == "Ok"
            assert document == json.loads(base64.b64decode(line["data"]))
            assert text + "\n" == base64.b64decode(line["data"]).decode("ascii")
        else:
            assert out["result"] == "ProcessingFailed"
            assert out["data"] == record["data"]


# --- the event files ----------------------------------------------------------------------------


def test_a_good_event_gives_the_raw_zone_lines_as_documents(load_event) -> None:
    event = load_event("firehose_kinesis_good")
    result = transform_records(event["records"], output_format=DOCUMENT)
    lines = transform_records(event["records"], output_format=JSON_LINES)

    assert [r.record_id for r in result.records] == [r["recordId"] for r in event["records"]]
    assert [(r.result, r.metadata) for r in result.records] == [("Ok", None)] * 4
    assert (result.processed, result.ok, result.failed) == (4, 4, 0)
    assert [d + "\n" for d in documents(result)] == [decoded(r) for r in lines.records]
    for document in documents(result):
        assert document.startswith("{") and document.endswith("}")
    response = result.as_response()
    assert [list(r) for r in response["records"]] == [["recordId", "result", "data"]] * 4
    assert result.response_bytes == len(json.dumps(response).encode("utf-8"))


def test_a_mixed_event_fails_the_same_records_for_the_same_reasons(load_event) -> None:
    event = load_event("firehose_kinesis_mixed")
    result = transform_records(event["records"], output_format=DOCUMENT)
    lines = transform_records(event["records"])

    assert result.failures == lines.failures
    assert result.failed_by_reason == lines.failed_by_reason
    assert [i for i, r in enumerate(result.records) if r.result == "ProcessingFailed"] == [1, 2, 3, 5, 6]
    check_document_invariants(event["records"], result)


def test_the_default_is_still_json_lines(load_event) -> None:
    records = load_event("firehose_kinesis_good")["records"]
    assert transform_records(records).as_response() == transform_records(records, output_format=JSON_LINES).as_response()
    assert decoded(transform_records(records).records[0]).endswith("}\n")


def test_an_unknown_output_format_is_a_wiring_error(load_event) -> None:
    assert OUTPUT_FORMATS == ("json_lines", "document")
    with pytest.raises(ValueError, match="output_format must be one of"):
        transform_records(load_event("firehose_kinesis_good")["records"], output_format="ndjson")


def test_the_budget_counts_the_smaller_document_records_exactly(load_event) -> None:
    records = load_event("firehose_kinesis_good")["records"]
    full = transform_records(records, output_format=DOCUMENT)
    # A budget one byte short of the full response: the last record no longer fits as Ok.
    tight = transform_records(records, output_format=DOCUMENT, response_budget=full.response_bytes - 1)
    assert [r.result for r in tight.records] == ["Ok", "Ok", "Ok", "ProcessingFailed"]
    assert [f.reason for f in tight.failures] == [RESPONSE_SIZE_LIMIT]
    assert tight.response_bytes <= full.response_bytes - 1
    exact = transform_records(records, output_format=DOCUMENT, response_budget=full.response_bytes)
    assert exact.failures == [] and exact.response_bytes == full.response_bytes
    # The JSON-lines response of the same batch is larger (newlines and partition keys).
    assert transform_records(records).response_bytes > full.response_bytes


# --- properties -----------------------------------------------------------------------------------


@SETTINGS
@given(items=batch(payloads))
def test_any_batch_gives_one_document_or_failure_per_record_in_order(items, firehose_record) -> None:
    records = records_from(items, firehose_record)
    check_document_invariants(records, transform_records(records, output_format=DOCUMENT))


@SETTINGS
@given(items=batch(valid_readings().map(lambda r: b64(json.dumps(r).encode()))))
def test_valid_readings_are_always_ok_documents(items, firehose_record) -> None:
    records = records_from(items, firehose_record)
    result = transform_records(records, output_format=DOCUMENT)
    assert result.failures == []
    check_document_invariants(records, result)


@SETTINGS
@given(items=batch(payloads, max_size=12), slack=st.integers(min_value=0, max_value=3000))
def test_the_document_response_never_exceeds_its_budget(items, slack, firehose_record) -> None:
    records = records_from(items, firehose_record)
    budget = transform_records(records, response_budget=0, output_format=DOCUMENT).response_bytes + slack
    result = transform_records(records, response_budget=budget, output_format=DOCUMENT)
    assert result.response_bytes <= budget
    assert result.response_bytes == len(json.dumps(result.as_response()).encode("utf-8"))
    assert [r["recordId"] for r in result.as_response()["records"]] == [r["recordId"] for r in records]
    limited = [f.index for f in result.failures if f.reason == RESPONSE_SIZE_LIMIT]
    if limited:  # once the budget is spent, it stays spent
        assert limited == list(range(limited[0], len(records)))
