"""IcebergTableMaintenance: one AWS::Glue::TableOptimizer per declared optimizer, settings as
passed (Glue's defaults left out), a role that reaches one table, its prefix and Glue's optimizer log
groups only, and a scheduled check with one alarm per optimizer."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib import (
    ExistingIcebergTable,
    IcebergCompaction,
    IcebergOrphanFileDeletion,
    IcebergSnapshotRetention,
    IcebergTableMaintenance,
)
from tests.unit.constructs.catalog.iceberg_helpers import table
from tests.unit.constructs.stack_helpers import alarm_actions, only, stack, topic
from tests.unit.constructs.template_helpers import arn_of, logical_id, ref, role_statements, via_service, with_action

GLUE = "arn:aws:glue:eu-west-1:111122223333"
LOGS = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws-glue"


def optimizers(template: Template) -> dict[str, dict]:
    return {r["Properties"]["Type"]: r for r in template.find_resources("AWS::Glue::TableOptimizer").values()}


@pytest.fixture(scope="module")
def defaults():
    subject_table = table()
    scope = cdk.Stack.of(subject_table)
    maintenance = IcebergTableMaintenance(scope, "Maintenance", table=subject_table, alarm_topic=topic(scope))
    return subject_table, maintenance, Template.from_stack(scope)


@pytest.fixture(scope="module")
def tuned():
    subject_table = table()
    scope = cdk.Stack.of(subject_table)
    maintenance = IcebergTableMaintenance(
        scope, "Maintenance", table=subject_table,
        compaction=IcebergCompaction(strategy="sort", min_input_files=2, delete_file_threshold=10),
        snapshot_retention=IcebergSnapshotRetention(snapshot_retention_days=7, snapshots_to_retain=3, clean_expired_files=False),
        orphan_file_deletion=IcebergOrphanFileDeletion(orphan_file_retention_days=5, prefix="curated/telemetry/data/"),
        catalog_key=kms.Key(scope, "CatalogKey"), lake_formation=True,
        check_interval=cdk.Duration.minutes(30), max_hours_without_run=30, metrics_namespace="Team/Iceberg",
    )
    return subject_table, maintenance, Template.from_stack(scope)


def test_one_optimizer_per_type_on_the_table_enabled_with_the_own_role(defaults) -> None:
    _, maintenance, template = defaults
    found = optimizers(template)
    assert set(found) == {"compaction", "retention", "orphan_file_deletion"}
    for optimizer in found.values():
        props = optimizer["Properties"]
        assert (props["CatalogId"], props["DatabaseName"], props["TableName"]) == ("111122223333", "team_dev_curated", "telemetry")
        assert props["TableOptimizerConfiguration"]["Enabled"] is True
        assert props["TableOptimizerConfiguration"]["RoleArn"] == arn_of(maintenance.role)
    assert set(maintenance.optimizers) == set(found)


def test_defaults_leave_glues_settings_but_delete_expired_files(defaults) -> None:
    found = optimizers(defaults[2])
    configuration = {name: r["Properties"]["TableOptimizerConfiguration"] for name, r in found.items()}
    assert "CompactionConfiguration" not in configuration["compaction"]
    assert configuration["retention"]["RetentionConfiguration"] == {"IcebergConfiguration": {"CleanExpiredFiles": True}}
    assert "OrphanFileDeletionConfiguration" not in configuration["orphan_file_deletion"]


def test_settings_as_passed(tuned) -> None:
    subject_table, _, template = tuned
    found = {name: r["Properties"]["TableOptimizerConfiguration"] for name, r in optimizers(template).items()}
    assert found["compaction"]["CompactionConfiguration"] == {
        "IcebergConfiguration": {"Strategy": "sort", "MinInputFiles": 2, "DeleteFileThreshold": 10}
    }
    assert found["retention"]["RetentionConfiguration"] == {"IcebergConfiguration": {
        "SnapshotRetentionPeriodInDays": 7, "NumberOfSnapshotsToRetain": 3, "CleanExpiredFiles": False,
    }}
    assert found["orphan_file_deletion"]["OrphanFileDeletionConfiguration"] == {"IcebergConfiguration": {
        "OrphanFileRetentionPeriodInDays": 5,
        "Location": {"Fn::Join": ["", ["s3://", ref(subject_table.bucket), "/curated/telemetry/data"]]},
    }}


def test_each_optimizer_waits_for_the_table_and_the_roles_policy(defaults) -> None:
    subject_table, maintenance, template = defaults
    policy = maintenance.role.node.find_child("DefaultPolicy").node.default_child
    for optimizer in optimizers(template).values():
        assert set(optimizer["DependsOn"]) == {logical_id(subject_table.table), logical_id(policy)}


def test_the_role_is_glues_and_reaches_this_table_only(defaults) -> None:
    subject_table, maintenance, template = defaults
    role = template.find_resources("AWS::IAM::Role")[logical_id(maintenance.role)]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}}
    ]
    statements = role_statements(template, maintenance.role)
    assert with_action(statements, "s3:ListBucket") == [{
        "Action": "s3:ListBucket", "Effect": "Allow", "Resource": arn_of(subject_table.bucket),
        "Condition": {"StringLike": {"s3:prefix": ["curated/telemetry/", "curated/telemetry/*"]}},
    }]
    assert with_action(statements, "s3:DeleteObject") == [{
        "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"], "Effect": "Allow",
        "Resource": {"Fn::Join": ["", [arn_of(subject_table.bucket), "/curated/telemetry/*"]]},
    }]
    assert with_action(statements, "glue:UpdateTable") == [{
        "Action": ["glue:GetTable", "glue:UpdateTable"], "Effect": "Allow",
        "Resource": [f"{GLUE}:catalog", f"{GLUE}:database/team_dev_curated", f"{GLUE}:table/team_dev_curated/telemetry"],
    }]
    assert with_action(statements, "logs:PutLogEvents")[0]["Resource"] == [
        f"{LOGS}/iceberg-compaction/logs:*", f"{LOGS}/iceberg-retention/logs:*", f"{LOGS}/iceberg-orphan-file-deletion/logs:*",
    ]
    (bucket_key,) = with_action(statements, "kms:GenerateDataKey")
    assert bucket_key["Condition"] == {"StringEquals": {"kms:ViaService": via_service("s3")}}
    assert not with_action(statements, "lakeformation:GetDataAccess")


def test_catalog_key_and_lake_formation_add_their_statements(tuned) -> None:
    _, maintenance, template = tuned
    statements = role_statements(template, maintenance.role)
    vias = [json.dumps(s["Condition"]["StringEquals"]["kms:ViaService"]) for s in with_action(statements, "kms:GenerateDataKey")]
    assert sorted(vias) == sorted([json.dumps(via_service("s3")), json.dumps(via_service("glue"))])
    assert with_action(statements, "lakeformation:GetDataAccess") == [
        {"Action": "lakeformation:GetDataAccess", "Effect": "Allow", "Resource": "*"}
    ]


def test_only_the_declared_optimizers_their_log_groups_and_alarms() -> None:
    subject_table = table()
    scope = cdk.Stack.of(subject_table)
    maintenance = IcebergTableMaintenance(scope, "Maintenance", table=subject_table, snapshot_retention=None, orphan_file_deletion=None)
    template = Template.from_stack(scope)
    assert set(optimizers(template)) == {"compaction"} and set(maintenance.alarms) == {"compaction"}
    statements = role_statements(template, maintenance.role)
    assert with_action(statements, "logs:PutLogEvents")[0]["Resource"] == f"{LOGS}/iceberg-compaction/logs:*"
    function = only(template, "AWS::Lambda::Function")
    assert function["Properties"]["Environment"]["Variables"]["OPTIMIZER_TYPES"] == "compaction"


def test_the_check_runs_on_schedule_with_what_it_needs(defaults) -> None:
    _, maintenance, template = defaults
    check = maintenance.health_check
    assert check is not None
    function = template.find_resources("AWS::Lambda::Function")[logical_id(check.function)]["Properties"]
    assert function["Environment"]["Variables"] == {
        "CATALOG_ID": "111122223333", "DATABASE_NAME": "team_dev_curated", "TABLE_NAME": "telemetry",
        "OPTIMIZER_TYPES": "compaction,retention,orphan_file_deletion", "MAX_HOURS_WITHOUT_RUN": "48",
        "METRICS_NAMESPACE": "IcebergTableMaintenance",
    }
    assert (function["Handler"], function["ReservedConcurrentExecutions"], function["TracingConfig"]) == (
        "handler.lambda_handler", 1, {"Mode": "Active"}
    )
    assert function["KmsKeyArn"] == arn_of(check.key)
    assert only(template, "AWS::Events::Rule")["Properties"]["ScheduleExpression"] == "rate(1 hour)"
    statements = role_statements(template, check.role)
    assert with_action(statements, "glue:GetTableOptimizer") == [{
        "Action": "glue:GetTableOptimizer", "Effect": "Allow",
        "Resource": [f"{GLUE}:catalog", f"{GLUE}:database/team_dev_curated", f"{GLUE}:table/team_dev_curated/telemetry"],
    }]
    assert with_action(statements, "cloudwatch:PutMetricData") == [{
        "Action": "cloudwatch:PutMetricData", "Effect": "Allow", "Resource": "*",
        "Condition": {"StringEquals": {"cloudwatch:namespace": "IcebergTableMaintenance"}},
    }]


def test_one_alarm_per_optimizer_that_counts_a_missing_check_as_unhealthy(defaults) -> None:
    _, maintenance, template = defaults
    assert set(maintenance.alarms) == {"compaction", "retention", "orphan_file_deletion"}
    for name, alarm in maintenance.alarms.items():
        props = template.find_resources("AWS::CloudWatch::Alarm")[logical_id(alarm)]["Properties"]
        assert (props["Namespace"], props["MetricName"], props["Statistic"], props["Period"]) == (
            "IcebergTableMaintenance", "OptimizerUnhealthy", "Maximum", 3600
        )
        assert props["Dimensions"] == [
            {"Name": "Database", "Value": "team_dev_curated"}, {"Name": "Optimizer", "Value": name}, {"Name": "Table", "Value": "telemetry"},
        ]
        assert (props["Threshold"], props["ComparisonOperator"], props["EvaluationPeriods"], props["DatapointsToAlarm"],
                props["TreatMissingData"]) == (1, "GreaterThanOrEqualToThreshold", 2, 2, "breaching")
    assert alarm_actions(template) == [["arn:aws:sns:eu-west-1:111122223333:alarms"]] * 3


def test_tuned_check_interval_limit_and_namespace(tuned) -> None:
    _, maintenance, template = tuned
    assert only(template, "AWS::Events::Rule")["Properties"]["ScheduleExpression"] == "rate(30 minutes)"
    variables = only(template, "AWS::Lambda::Function")["Properties"]["Environment"]["Variables"]
    assert (variables["MAX_HOURS_WITHOUT_RUN"], variables["METRICS_NAMESPACE"]) == ("30", "Team/Iceberg")
    periods = {p["Properties"]["Period"] for p in template.find_resources("AWS::CloudWatch::Alarm").values()}
    assert periods == {1800}


def test_without_the_check_no_function_and_no_alarm() -> None:
    subject_table = table()
    scope = cdk.Stack.of(subject_table)
    maintenance = IcebergTableMaintenance(scope, "Maintenance", table=subject_table, health_check=False)
    template = Template.from_stack(scope)
    assert maintenance.health_check is None and maintenance.alarms == {}
    assert not template.find_resources("AWS::Lambda::Function") and not template.find_resources("AWS::CloudWatch::Alarm")


def test_an_existing_table_and_an_existing_role() -> None:
    scope = stack()
    bucket = s3.Bucket.from_bucket_name(scope, "Lake", "team-lake")
    role = iam.Role(scope, "TeamRole", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
    existing = ExistingIcebergTable("team_db", "orders", bucket, "orders/")
    maintenance = IcebergTableMaintenance(scope, "Maintenance", table=existing, role=role, health_check=False)
    template = Template.from_stack(scope)
    assert maintenance.role is role and len(template.find_resources("AWS::IAM::Role")) == 1
    for optimizer in optimizers(template).values():
        assert optimizer["Properties"]["TableName"] == "orders"
        assert optimizer["Properties"]["TableOptimizerConfiguration"]["RoleArn"] == arn_of(role)
    assert with_action(role_statements(template, role), "glue:UpdateTable")[0]["Resource"][2] == f"{GLUE}:table/team_db/orders"


@pytest.mark.parametrize(("overrides", "error", "says"), [
    ({"compaction": None, "snapshot_retention": None, "orphan_file_deletion": None}, ValueError, "nothing to maintain"),
    ({"compaction": "binpack"}, TypeError, "compaction must be a IcebergCompaction"),
    ({"check_interval": cdk.Duration.minutes(1)}, ValueError, "check_interval must be whole minutes from 5 minutes to 6 hours"),
    ({"check_interval": cdk.Duration.hours(7)}, ValueError, "check_interval must be whole minutes"),
    ({"check_interval": cdk.Duration.seconds(330)}, ValueError, "check_interval must be whole minutes"),
    ({"max_hours_without_run": 24}, ValueError, "max_hours_without_run must be at least 25"),
    ({"max_hours_without_run": "48"}, TypeError, "max_hours_without_run must be an int"),
    ({"metrics_namespace": "AWS/Glue"}, ValueError, "reserved"),
    ({"compaction": IcebergCompaction(strategy="z-order")}, ValueError, "the table has none"),
    ({"orphan_file_deletion": IcebergOrphanFileDeletion(prefix="other/")}, ValueError, "not under the table's prefix"),
    ({"health_check": False, "alarm_topic": "topic"}, ValueError, "alarm_topic has no effect with health_check=False"),
    ({"health_check": False, "removal_policy": cdk.RemovalPolicy.DESTROY}, ValueError, "removal_policy has no effect"),
    ({"lake_formation": "yes"}, TypeError, "lake_formation must be True or False"),
    ({"removal_policy": cdk.RemovalPolicy.SNAPSHOT}, ValueError, "removal_policy must be"),
])
def test_bad_props_are_refused(overrides: dict, error: type[Exception], says: str) -> None:
    subject_table = table(sort_by=[])
    scope = cdk.Stack.of(subject_table)
    if overrides.get("alarm_topic") == "topic":
        overrides["alarm_topic"] = topic(scope)
    with pytest.raises(error, match=f"^IcebergTableMaintenance: .*{says}"):
        IcebergTableMaintenance(scope, "Maintenance", **{"table": subject_table, **overrides})


@pytest.mark.parametrize(("make", "says"), [
    (lambda: IcebergCompaction(strategy="zorder"), "IcebergCompaction: strategy must be"),
    (lambda: IcebergCompaction(min_input_files=0), "IcebergCompaction: min_input_files must be at least 1"),
    (lambda: IcebergSnapshotRetention(snapshots_to_retain=0), "IcebergSnapshotRetention: snapshots_to_retain must be at least 1"),
    (lambda: IcebergSnapshotRetention(clean_expired_files="true"), "IcebergSnapshotRetention: clean_expired_files must be True or False"),
    (lambda: IcebergOrphanFileDeletion(orphan_file_retention_days=0), "IcebergOrphanFileDeletion: orphan_file_retention_days must be"),
    (lambda: IcebergOrphanFileDeletion(prefix="data"), "IcebergOrphanFileDeletion: an S3 prefix must"),
    (lambda: ExistingIcebergTable("team_db", "Orders", None, "orders/"), "ExistingIcebergTable: table_name must be lower-case"),
])
def test_the_settings_refuse_bad_fields_naming_themselves(make, says: str) -> None:
    with pytest.raises((TypeError, ValueError), match=f"^{says}"):
        make()
