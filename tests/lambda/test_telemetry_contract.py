"""The telemetry contract's edge cases: each of these once slipped through or raised."""

from __future__ import annotations

import datetime as dt

import pytest

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
