"""EnhancedFanOutConsumer: one registered consumer of the stream, its ARN for the reader, and a read
grant scoped action by action to the resource type each action authorises on."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from constructs_lib import EnhancedFanOutConsumer, TelemetryStream
from tests.unit.constructs.stack_helpers import only, stack
from tests.unit.constructs.template_helpers import arn_of, logical_id, role_statements, via_service


@pytest.fixture(scope="module")
def granted():
    scope = stack()
    telemetry = TelemetryStream(scope, "Telemetry")
    consumer = EnhancedFanOutConsumer(scope, "Consumer", stream=telemetry.stream, consumer_name="anomaly-detection")
    reader = iam.Role(scope, "Reader", assumed_by=iam.ServicePrincipal("kinesisanalytics.amazonaws.com"))
    consumer.grant_read(reader)
    return scope, telemetry, consumer, reader, Template.from_stack(scope)


def test_one_consumer_registered_on_the_stream_by_name(granted) -> None:
    _, telemetry, consumer, _, template = granted
    assert only(template, "AWS::Kinesis::StreamConsumer")["Properties"] == {
        "ConsumerName": "anomaly-detection", "StreamARN": arn_of(telemetry.stream),
    }
    assert cdk.Stack.of(consumer).resolve(consumer.consumer_arn) == {
        "Fn::GetAtt": [logical_id(consumer.consumer), "ConsumerARN"]
    }
    # A registration, not data: it goes with the stack (and stops costing consumer-shard hours).
    assert "DeletionPolicy" not in only(template, "AWS::Kinesis::StreamConsumer")


def test_the_reader_gets_each_action_on_the_resource_type_it_authorises_on_and_nothing_else(granted) -> None:
    _, telemetry, consumer, reader, template = granted
    consumer_arn = {"Fn::GetAtt": [logical_id(consumer.consumer), "ConsumerARN"]}
    assert role_statements(template, reader) == [
        {"Action": ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards"],
         "Effect": "Allow", "Resource": arn_of(telemetry.stream)},
        {"Action": ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"], "Effect": "Allow", "Resource": consumer_arn},
        {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": arn_of(telemetry.key),
         "Condition": {"StringEquals": {"kms:ViaService": via_service("kinesis")}}},
    ]


def test_no_polling_registration_or_listing_action_is_granted(granted) -> None:
    *_, reader, template = granted
    actions = {a for s in role_statements(template, reader) for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not actions & {"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:RegisterStreamConsumer",
                          "kinesis:DeregisterStreamConsumer", "kinesis:ListStreams"}


def test_an_imported_stream_takes_the_key_given_and_an_unencrypted_one_needs_none() -> None:
    scope = stack()
    stream = kinesis.Stream.from_stream_arn(scope, "Imported", "arn:aws:kinesis:eu-west-1:111122223333:stream/telemetry")
    consumer = EnhancedFanOutConsumer(scope, "Consumer", stream=stream, consumer_name="reader.v2")
    with_key = iam.Role(scope, "WithKey", assumed_by=iam.AccountRootPrincipal())
    without = iam.Role(scope, "Without", assumed_by=iam.AccountRootPrincipal())
    key = kms.Key.from_key_arn(scope, "StreamKey", "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555")
    consumer.grant_read(with_key, key)
    consumer.grant_read(without)
    template = Template.from_stack(scope)
    assert [s["Resource"] for s in role_statements(template, with_key) if s["Action"] == "kms:Decrypt"] == [key.key_arn]
    assert not [s for s in role_statements(template, without) if "kms" in str(s["Action"])]
    assert role_statements(template, without)[0]["Resource"] == "arn:aws:kinesis:eu-west-1:111122223333:stream/telemetry"
