"""The SNS topic that an environment's alarms and failure events publish to.

Fixed (security): the topic is encrypted with a customer-managed key (the AWS-managed SNS key
cannot be used by CloudWatch or EventBridge, so their notifications would be dropped) and
refuses publishes that do not use TLS. The key lets exactly the services that need it use it,
one statement per service, each with the narrowest condition that service supports:

- CloudWatch alarms: only alarms of this account (``aws:SourceAccount``, and ``aws:SourceArn``
  like ``arn:<partition>:cloudwatch:*:<account>:alarm:*``, any region so that a topic can serve
  alarms of another region). The Amazon SNS developer guide documents both keys for a service
  principal's KMS grant ("Enable compatibility between event sources from AWS services and
  encrypted topics", https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
- EventBridge rules: unconditioned. The same SNS guide section says that adding
  ``aws:SourceAccount``, ``aws:SourceArn`` or ``aws:SourceOrgID`` to the KMS key policy is not
  supported for EventBridge-to-encrypted-topic delivery: a condition would make every notification
  fail silently. Who may publish is controlled by the topic policy, which the rule target adds for
  its own rule only.
- SNS (writing undeliverable notifications to the encrypted dead-letter queue): unconditioned,
  as in the key policy the Amazon SQS developer guide documents for AWS services that send to
  encrypted queues ("Configure KMS permissions for AWS services",
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html),
  which names no condition key; which topic may send to the queue is controlled by the queue
  policy.

A condition a service does not send fails closed at run time with nothing at synth, so no
condition is added here that the service is not documented to support.

Subscriptions have a redrive policy: a notification that cannot be delivered lands in an
encrypted dead-letter queue (kept 14 days) instead of being lost.

Tunable: the e-mail subscribers and the removal policy of the key and queue. An existing
topic can be passed in; subscriptions are then added to it.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.common.dead_letters import dead_letter_queue
from constructs_lib.common.encryption import rotating_key
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import instance, string_list

#: The two operations a publisher (or SNS writing to an encrypted queue) needs on the key.
KEY_USE_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


class AlarmTopic(Construct):
    """Attributes: ``topic``; ``key`` (``None`` when an existing topic was passed in);
    ``dead_letter_queue`` (``None`` when there are no subscribers)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        email_subscribers: Sequence[str] = (),
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        existing_topic: sns.ITopic | None = None,
        existing_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        check_data_removal_policy(removal_policy, owner="AlarmTopic")
        email_subscribers = string_list("AlarmTopic", "email_subscribers", email_subscribers, unique=True)
        if existing_topic is not None:
            instance("AlarmTopic", "existing_topic", existing_topic, sns.ITopic)
        if existing_key is not None:
            instance("AlarmTopic", "existing_key", existing_key, kms.IKey)
        if existing_topic is not None and existing_key is not None:
            raise ValueError(
                "AlarmTopic: pass existing_topic or existing_key, not both (an existing topic "
                "already has its key)"
            )
        # What removal_policy acts on: the keys and queue this construct creates, never a resource passed in.
        created = ["key"] if existing_topic is None and existing_key is None else []
        if email_subscribers:
            created += ["dead-letter queue"] + (["dead-letter queue's key"] if existing_topic is not None else [])
        if not created and removal_policy == cdk.RemovalPolicy.DESTROY:
            given = "existing_topic" if existing_topic is not None else "existing_key"
            raise ValueError(
                f"AlarmTopic: removal_policy=DESTROY has no effect with {given} and no email_subscribers (the "
                "construct then creates no key or queue, and never deletes a resource passed in); leave it out"
            )
        apply_data_removal_policy(self, removal_policy, what="the alarm topic's " + " and ".join(created))
        self._removal_policy = removal_policy

        if existing_topic is not None:
            self.key: kms.IKey | None = None
            self.topic: sns.ITopic = existing_topic
        else:
            self.key = self._new_key("Key") if existing_key is None else existing_key
            self.topic = sns.Topic(self, "Topic", master_key=self.key, enforce_ssl=True)

        self.dead_letter_queue: sqs.Queue | None = None
        if email_subscribers:
            queue_key = self._new_key("DeadLetterKey") if self.key is None else self.key
            self.dead_letter_queue = dead_letter_queue(
                self,
                "DeadLetterQueue",
                key=queue_key,
                removal_policy=removal_policy,
                dead_letters_of="the alarm topic's e-mail subscriptions (SNS redrive policy)",
            )
        for address in email_subscribers:
            self.topic.add_subscription(
                subscriptions.EmailSubscription(address, dead_letter_queue=self.dead_letter_queue)
            )

    def _new_key(self, construct_id: str) -> kms.Key:
        key = rotating_key(
            self,
            construct_id,
            description="Encrypts the alarm topic and its dead-letter queue",
            removal_policy=self._removal_policy,
        )
        stack = cdk.Stack.of(self)
        alarms_of_this_account = f"arn:{stack.partition}:cloudwatch:*:{stack.account}:alarm:*"
        grants = (
            ("AllowCloudWatchAlarmsOfThisAccount", "cloudwatch.amazonaws.com",
             {"StringEquals": {"aws:SourceAccount": stack.account}, "ArnLike": {"aws:SourceArn": alarms_of_this_account}}),
            ("AllowEventBridgeRulesToPublish", "events.amazonaws.com", None),
            ("AllowSnsToWriteToTheDeadLetterQueue", "sns.amazonaws.com", None),
        )
        for sid, service, conditions in grants:
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ServicePrincipal(service)],
                    actions=list(KEY_USE_ACTIONS),
                    resources=["*"],
                    conditions=conditions,
                )
            )
        return key
