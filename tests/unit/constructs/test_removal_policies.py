"""Every construct that holds data follows one rule: RETAIN by default, DESTROY only when asked and
then with the data-destroyed synth warning, anything else refused with the construct named."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match

from constructs_lib import (
    DATA_DESTROYED_WARNING_ID,
    AlarmTopic,
    DataCatalogEncryption,
    EtlWorkflow,
    ExistingIcebergTable,
    GlueSecurity,
    IcebergColumn,
    IcebergTable,
    IcebergTableMaintenance,
    IotTelemetryRule,
    LakeEtlJob,
    RawZoneDelivery,
    TelemetryStream,
)
from tests.unit.constructs.stack_helpers import stack, topic

KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"


def _key(scope: cdk.Stack) -> kms.IKey:
    existing = scope.node.try_find_child("ImportedKey")
    return existing if existing is not None else kms.Key.from_key_arn(scope, "ImportedKey", KEY_ARN)


def _stream(scope: cdk.Stack) -> kinesis.IStream:
    return kinesis.Stream.from_stream_arn(scope, "ImportedStream", "arn:aws:kinesis:eu-west-1:111122223333:stream/telemetry")


def _security(scope: cdk.Stack) -> GlueSecurity:
    return GlueSecurity(scope, "Security", configuration_name="team-security", data_key=_key(scope))


def _job(scope: cdk.Stack, policy: cdk.RemovalPolicy) -> LakeEtlJob:
    bucket = s3.Bucket.from_bucket_name(scope, "Lake", "team-lake")
    return LakeEtlJob(
        scope, "Subject", job_name="team-job", script=glue.Code.from_bucket(bucket, "job.py"),
        source_bucket=bucket, source_prefix="raw/", target_bucket=bucket, target_prefixes=["curated/"],
        data_key=_key(scope), security=_security(scope), log_removal_policy=policy,
    )


def _workflow(scope: cdk.Stack, policy: cdk.RemovalPolicy) -> EtlWorkflow:
    bucket = s3.Bucket.from_bucket_name(scope, "Lake", "team-lake")
    job = LakeEtlJob(
        scope, "Job", job_name="team-job", script=glue.Code.from_bucket(bucket, "job.py"),
        source_bucket=bucket, source_prefix="raw/", target_bucket=bucket, target_prefixes=["curated/"],
        data_key=_key(scope), security=_security(scope),
    )
    return EtlWorkflow(
        scope, "Subject", workflow_name="team-workflow", schedule=glue.TriggerSchedule.expression("cron(0 3 * * ? *)"),
        steps=[job.job], alarm_topic=topic(scope), removal_policy=policy,
    )


#: construct name -> builder(scope, removal policy); each builds its construct with that policy.
BUILDERS: dict[str, Callable[[cdk.Stack, cdk.RemovalPolicy], object]] = {
    "AlarmTopic": lambda scope, policy: AlarmTopic(scope, "Subject", email_subscribers=["oncall@example.com"], removal_policy=policy),
    "DataCatalogEncryption": lambda scope, policy: DataCatalogEncryption(scope, "Subject", key_removal_policy=policy),
    "TelemetryStream": lambda scope, policy: TelemetryStream(scope, "Subject", removal_policy=policy),
    "IotTelemetryRule": lambda scope, policy: IotTelemetryRule(
        scope, "Subject", stream=_stream(scope), log_key=_key(scope), removal_policy=policy
    ),
    "RawZoneDelivery": lambda scope, policy: RawZoneDelivery(
        scope, "Subject", source_stream=_stream(scope), destination_bucket=s3.Bucket.from_bucket_name(scope, "Raw", "team-raw"),
        destination_key=_key(scope), transform_code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        transform_handler="index.handler", log_key=_key(scope), removal_policy=policy,
    ),
    "GlueSecurity": lambda scope, policy: GlueSecurity(
        scope, "Subject", configuration_name="team-security", data_key=_key(scope), removal_policy=policy
    ),
    "LakeEtlJob": _job,
    "IcebergTable": lambda scope, policy: IcebergTable(
        scope, "Subject", database_name="team_db", table_name="events", bucket=s3.Bucket.from_bucket_name(scope, "Lake", "team-lake"),
        prefix="events/", bucket_key=None, columns=[IcebergColumn("id", "string")], removal_policy=policy,
    ),
    "IcebergTableMaintenance": lambda scope, policy: IcebergTableMaintenance(
        scope, "Subject", table=ExistingIcebergTable("team_db", "events", s3.Bucket.from_bucket_name(scope, "Lake", "team-lake"), "events/"),
        removal_policy=policy,
    ),
    "EtlWorkflow": _workflow,
}


def data_destroyed_warnings(scope: cdk.Stack) -> list[str]:
    """The data-destroyed warnings on the construct under test (``Subject``)."""
    warnings = Annotations.from_stack(scope).find_warning("/Test/Subject", Match.string_like_regexp(".*removal_policy is DESTROY.*"))
    return [str(w.entry.data) for w in warnings if DATA_DESTROYED_WARNING_ID in str(w.entry.data)]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_destroy_is_honoured_with_a_warning(name: str) -> None:
    scope = stack()
    BUILDERS[name](scope, cdk.RemovalPolicy.DESTROY)
    assert len(data_destroyed_warnings(scope)) == 1


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_retain_says_nothing(name: str) -> None:
    scope = stack()
    BUILDERS[name](scope, cdk.RemovalPolicy.RETAIN)
    assert data_destroyed_warnings(scope) == []


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_other_policies_are_refused_naming_the_construct(name: str) -> None:
    with pytest.raises(ValueError, match=rf"^{name}: removal_policy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY"):
        BUILDERS[name](stack(), cdk.RemovalPolicy.SNAPSHOT)
