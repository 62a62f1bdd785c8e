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
    """Both canonical widths: milliseconds, and microseconds when the sub-millisecond part is
    not zero (issue 16)."""
    import datetime as dt
    import re

    for microsecond in (0, 125_000, 125_500, 1, 999_999):
        written = contract.format_timestamp(contract.EARLIEST_EVENT_TIME.replace(microsecond=microsecond))
        assert re.fullmatch(job.TIMESTAMP_PATTERN, written), written
        assert contract.parse_timestamp(written, "t") == contract.EARLIEST_EVENT_TIME + dt.timedelta(microseconds=microsecond)


#: Integers around the edges of what a double holds exactly (issue 16).
INTEGERS = [
    2**53, 2**53 + 1, 2**53 + 2, 9007199255316501, 2**60, 2**60 + 1, 2**63 - 1, 2**63, -(2**63), 2**63 + 2048,
    2**64 - 2048, 2**64 - 1, 10**20, 10**20 + 1, 2**100, 2**100 + 2**48, 2**125, 2**125 + 2**72, -(2**53) - 1,
]


def test_the_job_and_the_contract_agree_on_which_integers_are_exact(spark) -> None:
    """The job's exact-decimal check gives the contract's answer for every integer below 2^126."""
    from tests.glue.readings import line, normalised

    good = normalised()
    lines = {number: line({**good, "metrics": {"n": number}}) for number in INTEGERS}
    frame = spark.createDataFrame([(text, "t") for text in lines.values()], "raw_line string, source_file string")
    reasons = {row["raw_line"]: row["reason"] for row in job.validate(frame).collect()}
    for number, text in lines.items():
        try:
            contract.parse_reading({key: good[key] for key in contract.REQUIRED_FIELDS} | {"metrics": {"n": number}})
            accepted = True
        except contract.ContractError:
            accepted = False
        assert accepted is (float(number) == number), number
        assert reasons[text] == (None if accepted else job.INEXACT_METRIC), number
