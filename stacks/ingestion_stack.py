"""Per-environment streaming ingestion: IoT Core -> Kinesis -> Firehose (+ transform) -> raw zone.

Depends on the foundation stack for the raw bucket, its key and the alarm topic; nothing
depends on it, so it can be redeployed on its own.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib import IotTelemetryRule, RawZoneDelivery, TelemetryStream
from stacks.acknowledgments import acknowledge_ingestion_findings
from stacks.log_retention import retention_days
from stacks.transform_code import METRICS_NAMESPACE, RAW_ZONE_HANDLER, powertools_layer, transform_code

class IngestionStack(cdk.Stack):
    """Attributes: ``stream`` (TelemetryStream), ``iot`` (IotTelemetryRule), ``delivery`` (RawZoneDelivery)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        raw_bucket: s3.IBucket,
        raw_bucket_key: kms.IKey | None,
        alarm_topic: sns.ITopic,
        topic_prefix: str,
        shard_count: int | None,
        stream_retention_hours: int,
        max_iterator_age_seconds: int,
        buffer_size_mib: int,
        buffer_interval_seconds: int,
        processor_buffer_size_mib: int,
        processor_buffer_interval_seconds: int,
        max_data_freshness_seconds: int,
        transform_memory_mib: int,
        transform_timeout_seconds: int,
        powertools_layer_version: int,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.raw_bucket = raw_bucket
        log_retention = retention_days(log_retention_days)
        self.stream = TelemetryStream(
            self,
            "Stream",
            retention=cdk.Duration.hours(stream_retention_hours),
            shard_count=shard_count,
            max_iterator_age=cdk.Duration.seconds(max_iterator_age_seconds),
            removal_policy=removal_policy,
            alarm_topic=alarm_topic,
        )
        self.iot = IotTelemetryRule(
            self,
            "Iot",
            stream=self.stream.stream,
            topic_prefix=topic_prefix,
            log_key=self.stream.key,
            log_retention=log_retention,
            removal_policy=removal_policy,
            alarm_topic=alarm_topic,
        )
        self.delivery = RawZoneDelivery(
            self,
            "Delivery",
            source_stream=self.stream.stream,
            destination_bucket=raw_bucket,
            destination_key=raw_bucket_key,
            transform_code=transform_code(),
            transform_handler=RAW_ZONE_HANDLER,
            metrics_namespace=METRICS_NAMESPACE,
            transform_layers=[powertools_layer(self, "PowertoolsLayer", powertools_layer_version)],
            transform_memory_mib=transform_memory_mib,
            transform_timeout=cdk.Duration.seconds(transform_timeout_seconds),
            log_key=self.stream.key,
            buffering_size=cdk.Size.mebibytes(buffer_size_mib),
            buffering_interval=cdk.Duration.seconds(buffer_interval_seconds),
            processor_buffer_size=cdk.Size.mebibytes(processor_buffer_size_mib),
            processor_buffer_interval=cdk.Duration.seconds(processor_buffer_interval_seconds),
            max_data_freshness=cdk.Duration.seconds(max_data_freshness_seconds),
            log_retention=log_retention,
            removal_policy=removal_policy,
            alarm_topic=alarm_topic,
        )
        acknowledge_ingestion_findings(self)

        cdk.CfnOutput(self, "StreamName", value=self.stream.stream.stream_name)
        cdk.CfnOutput(self, "DeliveryStreamName", value=self.delivery.delivery_stream.delivery_stream_name)
        cdk.CfnOutput(self, "TopicRuleName", value=self.iot.rule.topic_rule_name)
        cdk.CfnOutput(self, "DevicePolicyName", value=self.iot.device_policy.ref)
        cdk.CfnOutput(self, "TelemetryTopicFilter", value=f"{topic_prefix}/+/telemetry")
