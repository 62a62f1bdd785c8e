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

from constructs_lib.firehose_processing import (
    ABOVE,
    BELOW,
    FIREHOSE_SSE_WITH_KINESIS_SOURCE,
    create_alarms,
    firehose_metric,
    transform_alarm_specs,
    transform_function,
)
from constructs_lib.monitoring import encrypted_log_group, notify
from constructs_lib.nag import acknowledge, nag_resource
from constructs_lib.removal import apply_data_removal_policy, check_data_removal_policy


#: The wildcard actions of aws-cdk-lib's S3 destination grant on the bucket and its key.
_CDK_S3_DESTINATION_GRANT_ACTIONS = (
    "kms:GenerateDataKey*", "kms:ReEncrypt*", "s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*",
)
_CDK_S3_DESTINATION_GRANT = (
    "These are aws-cdk-lib's S3 destination grant actions on the destination bucket and its key only: "
    "Firehose writes new, unpredictable object keys and must list, read back and abort multipart uploads "
    "for them. Deleting objects or versions is explicitly denied (FirehoseNeverDeletes)."
)
_INVOKES_TRANSFORM_VERSIONS = (
    "Firehose invokes the transform function by ARN including any version or alias (<function>:*); the "
    "wildcard covers versions of this one function only."
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
        metrics_namespace: str = "AnalyticsPlatform/Ingestion",
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
    ) -> None:
        super().__init__(scope, construct_id)
        check_data_removal_policy(removal_policy, owner="RawZoneDelivery")
        apply_data_removal_policy(self, removal_policy, what="the transform and delivery log groups")
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
        )
        self.transform_log_group = transform.log_group
        self.transform = transform.function
        self.transform_role = transform.role

        # Firehose's S3 grant (CDK's read/write grant) includes s3:DeleteObject*, which would let
        # it delete object versions permanently; Firehose never deletes, so that is denied.
        self.destination_role = iam.Role(
            self, "DestinationRole", assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"),
            description="Firehose: invoke the transform, write to the destination bucket, never delete",
        )
        self.destination_role.add_to_policy(
            iam.PolicyStatement(
                sid="FirehoseNeverDeletes",
                effect=iam.Effect.DENY,
                actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
                resources=[destination_bucket.arn_for_objects("*")],
            )
        )
        self.delivery_log_group = encrypted_log_group(
            self, "DeliveryLogGroup", key=log_key, retention=log_retention, removal_policy=removal_policy
        )
        logging = firehose.EnableLogging(self.delivery_log_group)
        timestamp_folders = "!{timestamp:yyyy/MM/dd/HH}/"
        self.delivery_stream = firehose.DeliveryStream(
            self,
            "DeliveryStream",
            source=firehose.KinesisStreamSource(source_stream),
            destination=firehose.S3Bucket(
                destination_bucket,
                role=self.destination_role,
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
        acknowledge(
            self.destination_role, _CDK_S3_DESTINATION_GRANT,
            *(f"AwsSolutions-IAM5[Action::{action}]" for action in _CDK_S3_DESTINATION_GRANT_ACTIONS),
        )
        transform_id = cdk.Stack.of(self).get_logical_id(self.transform.node.default_child)
        acknowledge(self.destination_role, _INVOKES_TRANSFORM_VERSIONS, f"AwsSolutions-IAM5[Resource::<{transform_id}.Arn>:*]")
        objects = nag_resource(self.destination_role, destination_bucket.arn_for_objects("*"))
        if objects is not None:  # a bucket of another stack is named by the app's cross-stack reference
            acknowledge(self.destination_role, _CDK_S3_DESTINATION_GRANT, f"AwsSolutions-IAM5[Resource::{objects}]")
