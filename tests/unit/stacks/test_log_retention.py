"""Log retention: the stacks' day-to-enum mapping is complete, exact, and agrees with config."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from config.model import CLOUDWATCH_RETENTION_DAYS
from stacks.log_retention import RETENTION_PERIODS, retention_days


def test_the_stacks_accept_exactly_the_periods_config_allows() -> None:
    assert RETENTION_PERIODS == CLOUDWATCH_RETENTION_DAYS


def test_every_period_synthesises_as_that_many_days() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    groups = {days: logs.LogGroup(stack, f"G{days}", retention=retention_days(days)) for days in RETENTION_PERIODS}
    rendered = Template.from_stack(stack).to_json()["Resources"]
    for days, group in groups.items():
        assert rendered[stack.get_logical_id(group.node.default_child)]["Properties"]["RetentionInDays"] == days


def test_an_unknown_period_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="10 is not a CloudWatch Logs retention period; allowed: 1, 3, 5"):
        retention_days(10)
