"""TelemetryStream: CMK-encrypted stream, capacity and retention as asked, three alarms."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from constructs_lib import TelemetryStream
from tests.unit.constructs.stack_helpers import alarm_actions, only, stack, topic


def make(**kwargs) -> tuple[cdk.Stack, TelemetryStream, Template]:
    scope = stack()
    built = TelemetryStream(scope, "Telemetry", **kwargs)
    return scope, built, Template.from_stack(scope)


def test_default_is_on_demand_24h_encrypted_with_its_own_rotating_key() -> None:
    scope, built, template = make()
    props = only(template, "AWS::Kinesis::Stream")["Properties"]
    assert props["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert "ShardCount" not in props
    assert props["RetentionPeriodHours"] == 24
    key_id = scope.get_logical_id(built.key.node.default_child)
    assert props["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_key_lets_cloudwatch_logs_of_this_account_and_region_use_it() -> None:
    _, _, template = make()
    statements = only(template, "AWS::KMS::Key")["Properties"]["KeyPolicy"]["Statement"]
    logs = next(s for s in statements if s.get("Sid") == "AllowCloudWatchLogsOfThisAccount")
    assert logs["Principal"] == {"Service": {"Fn::Join": ["", ["logs.eu-west-1.", {"Ref": "AWS::URLSuffix"}]]}}
    assert logs["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:111122223333:log-group:*"}
    }


def test_shard_count_makes_it_provisioned_and_retention_is_applied() -> None:
    _, _, template = make(shard_count=3, retention=cdk.Duration.hours(168))
    props = only(template, "AWS::Kinesis::Stream")["Properties"]
    assert props["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert props["ShardCount"] == 3
    assert props["RetentionPeriodHours"] == 168


def test_three_alarms_with_the_iterator_age_threshold_given() -> None:
    _, built, template = make(max_iterator_age=cdk.Duration.minutes(30))
    assert set(built.alarms) == {"iterator_age", "write_throttling", "read_throttling"}
    alarms = {a["Properties"]["MetricName"]: a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()}
    assert alarms["GetRecords.IteratorAgeMilliseconds"]["Threshold"] == 30 * 60 * 1000
    assert alarms["GetRecords.IteratorAgeMilliseconds"]["Statistic"] == "Maximum"
    for metric in ("WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded"):
        assert alarms[metric]["Threshold"] == 0
        assert alarms[metric]["ComparisonOperator"] == "GreaterThanThreshold"


def test_alarms_notify_the_topic_when_one_is_given() -> None:
    scope = stack()
    TelemetryStream(scope, "Telemetry", alarm_topic=topic(scope))
    template = Template.from_stack(scope)
    assert alarm_actions(template) == [["arn:aws:sns:eu-west-1:111122223333:alarms"]] * 3
    _, _, silent = make()
    assert alarm_actions(silent) == [None] * 3


def test_existing_key_is_used_and_none_created() -> None:
    scope = stack()
    key = kms.Key.from_key_arn(scope, "Team", "arn:aws:kms:eu-west-1:111122223333:key/abcd")
    built = TelemetryStream(scope, "Telemetry", existing_key=key)
    template = Template.from_stack(scope)
    template.resource_count_is("AWS::KMS::Key", 0)
    assert only(template, "AWS::Kinesis::Stream")["Properties"]["StreamEncryption"]["KeyId"] == key.key_arn
    assert built.key is key


def test_removal_policy_reaches_stream_and_key() -> None:
    _, _, retained = make()
    assert only(retained, "AWS::Kinesis::Stream")["DeletionPolicy"] == "Retain"
    _, _, destroyed = make(removal_policy=cdk.RemovalPolicy.DESTROY)
    assert only(destroyed, "AWS::Kinesis::Stream")["DeletionPolicy"] == "Delete"
    assert only(destroyed, "AWS::KMS::Key")["DeletionPolicy"] == "Delete"


def test_a_shard_count_below_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="shard_count must be >= 1"):
        make(shard_count=0)
