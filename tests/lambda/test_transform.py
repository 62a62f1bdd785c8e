"""The Firehose transform's logic, called directly (no Lambda, no Powertools logger or metrics)."""

from __future__ import annotations

import base64
import json

import pytest
from aws_lambda_powertools.utilities.data_classes import KinesisFirehoseEvent

import telemetry_contract
from firehose_transform import transform
from firehose_transform.transform import (
    RESPONSE_BUDGET_BYTES,
    RESPONSE_SIZE_LIMIT,
    RecordFailure,
    arrival_time,
    contract_reason,
    transform_records,
)
from telemetry_contract import MAX_READING_BYTES, NORMALISED_FIELDS, ContractError


def decoded_lines(result) -> list[str]:
    return [base64.b64decode(r.data, validate=True).decode("utf-8") for r in result.records if r.result == "Ok"]


def reading(**overrides) -> dict:
    base = {
        "schema_version": 1,
        "device_id": "pump-0042",
        "event_time": "2026-11-23T09:15:02.125+01:00",
        "metrics": {"temperature_c": 21.5},
    }
    return {**base, **overrides}


def one(firehose_record, data, **kwargs):
    record = firehose_record(data, **kwargs)
    result = transform_records([record])
    assert len(result.records) == 1
    return record, result.records[0], result


def assert_failed(record, out, result, reason: str) -> None:
    assert out.record_id == record["recordId"]
    assert out.result == "ProcessingFailed"
    assert out.data == record["data"]  # unchanged: Firehose writes it to the error prefix as received
    assert out.metadata is None
    assert result.failures == [RecordFailure(0, record["recordId"], reason)]
    assert (result.ok, result.failed, result.failed_by_reason) == (0, 1, {reason: 1})


# --- a good batch -------------------------------------------------------------------------------

EXPECTED_GOOD_LINES = [
    '{"schema_version":1,"device_id":"pump-0042","event_time":"2026-11-23T08:15:02.125Z",'
    '"ingested_at":"2026-11-23T08:15:02.250Z","metrics":{"temperature_c":21.5,"vibration_mm_s":0.8},'
    '"attributes":{"site":"hamburg"},"event_date":"2026-11-23","event_hour":"08"}\n',
    '{"schema_version":1,"device_id":"fan_7","event_time":"2026-11-23T11:40:00.000Z",'
    '"ingested_at":"2026-11-23T11:40:00.731Z","metrics":{"rpm":1200,"current_a":3.25},'
    '"attributes":{},"event_date":"2026-11-23","event_hour":"11"}\n',
    '{"schema_version":1,"device_id":"pump-0042","event_time":"2026-11-23T23:30:00.000Z",'
    '"ingested_at":"2026-11-23T23:30:00.350Z","metrics":{"temperature_c":-3},'
    '"attributes":{"site":"hamburg","line":"l2"},"event_date":"2026-11-23","event_hour":"23"}\n',
    # Published with microseconds (.123456Z): kept, not cut to milliseconds (issue 16).
    '{"schema_version":1,"device_id":"meter-9","event_time":"2026-11-23T10:00:00.123456Z",'
    '"ingested_at":"2026-11-23T10:00:01.000Z","metrics":{"energy_kwh":1e-05},'
    '"attributes":{},"event_date":"2026-11-23","event_hour":"10"}\n',
]


def test_a_good_event_is_all_ok_with_exact_lines_in_order(load_event) -> None:
    event = load_event("firehose_kinesis_good")
    result = transform_records(event["records"])

    assert [r.record_id for r in result.records] == [r["recordId"] for r in event["records"]]
    assert [r.result for r in result.records] == ["Ok"] * 4
    assert (result.processed, result.ok, result.failed, result.failures) == (4, 4, 0, [])
    assert decoded_lines(result) == EXPECTED_GOOD_LINES
    for line in decoded_lines(result):
        assert line.count("\n") == 1 and line.endswith("}\n")
        assert list(json.loads(line)) == list(NORMALISED_FIELDS)
    assert [r.metadata.partition_keys for r in result.records] == [
        {"event_date": "2026-11-23", "event_hour": "08"},
        {"event_date": "2026-11-23", "event_hour": "11"},
        {"event_date": "2026-11-23", "event_hour": "23"},
        {"event_date": "2026-11-23", "event_hour": "10"},
    ]


def test_the_response_is_firehose_shaped_and_its_size_is_known(load_event) -> None:
    result = transform_records(load_event("firehose_kinesis_good")["records"])
    response = result.as_response()
    assert list(response) == ["records"]
    first = response["records"][0]
    assert list(first) == ["recordId", "result", "data", "metadata"]
    assert first["metadata"] == {"partitionKeys": {"event_date": "2026-11-23", "event_hour": "08"}}
    assert result.response_bytes == len(json.dumps(response).encode("utf-8"))
    assert result.response().asdict() == response


def test_ingested_at_from_the_rule_is_kept_not_replaced_by_arrival_time(firehose_record) -> None:
    _, out, _ = one(firehose_record, json.dumps(reading(ingested_at=1795421702250)).encode(), arrival_ms=1795425000000)
    assert json.loads(base64.b64decode(out.data))["ingested_at"] == "2026-11-23T08:15:02.250Z"


def test_arrival_time_stands_in_when_ingested_at_is_absent_or_null(firehose_record) -> None:
    for payload in (reading(), reading(ingested_at=None)):
        _, out, _ = one(firehose_record, json.dumps(payload).encode(), arrival_ms=1795421702999)
        assert json.loads(base64.b64decode(out.data))["ingested_at"] == "2026-11-23T08:15:02.999Z"


def test_kinesis_arrival_time_wins_then_the_record_level_one_then_none(firehose_record) -> None:
    record = firehose_record(b"{}", arrival_ms=1795421702999)
    record["approximateArrivalTimestamp"] = 1795421709999
    assert telemetry_contract.format_timestamp(arrival_time(record)) == "2026-11-23T08:15:02.999Z"
    del record["kinesisRecordMetadata"]["approximateArrivalTimestamp"]
    assert telemetry_contract.format_timestamp(arrival_time(record)) == "2026-11-23T08:15:09.999Z"
    record["approximateArrivalTimestamp"] = "garbage"
    assert arrival_time(record) is None

    record["data"] = base64.b64encode(json.dumps(reading()).encode()).decode()
    (out,) = transform_records([record]).records
    assert out.result == "Ok"
    assert json.loads(base64.b64decode(out.data))["ingested_at"] is None


def test_partition_keys_come_from_the_event_time_in_utc_not_the_arrival_time(firehose_record) -> None:
    payload = reading(event_time="2026-11-24T00:30:00+01:00")  # 23:30 UTC the day before
    _, out, _ = one(firehose_record, json.dumps(payload).encode(), arrival_ms=1795478405000)  # 2026-11-24T00:00:05Z
    assert out.metadata.partition_keys == {"event_date": "2026-11-23", "event_hour": "23"}
    line = json.loads(base64.b64decode(out.data))
    assert (line["event_time"], line["ingested_at"]) == ("2026-11-23T23:30:00.000Z", "2026-11-24T00:00:05.000Z")


def test_powertools_record_wrappers_give_the_same_result_as_plain_dicts(load_event) -> None:
    event = load_event("firehose_kinesis_mixed")
    wrapped = transform_records(KinesisFirehoseEvent(event).records).as_response()
    assert wrapped == transform_records(event["records"]).as_response()


def test_an_empty_batch_gets_an_empty_response() -> None:
    result = transform_records([])
    assert result.as_response() == {"records": []}
    assert result.response_bytes == len(json.dumps({"records": []}))


# --- one test per failure category ------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    ["not base64!", "eyJ", "eyJ9\n", "ZXk=ZXk=", "=eyJ9", "ZXk===", "eyJ9é", "ey J9"],
    ids=["punctuation", "bad-padding", "newline", "data-after-padding", "leading-padding", "excess-padding", "non-ascii", "space"],
)
def test_invalid_base64_fails_with_original_data(firehose_record, data: str) -> None:
    with pytest.raises(ValueError):
        base64.b64decode(data, validate=True)  # the same strictness as the transform
    assert_failed(*one(firehose_record, data), "invalid_base64")


def test_a_reading_over_the_size_limit_fails_and_one_at_the_limit_is_ok(firehose_record) -> None:
    published = json.dumps(reading()).encode()
    _, at_limit, _ = one(firehose_record, published.ljust(MAX_READING_BYTES, b" "))
    assert at_limit.result == "Ok"
    assert_failed(*one(firehose_record, published.ljust(MAX_READING_BYTES + 1, b" ")), "too_large")


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe{}", b'{"device_id": "\xc3"}', b'"\xed\xa0\x80"', b"\xc0\xaf"],
    ids=["utf16-bom", "truncated-sequence", "encoded-surrogate", "overlong"],
)
def test_bytes_that_are_not_utf8_fail(firehose_record, raw: bytes) -> None:
    assert_failed(*one(firehose_record, raw), "not_utf8")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b'{"schema_version": 1,',
        b"{'single': 'quotes'}",
        b'{"a": 1} {"b": 2}',
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b"-Infinity",
        b"\xef\xbb\xbf{}",
        b"1" * 5000,
        b"[" * 100_000,
    ],
    ids=["empty", "blank", "truncated", "single-quotes", "two-documents", "nan", "infinity", "minus-infinity",
         "utf8-bom", "too-many-digits", "too-deep"],
)
def test_text_that_is_not_json_fails(firehose_record, raw: bytes) -> None:
    assert_failed(*one(firehose_record, raw), "not_json")


@pytest.mark.parametrize("raw", [b"[1, 2, 3]", b'"reading"', b"42", b"null", b"true"], ids=str)
def test_json_that_is_not_an_object_fails(firehose_record, raw: bytes) -> None:
    assert_failed(*one(firehose_record, raw), "not_object")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"schema_version": 1}, "contract:missing_field"),
        (reading(colour="red"), "contract:unknown_field"),
        (reading(schema_version=2), "contract:schema_version"),
        (reading(device_id="pump/0042"), "contract:device_id"),
        (reading(event_time="2026-11-23T09:15:02"), "contract:event_time"),
        (reading(event_time=1), "contract:event_time"),
        (reading(ingested_at="yesterday"), "contract:ingested_at"),
        (reading(metrics={}), "contract:metrics"),
        (reading(metrics={"temperature_c": "hot"}), "contract:metrics"),
        (reading(attributes={"site": 7}), "contract:attributes"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_contract_violation_fails_with_the_field_as_reason(firehose_record, payload: dict, reason: str) -> None:
    assert_failed(*one(firehose_record, json.dumps(payload).encode()), reason)


def test_an_overflowing_float_is_a_contract_violation_not_a_crash(firehose_record) -> None:
    # 1e999 is valid JSON and parses as float('inf'); the contract rejects non-finite metrics.
    raw = b'{"schema_version": 1, "device_id": "d", "event_time": 1795421702125, "metrics": {"t": 1e999}}'
    assert_failed(*one(firehose_record, raw), "contract:metrics")


def test_an_unexpected_exception_fails_only_that_record(firehose_record, monkeypatch) -> None:
    def explode(reading, *, arrival_time=None):
        raise RuntimeError("bug")

    monkeypatch.setattr(transform, "parse_reading", explode)
    assert_failed(*one(firehose_record, json.dumps(reading()).encode()), "unexpected_error")


def test_an_absurd_integer_never_raises(firehose_record) -> None:
    # A 400-digit epoch is valid JSON; the contract's isfinite() raises OverflowError on it, which
    # the per-record catch-all absorbs (contract:event_time once the contract catches it itself).
    raw = b'{"schema_version": 1, "device_id": "d", "event_time": 1' + b"0" * 400 + b', "metrics": {"t": 1}}'
    record, out, result = one(firehose_record, raw)
    assert (out.result, out.data) == ("ProcessingFailed", record["data"])
    assert result.failures[0].reason in {"unexpected_error", "contract:event_time"}


@pytest.mark.parametrize(
    "record",
    [{"recordId": "r-1"}, {"recordId": "r-1", "data": None}, {"recordId": 7, "data": "e30="}],
    ids=["no-data", "null-data", "numeric-id"],
)
def test_a_malformed_firehose_record_fails_without_raising(record: dict) -> None:
    result = transform_records([record])
    (out,) = result.records
    assert (out.record_id, out.result) == (record["recordId"], "ProcessingFailed")
    assert out.data == (record["data"] if isinstance(record.get("data"), str) else "")
    assert result.failed_by_reason == {"invalid_record": 1}
    assert result.response_bytes == len(json.dumps(result.as_response()))


def test_contract_reasons_never_carry_record_content() -> None:
    assert contract_reason(ContractError("metrics.secret_sensor_name: must be finite")) == "contract:metrics"
    assert contract_reason(ContractError("device_id: 'x' must match ...")) == "contract:device_id"
    assert contract_reason(ContractError("something new")) == "contract:other"


# --- a mixed batch ------------------------------------------------------------------------------


def test_a_mixed_batch_keeps_order_and_one_output_per_record(load_event) -> None:
    event = load_event("firehose_kinesis_mixed")
    result = transform_records(event["records"])
    response = result.as_response()["records"]

    assert [r["recordId"] for r in response] == [r["recordId"] for r in event["records"]]
    assert len({r["recordId"] for r in response}) == len(event["records"])
    assert [r["result"] for r in response] == [
        "Ok", "ProcessingFailed", "ProcessingFailed", "ProcessingFailed", "Ok", "ProcessingFailed", "ProcessingFailed", "Ok",
    ]
    assert [(f.index, f.reason) for f in result.failures] == [
        (1, "invalid_base64"), (2, "not_json"), (3, "contract:event_time"), (5, "not_utf8"), (6, "not_object"),
    ]
    for failure in result.failures:
        assert response[failure.index]["data"] == event["records"][failure.index]["data"]
        assert failure.record_id == event["records"][failure.index]["recordId"]
    assert decoded_lines(result) == [EXPECTED_GOOD_LINES[0], EXPECTED_GOOD_LINES[1], EXPECTED_GOOD_LINES[2]]


# --- the response size limit --------------------------------------------------------------------


def growing_batch(firehose_record, count: int) -> list[dict]:
    """Small readings without ingested_at or attributes: normalising them roughly doubles them."""
    return [
        firehose_record(
            json.dumps({"schema_version": 1, "device_id": f"d{i}", "event_time": 1795421702125 + i, "metrics": {"t": i}}).encode(),
            record_id=f"{i:056d}",
        )
        for i in range(count)
    ]


def test_records_that_would_overflow_the_6mb_response_fail_replayably(firehose_record) -> None:
    records = growing_batch(firehose_record, 16_000)
    all_failed_bytes = len(json.dumps({"records": [
        {"recordId": r["recordId"], "result": "ProcessingFailed", "data": r["data"]} for r in records
    ]}))
    assert all_failed_bytes < RESPONSE_BUDGET_BYTES  # every record fits when returned as received

    result = transform_records(records)
    response = result.as_response()

    serialized = len(json.dumps(response).encode("utf-8"))
    assert serialized == result.response_bytes <= RESPONSE_BUDGET_BYTES < 6 * 1024 * 1024
    results = [r["result"] for r in response["records"]]
    first_failed = results.index("ProcessingFailed")
    assert 0 < first_failed < len(records)
    assert results == ["Ok"] * first_failed + ["ProcessingFailed"] * (len(records) - first_failed)
    assert [r["recordId"] for r in response["records"]] == [r["recordId"] for r in records]
    assert result.failed_by_reason == {RESPONSE_SIZE_LIMIT: len(records) - first_failed}
    for out, record in zip(response["records"][first_failed:], records[first_failed:], strict=True):
        assert out["data"] == record["data"]
    # The first refused record really would not have fitted.
    refused = [records[first_failed]]
    growth = transform_records(refused, response_budget=10**9).response_bytes - transform_records(refused, response_budget=0).response_bytes
    assert growth > 0
    assert serialized + growth > RESPONSE_BUDGET_BYTES


def test_once_the_budget_is_spent_every_later_record_fails_even_small_or_bad_ones(firehose_record) -> None:
    records = growing_batch(firehose_record, 4)
    records.insert(3, firehose_record("not base64!", record_id="bad"))
    everything_ok = transform_records(records)
    assert [r.result for r in everything_ok.records] == ["Ok", "Ok", "Ok", "ProcessingFailed", "Ok"]

    ok_growth = len(everything_ok.records[0].data) - len(records[0]["data"])
    budget = transform_records(records, response_budget=0).response_bytes + 2 * (ok_growth + 100)
    result = transform_records(records, response_budget=budget)
    assert [r.result for r in result.records] == ["Ok", "Ok"] + ["ProcessingFailed"] * 3
    assert [f.reason for f in result.failures] == [RESPONSE_SIZE_LIMIT] * 3
    assert [r.data for r in result.records[2:]] == [r["data"] for r in records[2:]]
    assert len(json.dumps(result.as_response())) == result.response_bytes <= budget


def test_with_no_budget_at_all_every_record_is_returned_as_received(firehose_record) -> None:
    records = growing_batch(firehose_record, 3)
    result = transform_records(records, response_budget=0)
    assert [(r.result, r.data) for r in result.records] == [("ProcessingFailed", r["data"]) for r in records]
    assert result.failed_by_reason == {RESPONSE_SIZE_LIMIT: 3}


# --- issue 16: values the curated table could not hold exactly are failed, never altered ------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"schema_version":1,"device_id":"d","event_time":1795421702125,"metrics":{"bytes_total":9007199255316501}}',
         "contract:metrics"),
        (b'{"schema_version":1,"device_id":"d","event_time":1795421702125,"metrics":{"t":1},"attributes":{"label":"sensor \\ud83d"}}',
         "contract:attributes"),
        (b'{"schema_version":1,"device_id":"d","event_time":"2026-11-23T08:15:02.125000001Z","metrics":{"t":1}}',
         "contract:event_time"),
    ],
    ids=["integer-beyond-2^53", "lone-surrogate-escape", "nanoseconds"],
)
def test_a_value_that_cannot_be_kept_exactly_fails_with_its_original_bytes(firehose_record, raw: bytes, reason: str) -> None:
    assert_failed(*one(firehose_record, raw), reason)


def test_exact_large_integers_surrogate_pairs_and_microseconds_pass_unchanged(firehose_record) -> None:
    raw = (
        b'{"schema_version":1,"device_id":"d","event_time":"2026-11-23T09:15:02.1255+01:00",'
        b'"metrics":{"bytes_total":1152921504606846976,"ratio":0.1},"attributes":{"label":"sensor \\ud83d\\ude00"}}'
    )
    _, out, _ = one(firehose_record, raw)
    line = base64.b64decode(out.data).decode("ascii")
    assert '"event_time":"2026-11-23T08:15:02.125500Z"' in line
    assert '"bytes_total":1152921504606846976' in line  # 2^60: a double holds it exactly
    assert json.loads(line)["attributes"] == {"label": "sensor \U0001f600"}
