"""The telemetry contract's edge cases: each of these once slipped through or raised."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import telemetry_contract as contract

UTC = dt.timezone.utc
VALID = contract.build_reading("pump-1", dt.datetime(2026, 11, 23, 9, 15, 2, 125000, tzinfo=dt.timezone(dt.timedelta(hours=1))), {"t": 1})


def test_normalises_to_utc_with_milliseconds_and_event_time_partitions() -> None:
    reading = contract.parse_reading({**VALID, "ingested_at": 1795425302250})
    assert reading["event_time"] == "2026-11-23T08:15:02.125Z"
    assert reading["ingested_at"] == "2026-11-23T09:15:02.250Z"
    assert (reading["event_date"], reading["event_hour"]) == ("2026-11-23", "08")
    assert list(reading) == list(contract.NORMALISED_FIELDS)


def test_arrival_time_stands_in_only_when_the_rule_added_no_ingestion_time() -> None:
    arrival = dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert contract.parse_reading(VALID, arrival_time=arrival)["ingested_at"] == "2026-11-23T10:00:00.000Z"
    with_rule = contract.parse_reading({**VALID, "ingested_at": 1795425302250}, arrival_time=arrival)
    assert with_rule["ingested_at"] == "2026-11-23T09:15:02.250Z"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"device_id": "pump-1\n"}, "device_id"),
        ({"metrics": {"temp\n": 1}}, "metrics"),
        ({"attributes": {"site\n": "x"}}, "attributes"),
        ({"event_time": 10**400}, "event_time"),
        ({"metrics": {"t": 10**400}}, "metrics.t"),
        ({"metrics": {"t": float("nan")}}, "metrics.t"),
        ({"event_time": 12}, "event_time"),  # 1970: seconds sent as millis
        ({"event_time": "2026-11-23T09:00:00"}, "event_time"),  # no offset
        ({"schema_version": True}, "schema_version"),
        ({"schema_version": 1.0}, "schema_version"),  # the curated column is an integer
    ],
)
def test_edge_cases_are_contract_errors_naming_the_field(change: dict, field: str) -> None:
    with pytest.raises(contract.ContractError, match=rf"^{field}"):
        contract.parse_reading({**VALID, **change})


def test_a_naive_event_time_is_refused_when_building() -> None:
    with pytest.raises(contract.ContractError, match="no UTC offset"):
        contract.build_reading("pump-1", dt.datetime(2026, 1, 1), {"t": 1})


# --- Issue 16: nothing the contract accepts is altered on its way to the curated table ----------


@pytest.mark.parametrize(
    "number",
    [2**53 + 1, 9007199255316501, -(2**53) - 1, 2**64 - 1, 10**20 + 1],
    ids=["2^53+1", "byte-counter", "-(2^53+1)", "u64-max", "1e20+1"],
)
def test_an_integer_a_double_cannot_hold_exactly_is_rejected_naming_the_metric(number: int) -> None:
    with pytest.raises(contract.ContractError, match=r"^metrics\.bytes_total: integer .* not exactly representable"):
        contract.parse_reading({**VALID, "metrics": {"t": 1, "bytes_total": number}})


@pytest.mark.parametrize(
    "number",
    [2**53, -(2**53), 2**60, 2**64 - 2048, 2**100, 0.1, 1e-05, 9007199254740993.0, -0.0],
    ids=["2^53", "-2^53", "2^60", "u64-2048", "2^100", "0.1", "1e-05", "decimal-literal-beyond-2^53", "-0.0"],
)
def test_exact_integers_and_any_decimal_are_kept_as_they_are(number: float) -> None:
    """Integers a double holds exactly pass; a decimal literal is a double by nature (the rule
    is about integer literals only)."""
    assert contract.parse_reading({**VALID, "metrics": {"m": number}})["metrics"] == {"m": number}


@pytest.mark.parametrize(
    "text",
    ["sensor \ud83d", "\ude00 after", "\ude00\ud83d", "a\udfffb"],
    ids=["lone-high", "lone-low", "reversed-pair", "lone-low-inside"],
)
def test_an_attribute_value_that_is_not_valid_unicode_is_rejected(text: str) -> None:
    with pytest.raises(contract.ContractError, match=r"^attributes\.label: not valid Unicode"):
        contract.parse_reading({**VALID, "attributes": {"label": text}})


def test_every_other_place_a_string_lands_refuses_a_lone_surrogate() -> None:
    """device_id and the names of metrics and attributes are ASCII by pattern."""
    for change, field in (
        ({"device_id": "pump-\ud83d"}, "device_id"),
        ({"metrics": {"t\ud83d": 1}}, "metrics"),
        ({"attributes": {"s\ud83d": "x"}}, "attributes"),
        ({"event_time": "2026-11-23T08:15:02\ud83dZ"}, "event_time"),
    ):
        with pytest.raises(contract.ContractError, match=rf"^{field}"):
            contract.parse_reading({**VALID, **change})


def test_a_valid_surrogate_pair_is_one_character_and_kept() -> None:
    reading = contract.parse_reading({**VALID, "attributes": {"label": "sensor \U0001f600 Lübeck"}})
    assert reading["attributes"] == {"label": "sensor \U0001f600 Lübeck"}


@pytest.mark.parametrize(
    ("published", "normalised"),
    [
        ("2026-11-23T09:15:02.1255+01:00", "2026-11-23T08:15:02.125500Z"),
        ("2026-11-23T08:15:02.000001Z", "2026-11-23T08:15:02.000001Z"),
        ("2026-11-23T08:15:02.125000Z", "2026-11-23T08:15:02.125Z"),
        ("2026-11-23T08:15:02.125000000Z", "2026-11-23T08:15:02.125Z"),
        ("2026-11-23T08:15:02.1234560+00:00", "2026-11-23T08:15:02.123456Z"),
        ("2026-11-23T08:15:02Z", "2026-11-23T08:15:02.000Z"),
        (1795421702125, "2026-11-23T08:15:02.125Z"),
        (1795421702125.5, "2026-11-23T08:15:02.125500Z"),
        (1795421702125.001, "2026-11-23T08:15:02.125001Z"),
        (1795421702125.0, "2026-11-23T08:15:02.125Z"),
    ],
)
def test_event_times_keep_microseconds_in_one_canonical_form(published, normalised: str) -> None:
    """Milliseconds, and six digits only when the sub-millisecond part is not zero: every
    instant has exactly one text, and every line written before microseconds were kept is
    still in the canonical form."""
    assert contract.parse_reading({**VALID, "event_time": published})["event_time"] == normalised


def test_readings_half_a_millisecond_apart_stay_distinct() -> None:
    first = contract.parse_reading({**VALID, "event_time": "2026-11-23T08:15:02.125000Z"})
    second = contract.parse_reading({**VALID, "event_time": "2026-11-23T08:15:02.125500Z"})
    assert first["event_time"] != second["event_time"]


@pytest.mark.parametrize(
    "published",
    ["2026-11-23T08:15:02.1234567Z", "2026-11-23T08:15:02.125000001+00:00", "2026-11-23T08:15:02,1234567Z", 1795421702125.1234],
    ids=["7-digits", "9-digits", "comma-7-digits", "epoch-millis-sub-microsecond"],
)
def test_a_time_finer_than_a_microsecond_is_rejected_not_truncated(published) -> None:
    with pytest.raises(contract.ContractError, match=r"^event_time: .*finer than a microsecond"):
        contract.parse_reading({**VALID, "event_time": published})


@settings(max_examples=300, deadline=None)
@given(number=st.integers(min_value=-(2**80), max_value=2**80) | st.integers(min_value=-(2**200), max_value=2**200).map(lambda n: n * 2**40))
def test_an_integer_metric_is_accepted_exactly_when_a_double_holds_it(number: int) -> None:
    try:
        metrics = contract.parse_reading({**VALID, "metrics": {"n": number}})["metrics"]
    except contract.ContractError:
        assert float(number) != number
    else:
        assert metrics == {"n": number} and float(number) == number


@settings(max_examples=300, deadline=None)
@given(moment=st.datetimes(min_value=dt.datetime(2000, 1, 2), max_value=dt.datetime(2099, 12, 30), timezones=st.just(UTC)))
def test_any_microsecond_time_round_trips_through_its_one_canonical_text(moment: dt.datetime) -> None:
    text = contract.format_timestamp(moment)
    assert contract.parse_timestamp(text, "t") == moment
    fraction = text[20:-1]
    assert len(fraction) == 3 or (len(fraction) == 6 and not fraction.endswith("000"))
