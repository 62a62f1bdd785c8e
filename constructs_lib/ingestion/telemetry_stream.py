"""A KMS-encrypted Kinesis data stream with the alarms an operator needs.

Fixed (security): encryption with a customer-managed key (rotating; or ``existing_key``).
Tunable: capacity mode (on-demand, or provisioned with a shard count), retention, the
iterator-age threshold, removal policy, and the topic the alarms notify.

Alarms (``alarms``): ``iterator_age`` (the oldest unread record is older than the threshold:
consumers are falling behind and data nears expiry), ``write_throttling`` and
``read_throttling`` (any throttled request in a minute, provisioned or on-demand).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.common.encryption import rotating_key
from constructs_lib.common.monitoring import allow_cloudwatch_logs, notify
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import instance, integer

_ONE_MINUTE = cdk.Duration.minutes(1)


_CMK_BY_DESIGN = (
    "The stream is deliberately encrypted with a customer-managed, rotating KMS key rather than "
    "aws/kinesis, so that key use is auditable and only the producers, consumers and log delivery "
    "principals granted on it can use it; the extra KMS cost is accepted."
)


class TelemetryStream(Construct):
    """Attributes: ``stream``, ``key`` (also trusted by CloudWatch Logs when created here, so
    the ingestion log groups can share it), ``alarms`` (name -> ``cloudwatch.Alarm``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        retention: cdk.Duration = cdk.Duration.hours(24),
        shard_count: int | None = None,
        max_iterator_age: cdk.Duration = cdk.Duration.minutes(15),
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        alarm_topic: sns.ITopic | None = None,
        existing_key: kms.IKey | None = None,
    ) -> None:
        """``shard_count=None`` makes the stream on-demand; a number makes it provisioned."""
        super().__init__(scope, construct_id)
        check_data_removal_policy(removal_policy, owner="TelemetryStream")
        apply_data_removal_policy(
            self, removal_policy,
            what="the stream, its records" + (" and its key" if existing_key is None else " (not the existing key)"),
        )
        if shard_count is not None:
            integer("TelemetryStream", "shard_count", shard_count)
        instance("TelemetryStream", "retention", retention, cdk.Duration)
        instance("TelemetryStream", "max_iterator_age", max_iterator_age, cdk.Duration)
        if shard_count is not None and shard_count < 1:
            raise ValueError(f"TelemetryStream: shard_count must be >= 1 (or None for on-demand); got {shard_count}")
        if existing_key is None:
            created = rotating_key(
                self, "Key", description="Encrypts the telemetry stream and ingestion logs", removal_policy=removal_policy
            )
            allow_cloudwatch_logs(created)
            self.key: kms.IKey = created
        else:
            self.key = existing_key
        on_demand = shard_count is None
        self.stream: kinesis.Stream = kinesis.Stream(
            self,
            "Stream",
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=self.key,
            stream_mode=kinesis.StreamMode.ON_DEMAND if on_demand else kinesis.StreamMode.PROVISIONED,
            shard_count=None if on_demand else shard_count,
            retention_period=retention,
            removal_policy=removal_policy,
        )
        self.alarms: dict[str, cloudwatch.Alarm] = {
            "iterator_age": self.stream.metric_get_records_iterator_age_milliseconds(
                statistic="Maximum", period=_ONE_MINUTE
            ).create_alarm(
                self,
                "IteratorAgeAlarm",
                alarm_description="Records wait in the stream longer than allowed: its consumers are falling behind",
                threshold=max_iterator_age.to_milliseconds(),
                evaluation_periods=5,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            "write_throttling": self._throttling_alarm(
                "WriteThrottlingAlarm",
                self.stream.metric_write_provisioned_throughput_exceeded(statistic="Sum", period=_ONE_MINUTE),
                "Writes to the stream are throttled: producers are losing or retrying records",
            ),
            "read_throttling": self._throttling_alarm(
                "ReadThrottlingAlarm",
                self.stream.metric_read_provisioned_throughput_exceeded(statistic="Sum", period=_ONE_MINUTE),
                "Reads from the stream are throttled: consumers are delayed",
            ),
        }
        notify(self.alarms, alarm_topic)
        cdk.Validations.of(self.stream).acknowledge(cdk.Acknowledgment(id="AwsSolutions-KDS3", reason=_CMK_BY_DESIGN))

    def _throttling_alarm(self, construct_id: str, metric: cloudwatch.Metric, description: str) -> cloudwatch.Alarm:
        return metric.create_alarm(
            self,
            construct_id,
            alarm_description=description,
            threshold=0,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
