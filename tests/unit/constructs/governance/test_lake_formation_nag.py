"""The Lake Formation constructs under the five cdk-nag packs: no unacknowledged finding, and every
acknowledgment they make hides a real finding of theirs (none is stale, none hides another's)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_glue as glue

from constructs_lib import DataLakeStorage
from constructs_lib.governance.lake_access import LakeLocation
from constructs_lib.governance.lake_formation import (
    DatabaseGrant,
    DataCellsFilterGrant,
    DataLakeSettings,
    IamAllowedPrincipalsRevocation,
    LakeDataCellsFilter,
    LakePermissions,
    LocationGrant,
    RegisteredLocations,
    TableGrant,
    disable_iam_allowed_principals_for_new_tables,
)
from stacks.compliance import COMPLIANCE_PACKS
from tests.compliance.nag import Finding, acknowledgments, synthesise_under_packs

#: The storage's own findings: deliberately not replicated (the app acknowledges them, not the library).
STORAGE_REPLICATION = tuple(
    f"{pack}-S3BucketReplicationEnabled" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
)
OURS = (
    "Test/Settings", "Test/Locations", "Test/CuratedFilter", "Test/Analyst", "Test/Crawler", "Test/Revocation", "Test/Curated",
    "Test/Raw",
)


@dataclass
class Synthesised:
    app: cdk.App
    findings: list[Finding]


def synthesise(outdir: Path) -> Synthesised:
    app = cdk.App(outdir=str(outdir), context={"@aws-cdk/core:enablePartitionLiterals": True})
    scope = cdk.Stack(app, "Test", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    DataLakeSettings(scope, "Settings", admin_arns=["arn:aws:iam::111122223333:role/lake-admin"])
    lake = DataLakeStorage(scope, "Lake")
    cdk.Validations.of(lake).acknowledge(
        *(cdk.Acknowledgment(id=rule, reason="Test fixture: the app decides about replication of the lake buckets, " * 2) for rule in STORAGE_REPLICATION)
    )
    raw = LakeLocation(lake.raw_bucket, "telemetry/", lake.key)
    curated = LakeLocation(lake.curated_bucket, "telemetry/", lake.key)
    locations = RegisteredLocations(scope, "Locations", locations=[raw, curated])
    database = glue.Database(scope, "Curated", database_name="team_dev_curated")
    raw_database = glue.Database(scope, "Raw", database_name="team_dev_raw")
    for governed in (database, raw_database):
        disable_iam_allowed_principals_for_new_tables(governed)
        governed.node.add_dependency(locations)
    eu_only = LakeDataCellsFilter(
        scope, "CuratedFilter", database_name="team_dev_curated", table_name="telemetry", name="eu_only",
        row_filter="region = 'eu'", excluded_columns=["device_owner"],
    )
    analyst = LakePermissions(
        scope, "Analyst", principal_arn="arn:aws:iam::111122223333:role/analyst",
        grants=[DatabaseGrant("team_dev_curated", ["DESCRIBE"]), DataCellsFilterGrant(eu_only)],
    )
    crawler = LakePermissions(
        scope, "Crawler", principal_arn="arn:aws:iam::111122223333:role/crawler",
        grants=[
            DatabaseGrant("team_dev_curated", ["CREATE_TABLE", "DESCRIBE"]),
            TableGrant("team_dev_curated", None, ["ALTER", "DESCRIBE", "SELECT"]),
            LocationGrant(curated),
        ],
    )
    for grants in (analyst, crawler):
        grants.node.add_dependency(locations, database)
    IamAllowedPrincipalsRevocation(
        scope, "Revocation", database_names=["team_dev_curated", "team_dev_raw"],
        after={"team_dev_curated": [database], "team_dev_raw": [raw_database]},
    )
    return Synthesised(app, synthesise_under_packs(app, outdir))


@pytest.fixture(scope="module")
def acknowledged(tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    return synthesise(tmp_path_factory.mktemp("lake-formation-nag"))


@pytest.fixture(scope="module")
def unacknowledged(tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cdk.Validations, "acknowledge", lambda self, *rules: None)
        return synthesise(tmp_path_factory.mktemp("lake-formation-nag-raw"))


def test_zero_unacknowledged_findings_under_the_five_packs(acknowledged) -> None:
    assert acknowledged.findings == []
    assert {pack.__name__ for pack in COMPLIANCE_PACKS} == {
        "AwsSolutionsChecks", "HIPAASecurityChecks", "NIST80053R5Checks", "PCIDSS321Checks", "ServerlessChecks",
    }


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
    registration_policy = "Locations/RegistrationRole/DefaultPolicy/Resource"
    revocation_policy = "Revocation/Role/DefaultPolicy/Resource"
    assert {rule for rule, path in raw if path == registration_policy} == {
        "AwsSolutions-IAM5[Resource::<LakeRawBucketDA76DCB0.Arn>/telemetry/*]",
        "AwsSolutions-IAM5[Resource::<LakeCuratedBucketB28F5F4C.Arn>/telemetry/*]",
        "HIPAA.Security-IAMNoInlinePolicy",
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "PCI.DSS.321-IAMNoInlinePolicy",
    }
    assert {rule for rule, path in raw if path == revocation_policy} == {
        "AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions-IAM5[Resource::arn:aws:glue:eu-west-1:111122223333:table/team_dev_curated/*]",
        "AwsSolutions-IAM5[Resource::arn:aws:glue:eu-west-1:111122223333:table/team_dev_raw/*]",
        "HIPAA.Security-IAMNoInlinePolicy",
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "PCI.DSS.321-IAMNoInlinePolicy",
    }
    assert {rule for rule, path in raw if path.startswith("Revocation/Function")} == {
        "HIPAA.Security-LambdaInsideVPC",
        "NIST.800.53.R5-LambdaInsideVPC",
        "PCI.DSS.321-LambdaInsideVPC",
        "Serverless-LambdaAsyncFailureDestination",
    }
    # Nothing per database: the custom resources and their grants, like the settings, filters,
    # grants and databases, cause no finding at all.
    assert not [path for _, path in raw if path.startswith("Revocation/Database:")]
    assert not [path for _, path in raw if path.startswith(("Settings", "CuratedFilter", "Analyst", "Crawler", "Curated/", "Raw/"))]
