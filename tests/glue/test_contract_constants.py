"""The Glue job's copies of the contract's rules equal the contract (Glue runs the job on its
own, so it cannot import ``telemetry_contract``)."""

from __future__ import annotations

import telemetry_contract as contract

from glue_scripts import raw_to_curated as job


def test_patterns_are_the_contracts() -> None:
    assert job.DEVICE_ID_PATTERN == contract.DEVICE_ID.pattern
    assert job.METRIC_NAME_PATTERN == contract.METRIC_NAME.pattern
    assert job.ATTRIBUTE_NAME_PATTERN == contract.ATTRIBUTE_NAME.pattern


def test_limits_are_the_contracts() -> None:
    assert job.SUPPORTED_SCHEMA_VERSIONS == contract.SUPPORTED_SCHEMA_VERSIONS
    assert job.MAX_METRICS == contract.MAX_METRICS
    assert job.MAX_ATTRIBUTES == contract.MAX_ATTRIBUTES
    assert job.MAX_ATTRIBUTE_VALUE_LENGTH == contract.MAX_ATTRIBUTE_VALUE_LENGTH
    assert job.EARLIEST_EVENT_TIME == contract.EARLIEST_EVENT_TIME
    assert job.LATEST_EVENT_TIME == contract.LATEST_EVENT_TIME


def test_fields_are_the_normalised_ones() -> None:
    assert job.NORMALISED_FIELDS == contract.NORMALISED_FIELDS
    assert job.REQUIRED_FIELDS == contract.REQUIRED_FIELDS + contract.PARTITION_KEYS
    assert job.OPTIONAL_FIELDS == contract.OPTIONAL_FIELDS
    assert sorted(job.REQUIRED_FIELDS + job.OPTIONAL_FIELDS) == sorted(contract.NORMALISED_FIELDS)


def test_the_timestamp_pattern_matches_what_the_contract_writes() -> None:
    import re

    written = contract.format_timestamp(contract.EARLIEST_EVENT_TIME)
    assert re.fullmatch(job.TIMESTAMP_PATTERN, written)
