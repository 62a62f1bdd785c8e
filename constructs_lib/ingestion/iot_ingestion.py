"""IoT Core ingestion: a topic rule that puts device readings on a Kinesis stream.

Devices publish to ``<topic_prefix>/<device_id>/telemetry``. The rule (SQL 2016-03-23) selects
every field and adds ``device_id`` from the topic (the device policy lets a device publish only
under its own thing name, so this id is authenticated) and ``ingested_at`` (epoch millis), then
puts the reading on the stream with the device id as partition key (per-device ordering).

A delivery the rule cannot make (stream throttled or unavailable, key unusable) goes to the
error action: a log group (``error_log_group``), where it is kept and visible, with an alarm
(``alarms["delivery_errors"]``) on the rule's ``Failure`` metric.

The rule's role may do exactly two things: ``kinesis:PutRecord`` on the stream and use the
stream's key to encrypt (``kms:GenerateDataKey``); plus write to the error log group.

``device_policy`` is an IoT policy to attach to device certificates: connect only with the
client id of the attached thing, publish only to that thing's own telemetry topic.
"""

from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot_l1
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_iot_actions_alpha as actions
from aws_cdk import aws_iot_alpha as iot
from constructs import Construct

from constructs_lib.common.monitoring import encrypted_log_group, notify
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import instance, text

#: One lowercase topic level, so that ``topic(2)`` is the device id. config/model.py and
#: scripts/simulate_devices/encoding.py state the same rule (they may not import this library); a test
#: keeps the three equal.
TOPIC_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
THING_NAME = "${iot:Connection.Thing.ThingName}"


def rule_sql(topic_prefix: str) -> str:
    """The rule's SQL: the reading plus the device id from the topic and the ingestion time."""
    return f"SELECT *, topic(2) AS device_id, timestamp() AS ingested_at FROM '{topic_prefix}/+/telemetry'"


class IotTelemetryRule(Construct):
    """Attributes: ``rule``, ``role``, ``error_log_group``, ``device_policy``, ``alarms``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stream: kinesis.IStream,
        topic_prefix: str = "telemetry",
        log_key: kms.IKey,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        check_data_removal_policy(removal_policy, owner="IotTelemetryRule")
        apply_data_removal_policy(self, removal_policy, what="the rule's error log group")
        text("IotTelemetryRule", "topic_prefix", topic_prefix, allow_empty=True)  # the pattern below names the rule
        instance("IotTelemetryRule", "log_key", log_key, kms.IKey)
        if not TOPIC_PREFIX.fullmatch(topic_prefix):
            raise ValueError(
                f"IotTelemetryRule: topic_prefix must match {TOPIC_PREFIX.pattern} (one topic level, "
                f"no wildcards); got {topic_prefix!r}"
            )
        self.topic_prefix = topic_prefix
        self.role: iam.Role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("iot.amazonaws.com"),
            description="IoT topic rule: put telemetry on the stream, log failed deliveries",
        )
        if stream.encryption_key is not None:
            self.role.add_to_policy(
                iam.PolicyStatement(actions=["kms:GenerateDataKey"], resources=[stream.encryption_key.key_arn])
            )
        self.error_log_group: logs.LogGroup = encrypted_log_group(
            self, "ErrorLogGroup", key=log_key, retention=log_retention, removal_policy=removal_policy
        )
        self.rule: iot.TopicRule = iot.TopicRule(
            self,
            "Rule",
            description=f"Telemetry from {topic_prefix}/+/telemetry to the Kinesis stream",
            sql=iot.IotSql.from_string_as_ver20160323(rule_sql(topic_prefix)),
            actions=[actions.KinesisPutRecordAction(stream, partition_key="${topic(2)}", role=self.role)],
            error_action=actions.CloudWatchLogsAction(self.error_log_group, role=self.role),
        )
        self.device_policy = iot_l1.CfnPolicy(self, "DevicePolicy", policy_document=self._device_policy_document())
        self.alarms: dict[str, cloudwatch.Alarm] = {
            "delivery_errors": cloudwatch.Metric(
                namespace="AWS/IoT",
                metric_name="Failure",
                dimensions_map={"RuleName": self.rule.topic_rule_name},
                statistic="Sum",
                period=cdk.Duration.minutes(5),
            ).create_alarm(
                self,
                "DeliveryErrorsAlarm",
                alarm_description="The IoT rule failed to put readings on the stream (they are in the error log group)",
                threshold=0,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        }
        notify(self.alarms, alarm_topic)

    def _device_policy_document(self) -> dict:
        stack = cdk.Stack.of(self)

        def iot_arn(resource: str, name: str) -> str:
            return stack.format_arn(service="iot", resource=resource, resource_name=name)

        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ConnectAsTheAttachedThingOnly",
                    "Effect": "Allow",
                    "Action": "iot:Connect",
                    "Resource": iot_arn("client", THING_NAME),
                    "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "true"}},
                },
                {
                    "Sid": "PublishToOwnTelemetryTopicOnly",
                    "Effect": "Allow",
                    "Action": "iot:Publish",
                    "Resource": iot_arn("topic", f"{self.topic_prefix}/{THING_NAME}/telemetry"),
                },
            ],
        }
