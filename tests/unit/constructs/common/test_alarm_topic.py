"""AlarmTopic: encrypted, TLS-only topic whose key its publishers can use; DLQ-backed subscriptions."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from constructs_lib import AlarmTopic

EMAILS = ("oncall@example.com", "lead@example.com")


def make(**kwargs) -> tuple[cdk.Stack, AlarmTopic, Template]:
    stack = cdk.Stack(cdk.App(), "Test", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    alarms = AlarmTopic(stack, "Alarms", **kwargs)
    return stack, alarms, Template.from_stack(stack)


@pytest.fixture(scope="module")
def with_subscribers():
    return make(email_subscribers=EMAILS)


def test_topic_is_encrypted_with_its_own_rotating_key(with_subscribers) -> None:
    stack, alarms, template = with_subscribers
    key_id = stack.get_logical_id(alarms.key.node.default_child)
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}})
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_topic_refuses_publishes_without_tls(with_subscribers) -> None:
    _, _, template = with_subscribers
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Action": "sns:Publish", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            }
        },
    )


def key_statements(template: Template) -> dict[str, dict]:
    key = next(iter(template.find_resources("AWS::KMS::Key").values()))
    return {s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"] if "Sid" in s}


def test_each_publishing_service_gets_its_own_key_statement(with_subscribers) -> None:
    _, _, template = with_subscribers
    statements = key_statements(template)
    services = {
        "AllowCloudWatchAlarmsOfThisAccount": "cloudwatch.amazonaws.com",
        "AllowEventBridgeRulesToPublish": "events.amazonaws.com",
        "AllowSnsToWriteToTheDeadLetterQueue": "sns.amazonaws.com",
    }
    for sid, service in services.items():
        assert statements[sid]["Principal"] == {"Service": service}, sid
        assert statements[sid]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"], sid
        assert statements[sid]["Effect"] == "Allow", sid


def test_cloudwatch_may_use_the_key_only_for_this_account(with_subscribers) -> None:
    _, _, template = with_subscribers
    statement = key_statements(template)["AllowCloudWatchAlarmsOfThisAccount"]
    # Both keys CloudWatch sends when it publishes an alarm to an encrypted topic (confused deputy).
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111122223333"},
        "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":cloudwatch:*:111122223333:alarm:*"]]}},
    }


def test_eventbridge_and_sns_grants_carry_no_condition_those_services_do_not_send(with_subscribers) -> None:
    """A source-account condition on these grants would drop every notification at run time."""
    _, _, template = with_subscribers
    statements = key_statements(template)
    assert "Condition" not in statements["AllowEventBridgeRulesToPublish"]
    assert "Condition" not in statements["AllowSnsToWriteToTheDeadLetterQueue"]


def test_each_address_is_subscribed_with_a_redrive_policy(with_subscribers) -> None:
    stack, alarms, template = with_subscribers
    queue_id = stack.get_logical_id(alarms.dead_letter_queue.node.default_child)
    subscriptions = template.find_resources("AWS::SNS::Subscription")
    assert sorted(s["Properties"]["Endpoint"] for s in subscriptions.values()) == sorted(EMAILS)
    for subscription in subscriptions.values():
        assert subscription["Properties"]["Protocol"] == "email"
        assert subscription["Properties"]["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}


def test_dead_letter_queue_is_encrypted_tls_only_and_keeps_messages_14_days(with_subscribers) -> None:
    stack, alarms, template = with_subscribers
    key_id = stack.get_logical_id(alarms.key.node.default_child)
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}, "MessageRetentionPeriod": 14 * 24 * 3600},
    )
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {"PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}},
    )


def test_no_subscribers_means_no_subscriptions_and_no_queue() -> None:
    _, alarms, template = make()
    template.resource_count_is("AWS::SNS::Subscription", 0)
    template.resource_count_is("AWS::SQS::Queue", 0)
    assert alarms.dead_letter_queue is None


def test_key_and_queue_follow_the_removal_policy() -> None:
    _, _, retained = make(email_subscribers=EMAILS[:1])
    retained.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
    retained.has_resource("AWS::SQS::Queue", {"DeletionPolicy": "Retain"})
    _, _, destroyed = make(email_subscribers=EMAILS[:1], removal_policy=cdk.RemovalPolicy.DESTROY)
    destroyed.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Delete"})
    destroyed.has_resource("AWS::SQS::Queue", {"DeletionPolicy": "Delete"})


def test_existing_topic_gets_the_subscriptions_and_no_topic_is_created() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    topic = sns.Topic.from_topic_arn(stack, "Team", "arn:aws:sns:eu-west-1:111122223333:team-alarms")
    alarms = AlarmTopic(stack, "Alarms", email_subscribers=EMAILS[:1], existing_topic=topic)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 0)
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"TopicArn": "arn:aws:sns:eu-west-1:111122223333:team-alarms"}
    )
    assert alarms.topic is topic and alarms.key is None
    # The dead-letter queue still needs a key: a dedicated one is created.
    template.resource_count_is("AWS::KMS::Key", 1)


def test_existing_key_encrypts_the_new_topic() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    key = kms.Key(stack, "TeamKey")
    alarms = AlarmTopic(stack, "Alarms", existing_key=key)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::KMS::Key", 1)
    template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [stack.get_logical_id(key.node.default_child), "Arn"]}}
    )
    assert alarms.key is key


def test_existing_topic_and_existing_key_together_are_rejected() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    topic = sns.Topic.from_topic_arn(stack, "Team", "arn:aws:sns:eu-west-1:111122223333:team-alarms")
    with pytest.raises(ValueError, match="existing_topic or existing_key, not both"):
        AlarmTopic(stack, "Alarms", existing_topic=topic, existing_key=kms.Key(stack, "K"))


def test_duplicate_subscribers_are_rejected() -> None:
    with pytest.raises(ValueError, match="email_subscribers lists .* more than once"):
        make(email_subscribers=("a@example.com", "a@example.com"))
