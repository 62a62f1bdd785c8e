"""Per-environment streaming analytics: real-time anomaly detection on the telemetry stream.

A PyFlink application on Amazon Managed Service for Apache Flink (flink_apps/anomaly_detection/)
reads the telemetry stream through an enhanced fan-out consumer of its own, so it takes none of the
read throughput of the Firehose consumers (raw zone, search). Per device and metric it scores every
reading against a sliding window of event time; every anomaly, late reading and rejected record
goes through a delivery stream to ``anomalies/`` of the analytics bucket (a table of this stack's
database, with a saved query in this stack's ``operations`` workgroup), and HIGH and CRITICAL
anomalies go, de-duplicated per device and metric, to the environment's alarm topic.

Depends on the foundation (analytics bucket, lake key, alarm topic) and the ingestion stack (the
stream and its key) only: no slow stack waits for it, nor it for them.

The application is created READY, not running: CloudFormation does not start a Managed Flink
application. ``make start-streaming ENV=<env>`` starts it once after its first deploy (README).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from constructs import Construct

from config.model import StreamingConfig
from constructs_lib import (
    AthenaWorkgroup,
    EnhancedFanOutConsumer,
    JsonLinesDelivery,
    PyFlinkApplication,
    TelemetryStream,
)
from constructs_lib.nag import INLINE_POLICY_RULES, acknowledge
from stacks.anomaly_records import ANOMALY_COLUMNS, PARTITION_COLUMN, PREFIX, TABLE_NAME, anomaly_queries
from stacks.environment import EnvironmentSettings, EnvironmentStack, LakeResources
from stacks.nag_reasons import ENCRYPTED_TOPIC_PUBLISH_GRANT, FIREHOSE_L2_UNUSED_MAPPING, INLINE_GRANT_POLICIES

#: Managed Flink's runtime the application and its connector jars are built for (tools/flink/artifacts.py).
FLINK_RUNTIME = "FLINK-1_20"
#: The application's entry point and merged connector jar inside the zip (tools/flink/build.py).
RUN_OPTIONS = {"python": "main.py", "jarfile": "lib/anomaly-detection-connectors.jar", "pyFiles": "python/"}
#: The first day the anomalies table's partition projection covers (days before it hold nothing).
PROJECTION_START = dt.date(2026, 12, 1)
#: Athena's per-query cutoff of the operations workgroup: the anomalies table is small.
OPERATIONS_BYTES_SCANNED_CUTOFF = 1_000_000_000

class StreamingStack(EnvironmentStack):
    """Attributes: ``consumer`` (EnhancedFanOutConsumer), ``anomalies`` (JsonLinesDelivery: the
    delivery stream, its role and the table), ``detector`` (PyFlinkApplication), ``database``
    (the Glue database of the anomalies table), ``operations`` (AthenaWorkgroup with the saved query)."""

    DESCRIPTION = "Real-time anomaly detection on the telemetry stream (Managed Service for Apache Flink) of the {env} environment"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        config: StreamingConfig,
        lake: LakeResources,
        stream: TelemetryStream,
        application_zip: Path,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, settings=settings, **kwargs)
        namer, removal_policy = settings.namer, settings.removal_policy
        self.consumer = EnhancedFanOutConsumer(
            self, "AnomalyConsumer", stream=stream.stream, consumer_name=namer.name("anomaly-detection")
        )
        # The plain name, not a reference, for the saved query (as in the catalog stack): it reads better
        # in the template and the console, and the naming helper fixes it anyway.
        database_name = namer.sql_name("streaming")
        self.database = glue.Database(
            self, "StreamingDatabase", database_name=database_name,
            description="Streaming analytics: anomalies the detector found, with late and rejected records",
        )
        self.database.apply_removal_policy(removal_policy)
        delivery = config.delivery
        self.anomalies = JsonLinesDelivery(
            self, "Anomalies",
            bucket=lake.analytics_bucket, prefix=PREFIX, key=lake.key,
            database=self.database, table_name=TABLE_NAME, columns=list(ANOMALY_COLUMNS),
            partition_column=PARTITION_COLUMN, projection_start=PROJECTION_START.isoformat(),
            log_key=stream.key,
            buffering_size=cdk.Size.mebibytes(delivery.buffer_size_mib),
            buffering_interval=cdk.Duration.seconds(delivery.buffer_interval_seconds),
            log_retention=settings.log_retention, removal_policy=removal_policy, alarm_topic=lake.alarm_topic,
        )
        capacity = config.capacity
        self.detector = PyFlinkApplication(
            self, "Detector",
            code_path=str(application_zip),
            runtime=FLINK_RUNTIME,
            application_name=namer.name("anomaly-detection"),
            property_groups=self._property_groups(config, lake),
            log_key=stream.key,
            parallelism=capacity.parallelism,
            parallelism_per_kpu=capacity.parallelism_per_kpu,
            auto_scaling=capacity.autoscaling,
            log_retention=settings.log_retention,
            removal_policy=removal_policy,
            alarm_topic=lake.alarm_topic,
            max_behind_latest=cdk.Duration.millis(config.max_millis_behind_latest),
        )
        self.detector.grant_read_consumer(self.consumer.consumer, stream.key)
        self.anomalies.grant_put(self.detector.role)
        lake.alarm_topic.grant_publish(self.detector.role)

        self.operations = AthenaWorkgroup(
            self, "OperationsWorkgroup",
            workgroup_name=namer.name("operations"),
            description="Operational queries: the anomalies the streaming detector found",
            results_bucket=lake.analytics_bucket, results_prefix="operations-queries/", results_key=lake.key,
            bytes_scanned_cutoff_per_query=OPERATIONS_BYTES_SCANNED_CUTOFF,
            named_queries=anomaly_queries(database_name),
        )
        self._acknowledge_findings()

        cdk.CfnOutput(self, "ApplicationName", value=self.detector.application_name)
        cdk.CfnOutput(self, "ConsumerArn", value=self.consumer.consumer_arn)
        cdk.CfnOutput(self, "AnomalyDeliveryStreamName", value=self.anomalies.delivery_stream.delivery_stream_name)
        cdk.CfnOutput(self, "AnomaliesTable", value=f"{database_name}.{TABLE_NAME}")
        cdk.CfnOutput(self, "OperationsWorkgroupName", value=self.operations.workgroup_name)

    def _property_groups(self, config: StreamingConfig, lake: LakeResources) -> dict[str, dict[str, str]]:
        """The application's runtime properties (flink_apps/anomaly_detection/properties.py validates them)."""
        detection = config.detection
        return {
            "kinesis.analytics.flink.run.options": RUN_OPTIONS,
            "TelemetrySource": {"efo.consumer.arn": self.consumer.consumer_arn, "initial.position": "LATEST"},
            "AnomalySink": {"delivery.stream.name": self.anomalies.delivery_stream.delivery_stream_name},
            "Notifications": {
                "topic.arn": lake.alarm_topic.topic_arn,
                "dedup.period.seconds": str(detection.notification_dedup_minutes * 60),
            },
            "Detection": {
                "window.size.seconds": str(detection.window_minutes * 60),
                "window.slide.seconds": str(detection.slide_minutes * 60),
                "min.samples": str(detection.min_samples),
                "severity.alert.threshold": str(detection.severity.alert),
                "severity.high.threshold": str(detection.severity.high),
                "severity.critical.threshold": str(detection.severity.critical),
                "watermark.out.of.orderness.seconds": str(detection.out_of_orderness_seconds),
            },
        }

    def _acknowledge_findings(self) -> None:
        """CDK's inline grant policies on the application and delivery roles, and its publish grant on
        the encrypted alarm topic. Findings inherent to the constructs (the log-group describe
        wildcard, the delivery prefixes) are acknowledged in constructs_lib.streaming."""
        acknowledge(self.detector.role, ENCRYPTED_TOPIC_PUBLISH_GRANT, "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]")
        for role in (self.detector.role, self.anomalies.destination_role):
            acknowledge(role, INLINE_GRANT_POLICIES, *INLINE_POLICY_RULES)
        if cdk.Token.is_unresolved(self.region):
            # The Firehose L2's region-to-CIDR mapping is rendered only while the region is unknown.
            acknowledge(self, FIREHOSE_L2_UNUSED_MAPPING, "CloudFormation-Validate::W7001")
