"""Properties of the transform over generated batches: it never raises, keeps one output per input
in order, emits only contract-valid single lines, and returns every failure as received."""

from __future__ import annotations

import base64
import datetime as dt
import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firehose_transform.transform import FAILURE_REASONS, RESPONSE_SIZE_LIMIT, transform_records
from telemetry_contract import NORMALISED_FIELDS, PARTITION_KEYS, parse_reading

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# --- strategies -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)

offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
moments = st.datetimes(min_value=dt.datetime(2000, 1, 2), max_value=dt.datetime(2099, 12, 30), timezones=offsets)


def epoch_millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


timestamps = st.one_of(
    moments.map(lambda m: m.isoformat()),
    moments.map(lambda m: m.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")),
    moments.map(epoch_millis),
)
names = st.builds(
    str.__add__, st.sampled_from(string.ascii_letters), st.text(alphabet=string.ascii_letters + string.digits + "_", max_size=15)
)
numbers = st.integers(min_value=-(2**53), max_value=2**53) | st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def valid_readings(draw) -> dict:
    reading = {
        "schema_version": 1,
        "device_id": draw(st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=40)),
        "event_time": draw(timestamps),
        "metrics": draw(st.dictionaries(names, numbers, min_size=1, max_size=6)),
    }
    attributes = draw(st.none() | st.dictionaries(names, st.text(max_size=30), max_size=4))
    if attributes is not None or draw(st.booleans()):
        reading["attributes"] = attributes
    if draw(st.booleans()):
        reading["ingested_at"] = draw(st.none() | timestamps)
    return reading


almost_readings = st.fixed_dictionaries(
    {},
    optional={
        "schema_version": st.sampled_from([1, 2, True, "1", None]),
        "device_id": st.text(max_size=8) | st.integers(),
        "event_time": timestamps | json_values,
        "metrics": st.dictionaries(st.text(max_size=6), numbers | json_values, max_size=3) | json_values,
        "attributes": st.dictionaries(st.text(max_size=6), st.text(max_size=4) | json_values, max_size=3) | json_values,
        "ingested_at": timestamps | json_values,
        "extra": json_values,
    },
)

payloads = st.one_of(
    st.binary(max_size=300).map(b64),                                  # arbitrary bytes, base64-encoded
    st.text(max_size=60),                                               # arbitrary text, mostly not base64
    st.text(alphabet=string.ascii_letters + string.digits + "+/=", max_size=40),  # base64-ish text
    json_values.map(lambda v: b64(json.dumps(v).encode())),            # arbitrary JSON values
    almost_readings.map(lambda r: b64(json.dumps(r).encode())),        # readings with wrong bits
    valid_readings().map(lambda r: b64(json.dumps(r).encode())),        # valid readings
)


def batch(data: st.SearchStrategy[str], max_size: int = 8):
    return st.lists(
        st.tuples(st.text(min_size=1, max_size=12), data, st.integers(min_value=0, max_value=4_102_444_799_999)),
        max_size=max_size,
        unique_by=lambda item: item[0],
    )


def records_from(items, firehose_record) -> list[dict]:
    return [firehose_record(data, record_id=record_id, arrival_ms=arrival) for record_id, data, arrival in items]


# --- the properties ---------------------------------------------------------------------------


def check_invariants(records: list[dict], result) -> None:
    response = result.as_response()
    assert [r["recordId"] for r in response["records"]] == [r["recordId"] for r in records]
    assert result.processed == len(records) == result.ok + result.failed
    assert sum(result.failed_by_reason.values()) == result.failed
    assert result.response_bytes == len(json.dumps(response).encode("utf-8"))

    failures = {f.index: f for f in result.failures}
    for index, (record, out) in enumerate(zip(records, response["records"], strict=True)):
        if out["result"] == "Ok":
            assert index not in failures
            text = base64.b64decode(out["data"], validate=True).decode("ascii")
            assert text.endswith("\n") and "\n" not in text[:-1] and "\r" not in text
            line = json.loads(text)
            assert list(line) == list(NORMALISED_FIELDS)
            assert out["metadata"] == {"partitionKeys": {"event_date": line["event_date"], "event_hour": line["event_hour"]}}
            assert (line["event_date"], line["event_hour"]) == (line["event_time"][:10], line["event_time"][11:13])
            # The line is a valid reading again, and normalising it changes nothing.
            republished = {key: value for key, value in line.items() if key not in PARTITION_KEYS}
            assert parse_reading(republished) == line
        else:
            assert out["result"] == "ProcessingFailed"
            assert out["data"] == record["data"]
            assert "metadata" not in out
            failure = failures[index]
            assert failure.record_id == record["recordId"]
            assert failure.reason in FAILURE_REASONS or failure.reason.startswith("contract:")


@SETTINGS
@given(items=batch(payloads))
def test_any_batch_gives_one_valid_output_per_record_in_order(items, firehose_record) -> None:
    records = records_from(items, firehose_record)
    check_invariants(records, transform_records(records))


@SETTINGS
@given(items=batch(valid_readings().map(lambda r: b64(json.dumps(r).encode()))))
def test_valid_readings_are_always_ok(items, firehose_record) -> None:
    records = records_from(items, firehose_record)
    result = transform_records(records)
    check_invariants(records, result)
    assert result.failures == []
    for (_, data, arrival), out in zip(items, result.records, strict=True):
        published = json.loads(base64.b64decode(data))
        line = json.loads(base64.b64decode(out.data))
        assert line["device_id"] == published["device_id"]
        assert line["metrics"] == published["metrics"]
        assert line["attributes"] == (published.get("attributes") or {})
        if published.get("ingested_at") is None:  # the arrival time stood in, if it is a plausible time
            arrived = dt.datetime.fromtimestamp(arrival / 1000, tz=dt.timezone.utc)
            expected = arrived.isoformat(timespec="milliseconds").replace("+00:00", "Z") if arrived.year >= 2000 else None
            assert line["ingested_at"] == expected


@SETTINGS
@given(data=st.text(max_size=40) | st.binary(max_size=30).map(b64))
def test_base64_is_judged_exactly_as_strictly_as_b64decode_validate(data, firehose_record) -> None:
    try:
        base64.b64decode(data, validate=True)
        strict_ok = True
    except ValueError:
        strict_ok = False
    (failure,) = transform_records([firehose_record(data)]).failures or [None]
    assert (failure is not None and failure.reason == "invalid_base64") is (not strict_ok)


@SETTINGS
@given(items=batch(payloads, max_size=12), slack=st.integers(min_value=0, max_value=3000))
def test_the_response_never_exceeds_a_budget_the_all_failed_response_fits(items, slack, firehose_record) -> None:
    records = records_from(items, firehose_record)
    budget = transform_records(records, response_budget=0).response_bytes + slack
    result = transform_records(records, response_budget=budget)
    check_invariants(records, result)
    assert result.response_bytes <= budget
    reasons = [f.reason for f in result.failures]
    if RESPONSE_SIZE_LIMIT in reasons:  # once the budget is spent, it stays spent
        first = next(f.index for f in result.failures if f.reason == RESPONSE_SIZE_LIMIT)
        assert [f.index for f in result.failures if f.reason == RESPONSE_SIZE_LIMIT] == list(range(first, len(records)))
