"""Encrypted dead-letter queues: where a notification that cannot be delivered waits instead
of being lost."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

#: The longest retention SQS allows: time to notice, inspect and replay what was not delivered.
DEAD_LETTER_RETENTION = cdk.Duration.days(14)
#: cdk-nag wants every queue to have a dead-letter queue of its own; a dead-letter queue is the end.
_DLQ_RULES = ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy")
#: AwsSolutions-SQS3 recognises a queue that a Lambda function's DeadLetterConfig names (it does
#: not recognise SNS or EventBridge redrive targets); the Serverless rule recognises neither.
_LAMBDA_DLQ_RULES = ("Serverless-SQSRedrivePolicy",)


def dead_letter_queue(
    scope: Construct,
    construct_id: str,
    *,
    key: kms.IKey,
    removal_policy: cdk.RemovalPolicy,
    dead_letters_of: str,
    of_a_lambda_function: bool = False,
) -> sqs.Queue:
    """A KMS-encrypted, TLS-only queue kept 14 days, acknowledged as the dead-letter queue of
    ``dead_letters_of`` (say whose, e.g. "the alarm topic's subscriptions (SNS redrive policy)").
    Set ``of_a_lambda_function`` when a function's DeadLetterConfig names the queue: cdk-nag then
    sees it as a dead-letter queue for one of its rules, and acknowledging that rule would be stale.
    The key must let the sending service use it."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=DEAD_LETTER_RETENTION,
        removal_policy=removal_policy,
    )
    reason = (
        f"This queue is itself the dead-letter queue of {dead_letters_of}, which cdk-nag does not "
        "recognise as one. It has no consumer: undelivered messages wait in it for 14 days to be "
        "inspected and replayed, so a dead-letter queue of its own would only move them once more."
    )
    rules = _LAMBDA_DLQ_RULES if of_a_lambda_function else _DLQ_RULES
    cdk.Validations.of(queue).acknowledge(*(cdk.Acknowledgment(id=rule_id, reason=reason) for rule_id in rules))
    return queue
