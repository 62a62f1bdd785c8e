"""A PyFlink application on Amazon Managed Service for Apache Flink, from a local zip.

Written on the L1 ``aws_kinesisanalyticsv2.CfnApplication`` rather than the alpha
``aws_kinesisanalytics_flink_alpha.Application``: the alpha is not a dependency of the library (each
alpha module is pinned to one aws-cdk-lib version and is another package every team must install),
and it would not save much here: it has no restore configuration (``RunConfiguration``), its code
asset grant covers the whole assets bucket, and its role statements are its own.

Fixed (the application's safety and its state):

- checkpointing on (``CUSTOM``, with the interval and minimum pause of the props) and application
  snapshots on: the service "automatically creates and uses snapshots when the application is
  updated, scaled, or stopped"; without them an update loses data ("Manage application backups
  using snapshots"). Every start and update restores from the latest snapshot
  (``RESTORE_FROM_LATEST_SNAPSHOT``).
- the code is the caller's zip as a CDK file asset; the role may read that one object, nothing else
  of the assets bucket.
- logging to a KMS-encrypted log group of its own, through one log stream the service writes.
- a role of its own, assumable by the service for applications of this account only (``aws:SourceAccount``
  and ``aws:SourceArn``, "Cross-service confused deputy prevention"), holding what the service guide
  lists for code and logs ("Permissions to access the application code and application logs"):
  ``s3:GetObject``/``s3:GetObjectVersion`` on the code object, ``logs:DescribeLogGroups`` on the
  account's log groups, ``logs:DescribeLogStreams`` on the group's streams, ``logs:PutLogEvents``
  on the one stream. Sources and sinks are the caller's grants (``grant_read_consumer``, and the
  sinks' own ``grant_put``).

The application is created in the READY state: CloudFormation does not start it (StartApplication
is an API call, not a property). Its alarms see nothing until it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisanalyticsv2 as flink
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.common.monitoring import encrypted_log_group, notify
from constructs_lib.common.nag import acknowledge_resources
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import boolean, instance, integer, text
from constructs_lib.streaming.flink_monitoring import FlinkAlarmThresholds, application_metric, create_flink_alarms
from constructs_lib.streaming.flink_properties import check_property_groups, rendered_property_groups
from constructs_lib.streaming.stream_consumer import grant_consumer_read

OWNER = "PyFlinkApplication"

#: The Flink runtimes of the CreateApplication API (RuntimeEnvironment) that still create an
#: application: Managed Service for Apache Flink no longer creates applications on Flink 1.6, 1.8 and
#: 1.11 ("Managed Service for Apache Flink and Studio notebook quota"); SQL-1_0 is Kinesis Data
#: Analytics for SQL and ZEPPELIN-* are Studio notebooks, neither a Flink application.
FLINK_RUNTIMES = ("FLINK-1_13", "FLINK-1_15", "FLINK-1_18", "FLINK-1_19", "FLINK-1_20", "FLINK-2_2", "FLINK-2_3")
LOG_LEVELS = ("INFO", "WARN", "ERROR", "DEBUG")
METRICS_LEVELS = ("APPLICATION", "TASK", "OPERATOR", "PARALLELISM")
#: "The maximum size for an application JAR file is 512 MiB" (the quota page above).
MAX_CODE_BYTES = 512 * 1024 * 1024
#: CreateApplication's ApplicationName: 1 to 128 of these.
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")

_LOG_GROUPS_HAVE_NO_NARROWER_ARN = (
    "logs:DescribeLogGroups lists log groups by name prefix and is authorised on the account's log groups; the "
    "Managed Service for Apache Flink developer guide grants it on arn:aws:logs:<region>:<account>:log-group:* "
    "(\"Permissions to access the application code and application logs\"), which the service needs to check "
    "the logging option's log group. It reads names and settings, no log events."
)
_LOG_STREAMS_OF_ITS_GROUP = (
    "logs:DescribeLogStreams on the streams of this application's own log group only (<group>:log-stream:*), as "
    "the Managed Service for Apache Flink developer guide lists it; log events are written to the one stream "
    "(logs:PutLogEvents on that stream's ARN)."
)


def _check_code_path(code_path: object) -> Path:
    path = Path(text(OWNER, "code_path", code_path))
    if path.suffix != ".zip" or not path.is_file():
        raise ValueError(
            f"{OWNER}: code_path must be an existing .zip file (a PyFlink application's code, with its "
            f"connector jars in lib/); got {code_path!r}"
        )
    if path.stat().st_size > MAX_CODE_BYTES:
        raise ValueError(f"{OWNER}: code_path {code_path!r} is larger than the service's 512 MiB limit")
    return path


def _one_of(prop: str, value: object, allowed: tuple[str, ...]) -> str:
    text(OWNER, prop, value)
    if value not in allowed:
        raise ValueError(f"{OWNER}: {prop} must be one of {', '.join(allowed)}; got {value!r}")
    return value  # type: ignore[return-value]


class PyFlinkApplication(Construct):
    """Attributes: ``application`` (the ``CfnApplication``), ``application_name``,
    ``application_arn``, ``role``, ``code`` (the ``s3_assets.Asset``), ``log_group``, ``log_stream``,
    ``logging_option``, ``alarms`` (``downtime``, ``failed_checkpoints``, ``restarts``,
    ``behind_latest``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code_path: str,
        runtime: str,
        property_groups: Mapping[str, Mapping[str, str]],
        log_key: kms.IKey,
        application_name: str | None = None,
        parallelism: int = 1,
        parallelism_per_kpu: int = 1,
        auto_scaling: bool = True,
        checkpoint_interval: cdk.Duration = cdk.Duration.minutes(1),
        min_pause_between_checkpoints: cdk.Duration = cdk.Duration.seconds(5),
        allow_non_restored_state: bool = False,
        log_level: str = "INFO",
        metrics_level: str = "APPLICATION",
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        alarm_topic: sns.ITopic | None = None,
        max_downtime: cdk.Duration = cdk.Duration.seconds(0),
        max_failed_checkpoints: int = 0,
        max_restarts: int = 0,
        max_behind_latest: cdk.Duration = cdk.Duration.minutes(1),
    ) -> None:
        """``property_groups`` maps group ids to their properties, ``kinesis.analytics.flink.run.options``
        among them (``python``: the entry point in the zip; ``jarfile``, ``pyFiles``...). Values may be
        tokens (a consumer ARN, a delivery stream name). ``log_key`` must let CloudWatch Logs use it."""
        super().__init__(scope, construct_id)
        code = _check_code_path(code_path)
        _one_of("runtime", runtime, FLINK_RUNTIMES)
        check_property_groups(OWNER, property_groups)
        instance(OWNER, "log_key", log_key, kms.IKey)
        if application_name is not None:
            text(OWNER, "application_name", application_name)
            if len(application_name) > 128 or not set(application_name) <= _NAME_CHARACTERS:
                raise ValueError(
                    f"{OWNER}: application_name must be 1 to 128 letters, digits, '_', '.' or '-'; got {application_name!r}"
                )
        integer(OWNER, "parallelism", parallelism, minimum=1)
        integer(OWNER, "parallelism_per_kpu", parallelism_per_kpu, minimum=1)
        boolean(OWNER, "auto_scaling", auto_scaling)
        boolean(OWNER, "allow_non_restored_state", allow_non_restored_state)
        for prop, value in (("checkpoint_interval", checkpoint_interval), ("min_pause_between_checkpoints", min_pause_between_checkpoints),
                            ("max_downtime", max_downtime), ("max_behind_latest", max_behind_latest)):
            instance(OWNER, prop, value, cdk.Duration)
        if checkpoint_interval.to_milliseconds() < 1:
            raise ValueError(f"{OWNER}: checkpoint_interval must be at least 1 millisecond; got {checkpoint_interval.to_human_string()}")
        _one_of("log_level", log_level, LOG_LEVELS)
        _one_of("metrics_level", metrics_level, METRICS_LEVELS)
        instance(OWNER, "log_retention", log_retention, logs.RetentionDays)
        integer(OWNER, "max_failed_checkpoints", max_failed_checkpoints, minimum=0)
        integer(OWNER, "max_restarts", max_restarts, minimum=0)
        if alarm_topic is not None:
            instance(OWNER, "alarm_topic", alarm_topic, sns.ITopic)
        check_data_removal_policy(removal_policy, owner=OWNER)
        apply_data_removal_policy(
            self, removal_policy,
            what="the application (its snapshots can only be restored into it, so its state goes with it), its role and log group",
        )

        stack = cdk.Stack.of(self)
        self.code: s3_assets.Asset = s3_assets.Asset(self, "Code", path=str(code))
        self.role: iam.Role = iam.Role(
            self, "Role",
            description="Managed Service for Apache Flink: run this application, read its code, write its logs",
            assumed_by=iam.ServicePrincipal(
                "kinesisanalytics.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": stack.format_arn(
                        service="kinesisanalytics", resource="application",
                        resource_name="*" if application_name is None else application_name,
                    )},
                },
            ),
        )
        self.log_group: logs.LogGroup = encrypted_log_group(
            self, "LogGroup", key=log_key, retention=log_retention, removal_policy=removal_policy
        )
        self.log_stream: logs.LogStream = logs.LogStream(
            self, "LogStream", log_group=self.log_group, removal_policy=removal_policy
        )
        log_stream_arn = self._log_arn(f"{self.log_group.log_group_name}:log-stream:{self.log_stream.log_stream_name}")
        self._grant_code_and_logs(log_stream_arn)

        self.application: flink.CfnApplication = flink.CfnApplication(
            self, "Application",
            application_name=application_name,
            application_mode="STREAMING",
            runtime_environment=runtime,
            service_execution_role=self.role.role_arn,
            application_configuration=flink.CfnApplication.ApplicationConfigurationProperty(
                application_code_configuration=flink.CfnApplication.ApplicationCodeConfigurationProperty(
                    code_content_type="ZIPFILE",
                    code_content=flink.CfnApplication.CodeContentProperty(
                        s3_content_location=flink.CfnApplication.S3ContentLocationProperty(
                            bucket_arn=self.code.bucket.bucket_arn, file_key=self.code.s3_object_key,
                        )
                    ),
                ),
                environment_properties=flink.CfnApplication.EnvironmentPropertiesProperty(
                    property_groups=[
                        flink.CfnApplication.PropertyGroupProperty(property_group_id=group, property_map=values)
                        for group, values in rendered_property_groups(property_groups)
                    ]
                ),
                flink_application_configuration=flink.CfnApplication.FlinkApplicationConfigurationProperty(
                    checkpoint_configuration=flink.CfnApplication.CheckpointConfigurationProperty(
                        configuration_type="CUSTOM",
                        checkpointing_enabled=True,
                        checkpoint_interval=checkpoint_interval.to_milliseconds(),
                        min_pause_between_checkpoints=min_pause_between_checkpoints.to_milliseconds(),
                    ),
                    monitoring_configuration=flink.CfnApplication.MonitoringConfigurationProperty(
                        configuration_type="CUSTOM", log_level=log_level, metrics_level=metrics_level,
                    ),
                    parallelism_configuration=flink.CfnApplication.ParallelismConfigurationProperty(
                        configuration_type="CUSTOM",
                        parallelism=parallelism,
                        parallelism_per_kpu=parallelism_per_kpu,
                        auto_scaling_enabled=auto_scaling,
                    ),
                ),
                application_snapshot_configuration=flink.CfnApplication.ApplicationSnapshotConfigurationProperty(
                    snapshots_enabled=True
                ),
            ),
            run_configuration=flink.CfnApplication.RunConfigurationProperty(
                application_restore_configuration=flink.CfnApplication.ApplicationRestoreConfigurationProperty(
                    application_restore_type="RESTORE_FROM_LATEST_SNAPSHOT"
                ),
                flink_run_configuration=flink.CfnApplication.FlinkRunConfigurationProperty(
                    allow_non_restored_state=allow_non_restored_state
                ),
            ),
        )
        # The service checks the role (and reads the code through it) when the application is created
        # or updated: the role and every statement of its policy come first.
        self.application.node.add_dependency(self.role)
        self.application_name: str = self.application.ref
        self.application_arn: str = stack.format_arn(
            service="kinesisanalytics", resource="application", resource_name=self.application_name
        )
        self.logging_option: flink.CfnApplicationCloudWatchLoggingOption = flink.CfnApplicationCloudWatchLoggingOption(
            self, "LoggingOption",
            application_name=self.application_name,
            cloud_watch_logging_option=flink.CfnApplicationCloudWatchLoggingOption.CloudWatchLoggingOptionProperty(
                log_stream_arn=log_stream_arn
            ),
        )
        # What holds the application and lets it run: RETAIN keeps the role and its policy with the
        # application, so a kept application can still be run, snapshotted and stopped. Alarms go.
        cdk.RemovalPolicies.of(self).apply(
            removal_policy,
            apply_to_resource_types=[
                "AWS::KinesisAnalyticsV2::Application", "AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption",
                "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::Logs::LogGroup", "AWS::Logs::LogStream",
            ],
        )

        self.alarms: dict[str, cloudwatch.Alarm] = create_flink_alarms(
            self, self.application_name, runtime,
            FlinkAlarmThresholds(max_downtime, max_failed_checkpoints, max_restarts, max_behind_latest),
        )
        notify(self.alarms, alarm_topic)

    def _log_arn(self, resource_name: str) -> str:
        return cdk.Stack.of(self).format_arn(
            service="logs", resource="log-group", resource_name=resource_name, arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME
        )

    def _grant_code_and_logs(self, log_stream_arn: str) -> None:
        """The role's own statements (see the module docstring), each with what it authorises."""
        all_log_groups = self._log_arn("*")
        its_log_streams = self._log_arn(f"{self.log_group.log_group_name}:log-stream:*")
        for statement in (
            iam.PolicyStatement(
                sid="ReadTheCode", actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[self.code.bucket.arn_for_objects(self.code.s3_object_key)],
            ),
            iam.PolicyStatement(sid="ListLogGroups", actions=["logs:DescribeLogGroups"], resources=[all_log_groups]),
            iam.PolicyStatement(sid="ListItsLogStreams", actions=["logs:DescribeLogStreams"], resources=[its_log_streams]),
            iam.PolicyStatement(sid="WriteItsLogStream", actions=["logs:PutLogEvents"], resources=[log_stream_arn]),
        ):
            self.role.add_to_principal_policy(statement)
        acknowledge_resources(self.role, _LOG_GROUPS_HAVE_NO_NARROWER_ARN, all_log_groups)
        acknowledge_resources(self.role, _LOG_STREAMS_OF_ITS_GROUP, its_log_streams)

    def grant_read_consumer(self, consumer: kinesis.IStreamConsumer, key: kms.IKey | None = None) -> None:
        """Let the application read a stream through its enhanced fan-out ``consumer``: the stream's
        ``DescribeStream``/``DescribeStreamSummary``/``ListShards``, the consumer's
        ``SubscribeToShard``/``DescribeStreamConsumer``, and ``kms:Decrypt`` through Kinesis on
        ``key`` (default: the stream's own key)."""
        grant_consumer_read(self.role, consumer, key)

    def metric(self, metric_name: str, *, statistic: str = "Maximum", period: cdk.Duration = cdk.Duration.minutes(1)) -> cloudwatch.Metric:
        """An application-level ``AWS/KinesisAnalytics`` metric of this application (``cpuUtilization``,
        ``lastCheckpointDuration``, or a counter the application registers in its ``kinesisanalytics``
        metric group), for alarms of your own."""
        text(OWNER, "metric_name", metric_name)
        return application_metric(self.application_name, metric_name, statistic=statistic, period=period)

