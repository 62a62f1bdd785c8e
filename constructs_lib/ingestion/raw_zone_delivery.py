"""Firehose from a Kinesis stream to the raw zone, through a Lambda transform.

What lands where, in the destination bucket:

- ``<data_prefix>event_date=YYYY-MM-DD/event_hour=HH/``: the transformed records, GZIP JSON
  lines, partitioned dynamically by the partition keys the transform returns (event time, not
  arrival time);
- ``errors/<data_prefix>!{firehose:error-output-type}/YYYY/MM/dd/HH/``: records the transform
  marked ProcessingFailed (with their original data) and records Firehose could not deliver;
- ``backup/<data_prefix>YYYY/MM/dd/HH/``: every source record as it came off the stream, so a
  bad transform can be replayed.

With a Kinesis stream as source Firehose retries for as long as the stream retains records, and
its own server-side encryption cannot be set: the stream's key protects data in transit through
it, and the destination key (``destination_key``) protects it at rest.

Alarms (``alarms``): ``data_freshness`` (oldest undelivered record too old), ``source_throttling``
(Firehose throttled reading the stream), ``transform_failures`` (processor invocations failing),
``transform_errors`` / ``transform_throttles`` (the function itself), ``invalid_records``
(records the transform rejected; they are in the error prefix), ``delivery_failures`` (writes to
S3 failing).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.common.firehose_processing import (
    ABOVE,
    BELOW,
    DEFAULT_METRICS_NAMESPACE,
    FIREHOSE_SSE_WITH_KINESIS_SOURCE,
    TRANSFORM_ARCHITECTURE,
    TRANSFORM_RUNTIME,
    create_alarms,
    firehose_metric,
    transform_alarm_specs,
    transform_function,
)
from constructs_lib.common.monitoring import encrypted_log_group, notify
from constructs_lib.common.nag import acknowledge, acknowledge_resources
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import instance, string_list, text
from constructs_lib.governance.lake_access import KMS_WRITE_ACTIONS, key_statement

OWNER = "RawZoneDelivery"


#: Every S3 action that deletes an object, a version or their tags: the destination role is denied
#: them all, whatever else may grant them later ("Actions, resources, and condition keys for Amazon S3",
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html).
OBJECT_DELETION_ACTIONS = (
    "s3:DeleteObject", "s3:DeleteObjectTagging", "s3:DeleteObjectVersion", "s3:DeleteObjectVersionTagging",
)
#: The destination role holds what the Amazon Data Firehose developer guide lists in "Grant Firehose
#: access to an Amazon S3 destination"
#: (https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3) and nothing
#: more: s3:AbortMultipartUpload, GetBucketLocation, GetObject, ListBucket, ListBucketMultipartUploads
#: and PutObject; kms:Decrypt and kms:GenerateDataKey through S3; lambda:InvokeFunction and
#: GetFunctionConfiguration on the transform; logs:PutLogEvents. No object retention or legal hold, no
#: tagging, no kms:ReEncrypt*: the guide lists none of them. The object actions name the four prefixes
#: the stream writes (data, errors, backup, backup errors), not the whole bucket.
_FIREHOSE_PREFIXES = (
    "Objects under the four prefixes this delivery stream writes only (<data_prefix>, errors/, backup/ and "
    "backup-errors/ of it): Firehose names each object itself (partition values, timestamps and random "
    "suffixes), so keys cannot be listed in advance. The actions are those the Firehose developer guide lists "
    "for an S3 destination; every object deletion action is explicitly denied."
)


def partitioned_prefix(data_prefix: str, partition_keys: Sequence[str]) -> str:
    """``telemetry/event_date=!{partitionKeyFromLambda:event_date}/...``: Hive-style folders."""
    return data_prefix + "".join(f"{key}=!{{partitionKeyFromLambda:{key}}}/" for key in partition_keys)


class RawZoneDelivery(Construct):
    """Attributes: ``delivery_stream``, ``destination_role`` (Firehose's role for the destination
    and the transform), ``transform`` (the function), ``transform_role``, ``transform_log_group``,
    ``delivery_log_group``, ``alarms``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source_stream: kinesis.IStream,
        destination_bucket: s3.IBucket,
        destination_key: kms.IKey | None,
        transform_code: lambda_.Code,
        transform_handler: str,
        log_key: kms.IKey,
        transform_layers: Sequence[lambda_.ILayerVersion] = (),
        transform_memory_mib: int = 256,
        transform_timeout: cdk.Duration = cdk.Duration.minutes(2),
        transform_environment: dict[str, str] | None = None,
        metrics_namespace: str = DEFAULT_METRICS_NAMESPACE,
        metrics_service: str = "firehose-transform",
        data_prefix: str = "telemetry/",
        partition_keys: Sequence[str] = ("event_date", "event_hour"),
        buffering_size: cdk.Size = cdk.Size.mebibytes(64),
        buffering_interval: cdk.Duration = cdk.Duration.seconds(60),
        processor_buffer_size: cdk.Size = cdk.Size.mebibytes(1),
        processor_buffer_interval: cdk.Duration = cdk.Duration.seconds(60),
        max_data_freshness: cdk.Duration = cdk.Duration.minutes(15),
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        alarm_topic: sns.ITopic | None = None,
        transform_runtime: lambda_.Runtime = TRANSFORM_RUNTIME,
        transform_architecture: lambda_.Architecture = TRANSFORM_ARCHITECTURE,
    ) -> None:
        super().__init__(scope, construct_id)
        check_data_removal_policy(removal_policy, owner="RawZoneDelivery")
        apply_data_removal_policy(self, removal_policy, what="the transform and delivery log groups")
        text(OWNER, "data_prefix", data_prefix)
        partition_keys = string_list(OWNER, "partition_keys", partition_keys, unique=True)
        for prop, value in (("buffering_size", buffering_size), ("processor_buffer_size", processor_buffer_size)):
            instance(OWNER, prop, value, cdk.Size)
        for prop, value in (("buffering_interval", buffering_interval), ("processor_buffer_interval", processor_buffer_interval),
                            ("max_data_freshness", max_data_freshness)):
            instance(OWNER, prop, value, cdk.Duration)
        if not data_prefix.endswith("/") or data_prefix.startswith("/"):
            raise ValueError(f"RawZoneDelivery: data_prefix must end with '/' and not start with one; got {data_prefix!r}")
        if not partition_keys:
            raise ValueError("RawZoneDelivery: partition_keys must name at least one key the transform returns")
        if buffering_size.to_mebibytes() < 64:
            raise ValueError("RawZoneDelivery: buffering_size must be at least 64 MiB with dynamic partitioning")

        transform = transform_function(
            self,
            description="Validates, normalises and partitions telemetry for Firehose",
            code=transform_code,
            handler=transform_handler,
            log_key=log_key,
            layers=transform_layers,
            memory_mib=transform_memory_mib,
            timeout=transform_timeout,
            environment=transform_environment,
            metrics_namespace=metrics_namespace,
            metrics_service=metrics_service,
            log_retention=log_retention,
            removal_policy=removal_policy,
            runtime=transform_runtime,
            architecture=transform_architecture,
        )
        self.transform_log_group: logs.LogGroup = transform.log_group
        self.transform: lambda_.Function = transform.function
        self.transform_role: iam.Role = transform.role

        # The role's policy is written here, statement by statement (see _FIREHOSE_PREFIXES): the L2
        # gets the role without policy updates, so its grants (CDK's read/write grant on the whole
        # bucket, with deletion, retention, legal hold and kms:ReEncrypt*) are not added.
        self.destination_role: iam.Role = iam.Role(
            self, "DestinationRole", assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"),
            description="Firehose: invoke the transform, write to the destination bucket, never delete",
        )
        self.delivery_log_group: logs.LogGroup = encrypted_log_group(
            self, "DeliveryLogGroup", key=log_key, retention=log_retention, removal_policy=removal_policy
        )
        written_prefixes = [data_prefix, f"errors/{data_prefix}", f"backup/{data_prefix}", f"backup-errors/{data_prefix}"]
        self._grant_destination(destination_bucket, destination_key, written_prefixes)
        logging = firehose.EnableLogging(self.delivery_log_group)
        timestamp_folders = "!{timestamp:yyyy/MM/dd/HH}/"
        self.delivery_stream: firehose.DeliveryStream = firehose.DeliveryStream(
            self,
            "DeliveryStream",
            source=firehose.KinesisStreamSource(source_stream),
            destination=firehose.S3Bucket(
                destination_bucket,
                role=self.destination_role.without_policy_updates(),
                encryption_key=destination_key,
                data_output_prefix=partitioned_prefix(data_prefix, partition_keys),
                error_output_prefix=f"errors/{data_prefix}!{{firehose:error-output-type}}/{timestamp_folders}",
                compression=firehose.Compression.GZIP,
                buffering_size=buffering_size,
                buffering_interval=buffering_interval,
                dynamic_partitioning=firehose.DynamicPartitioningProps(enabled=True),
                processors=[
                    firehose.LambdaFunctionProcessor(
                        self.transform,
                        buffer_size=processor_buffer_size,
                        buffer_interval=processor_buffer_interval,
                        retries=3,
                    )
                ],
                logging_config=logging,
                s3_backup=firehose.DestinationS3BackupProps(
                    mode=firehose.BackupMode.ALL,
                    bucket=destination_bucket,
                    encryption_key=destination_key,
                    data_output_prefix=f"backup/{data_prefix}{timestamp_folders}",
                    error_output_prefix=f"backup-errors/{data_prefix}!{{firehose:error-output-type}}/{timestamp_folders}",
                    compression=firehose.Compression.GZIP,
                    logging_config=logging,
                ),
            ),
        )

        # Firehose checks the role's permissions when the stream is created: its policy comes first
        # (the L2's own grants, which would have made that dependency, are not added).
        self.delivery_stream.node.add_dependency(self.destination_role.node.find_child("DefaultPolicy"))

        def metric(name: str, statistic: str) -> cloudwatch.Metric:
            return firehose_metric(self.delivery_stream.delivery_stream_name, name, statistic)

        specs = {
            "data_freshness": (metric("DeliveryToS3.DataFreshness", "Maximum"), ABOVE,
                               max_data_freshness.to_seconds(), "Records wait in Firehose longer than allowed before reaching S3"),
            "source_throttling": (metric("ThrottledGetRecords", "Sum"), ABOVE, 0,
                                  "Firehose is throttled reading the Kinesis stream"),
            "transform_failures": (metric("ExecuteProcessing.Success", "Average"), BELOW, 1,
                                   "Firehose could not invoke the transform successfully; records go to the error prefix"),
            "delivery_failures": (metric("DeliveryToS3.Success", "Average"), BELOW, 1,
                                  "Firehose failed to write to S3; it retries, then writes to the error prefix"),
            **transform_alarm_specs(transform),
        }
        self.alarms: dict[str, cloudwatch.Alarm] = create_alarms(self, specs)
        notify(self.alarms, alarm_topic)
        acknowledge(self.delivery_stream, FIREHOSE_SSE_WITH_KINESIS_SOURCE, "AwsSolutions-KDF1")
        # Named at validation time, so a bucket of another stack is named by its cross-stack reference.
        acknowledge_resources(
            self.destination_role, _FIREHOSE_PREFIXES,
            *(destination_bucket.arn_for_objects(f"{prefix}*") for prefix in written_prefixes),
        )

    def _grant_destination(
        self, bucket: s3.IBucket, destination_key: kms.IKey | None, prefixes: Sequence[str]
    ) -> None:
        """The destination role's whole policy (see ``_FIREHOSE_PREFIXES``)."""
        role = self.destination_role
        function_arn = self.transform.function_arn
        statements = [
            iam.PolicyStatement(
                sid="LocateTheBucket", actions=["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
                resources=[bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="ListItsPrefixes", actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [p for prefix in prefixes for p in (prefix, f"{prefix}*")]}},
            ),
            iam.PolicyStatement(
                sid="WriteItsPrefixes", actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes],
            ),
            iam.PolicyStatement(
                sid="InvokeTheTransform", actions=["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
                resources=[function_arn, f"{function_arn}:$LATEST"],
            ),
            # Firehose never deletes; nothing above allows it, this keeps it so whatever is added later.
            iam.PolicyStatement(
                sid="FirehoseNeverDeletes", effect=iam.Effect.DENY, actions=list(OBJECT_DELETION_ACTIONS),
                resources=[bucket.arn_for_objects("*")],
            ),
        ]
        # The key Firehose encrypts with, and the bucket's default key if that is another one.
        keys = [] if destination_key is None else [destination_key]
        if bucket.encryption_key is not None and bucket.encryption_key is not destination_key:
            keys.append(bucket.encryption_key)
        statements.extend(key_statement(key, KMS_WRITE_ACTIONS, via="s3") for key in keys)
        for statement in statements:
            role.add_to_principal_policy(statement)
        self.delivery_log_group.grant_write(role)
