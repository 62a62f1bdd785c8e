"""The warehouse stack as the app builds it: config reaches the cluster, the Spectrum schema names
the curated database and the Spectrum role, and nothing is reachable from outside the VPC."""

from __future__ import annotations

import pytest

from config import load_config
from stacks.spectrum_schema import create_statements
from tests.synth import ENVIRONMENTS
from tests.unit.stacks.templates import only, resources


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def env(request, synthesised):
    name = request.param
    return name, synthesised(name).template(f"analytics-{name}-warehouse"), load_config(name).environment


def test_config_sets_the_cluster(env) -> None:
    name, template, config = env
    redshift = config.redshift
    props = only(template, "AWS::Redshift::Cluster")["Properties"]
    assert props["NodeType"] == redshift.node_type
    assert props["ClusterType"] == ("single-node" if redshift.number_of_nodes == 1 else "multi-node")
    assert props.get("NumberOfNodes", 1) == redshift.number_of_nodes
    assert props["Port"] == redshift.port
    assert props["MasterUsername"] == redshift.admin_username
    assert props["DBName"] == redshift.database_name
    assert props["AutomatedSnapshotRetentionPeriod"] == redshift.snapshot_retention_days
    assert props["PreferredMaintenanceWindow"] == redshift.maintenance_window
    assert props["ClusterIdentifier"] == f"analytics-{name}-warehouse"


def test_the_cluster_is_private_encrypted_and_routes_through_the_vpc(env) -> None:
    _, template, _ = env
    props = only(template, "AWS::Redshift::Cluster")["Properties"]
    assert props["PubliclyAccessible"] is False
    (key_id,) = [k for k in resources(template, "AWS::KMS::Key") if k.startswith("WarehouseKey")]
    assert props["Encrypted"] is True and props["KmsKeyId"] == {"Ref": key_id}
    assert props["EnhancedVpcRouting"] is True
    assert props["LoggingProperties"]["S3KeyPrefix"] == "redshift-audit/"
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in only(template, "AWS::Redshift::ClusterParameterGroup")["Properties"]["Parameters"]}
    assert parameters == {"require_ssl": "true", "enable_user_activity_logging": "true"}


def test_no_security_group_admits_anything_from_outside_the_vpc(env) -> None:
    _, template, _ = env
    for group in resources(template, "AWS::EC2::SecurityGroup").values():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert "CidrIp" not in rule, rule
    for rule in resources(template, "AWS::EC2::SecurityGroupIngress").values():
        assert "CidrIp" not in rule["Properties"] and "SourceSecurityGroupId" in rule["Properties"]


def test_the_spectrum_schema_reads_the_curated_database_with_the_spectrum_role(env) -> None:
    name, template, config = env
    sql = only(template, "Custom::RedshiftSql")["Properties"]
    (role_id,) = [k for k in resources(template, "AWS::IAM::Role") if k.startswith("WarehouseSpectrumRole")]
    expected = create_statements(schema=config.redshift.spectrum_schema, database=f"analytics_{name}_curated", role_arn="@ROLE@")
    (statement,) = expected
    before, after = statement.split("@ROLE@")
    assert sql["CreateStatements"] == [{"Fn::Join": ["", [before, {"Fn::GetAtt": [role_id, "Arn"]}, after]]}]
    assert sql["DeleteStatements"] == [f"DROP SCHEMA IF EXISTS {config.redshift.spectrum_schema}"]
    assert sql["Database"] == config.redshift.database_name
    # Its grants are in place before the statement runs.
    (policy_id,) = [k for k in resources(template, "AWS::IAM::Policy") if k.startswith("WarehouseSpectrumRoleDefaultPolicy")]
    assert policy_id in only(template, "Custom::RedshiftSql")["DependsOn"]


def test_pause_and_resume_only_where_configured(env) -> None:
    _, template, config = env
    actions = resources(template, "AWS::Redshift::ScheduledAction")
    pause_resume = config.redshift.pause_resume
    if pause_resume is None:
        assert actions == {}
        return
    schedules = sorted(a["Properties"]["Schedule"] for a in actions.values())
    assert schedules == sorted([pause_resume.pause_schedule, pause_resume.resume_schedule])


def test_alarms_reach_the_alarm_topic(env) -> None:
    name, template, _ = env
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert {a["Properties"]["MetricName"] for a in alarms.values()} == {"HealthStatus", "CPUUtilization", "PercentageDiskSpaceUsed"}
    for alarm in alarms.values():
        (action,) = alarm["Properties"]["AlarmActions"]
        assert action["Fn::GetStackOutput"]["StackName"] == f"analytics-{name}-foundation"


def test_stateful_resources_follow_the_removal_policy(env) -> None:
    _, template, config = env
    expected = "Delete" if config.destroys_data_on_delete else "Retain"
    for resource_type in ("AWS::Redshift::Cluster", "AWS::KMS::Key", "AWS::SecretsManager::Secret"):
        for resource in resources(template, resource_type).values():
            assert resource["DeletionPolicy"] == expected, resource_type
