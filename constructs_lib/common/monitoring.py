"""Small pieces every monitored construct shares: encrypted log groups and alarm notification."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct


def allow_cloudwatch_logs(key: kms.Key) -> None:
    """Let CloudWatch Logs use ``key`` for this account's log groups in this region only.

    Log group encryption is done by the Logs service principal, which the key policy must name;
    the encryption-context condition limits it to log groups of this account and region."""
    stack = cdk.Stack.of(key)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.{stack.url_suffix}")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )


def encrypted_log_group(
    scope: Construct,
    construct_id: str,
    *,
    key: kms.IKey,
    retention: logs.RetentionDays,
    removal_policy: cdk.RemovalPolicy,
) -> logs.LogGroup:
    """A KMS-encrypted log group. The key must let CloudWatch Logs use it: call
    :func:`allow_cloudwatch_logs` on a key you create (TelemetryStream does so for its own key);
    an imported key must allow it in its own policy, or the log group fails to deploy."""
    return logs.LogGroup(
        scope, construct_id, encryption_key=key, retention=retention, removal_policy=removal_policy
    )


def check_topic_region(scope: Construct, topic: sns.ITopic, *, owner: str, sender: str) -> None:
    """Refuse a topic in another region than ``scope``'s stack, naming both regions.

    Neither sender can reach it: CloudWatch's PutMetricAlarm accepts only SNS actions in the
    alarm's own region ("Invalid region <topic's> specified. Only <alarm's> is supported"), and an
    EventBridge rule's targets must be in the rule's region (its only cross-region target is an
    event bus). Compared only when both regions are known at synth."""
    region = cdk.Stack.of(scope).region
    topic_region = topic.env.region
    if cdk.Token.is_unresolved(region) or cdk.Token.is_unresolved(topic_region) or region == topic_region:
        return
    raise ValueError(
        f"{owner}: alarm_topic is in {topic_region} but {scope.node.path!r} is in {region}: {sender} can "
        f"only notify an SNS topic in its own region. Create an AlarmTopic in {region} (an SNS "
        f"subscription can forward to a queue or function in {topic_region})"
    )


def notify(alarms: dict[str, cloudwatch.Alarm], topic: sns.ITopic | None) -> None:
    """Send every alarm's ALARM and OK transitions to ``topic`` (nothing when it is ``None``).
    The topic must be in the alarms' region (:func:`check_topic_region`)."""
    if topic is None:
        return
    for alarm in alarms.values():
        owner = type(alarm.node.scope).__name__ if alarm.node.scope is not None else "notify"
        check_topic_region(alarm, topic, owner=owner, sender="a CloudWatch alarm")
        break
    action = cloudwatch_actions.SnsAction(topic)
    for alarm in alarms.values():
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
