"""The failure alarms of one table's Glue table optimizers: a scheduled check of the optimizers
through the Glue API, its metric, and one alarm per optimizer.

Why this way (the handler's docstring, ``functions/table_optimizer_check/handler.py``, has the
sources): the optimizers send no EventBridge event, and the CloudWatch metrics Glue writes after a
*successful* run have no documented names or dimensions. An alarm on an undocumented metric name
that turned out wrong would stay green forever. The documented signal is ``GetTableOptimizer``: the
optimizer's ``enabled`` flag and its last run (``eventType``, timestamps, ``error``). The check reads
it for each optimizer every ``interval`` and publishes ``OptimizerUnhealthy`` (1 or 0); the alarm
fires on two consecutive unhealthy or missing datapoints, so a check that could not run (the
function failing, the optimizer deleted, access denied) alarms too, while one late or missed
invocation does not.

What the alarm catches: a run that failed and was not followed by a successful one within two
checks; compaction suspended after four consecutive failures (Glue sets it aside until someone
re-enables it, which CloudFormation does not do: the template still says enabled); an optimizer
disabled by hand; retention or orphan file deletion that has not started for ``max_hours_without_run``
hours; the check itself failing. What it misses: a single failed run followed by a successful one
before the second check; an optimizer that has never run (the API has no creation time to measure
from); runs that succeed without helping (compaction that leaves small files because
``min_input_files`` was not reached; retention's cap of 1,000,000 deleted files per run, beyond which
files stay as orphans); failures between the last run and the next that leave ``lastRun`` unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.common.deploy_time_function import FUNCTION_RUNTIME, MEMORY_MIB
from constructs_lib.common.encryption import rotating_key
from constructs_lib.common.monitoring import allow_cloudwatch_logs, encrypted_log_group, notify
from constructs_lib.common.nag import INLINE_POLICY_RULES, LAMBDA_IN_VPC_RULES, acknowledge
from constructs_lib.governance.lake_access import glue_catalog_arns

HANDLER_DIR = Path(__file__).resolve().parent / "functions" / "table_optimizer_check"
UNHEALTHY_METRIC = "OptimizerUnhealthy"
#: Two consecutive checks: one late or lost invocation is no alarm, a persisting state is.
ALARM_PERIODS = 2

_STAR_RESOURCES = (
    "cloudwatch:PutMetricData has no resource-level permissions (its cloudwatch:namespace condition limits "
    "it to the check's namespace), and X-Ray's PutTraceSegments and PutTelemetryRecords support no resource "
    "narrower than '*'."
)
_NO_DEAD_LETTER_QUEUE = (
    "A check that is not delivered or fails publishes no datapoint, and the optimizer alarms count a missing "
    "datapoint as unhealthy: the failure reaches the alarm topic within two check intervals. A dead-letter queue "
    "of scheduled events nobody replays would add nothing (the next scheduled check is the retry)."
)
_NEEDS_NO_VPC = (
    "The check calls only the Glue (GetTableOptimizer) and CloudWatch (PutMetricData) APIs and reads no data: "
    "a VPC would add network interfaces and interface endpoints without reducing its exposure."
)


def _inline_policy(scope_description: str) -> str:
    return (
        "The role's permissions are the one inline policy CDK generates from this construct's explicit statements, "
        f"attached to this role only and scoped to {scope_description}. The IAM User Guide (Managed policies and "
        "inline policies) names inline policies for a strict one-to-one relationship between a policy and its identity."
    )


@dataclass(frozen=True)
class OptimizerHealthCheck:
    """What :func:`optimizer_health_check` created; ``alarms`` maps each optimizer type to its alarm."""

    function: lambda_.Function
    role: iam.Role
    log_group: logs.LogGroup
    key: kms.IKey
    schedule: events.Rule
    alarms: dict[str, cloudwatch.Alarm]
    metrics_namespace: str


def _own_key(scope: Construct, table: str, removal_policy: cdk.RemovalPolicy) -> kms.Key:
    key = rotating_key(scope, "Key", description=f"Encrypts the optimizer check of {table}", removal_policy=removal_policy)
    allow_cloudwatch_logs(key)
    return key


def optimizer_health_check(
    scope: Construct,
    *,
    database_name: str,
    table_name: str,
    optimizer_types: Sequence[str],
    interval: cdk.Duration,
    max_hours_without_run: int,
    metrics_namespace: str,
    key: kms.IKey | None,
    log_retention: logs.RetentionDays,
    removal_policy: cdk.RemovalPolicy,
    alarm_topic: sns.ITopic | None,
) -> OptimizerHealthCheck:
    """Create ``Key`` (unless ``key``), ``LogGroup``, ``Role``, ``Function``, ``Schedule`` and one
    alarm per optimizer type (``Alarm:<type>``) in ``scope``."""
    stack = cdk.Stack.of(scope)
    used_key = key if key is not None else _own_key(scope, f"{database_name}.{table_name}", removal_policy)
    log_group = encrypted_log_group(scope, "LogGroup", key=used_key, retention=log_retention, removal_policy=removal_policy)
    role = iam.Role(
        scope, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"Reads the Glue table optimizers of {database_name}.{table_name} and publishes their health",
    )
    log_group.grant_write(role)
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["glue:GetTableOptimizer"], resources=glue_catalog_arns(stack, database_name, table_name),
    ))
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["cloudwatch:PutMetricData"], resources=["*"],
        conditions={"StringEquals": {"cloudwatch:namespace": metrics_namespace}},
    ))
    acknowledge(role, _STAR_RESOURCES, "AwsSolutions-IAM5[Resource::*]")
    acknowledge(role, _inline_policy(f"the optimizers of {database_name}.{table_name}, its metric namespace and log group"),
                *INLINE_POLICY_RULES)
    function = lambda_.Function(
        scope, "Function",
        description=f"Checks the Glue table optimizers of {database_name}.{table_name} (IcebergTableMaintenance)",
        runtime=FUNCTION_RUNTIME,
        architecture=lambda_.Architecture.ARM_64,
        code=lambda_.Code.from_asset(str(HANDLER_DIR), exclude=["__pycache__", "*.pyc"]),
        handler="handler.lambda_handler",
        memory_size=MEMORY_MIB,
        timeout=cdk.Duration.minutes(1),
        role=role,
        environment={
            "CATALOG_ID": stack.account,
            "DATABASE_NAME": database_name,
            "TABLE_NAME": table_name,
            "OPTIMIZER_TYPES": ",".join(optimizer_types),
            "MAX_HOURS_WITHOUT_RUN": str(max_hours_without_run),
            "METRICS_NAMESPACE": metrics_namespace,
        },
        environment_encryption=used_key,
        reserved_concurrent_executions=1,
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        tracing=lambda_.Tracing.ACTIVE,
    )
    function.node.add_dependency(role)
    acknowledge(function, _NO_DEAD_LETTER_QUEUE, "HIPAA.Security-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "Serverless-LambdaDLQ")
    acknowledge(function, _NEEDS_NO_VPC, *LAMBDA_IN_VPC_RULES)
    schedule = events.Rule(
        scope, "Schedule",
        description=f"Checks the Glue table optimizers of {database_name}.{table_name}",
        schedule=events.Schedule.rate(interval),
        targets=[targets.LambdaFunction(function)],
    )
    acknowledge(schedule, _NO_DEAD_LETTER_QUEUE, "Serverless-EventBusDLQ")
    alarms = {
        optimizer_type: cloudwatch.Alarm(
            scope, f"Alarm:{optimizer_type}",
            alarm_description=(
                f"The {optimizer_type} optimizer of {database_name}.{table_name} is unhealthy (last run failed, "
                f"suspended or disabled{', or no run for ' + str(max_hours_without_run) + ' hours' if optimizer_type != 'compaction' else ''}) "
                "or could not be checked; the reasons are in the check's log group"
            ),
            metric=cloudwatch.Metric(
                namespace=metrics_namespace,
                metric_name=UNHEALTHY_METRIC,
                dimensions_map={"Database": database_name, "Table": table_name, "Optimizer": optimizer_type},
                statistic="Maximum",
                period=interval,
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=ALARM_PERIODS,
            datapoints_to_alarm=ALARM_PERIODS,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        for optimizer_type in optimizer_types
    }
    notify(dict(alarms), alarm_topic)
    return OptimizerHealthCheck(function, role, log_group, used_key, schedule, alarms, metrics_namespace)
