"""Per-environment streaming ingestion: IoT Core -> Kinesis -> Firehose (+ transform) -> raw zone.

Depends on the foundation stack for the raw bucket, its key and the alarm topic; nothing
depends on it, so it can be redeployed on its own.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from config.model import IngestionConfig
from constructs_lib import IotTelemetryRule, RawZoneDelivery, TelemetryStream
from constructs_lib.nag import INLINE_POLICY_RULES, acknowledge
from stacks.environment import EnvironmentSettings, EnvironmentStack, LakeResources
from stacks.nag_reasons import FIREHOSE_L2_UNUSED_MAPPING, INLINE_GRANT_POLICIES
from stacks.transform_code import METRICS_NAMESPACE, RAW_ZONE_HANDLER, powertools_layer, transform_code

class IngestionStack(EnvironmentStack):
    """Attributes: ``stream`` (TelemetryStream), ``iot`` (IotTelemetryRule), ``delivery`` (RawZoneDelivery)."""

    DESCRIPTION = "IoT Core -> Kinesis -> Firehose -> raw zone of the {env} environment"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        config: IngestionConfig,
        powertools_layer_version: int,
        lake: LakeResources,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, settings=settings, **kwargs)
        self.raw_bucket = lake.raw_bucket
        stream, delivery = config.stream, config.delivery
        self.stream = TelemetryStream(
            self,
            "Stream",
            retention=cdk.Duration.hours(stream.retention_hours),
            shard_count=stream.shard_count,
            max_iterator_age=cdk.Duration.seconds(stream.max_iterator_age_seconds),
            removal_policy=settings.removal_policy,
            alarm_topic=lake.alarm_topic,
        )
        self.iot = IotTelemetryRule(
            self,
            "Iot",
            stream=self.stream.stream,
            topic_prefix=config.topic_prefix,
            log_key=self.stream.key,
            log_retention=settings.log_retention,
            removal_policy=settings.removal_policy,
            alarm_topic=lake.alarm_topic,
        )
        self.delivery = RawZoneDelivery(
            self,
            "Delivery",
            source_stream=self.stream.stream,
            destination_bucket=lake.raw_bucket,
            destination_key=lake.key,
            transform_code=transform_code(),
            transform_handler=RAW_ZONE_HANDLER,
            metrics_namespace=METRICS_NAMESPACE,
            transform_layers=[powertools_layer(self, "PowertoolsLayer", powertools_layer_version)],
            transform_memory_mib=config.transform.memory_mib,
            transform_timeout=cdk.Duration.seconds(config.transform.timeout_seconds),
            log_key=self.stream.key,
            buffering_size=cdk.Size.mebibytes(delivery.buffer_size_mib),
            buffering_interval=cdk.Duration.seconds(delivery.buffer_interval_seconds),
            processor_buffer_size=cdk.Size.mebibytes(delivery.processor_buffer_size_mib),
            processor_buffer_interval=cdk.Duration.seconds(delivery.processor_buffer_interval_seconds),
            max_data_freshness=cdk.Duration.seconds(delivery.max_data_freshness_seconds),
            log_retention=settings.log_retention,
            removal_policy=settings.removal_policy,
            alarm_topic=lake.alarm_topic,
        )
        self._acknowledge_findings()

        cdk.CfnOutput(self, "StreamName", value=self.stream.stream.stream_name)
        cdk.CfnOutput(self, "DeliveryStreamName", value=self.delivery.delivery_stream.delivery_stream_name)
        cdk.CfnOutput(self, "TopicRuleName", value=self.iot.rule.topic_rule_name)
        cdk.CfnOutput(self, "DevicePolicyName", value=self.iot.device_policy.ref)
        cdk.CfnOutput(self, "TelemetryTopicFilter", value=f"{config.topic_prefix}/+/telemetry")

    def _acknowledge_findings(self) -> None:
        """CDK's inline grant policies and, in an environment-agnostic template, the Firehose L2's
        unused mapping. Findings inherent to the stream, Firehose and the transform (the raw bucket
        prefixes the delivery writes among them) are acknowledged in TelemetryStream, RawZoneDelivery
        and firehose_processing."""
        delivery = self.delivery
        for role_scope in (delivery.delivery_stream, delivery.destination_role, delivery.transform.role, self.iot.role):
            acknowledge(role_scope, INLINE_GRANT_POLICIES, *INLINE_POLICY_RULES)
        if cdk.Token.is_unresolved(self.region):
            # The L2's mapping is lazy: with a concrete region CDK looks the CIDR up at synth and
            # renders no mapping, so a deployed template has no W7001 to acknowledge.
            acknowledge(self, FIREHOSE_L2_UNUSED_MAPPING, "CloudFormation-Validate::W7001")
