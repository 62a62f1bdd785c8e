"""The alarms of a Managed Service for Apache Flink application, on the metrics the service
documents at application level.

Namespace ``AWS/KinesisAnalytics``, dimension ``Application`` (the application's name): the level
every application reports at, whatever its ``MetricsLevel`` ("Metrics and dimensions in Managed
Service for Apache Flink"; finer levels add the ``Id``/``Flow`` dimensions of tasks and operators,
which change with the job graph and are no ground for an alarm). Each alarm, and why:

- ``downtime``: ``downtime`` (ms; "for jobs currently in a failing/recovering situation, the time
  elapsed during this outage"; 0 while running) above ``max_downtime``. The service's recommended
  alarm is ``downtime > 0`` ("Use CloudWatch Alarms with Amazon Managed Service for Apache Flink");
  note that its maintenance restarts the application for 10 to 30 seconds in the region's window.
  Deprecated, still reported, in Flink 2.2.
- ``failed_checkpoints``: how much ``numberOfFailedCheckpoints`` ("the number of times checkpointing
  has failed", a count since the job started) grew in five minutes, above ``max_failed_checkpoints``
  (the recommended alarm is ``RATE(numberOfFailedCheckpoints) > 0``; ``DIFF`` counts instead of
  a rate, so the threshold reads as failures).
- ``restarts``: how much the restart count grew in five minutes, above ``max_restarts``:
  ``fullRestarts`` ("the total number of times this job has fully restarted since it was
  submitted") up to Flink 1.20, ``numRestarts`` from 2.2, which removed ``fullRestarts``.
- ``behind_latest``: ``millisBehindLatest`` of the Kinesis source ("how far behind current time the
  consumer is", reported at application level for the stream; -1 until it has a value) above
  ``max_behind_latest`` for five minutes in a row: the application is not keeping up.

A stopped application reports nothing: missing data is not breaching.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

NAMESPACE = "AWS/KinesisAnalytics"
ONE_MINUTE = cdk.Duration.minutes(1)
FIVE_MINUTES = cdk.Duration.minutes(5)


def restarts_metric_name(runtime: str) -> str:
    """``fullRestarts`` on Flink 1.x runtimes, ``numRestarts`` on 2.x (Flink 2.2 removed the first)."""
    return "fullRestarts" if runtime.startswith("FLINK-1_") else "numRestarts"


def application_metric(application_name: str, metric_name: str, *, statistic: str, period: cdk.Duration) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=metric_name,
        dimensions_map={"Application": application_name},
        statistic=statistic,
        period=period,
    )


def _growth(application_name: str, metric_name: str, label: str) -> cloudwatch.MathExpression:
    """How much a count that only grows (until the job restarts it at 0) grew per five minutes."""
    return cloudwatch.MathExpression(
        expression="DIFF(count)",
        using_metrics={"count": application_metric(application_name, metric_name, statistic="Maximum", period=FIVE_MINUTES)},
        label=label,
        period=FIVE_MINUTES,
    )


@dataclass(frozen=True)
class FlinkAlarmThresholds:
    max_downtime: cdk.Duration
    max_failed_checkpoints: int
    max_restarts: int
    max_behind_latest: cdk.Duration


def create_flink_alarms(
    scope: Construct, application_name: str, runtime: str, thresholds: FlinkAlarmThresholds
) -> dict[str, cloudwatch.Alarm]:
    """The four alarms of the module docstring, ids ``DowntimeAlarm``, ``FailedCheckpointsAlarm``,
    ``RestartsAlarm`` and ``BehindLatestAlarm``."""
    above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
    quiet = cloudwatch.TreatMissingData.NOT_BREACHING
    restarts = restarts_metric_name(runtime)
    return {
        "downtime": application_metric(application_name, "downtime", statistic="Maximum", period=ONE_MINUTE).create_alarm(
            scope, "DowntimeAlarm", alarm_description="The Flink application is failing or recovering: it processes nothing",
            threshold=thresholds.max_downtime.to_milliseconds(), evaluation_periods=1,
            comparison_operator=above, treat_missing_data=quiet,
        ),
        "failed_checkpoints": _growth(application_name, "numberOfFailedCheckpoints", "failed checkpoints in 5 minutes").create_alarm(
            scope, "FailedCheckpointsAlarm", alarm_description="Checkpoints of the Flink application fail",
            threshold=thresholds.max_failed_checkpoints, evaluation_periods=1, comparison_operator=above, treat_missing_data=quiet,
        ),
        "restarts": _growth(application_name, restarts, "restarts in 5 minutes").create_alarm(
            scope, "RestartsAlarm", alarm_description=f"The Flink job restarted ({restarts} grew)",
            threshold=thresholds.max_restarts, evaluation_periods=1, comparison_operator=above, treat_missing_data=quiet,
        ),
        "behind_latest": application_metric(application_name, "millisBehindLatest", statistic="Maximum", period=ONE_MINUTE).create_alarm(
            scope, "BehindLatestAlarm",
            alarm_description="The Flink application reads the Kinesis stream further behind its head than allowed",
            threshold=thresholds.max_behind_latest.to_milliseconds(), evaluation_periods=5,
            comparison_operator=above, treat_missing_data=quiet,
        ),
    }
