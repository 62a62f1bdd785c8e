"""IotTelemetryRule: the rule's SQL and actions, a role that can do exactly its job, a device
policy that confines each device to its own topic."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from constructs_lib import IotTelemetryRule, TelemetryStream
from tests.unit.constructs.stack_helpers import alarm_actions, only, stack, topic


def make(**kwargs) -> tuple[cdk.Stack, TelemetryStream, IotTelemetryRule, Template]:
    scope = stack()
    stream = TelemetryStream(scope, "Telemetry")
    rule = IotTelemetryRule(scope, "Iot", stream=stream.stream, log_key=stream.key, **kwargs)
    return scope, stream, rule, Template.from_stack(scope)


@pytest.fixture(scope="module")
def default():
    return make()


def ref(scope: cdk.Stack, construct) -> str:
    return scope.get_logical_id(construct.node.default_child)


def test_rule_sql_adds_device_id_from_the_topic_and_the_ingestion_time(default) -> None:
    _, _, _, template = default
    payload = only(template, "AWS::IoT::TopicRule")["Properties"]["TopicRulePayload"]
    assert payload["AwsIotSqlVersion"] == "2016-03-23"
    assert payload["Sql"] == "SELECT *, topic(2) AS device_id, timestamp() AS ingested_at FROM 'telemetry/+/telemetry'"


def test_rule_puts_on_the_stream_keyed_by_device_and_logs_failures(default) -> None:
    scope, stream, rule, template = default
    payload = only(template, "AWS::IoT::TopicRule")["Properties"]["TopicRulePayload"]
    (action,) = payload["Actions"]
    assert action["Kinesis"]["PartitionKey"] == "${topic(2)}"
    assert action["Kinesis"]["StreamName"] == {"Ref": ref(scope, stream.stream)}
    role_arn = {"Fn::GetAtt": [ref(scope, rule.role), "Arn"]}
    assert action["Kinesis"]["RoleArn"] == role_arn
    assert payload["ErrorAction"]["CloudwatchLogs"] == {"LogGroupName": {"Ref": ref(scope, rule.error_log_group)}, "RoleArn": role_arn}


def test_role_may_put_records_use_the_stream_key_and_write_error_logs_only(default) -> None:
    scope, stream, rule, template = default
    (policy,) = template.find_resources("AWS::IAM::Policy").values()
    granted = {
        (action, json.dumps(s["Resource"]), s["Effect"])
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }

    def arn(construct) -> str:
        return json.dumps({"Fn::GetAtt": [ref(scope, construct), "Arn"]})

    assert granted == {
        ("kinesis:PutRecord", arn(stream.stream), "Allow"),
        ("kms:GenerateDataKey", arn(stream.key), "Allow"),
        *((action, arn(rule.error_log_group), "Allow") for action in ("logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents")),
    }
    template.has_resource_properties(
        "AWS::IAM::Role",
        {"AssumeRolePolicyDocument": {"Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}}]}},
    )


def test_device_policy_confines_each_device_to_its_own_topic(default) -> None:
    _, _, _, template = default
    document = only(template, "AWS::IoT::Policy")["Properties"]["PolicyDocument"]
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert set(statements) == {"ConnectAsTheAttachedThingOnly", "PublishToOwnTelemetryTopicOnly"}
    publish = statements["PublishToOwnTelemetryTopicOnly"]
    assert publish["Action"] == "iot:Publish"
    assert publish["Resource"] == "arn:aws:iot:eu-west-1:111122223333:topic/telemetry/${iot:Connection.Thing.ThingName}/telemetry"
    connect = statements["ConnectAsTheAttachedThingOnly"]
    assert connect["Resource"] == "arn:aws:iot:eu-west-1:111122223333:client/${iot:Connection.Thing.ThingName}"
    assert connect["Condition"] == {"Bool": {"iot:Connection.Thing.IsAttached": "true"}}


def test_error_log_group_is_encrypted_with_the_key_and_kept_as_asked(default) -> None:
    scope, stream, _, template = default
    group = only(template, "AWS::Logs::LogGroup")
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [ref(scope, stream.key), "Arn"]}
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["DeletionPolicy"] == "Retain"


def test_overrides_reach_the_sql_the_policy_and_the_log_group() -> None:
    _, _, _, template = make(topic_prefix="plant-7", log_retention=logs.RetentionDays.ONE_MONTH)
    payload = only(template, "AWS::IoT::TopicRule")["Properties"]["TopicRulePayload"]
    assert payload["Sql"].endswith("FROM 'plant-7/+/telemetry'")
    document = only(template, "AWS::IoT::Policy")["Properties"]["PolicyDocument"]
    assert any(s["Resource"].endswith("topic/plant-7/${iot:Connection.Thing.ThingName}/telemetry") for s in document["Statement"])
    assert only(template, "AWS::Logs::LogGroup")["Properties"]["RetentionInDays"] == 30


def test_delivery_failures_alarm_on_the_rule_and_notify_the_topic() -> None:
    scope = stack()
    stream = TelemetryStream(scope, "Telemetry")
    rule = IotTelemetryRule(scope, "Iot", stream=stream.stream, log_key=stream.key, alarm_topic=topic(scope))
    template = Template.from_stack(scope)
    alarm = rule.alarms["delivery_errors"].node.default_child
    props = template.to_json()["Resources"][scope.get_logical_id(alarm)]["Properties"]
    assert (props["Namespace"], props["MetricName"], props["Threshold"]) == ("AWS/IoT", "Failure", 0)
    assert props["Dimensions"] == [{"Name": "RuleName", "Value": {"Ref": ref(scope, rule.rule)}}]
    assert ["arn:aws:sns:eu-west-1:111122223333:alarms"] in alarm_actions(template)


@pytest.mark.parametrize("prefix", ["", "a/b", "+", "#", "Telemetry", "x" * 33])
def test_a_topic_prefix_that_is_not_one_plain_level_is_rejected(prefix: str) -> None:
    with pytest.raises(ValueError, match="topic_prefix must match"):
        make(topic_prefix=prefix)


def test_removal_policy_reaches_the_error_log_group() -> None:
    _, _, _, template = make(removal_policy=cdk.RemovalPolicy.DESTROY)
    groups = [g for k, g in template.find_resources("AWS::Logs::LogGroup").items() if k.startswith("Iot")]
    assert [g["DeletionPolicy"] for g in groups] == ["Delete"]
