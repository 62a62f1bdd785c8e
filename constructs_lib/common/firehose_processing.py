"""One definition of "the Firehose transform function", shared by every delivery stream.

RawZoneDelivery (Kinesis -> S3) and StreamToSearchDelivery (Kinesis -> OpenSearch) both run a
Lambda record transformer. Both build it here, so they agree on what such a function is:

- by default the newest Python runtime aws-cdk-lib offers on x86_64 (``runtime`` and
  ``architecture`` are the caller's to change: a layer must match both), active X-Ray tracing;
- its own KMS-encrypted log group (``TransformLogGroup``) with the caller's retention and
  removal policy, used as the function's log group;
- a role (``TransformRole``) that can write to that log group and send traces, nothing else;
- Powertools settings in the environment: ``POWERTOOLS_SERVICE_NAME`` (``metrics_service``),
  ``POWERTOOLS_METRICS_NAMESPACE`` (``metrics_namespace``), ``POWERTOOLS_LOG_LEVEL=INFO``, then
  the caller's ``environment`` on top;
- three alarms on it (:func:`transform_alarm_specs`): function errors, throttles, and the
  records the transform rejected (its ``RecordsFailed`` metric, dimension ``service``);
- the cdk-nag findings every such function has by design, acknowledged here once for both
  deliveries: X-Ray's ``*`` resource, no dead-letter queue (Firehose invokes it synchronously), no
  VPC, no reserved concurrency (a reservation would turn throttles into skipped batches, see
  ``_NO_RESERVED_CONCURRENCY``). ``FIREHOSE_SSE_WITH_KINESIS_SOURCE``
  is the reason both deliveries give for AwsSolutions-KDF1.

The children are created in the scope the caller passes, under fixed construct ids, so a
construct that adopts this helper keeps its logical ids (RawZoneDelivery's are pinned).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.common.monitoring import encrypted_log_group
from constructs_lib.common.nag import LAMBDA_IN_VPC_RULES, acknowledge
from constructs_lib.common.validation import instance, instance_list, integer, string_map, text

#: The newest Python runtime aws-cdk-lib offers: the default.
TRANSFORM_RUNTIME: lambda_.Runtime = lambda_.Runtime.PYTHON_3_14
TRANSFORM_ARCHITECTURE: lambda_.Architecture = lambda_.Architecture.X86_64
#: The CloudWatch namespace of the transform's own metrics (``RecordsFailed``) unless the caller names one.
DEFAULT_METRICS_NAMESPACE = "FirehoseTransform"
#: Lambda's memory range in MiB.
MIN_MEMORY_MIB, MAX_MEMORY_MIB = 128, 10240
#: What Firehose sends per processor invocation is at most 3 MiB (BufferSizeInMBs 0.2-3), and
#: it waits at most 900 s to fill a buffer (BufferIntervalInSeconds 60-900).
MAX_PROCESSOR_BUFFER_MIB = 3
MIN_PROCESSOR_BUFFER_INTERVAL_SECONDS = 60
MAX_PROCESSOR_BUFFER_INTERVAL_SECONDS = 900
FIVE_MINUTES = cdk.Duration.minutes(5)

#: ``(metric, comparison, threshold, description)``: one alarm, before it is created.
AlarmSpec = tuple[cloudwatch.Metric, cloudwatch.ComparisonOperator, float, str]

FIREHOSE_SSE_WITH_KINESIS_SOURCE = (
    "Firehose server-side encryption cannot be enabled when the source is a Kinesis data stream; records "
    "are protected by the stream's KMS key in transit through Firehose and by the destination's own "
    "encryption at rest (the bucket's or the domain's KMS key, and the backup key for failed records)."
)
_XRAY_HAS_NO_RESOURCES = (
    "Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which X-Ray does not "
    "support on any resource narrower than '*' (no resource-level permissions exist for them)."
)
_INVOKED_SYNCHRONOUSLY = (
    "Firehose invokes the transform synchronously (RequestResponse); a Lambda dead-letter queue only "
    "applies to asynchronous invocations. Records the transform cannot process are written by Firehose "
    "with their original data to the delivery's error or backup prefix, so none is lost."
)
_NEEDS_NO_VPC = (
    "The transform only computes on the payload Firehose passes it and writes logs, metrics and "
    "traces; it reaches no database or private endpoint. Placing it in a VPC would add ENIs and "
    "interface endpoints without reducing its exposure."
)
#: Checked in the Amazon Data Firehose developer guide: Firehose invokes the function synchronously
#: with each buffered batch ("Transform source data in Amazon Data Firehose",
#: https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html), and an invocation that
#: reaches the Lambda invocation limit is retried (NumberOfRetries, 3 here), then the batch is skipped to
#: the processing-failed error output ("Handle failure in data transformation",
#: https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-failure-handling.html). No AWS
#: document bounds the invocations by the stream's shard count (one Firehose event can hold records of
#: several shards: Lambda developer guide, "Using Lambda with Amazon Data Firehose").
_NO_RESERVED_CONCURRENCY = (
    "Only Firehose invokes the transform, synchronously, once per buffered batch, so its concurrency "
    "follows the stream's throughput. A reserved concurrency below that rate makes Lambda throttle "
    "Firehose, which retries three times and then skips the batch to the processing-failed error prefix "
    "(Firehose developer guide, Handle failure in data transformation): records would leave the data path "
    "until replayed. Throttles in the shared pool are alarmed (transform_throttles)."
)

ABOVE: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
BELOW: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD


@dataclass(frozen=True)
class TransformFunction:
    """What :func:`transform_function` created."""

    function: lambda_.Function
    role: iam.Role
    log_group: logs.LogGroup
    metrics_namespace: str
    metrics_service: str


def transform_function(
    scope: Construct,
    *,
    description: str,
    code: lambda_.Code,
    handler: str,
    log_key: kms.IKey,
    layers: Sequence[lambda_.ILayerVersion] = (),
    memory_mib: int = 256,
    timeout: cdk.Duration = cdk.Duration.minutes(2),
    environment: Mapping[str, str] | None = None,
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE,
    metrics_service: str = "firehose-transform",
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    runtime: lambda_.Runtime = TRANSFORM_RUNTIME,
    architecture: lambda_.Architecture = TRANSFORM_ARCHITECTURE,
) -> TransformFunction:
    """Create ``TransformLogGroup``, ``TransformRole`` and ``Transform`` in ``scope``. The props are
    checked with the calling construct (``scope``'s class) and the ``transform_`` prop names."""
    owner = type(scope).__name__
    text(owner, "transform_handler", handler)
    layers = instance_list(owner, "transform_layers", layers, lambda_.ILayerVersion)
    integer(owner, "transform_memory_mib", memory_mib, minimum=MIN_MEMORY_MIB, maximum=MAX_MEMORY_MIB)
    instance(owner, "transform_timeout", timeout, cdk.Duration)
    if environment is not None:
        environment = string_map(owner, "transform_environment", environment)
    text(owner, "metrics_namespace", metrics_namespace)
    if metrics_namespace.startswith("AWS/"):
        raise ValueError(f"{owner}: metrics_namespace must not start with 'AWS/' (reserved for AWS services); got {metrics_namespace!r}")
    text(owner, "metrics_service", metrics_service)
    instance(owner, "transform_runtime", runtime, lambda_.Runtime)
    if runtime.family != lambda_.RuntimeFamily.PYTHON:
        raise ValueError(f"{owner}: transform_runtime must be a Python runtime (the transform is Python); got {runtime.name}")
    instance(owner, "transform_architecture", architecture, lambda_.Architecture)
    log_group = encrypted_log_group(
        scope, "TransformLogGroup", key=log_key, retention=log_retention, removal_policy=removal_policy
    )
    role = iam.Role(
        scope, "TransformRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description="Firehose transform: write its own logs and traces, nothing else",
    )
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        "Transform",
        description=description,
        runtime=runtime,
        architecture=architecture,
        code=code,
        handler=handler,
        layers=list(layers),
        memory_size=memory_mib,
        timeout=timeout,
        role=role,
        log_group=log_group,
        tracing=lambda_.Tracing.ACTIVE,
        environment={
            "POWERTOOLS_SERVICE_NAME": metrics_service,
            "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            **(environment or {}),
        },
    )
    _acknowledge_inherent_findings(function, role)
    return TransformFunction(function, role, log_group, metrics_namespace, metrics_service)


def _acknowledge_inherent_findings(function: lambda_.Function, role: iam.Role) -> None:
    acknowledge(role, _XRAY_HAS_NO_RESOURCES, "AwsSolutions-IAM5[Resource::*]")
    acknowledge(function, _INVOKED_SYNCHRONOUSLY, "HIPAA.Security-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "Serverless-LambdaDLQ")
    acknowledge(function, _NEEDS_NO_VPC, *LAMBDA_IN_VPC_RULES)
    acknowledge(function, _NO_RESERVED_CONCURRENCY, "HIPAA.Security-LambdaConcurrency", "NIST.800.53.R5-LambdaConcurrency")


def transform_alarm_specs(transform: TransformFunction) -> dict[str, AlarmSpec]:
    """``transform_errors``, ``transform_throttles`` and ``invalid_records``, in that order."""
    function = transform.function
    return {
        "transform_errors": (function.metric_errors(period=FIVE_MINUTES), ABOVE, 0,
                             "The transform function raised an error"),
        "transform_throttles": (function.metric_throttles(period=FIVE_MINUTES), ABOVE, 0,
                                "The transform function was throttled"),
        "invalid_records": (
            cloudwatch.Metric(namespace=transform.metrics_namespace, metric_name="RecordsFailed",
                              dimensions_map={"service": transform.metrics_service}, statistic="Sum",
                              period=FIVE_MINUTES),
            ABOVE, 0, "The transform rejected records; they are in the error prefix with their original data"),
    }


def firehose_metric(delivery_stream_name: str, metric_name: str, statistic: str) -> cloudwatch.Metric:
    """A five-minute ``AWS/Firehose`` metric of one delivery stream."""
    return cloudwatch.Metric(
        namespace="AWS/Firehose",
        metric_name=metric_name,
        dimensions_map={"DeliveryStreamName": delivery_stream_name},
        statistic=statistic,
        period=FIVE_MINUTES,
    )


def create_alarms(scope: Construct, specs: Mapping[str, AlarmSpec]) -> dict[str, cloudwatch.Alarm]:
    """One alarm per spec, id ``<TitleCasedName>Alarm``, one evaluation period, missing data
    not breaching (a quiet stream is not a failing one)."""
    return {
        name: metric.create_alarm(
            scope,
            "".join(part.title() for part in name.split("_")) + "Alarm",
            alarm_description=description,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=operator,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for name, (metric, operator, threshold, description) in specs.items()
    }
