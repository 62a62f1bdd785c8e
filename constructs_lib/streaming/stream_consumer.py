"""An enhanced fan-out consumer of a Kinesis data stream, dedicated to one reader.

A polling reader (GetRecords) shares each shard's 2 MB/s of reads with every other polling reader,
the Firehose deliveries among them. A registered consumer reads through SubscribeToShard with a
read throughput of its own per shard, so a new reader takes nothing from the others (Kinesis Data
Streams Developer Guide, "Develop enhanced fan-out consumers with dedicated throughput").

The consumer is a registration, not data: deleting it loses nothing, and a registered consumer is
billed per consumer-shard hour, so it goes with its stack (CloudFormation's default, kept).
Renaming it replaces it, and the replacement has a new ARN (the ARN ends with the registration
time); pass ``consumer_arn`` on as a token so that its reader follows.

What a reader needs, each action on the resource type the Service Authorization Reference
("Actions, resources, and condition keys for Amazon Kinesis Data Streams") lists for it:

- on the stream (``stream``): ``kinesis:DescribeStream`` and ``kinesis:DescribeStreamSummary`` (the
  stream's ARN and status: flink-connector-kinesis 4.x calls DescribeStream, the 5.x source
  DescribeStreamSummary) and ``kinesis:ListShards`` (shard discovery);
- on the consumer (``consumer``): ``kinesis:SubscribeToShard`` (the reads themselves) and
  ``kinesis:DescribeStreamConsumer`` (the 5.x source checks the consumer is ACTIVE);
- ``kms:Decrypt`` on the stream's key, through Kinesis only (``kms:ViaService``).

Not granted: ``GetShardIterator`` and ``GetRecords`` (polling reads, which an enhanced fan-out reader
never makes), ``RegisterStreamConsumer`` and ``DeregisterStreamConsumer`` (the consumer is
registered here, so the reader runs with registration ``NONE``), ``ListStreams`` (no resource-level
permission, and no reader of a known stream needs it).
"""

from __future__ import annotations

import re

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.common.validation import instance, text
from constructs_lib.governance.lake_access import KMS_READ_ACTIONS, key_statement

OWNER = "EnhancedFanOutConsumer"

#: Authorised on the stream (resource type ``stream``).
STREAM_ACTIONS = ("kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards")
#: Authorised on the consumer (resource type ``consumer``).
CONSUMER_ACTIONS = ("kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard")
#: RegisterStreamConsumer's ConsumerName: 1 to 128 of these (Kinesis API Reference).
CONSUMER_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,128}")


def grant_consumer_read(grantee: iam.IGrantable, consumer: kinesis.IStreamConsumer, key: kms.IKey | None = None) -> None:
    """Let ``grantee`` read ``consumer``'s stream through it (see the module docstring). ``key``
    defaults to the stream's own; pass it for an imported stream encrypted with a customer-managed
    key (an AWS-managed ``aws/kinesis`` key needs no grant)."""
    owner = "grant_consumer_read"
    instance(owner, "grantee", grantee, iam.IGrantable)
    instance(owner, "consumer", consumer, kinesis.IStreamConsumer)
    if key is not None:
        instance(owner, "key", key, kms.IKey)
    stream = consumer.stream
    statements = [
        iam.PolicyStatement(actions=list(STREAM_ACTIONS), resources=[stream.stream_arn]),
        iam.PolicyStatement(actions=list(CONSUMER_ACTIONS), resources=[consumer.stream_consumer_arn]),
    ]
    key = key if key is not None else stream.encryption_key
    if key is not None:
        statements.append(key_statement(key, KMS_READ_ACTIONS, via="kinesis"))
    for statement in statements:
        grantee.grant_principal.add_to_principal_policy(statement)


class EnhancedFanOutConsumer(Construct):
    """Attributes: ``consumer`` (the ``kinesis.StreamConsumer``), ``consumer_arn``,
    ``consumer_name``, ``stream``."""

    def __init__(self, scope: Construct, construct_id: str, *, stream: kinesis.IStream, consumer_name: str) -> None:
        """``consumer_name`` must be unique among the stream's consumers (registering a taken name fails)."""
        super().__init__(scope, construct_id)
        instance(OWNER, "stream", stream, kinesis.IStream)
        text(OWNER, "consumer_name", consumer_name)
        if not CONSUMER_NAME.fullmatch(consumer_name):
            raise ValueError(
                f"{OWNER}: consumer_name must be 1 to 128 letters, digits, '_', '.' or '-'; got {consumer_name!r}"
            )
        self.stream: kinesis.IStream = stream
        self.consumer: kinesis.StreamConsumer = kinesis.StreamConsumer(
            self, "Consumer", stream=stream, stream_consumer_name=consumer_name
        )
        self.consumer_arn: str = self.consumer.stream_consumer_arn
        self.consumer_name: str = consumer_name

    def grant_read(self, grantee: iam.IGrantable, key: kms.IKey | None = None) -> None:
        """What a reader of this consumer needs, no more (:func:`grant_consumer_read`)."""
        grant_consumer_read(grantee, self.consumer, key)
