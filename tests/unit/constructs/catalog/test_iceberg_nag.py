"""IcebergTable and IcebergTableMaintenance under the five cdk-nag packs: no unacknowledged finding, and
every acknowledgment they make hides a real finding of theirs (none is stale, none hides another's)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest

from constructs_lib import (
    DataLakeStorage,
    IcebergColumn,
    IcebergCompaction,
    IcebergPartitionField,
    IcebergSortField,
    IcebergTable,
    IcebergTableMaintenance,
)
from tests.compliance.nag import Finding, acknowledgments, synthesise_under_packs
from tests.unit.constructs.stack_helpers import topic

STORAGE_REPLICATION = tuple(
    f"{pack}-S3BucketReplicationEnabled" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
)
OURS = ("Test/Telemetry", "Test/Maintenance")


@dataclass
class Synthesised:
    app: cdk.App
    findings: list[Finding]


def synthesise(outdir: Path) -> Synthesised:
    app = cdk.App(outdir=str(outdir), context={"@aws-cdk/core:enablePartitionLiterals": True})
    scope = cdk.Stack(app, "Test", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    lake = DataLakeStorage(scope, "Lake")
    cdk.Validations.of(lake).acknowledge(
        *(cdk.Acknowledgment(id=rule, reason="Test fixture: the app decides about replication of the lake buckets. " * 2)
          for rule in STORAGE_REPLICATION)
    )
    table = IcebergTable(
        scope, "Telemetry", database_name="team_dev_curated", table_name="telemetry", bucket=lake.curated_bucket,
        prefix="telemetry/", bucket_key=lake.key,
        columns=[IcebergColumn("device_id", "string"), IcebergColumn("event_time", "timestamptz"),
                 IcebergColumn("metrics", "map<string,double>")],
        partition_by=[IcebergPartitionField("event_time", "day")], sort_by=[IcebergSortField("device_id")],
    )
    IcebergTableMaintenance(
        scope, "Maintenance", table=table, compaction=IcebergCompaction(min_input_files=2), catalog_key=lake.key,
        lake_formation=True, alarm_topic=topic(scope),
    )
    return Synthesised(app, synthesise_under_packs(app, outdir))


@pytest.fixture(scope="module")
def acknowledged(tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    return synthesise(tmp_path_factory.mktemp("iceberg-nag"))


@pytest.fixture(scope="module")
def unacknowledged(tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cdk.Validations, "acknowledge", lambda self, *rules: None)
        return synthesise(tmp_path_factory.mktemp("iceberg-nag-raw"))


def test_zero_unacknowledged_findings_under_the_five_packs(acknowledged) -> None:
    assert acknowledged.findings == []


def test_every_acknowledgment_hides_a_real_finding_of_its_construct_and_nothing_else(acknowledged, unacknowledged) -> None:
    acks = [a for a in acknowledgments(acknowledged.app) if a.path.startswith(OURS)]
    raw = {(f.rule_id, f.path) for f in unacknowledged.findings if f.path.startswith(OURS)}
    assert raw, "the packs found nothing at all: they did not run"
    for ack in acks:
        assert any(rule == ack.rule_id and (path + "/").startswith(ack.path + "/") for rule, path in raw), (
            f"stale acknowledgment: {ack.rule_id} on {ack.path} hides no finding"
        )
    for rule, path in raw:
        assert any(a.rule_id == rule and (path + "/").startswith(a.path + "/") for a in acks), f"{rule} at {path} not acknowledged"


def test_the_findings_acknowledged_are_the_expected_ones(unacknowledged) -> None:
    raw = {(f.rule_id, f.path.removeprefix("Test/")) for f in unacknowledged.findings if f.path.startswith(OURS)}
    logs = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws-glue"
    assert {rule for rule, path in raw if path == "Maintenance/Role/DefaultPolicy/Resource"} == {
        "AwsSolutions-IAM5[Resource::<LakeCuratedBucketB28F5F4C.Arn>/telemetry/*]",
        f"AwsSolutions-IAM5[Resource::{logs}/iceberg-compaction/logs:*]",
        f"AwsSolutions-IAM5[Resource::{logs}/iceberg-retention/logs:*]",
        f"AwsSolutions-IAM5[Resource::{logs}/iceberg-orphan-file-deletion/logs:*]",
        "AwsSolutions-IAM5[Resource::*]",  # lakeformation:GetDataAccess
        "HIPAA.Security-IAMNoInlinePolicy",
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "PCI.DSS.321-IAMNoInlinePolicy",
    }
    assert {rule for rule, path in raw if path.startswith("Maintenance/HealthCheck/")} == {
        "AwsSolutions-IAM5[Resource::*]",  # X-Ray and cloudwatch:PutMetricData
        "HIPAA.Security-IAMNoInlinePolicy", "NIST.800.53.R5-IAMNoInlinePolicy", "PCI.DSS.321-IAMNoInlinePolicy",
        "HIPAA.Security-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "Serverless-LambdaDLQ",
        "HIPAA.Security-LambdaInsideVPC", "NIST.800.53.R5-LambdaInsideVPC", "PCI.DSS.321-LambdaInsideVPC",
        "Serverless-EventBusDLQ",
    }
    # The table itself and the optimizers cause no finding at all.
    assert not [path for _, path in raw if path.startswith(("Telemetry/", "Maintenance/compaction", "Maintenance/retention"))]
