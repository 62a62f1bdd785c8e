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

from constructs_lib.monitoring import encrypted_log_group, notify

#: The newest Python runtime aws-cdk-lib offers.
TRANSFORM_RUNTIME = lambda_.Runtime.PYTHON_3_14
_FIVE_MINUTES = cdk.Duration.minutes(5)


def partitioned_prefix(data_prefix: str, partition_keys: Sequence[str]) -> str:
    """``telemetry/event_date=!{partitionKeyFromLambda:event_date}/...``: Hive-style folders."""
    return data_prefix + "".join(f"{key}=!{{partitionKeyFromLambda:{key}}}/" for key in partition_keys)


class RawZoneDelivery(Construct):
    """Attributes: ``delivery_stream``, ``destination_role`` (Firehose's role for the destination
    and the transform), ``transform`` (the function), ``transform_log_group``,
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
        if not data_prefix.endswith("/") or data_prefix.startswith("/"):
            raise ValueError(f"RawZoneDelivery: data_prefix must end with '/' and not start with one; got {data_prefix!r}")
        if not partition_keys:
            raise ValueError("RawZoneDelivery: partition_keys must name at least one key the transform returns")
        if buffering_size.to_mebibytes() < 64:
            raise ValueError("RawZoneDelivery: buffering_size must be at least 64 MiB with dynamic partitioning")

        self.transform_log_group = encrypted_log_group(
            self, "TransformLogGroup", key=log_key, retention=log_retention, removal_policy=removal_policy
        )
        transform_role = iam.Role(
            self, "TransformRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Firehose transform: write its own logs and traces, nothing else",
        )
        self.transform_log_group.grant_write(transform_role)
        self.transform = lambda_.Function(
            self,
            "Transform",
            description="Validates, normalises and partitions telemetry for Firehose",
            runtime=TRANSFORM_RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            code=transform_code,
            handler=transform_handler,
            layers=list(transform_layers),
            memory_size=transform_memory_mib,
            timeout=transform_timeout,
            role=transform_role,
            log_group=self.transform_log_group,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "POWERTOOLS_SERVICE_NAME": metrics_service,
                "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **(transform_environment or {}),
            },
        )

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

        def firehose_metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/Firehose",
                metric_name=name,
                dimensions_map={"DeliveryStreamName": self.delivery_stream.delivery_stream_name},
                statistic=statistic,
                period=_FIVE_MINUTES,
            )

        above, below = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
        specs = {
            "data_freshness": (firehose_metric("DeliveryToS3.DataFreshness", "Maximum"), above,
                               max_data_freshness.to_seconds(), "Records wait in Firehose longer than allowed before reaching S3"),
            "source_throttling": (firehose_metric("ThrottledGetRecords", "Sum"), above, 0,
                                  "Firehose is throttled reading the Kinesis stream"),
            "transform_failures": (firehose_metric("ExecuteProcessing.Success", "Average"), below, 1,
                                   "Firehose could not invoke the transform successfully; records go to the error prefix"),
            "delivery_failures": (firehose_metric("DeliveryToS3.Success", "Average"), below, 1,
                                  "Firehose failed to write to S3; it retries, then writes to the error prefix"),
            "transform_errors": (self.transform.metric_errors(period=_FIVE_MINUTES), above, 0,
                                 "The transform function raised an error"),
            "transform_throttles": (self.transform.metric_throttles(period=_FIVE_MINUTES), above, 0,
                                    "The transform function was throttled"),
            "invalid_records": (
                cloudwatch.Metric(namespace=metrics_namespace, metric_name="RecordsFailed",
                                  dimensions_map={"service": metrics_service}, statistic="Sum", period=_FIVE_MINUTES),
                above, 0, "The transform rejected records; they are in the error prefix with their original data"),
        }
        self.alarms: dict[str, cloudwatch.Alarm] = {
            name: metric.create_alarm(
                self,
                "".join(part.title() for part in name.split("_")) + "Alarm",
                alarm_description=description,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=operator,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            for name, (metric, operator, threshold, description) in specs.items()
        }
        notify(self.alarms, alarm_topic)
