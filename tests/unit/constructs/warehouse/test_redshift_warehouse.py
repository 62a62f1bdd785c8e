"""RedshiftWarehouse: a private, encrypted RA3 cluster with TLS-only connections, audit logs to one
S3 prefix, snapshots, a rotated admin secret, optional pause/resume and alarms, and a Spectrum role."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from constructs_lib.common.removal import DATA_DESTROYED_WARNING_ID
from constructs_lib.governance.lake_access import LakeLocation
from constructs_lib.warehouse.redshift_warehouse import (
    GLUE_READ_ACTIONS,
    PauseResumeSchedule,
    RedshiftWarehouse,
    SnapshotCopy,
    _redshift_log_principals,
)
from stacks.compliance import add_compliance_checks
from tests.compliance.nag import PACK_RULE_ID, acknowledgments, findings
from tests.unit.constructs.stack_helpers import stack
from tests.unit.constructs.template_helpers import actions, arn_of, logical_id, ref, via_service, with_prefix

ACCOUNT = "111122223333"
REGION = "eu-west-1"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms"
ISOLATED = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
PUBLIC = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"]
PAUSE = PauseResumeSchedule(pause_schedule="cron(0 19 ? * MON-FRI *)", resume_schedule="cron(0 7 ? * MON-FRI *)")
COPY = SnapshotCopy(destination_region="eu-central-1", retention_days=10, grant_name="analytics-dr-grant")


class Network:
    """An imported VPC (isolated and public subnets), an SSE-S3 audit-log bucket, a lake bucket
    and its key, and an alarm topic, in one environment-specific stack."""

    def __init__(self, scope: cdk.Stack) -> None:
        self.scope = scope
        self.vpc = ec2.Vpc.from_vpc_attributes(
            scope, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["eu-west-1a", "eu-west-1b"],
            isolated_subnet_ids=ISOLATED, public_subnet_ids=PUBLIC,
        )
        self.audit_logs = s3.Bucket(
            scope, "AuditLogs", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        )
        self.lake_key = kms.Key(scope, "LakeKey", enable_key_rotation=True)
        self.lake = s3.Bucket.from_bucket_name(scope, "Lake", "lake-bucket")
        self.topic = cdk.aws_sns.Topic.from_topic_arn(scope, "Alarms", TOPIC_ARN)
        self._count = 0

    def warehouse(self, construct_id: str | None = None, **overrides) -> RedshiftWarehouse:
        if construct_id is None:  # validation tests: a fresh id each, never synthesised
            self._count += 1
            construct_id = f"Invalid{self._count}"
        settings = {
            "vpc": self.vpc,
            "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            "node_type": "ra3.xlplus",
            "number_of_nodes": 1,
            "port": 5441,
            "admin_username": "warehouse_admin",
            "database_name": "analytics",
            "audit_log_bucket": self.audit_logs,
            "audit_log_prefix": f"redshift/{construct_id.lower()}/",
            "snapshot_retention_days": 7,
            "maintenance_window": "sun:03:00-sun:03:30",
            "admin_secret_rotation": cdk.Duration.days(30),
            "alarm_topic": None,
        }
        return RedshiftWarehouse(self.scope, construct_id, **{**settings, **overrides})


def tuned_settings(network: Network, key: kms.IKey) -> dict:
    return {
        "node_type": "ra3.4xlarge", "number_of_nodes": 3, "port": 8200, "admin_username": "dw.admin@corp",
        "database_name": "lake_dw", "encryption_key": key, "snapshot_retention_days": 35, "snapshot_copy": COPY,
        "maintenance_window": "Sat:23:45-Sun:00:15", "admin_secret_rotation": cdk.Duration.days(7),
        "pause_resume": PAUSE, "alarm_topic": network.topic, "cpu_alarm_percent": 75, "disk_alarm_percent": 70,
        "removal_policy": cdk.RemovalPolicy.DESTROY, "cluster_name": "analytics-dw",
    }


@pytest.fixture(scope="module")
def built():
    """Three warehouses in one stack: all defaults (single node, no alarms); every tunable set
    (multi-node, own key, snapshot copy, pause/resume, alarms with own thresholds, DESTROY, a
    name, a Spectrum grant); alarms with default thresholds and no schedule (DESTROY, a key the construct creates)."""
    network = Network(stack())
    caller_key = kms.Key(network.scope, "CallerKey", enable_key_rotation=True)
    warehouses = {
        "default": network.warehouse("Default"),
        "tuned": network.warehouse("Tuned", **tuned_settings(network, caller_key)),
        "alarmed": network.warehouse("Alarmed", alarm_topic=network.topic, removal_policy=cdk.RemovalPolicy.DESTROY),
    }
    warehouses["tuned"].grant_spectrum_read(
        "curated",
        # An imported bucket with a key, and a bucket of this stack without one.
        [LakeLocation(network.lake, "curated/", network.lake_key), LakeLocation(network.audit_logs, "exports/")],
        catalog_key=caller_key,
    )
    client = ec2.SecurityGroup(network.scope, "Client", vpc=network.vpc)
    warehouses["tuned"].connections.allow_default_port_from(client, "BI tool")
    template = Template.from_stack(network.scope).to_json()  # read once: every to_json() is a jsii round trip
    return network, warehouses, template, {"caller_key": caller_key, "client": client}


def resource(built_, construct) -> dict:
    _, _, template, _ = built_
    return template["Resources"][logical_id(construct)]


def find(template: dict, resource_type: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def statements_of(template: dict, role) -> list[dict]:
    """Every statement of the identity policies attached to ``role``."""
    return [
        statement
        for policy in find(template, "AWS::IAM::Policy").values()
        if ref(role) in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def cluster(built_, name: str) -> dict:
    return resource(built_, built_[1][name].cluster)


# -- the cluster ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "tuned", "alarmed"])
def test_security_settings_are_fixed(built, name) -> None:
    warehouse = built[1][name]
    props = cluster(built, name)["Properties"]
    assert (props["Encrypted"], props["PubliclyAccessible"], props["EnhancedVpcRouting"]) == (True, False, True)
    assert props["AllowVersionUpgrade"] is True
    assert props["ClusterParameterGroupName"] == ref(warehouse.parameter_group)
    assert props["VpcSecurityGroupIds"] == [{"Fn::GetAtt": [logical_id(warehouse.security_group), "GroupId"]}]
    assert props["KmsKeyId"] == ref(warehouse.key)
    assert props["IamRoles"] == [arn_of(warehouse.spectrum_role)]


def test_defaults_are_a_single_node_cluster_named_by_cloudformation(built) -> None:
    props = cluster(built, "default")["Properties"]
    assert (props["ClusterType"], props["NodeType"], props.get("NumberOfNodes")) == ("single-node", "ra3.xlplus", None)
    assert (props["Port"], props["DBName"], props["MasterUsername"]) == (5441, "analytics", "warehouse_admin")
    assert (props["AutomatedSnapshotRetentionPeriod"], props["PreferredMaintenanceWindow"]) == (7, "sun:03:00-sun:03:30")
    assert "ClusterIdentifier" not in props
    assert not {"DestinationRegion", "SnapshotCopyRetentionPeriod", "SnapshotCopyGrantName"} & set(props)


def test_every_tunable_reaches_the_cluster(built) -> None:
    props = cluster(built, "tuned")["Properties"]
    assert (props["ClusterType"], props["NodeType"], props["NumberOfNodes"]) == ("multi-node", "ra3.4xlarge", 3)
    assert (props["Port"], props["DBName"], props["MasterUsername"]) == (8200, "lake_dw", "dw.admin@corp")
    assert (props["AutomatedSnapshotRetentionPeriod"], props["PreferredMaintenanceWindow"]) == (35, "sat:23:45-sun:00:15")
    assert props["ClusterIdentifier"] == "analytics-dw"
    assert (props["DestinationRegion"], props["SnapshotCopyRetentionPeriod"], props["SnapshotCopyGrantName"]) == (
        "eu-central-1", 10, "analytics-dr-grant",
    )


def test_the_exposed_values_are_the_clusters(built) -> None:
    _, warehouses, _, _ = built
    tuned = warehouses["tuned"]
    assert (tuned.port, tuned.database_name) == (8200, "lake_dw")
    assert cdk.Stack.of(tuned).resolve(tuned.cluster_identifier) == ref(tuned.cluster)
    assert tuned.secret.node.path == tuned.cluster.secret.node.path == "Test/Tuned/Cluster/Secret/Attachment"


def test_the_parameter_group_requires_tls_and_logs_user_activity(built) -> None:
    for name in ("default", "tuned"):
        props = resource(built, built[1][name].parameter_group)["Properties"]
        assert props["ParameterGroupFamily"] == "redshift-1.0"
        assert props["Parameters"] == [
            {"ParameterName": "require_ssl", "ParameterValue": "true"},
            {"ParameterName": "enable_user_activity_logging", "ParameterValue": "true"},
        ]


def test_the_cluster_sits_in_the_isolated_subnets(built) -> None:
    _, _, template, _ = built
    subnet_group = cluster(built, "default")["Properties"]["ClusterSubnetGroupName"]
    groups = find(template, "AWS::Redshift::ClusterSubnetGroup")
    assert groups[subnet_group["Ref"]]["Properties"]["SubnetIds"] == ISOLATED


# -- removal policy ------------------------------------------------------------------------


def deletion(body: dict) -> tuple:
    return body.get("DeletionPolicy"), body.get("UpdateReplacePolicy")


def secret_resource(built_, name: str) -> dict:
    return resource(built_, built_[1][name].cluster.node.find_child("Secret"))


def test_retain_keeps_cluster_key_and_secret(built) -> None:
    assert deletion(cluster(built, "default")) == ("Retain", "Retain")
    assert deletion(resource(built, built[1]["default"].key)) == ("Retain", "Retain")
    assert deletion(secret_resource(built, "default")) == ("Retain", "Retain")


def test_destroy_deletes_cluster_key_and_secret(built) -> None:
    assert deletion(cluster(built, "alarmed")) == ("Delete", "Delete")
    assert deletion(resource(built, built[1]["alarmed"].key)) == ("Delete", "Delete")
    assert deletion(secret_resource(built, "alarmed")) == ("Delete", "Delete")


def test_destroy_never_touches_a_callers_key(built) -> None:
    _, warehouses, _, extra = built
    assert warehouses["tuned"].key is extra["caller_key"]
    assert deletion(cluster(built, "tuned")) == ("Delete", "Delete")
    assert deletion(resource(built, extra["caller_key"])) == ("Retain", "Retain")


def test_destroy_is_announced_in_a_synth_warning_and_retain_is_not(built) -> None:
    network, _, _, _ = built
    annotations = Annotations.from_stack(network.scope)
    warnings = annotations.find_warning("/Test/Alarmed", Match.string_like_regexp(".*DESTROY.*KMS key.*"))
    assert len(warnings) == 1 and DATA_DESTROYED_WARNING_ID in str(warnings[0].entry.data)
    assert annotations.find_warning("/Test/Default", Match.string_like_regexp(".*DESTROY.*")) == []
    # The caller's key is the caller's: the warning does not claim it is deleted.
    tuned = annotations.find_warning("/Test/Tuned", Match.string_like_regexp(".*DESTROY.*"))
    assert len(tuned) == 1 and "KMS key" not in str(tuned[0].entry.data)


# -- keys and the admin secret -------------------------------------------------------------


def test_without_a_key_the_construct_creates_a_rotating_one(built) -> None:
    key = resource(built, built[1]["default"].key)["Properties"]
    assert (key["EnableKeyRotation"], key["PendingWindowInDays"]) == (True, 30)


def test_the_admin_secret_is_encrypted_with_the_cluster_key(built) -> None:
    for name in ("default", "tuned"):
        secret = secret_resource(built, name)["Properties"]
        assert secret["KmsKeyId"] == arn_of(built[1][name].key)
        assert json.loads(secret["GenerateSecretString"]["SecretStringTemplate"])["username"] == cluster(built, name)[
            "Properties"
        ]["MasterUsername"]


def rotation(built_, name: str) -> dict:
    return resource(built_, built_[1][name].rotation_schedule)["Properties"]


@pytest.mark.parametrize(("name", "rate"), [("default", "rate(30 days)"), ("tuned", "rate(7 days)")])
def test_the_admin_secret_rotates_in_the_isolated_subnets_on_schedule(built, name, rate) -> None:
    warehouse = built[1][name]
    props = rotation(built, name)
    assert props["SecretId"] == ref(warehouse.secret)
    assert props["RotationRules"] == {"ScheduleExpression": rate}
    hosted = props["HostedRotationLambda"]
    assert hosted["RotationType"] == "RedshiftSingleUser"
    assert hosted["KmsKeyArn"] == arn_of(warehouse.key)
    assert hosted["VpcSubnetIds"] == ",".join(ISOLATED)
    assert hosted["VpcSecurityGroupIds"] == {"Fn::GetAtt": [logical_id(warehouse.rotation_security_group), "GroupId"]}


def test_hosted_rotation_adds_the_secrets_manager_transform(built) -> None:
    _, _, template, _ = built
    assert template["Transform"] == ["AWS::SecretsManager-2024-09-16"]


# -- network -------------------------------------------------------------------------------


def group_id(construct) -> dict:
    return {"Fn::GetAtt": [logical_id(construct), "GroupId"]}


def rules(built_, resource_type: str, key: str, group) -> list[dict]:
    _, _, template, _ = built_
    return [
        body["Properties"]
        for body in find(template, resource_type).values()
        if body["Properties"][key] == group_id(group)
    ]


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_the_cluster_group_allows_https_out_only(built, name) -> None:
    warehouse = built[1][name]
    props = resource(built, warehouse.security_group)["Properties"]
    assert props["SecurityGroupEgress"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "HTTPS to the VPC's S3 gateway and interface endpoints",
         "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
    ]
    assert "SecurityGroupIngress" not in props
    assert rules(built, "AWS::EC2::SecurityGroupEgress", "GroupId", warehouse.security_group) == []


def test_only_the_rotation_function_is_let_in_by_default_on_the_port_only(built) -> None:
    warehouse = built[1]["default"]
    ingress = rules(built, "AWS::EC2::SecurityGroupIngress", "GroupId", warehouse.security_group)
    assert ingress == [
        {"Description": "Rotate the Redshift admin password", "FromPort": 5441, "GroupId": group_id(warehouse.security_group),
         "IpProtocol": "tcp", "SourceSecurityGroupId": group_id(warehouse.rotation_security_group), "ToPort": 5441}
    ]


def test_the_rotation_group_reaches_the_cluster_port_and_https_only(built) -> None:
    warehouse = built[1]["tuned"]
    props = resource(built, warehouse.rotation_security_group)["Properties"]
    assert [(r["CidrIp"], r["FromPort"], r["ToPort"]) for r in props["SecurityGroupEgress"]] == [("0.0.0.0/0", 443, 443)]
    egress = rules(built, "AWS::EC2::SecurityGroupEgress", "GroupId", warehouse.rotation_security_group)
    assert [(e["DestinationSecurityGroupId"], e["FromPort"], e["ToPort"]) for e in egress] == [
        (group_id(warehouse.security_group), 8200, 8200)
    ]


def test_connections_open_the_cluster_port_to_a_caller(built) -> None:
    warehouse, client = built[1]["tuned"], built[3]["client"]
    ingress = rules(built, "AWS::EC2::SecurityGroupIngress", "GroupId", warehouse.security_group)
    assert sorted((json.dumps(i["SourceSecurityGroupId"]), i["FromPort"], i["ToPort"]) for i in ingress) == sorted(
        [(json.dumps(group_id(client)), 8200, 8200), (json.dumps(group_id(warehouse.rotation_security_group)), 8200, 8200)]
    )


# -- audit logging -------------------------------------------------------------------------


def bucket_statements(built_) -> list[dict]:
    network, _, template, _ = built_
    (policy,) = find(template, "AWS::S3::BucketPolicy").values()
    assert policy["Properties"]["Bucket"] == ref(network.audit_logs)
    return policy["Properties"]["PolicyDocument"]["Statement"]


@pytest.mark.parametrize("name", ["default", "tuned", "alarmed"])
def test_audit_logs_go_to_the_warehouse_prefix(built, name) -> None:
    network, _, _, _ = built
    props = cluster(built, name)["Properties"]
    assert props["LoggingProperties"] == {
        "BucketName": ref(network.audit_logs), "LogDestinationType": "s3", "S3KeyPrefix": f"redshift/{name}/",
    }


def test_redshift_may_put_logs_under_each_prefix_only_and_read_the_bucket_acl(built) -> None:
    network, _, _, _ = built
    redshift_statements = [s for s in bucket_statements(built) if s.get("Principal") == {"Service": "redshift.amazonaws.com"}]
    same_account = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    objects = [{"Fn::Join": ["", [arn_of(network.audit_logs), f"/redshift/{name}/*"]]} for name in ("default", "tuned", "alarmed")]
    # One GetBucketAcl statement: CDK merges the identical ones of the three warehouses.
    assert redshift_statements == [
        {"Action": "s3:PutObject", "Condition": same_account, "Effect": "Allow",
         "Principal": {"Service": "redshift.amazonaws.com"}, "Resource": objects[0]},
        {"Action": "s3:GetBucketAcl", "Condition": same_account, "Effect": "Allow",
         "Principal": {"Service": "redshift.amazonaws.com"}, "Resource": arn_of(network.audit_logs)},
        *({"Action": "s3:PutObject", "Condition": same_account, "Effect": "Allow",
           "Principal": {"Service": "redshift.amazonaws.com"}, "Resource": o} for o in objects[1:]),
    ]


def test_the_bucket_statement_never_refers_to_the_cluster(built) -> None:
    text = json.dumps(bucket_statements(built))
    assert "Warehouse" not in text and "Cluster" not in text


def test_the_cluster_waits_for_the_bucket_policy(built) -> None:
    network, _, _, _ = built
    policy_id = cdk.Stack.of(network.audit_logs).get_logical_id(network.audit_logs.policy.node.default_child)
    assert policy_id in cluster(built, "default")["DependsOn"]


@pytest.mark.parametrize(
    ("region", "principals"),
    [
        ("eu-west-1", ["redshift.amazonaws.com"]),
        ("ap-east-1", ["redshift.ap-east-1.amazonaws.com"]),  # an opt-in region
        (cdk.Aws.REGION, ["redshift.amazonaws.com", f"redshift.{cdk.Aws.REGION}.amazonaws.com"]),
    ],
)
def test_opt_in_regions_use_the_regional_log_principal(region, principals) -> None:
    assert _redshift_log_principals(region) == principals


# -- pause and resume ----------------------------------------------------------------------


def test_without_a_schedule_there_are_no_scheduled_actions(built) -> None:
    _, warehouses, template, _ = built
    assert (warehouses["default"].scheduled_actions, warehouses["default"].scheduler_role) == ([], None)
    assert len(find(template, "AWS::Redshift::ScheduledAction")) == 2  # the tuned warehouse's only


def test_pause_and_resume_run_on_their_schedules_against_this_cluster(built) -> None:
    warehouse = built[1]["tuned"]
    pause, resume = (resource(built, action) for action in warehouse.scheduled_actions)
    assert [a["Properties"]["Schedule"] for a in (pause, resume)] == [PAUSE.pause_schedule, PAUSE.resume_schedule]
    assert pause["Properties"]["TargetAction"] == {"PauseCluster": {"ClusterIdentifier": ref(warehouse.cluster)}}
    assert resume["Properties"]["TargetAction"] == {"ResumeCluster": {"ClusterIdentifier": ref(warehouse.cluster)}}
    for action in (pause, resume):
        assert action["Properties"]["Enable"] is True
        assert action["Properties"]["IamRole"] == arn_of(warehouse.scheduler_role)
        # The policy, not the role: the role is referenced already (cfn-lint W3005).
        assert action["DependsOn"] == [logical_id(warehouse.scheduler_role.node.find_child("DefaultPolicy"))]
    names = [a["Properties"]["ScheduledActionName"] for a in (pause, resume)]
    assert all(re.fullmatch(r"[a-z0-9-]{1,60}", n) for n in names) and names[0] != names[1]
    assert names[0].endswith("-pause") and names[1].endswith("-resume")


def test_the_scheduler_role_may_pause_and_resume_this_cluster_only(built) -> None:
    _, _, template, _ = built
    role = built[1]["tuned"].scheduler_role
    trust = resource(built, role)["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "scheduler.redshift.amazonaws.com"}}]
    assert statements_of(template, role) == [
        {
            "Action": ["redshift:PauseCluster", "redshift:ResumeCluster"],
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:", ref(built[1]["tuned"].cluster)]]},
        }
    ]


# -- alarms --------------------------------------------------------------------------------


def alarm(built_, name: str, kind: str) -> dict:
    return resource(built_, built_[1][name].alarms[kind])["Properties"]


def test_without_an_alarm_topic_no_alarm_is_created(built) -> None:
    _, _, template, _ = built
    assert built[1]["default"].alarms == {}
    assert len(find(template, "AWS::CloudWatch::Alarm")) == 6  # three each for tuned and alarmed


@pytest.mark.parametrize("name", ["tuned", "alarmed"])
def test_every_alarm_notifies_the_topic_on_alarm_and_ok(built, name) -> None:
    warehouse = built[1][name]
    assert sorted(warehouse.alarms) == ["cpu", "disk", "health"]
    for kind in warehouse.alarms:
        props = alarm(built, name, kind)
        assert (props["AlarmActions"], props["OKActions"]) == ([TOPIC_ARN], [TOPIC_ARN])
        assert props["Namespace"] == "AWS/Redshift" and props["Period"] == 300
        assert props["Dimensions"] == [{"Name": "ClusterIdentifier", "Value": ref(warehouse.cluster)}]


def test_default_thresholds_are_cpu_90_for_three_periods_and_disk_80(built) -> None:
    cpu, disk = alarm(built, "alarmed", "cpu"), alarm(built, "alarmed", "disk")
    assert (cpu["MetricName"], cpu["Statistic"], cpu["Threshold"]) == ("CPUUtilization", "Average", 90)
    assert (cpu["EvaluationPeriods"], cpu["DatapointsToAlarm"], cpu["ComparisonOperator"]) == (3, 3, "GreaterThanThreshold")
    assert (disk["MetricName"], disk["Statistic"], disk["Threshold"]) == ("PercentageDiskSpaceUsed", "Maximum", 80)
    assert (disk["EvaluationPeriods"], disk["ComparisonOperator"]) == (1, "GreaterThanThreshold")


def test_thresholds_are_as_passed(built) -> None:
    assert (alarm(built, "tuned", "cpu")["Threshold"], alarm(built, "tuned", "disk")["Threshold"]) == (75, 70)


def test_health_alarms_below_one(built) -> None:
    health = alarm(built, "alarmed", "health")
    assert (health["MetricName"], health["Statistic"], health["Threshold"]) == ("HealthStatus", "Minimum", 1)
    assert (health["ComparisonOperator"], health["EvaluationPeriods"]) == ("LessThanThreshold", 1)


def test_missing_health_data_alarms_unless_the_cluster_pauses_on_schedule(built) -> None:
    assert alarm(built, "alarmed", "health")["TreatMissingData"] == "breaching"
    assert alarm(built, "tuned", "health")["TreatMissingData"] == "notBreaching"
    for name in ("tuned", "alarmed"):
        assert {alarm(built, name, k)["TreatMissingData"] for k in ("cpu", "disk")} == {"notBreaching"}


# -- Spectrum ------------------------------------------------------------------------------


def spectrum_statements(built_, name: str) -> list[dict]:
    _, _, template, _ = built_
    return statements_of(template, built_[1][name].spectrum_role)


def test_the_spectrum_role_is_assumed_by_redshift(built) -> None:
    trust = resource(built, built[1]["default"].spectrum_role)["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "redshift.amazonaws.com"}}]


def test_without_a_grant_spectrum_may_only_ask_lake_formation_for_data_access(built) -> None:
    assert spectrum_statements(built, "default") == [{"Action": "lakeformation:GetDataAccess", "Effect": "Allow", "Resource": "*"}]


def test_the_grant_reads_each_prefix_only_and_decrypts_through_s3(built) -> None:
    network, _, _, extra = built
    granted = spectrum_statements(built, "tuned")
    lake = "arn:aws:s3:::lake-bucket"
    assert with_prefix(granted, "s3") == [
        {"Action": "s3:ListBucket", "Condition": {"StringLike": {"s3:prefix": ["curated/", "curated/*"]}},
         "Effect": "Allow", "Resource": lake},
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": f"{lake}/curated/*"},
        {"Action": "s3:ListBucket", "Condition": {"StringLike": {"s3:prefix": ["exports/", "exports/*"]}},
         "Effect": "Allow", "Resource": arn_of(network.audit_logs)},
        {"Action": "s3:GetObject", "Effect": "Allow",
         "Resource": {"Fn::Join": ["", [arn_of(network.audit_logs), "/exports/*"]]}},
    ]
    assert [s for s in with_prefix(granted, "kms") if s["Condition"]["StringEquals"]["kms:ViaService"] == via_service("s3")] == [
        {"Action": "kms:Decrypt", "Condition": {"StringEquals": {"kms:ViaService": via_service("s3")}},
         "Effect": "Allow", "Resource": arn_of(network.lake_key)}
    ]
    assert extra["caller_key"] is not network.lake_key


def test_the_grant_reads_the_one_glue_database_and_decrypts_the_catalog_through_glue(built) -> None:
    _, _, _, extra = built
    granted = spectrum_statements(built, "tuned")
    assert with_prefix(granted, "glue") == [
        {
            "Action": list(GLUE_READ_ACTIONS),
            "Effect": "Allow",
            "Resource": [
                f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog",
                f"arn:aws:glue:{REGION}:{ACCOUNT}:database/curated",
                f"arn:aws:glue:{REGION}:{ACCOUNT}:table/curated/*",
            ],
        }
    ]
    assert [s for s in with_prefix(granted, "kms") if s["Condition"]["StringEquals"]["kms:ViaService"] == via_service("glue")] == [
        {"Action": "kms:Decrypt", "Condition": {"StringEquals": {"kms:ViaService": via_service("glue")}},
         "Effect": "Allow", "Resource": arn_of(extra["caller_key"])}
    ]
    assert {a for s in granted for a in actions(s)} <= {
        *GLUE_READ_ACTIONS, "s3:ListBucket", "s3:GetObject", "kms:Decrypt", "lakeformation:GetDataAccess"
    }


def test_a_grant_without_a_database_or_locations_is_rejected(built) -> None:
    warehouse = built[1]["default"]
    with pytest.raises(ValueError, match="needs the Glue database_name"):
        warehouse.grant_spectrum_read("", [LakeLocation(built[0].lake, "curated/")])
    with pytest.raises(ValueError, match="at least one location"):
        warehouse.grant_spectrum_read("curated", [])
    with pytest.raises(ValueError, match=r"^LakeLocation: an S3 prefix .*got 'curated'$"):
        warehouse.grant_spectrum_read("curated", [LakeLocation(built[0].lake, "curated")])


# -- validation ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def invalid():
    """A stack for constructs that raise: never synthesised, so half-built ones do no harm."""
    return Network(stack())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"node_type": "dc2.large"}, r"node_type must be an RA3 type, one of ra3.large, ra3.xlplus, ra3.4xlarge, "
                                     r"ra3.16xlarge \(DC1/DC2/DS2 are previous-generation node types\); got 'dc2.large'$"),
        ({"node_type": "ds2.xlarge"}, r"node_type must be an RA3 type, .*previous-generation node types\); got 'ds2.xlarge'$"),
        ({"node_type": "RA3.XLPLUS"}, r"node_type must be an RA3 type, .*ra3.16xlarge; got 'RA3.XLPLUS'$"),
        ({"node_type": "ra3.4xlarge", "number_of_nodes": 1}, r"number_of_nodes for ra3.4xlarge must be 2 to 32; got 1$"),
        ({"node_type": "ra3.16xlarge", "number_of_nodes": 101}, r"number_of_nodes for ra3.16xlarge must be 2 to 100; got 101$"),
        ({"node_type": "ra3.xlplus", "number_of_nodes": 17}, r"number_of_nodes for ra3.xlplus must be 1 to 16 \(1 means a single-node cluster\); got 17$"),
        ({"node_type": "ra3.large", "number_of_nodes": 0}, r"number_of_nodes for ra3.large must be 1 to 16 .*; got 0$"),
        ({"number_of_nodes": 2.0}, r"number_of_nodes for ra3.xlplus must be 1 to 16 .*; got 2.0$"),
        ({"port": 5439}, r"port must not be Redshift's default 5439; got 5439$"),
        ({"port": 5430}, r"port must be in 5431-5455 or 8191-8215; got 5430$"),
        ({"port": 5456}, r"port must be in .*; got 5456$"),
        ({"port": 8190}, r"port must be in .*; got 8190$"),
        ({"port": 8216}, r"port must be in .*; got 8216$"),
        ({"admin_username": "awsuser"}, r"admin_username must not be Redshift's default, .*; got 'awsuser'$"),
        ({"admin_username": "rdsadmin"}, r"admin_username must not be .*; got 'rdsadmin'$"),
        ({"admin_username": "public"}, r"admin_username must not be .*; got 'public'$"),
        ({"admin_username": "user"}, r"admin_username must not be .*reserved word; got 'user'$"),
        ({"admin_username": "Admin"}, r"admin_username must be 1-128 characters, .*; got 'Admin'$"),
        ({"admin_username": "1admin"}, r"admin_username must be 1-128 .*; got '1admin'$"),
        ({"admin_username": "dw:admin"}, r"admin_username must be 1-128 .*; got 'dw:admin'$"),
        ({"admin_username": "a" * 129}, r"admin_username must be 1-128 characters.*; got 'a{129}'$"),
        ({"admin_username": ""}, r"admin_username must be 1-128 .*; got ''$"),
        ({"database_name": "Analytics"}, r"database_name must be 1-64 lowercase .*; got 'Analytics'$"),
        ({"database_name": "table"}, r"database_name must be .*; got 'table'$"),
        ({"database_name": "d" * 65}, r"database_name must be 1-64 .*; got 'd{65}'$"),
        ({"database_name": "lake-dw"}, r"database_name must be .*; got 'lake-dw'$"),
        ({"audit_log_prefix": "redshift"}, r"an S3 prefix must .*; got 'redshift'$"),
        ({"audit_log_prefix": "/redshift/"}, r"an S3 prefix must .*; got '/redshift/'$"),
        ({"audit_log_prefix": "red shift/"}, r"audit_log_prefix must be at most 512 characters .*; got 'red shift/'$"),
        ({"audit_log_prefix": "it's/"}, r"audit_log_prefix must be .*; got \"it's/\"$"),
        ({"audit_log_prefix": "p" * 512 + "/"}, r"audit_log_prefix must be at most 512 characters .*; got 'p{512}/'$"),
        ({"snapshot_retention_days": 0}, r"snapshot_retention_days must be a whole number from 1 to 35; got 0$"),
        ({"snapshot_retention_days": 36}, r"snapshot_retention_days must be .*; got 36$"),
        ({"maintenance_window": "sun:03:00"}, r"maintenance_window must be ddd:hh24:mi-ddd:hh24:mi .*; got 'sun:03:00'$"),
        ({"maintenance_window": "sun:24:00-mon:01:00"}, r"maintenance_window must be ddd:hh24:mi-ddd:hh24:mi .*; got 'sun:24:00-mon:01:00'$"),
        ({"maintenance_window": "sun:03:00-sun:03:29"}, r"maintenance_window must be at least 30 minutes long; got 'sun:03:00-sun:03:29'$"),
        ({"maintenance_window": "sun:03:00-sun:03:00"}, r"maintenance_window must be at least 30 minutes long; got 'sun:03:00-sun:03:00'$"),
        ({"admin_secret_rotation": cdk.Duration.hours(3)}, r"admin_secret_rotation must be whole hours from 4 hours to 1000 days; got 3 hours$"),
        ({"admin_secret_rotation": cdk.Duration.days(1001)}, r"admin_secret_rotation must be .*; got 1001 days$"),
        ({"admin_secret_rotation": cdk.Duration.minutes(301)}, r"admin_secret_rotation must be whole hours .*; got 5 hours 1 minute$"),
        ({"cpu_alarm_percent": 0}, r"cpu_alarm_percent must be above 0 and below 100; got 0$"),
        ({"cpu_alarm_percent": 100}, r"cpu_alarm_percent must be .*; got 100$"),
        ({"disk_alarm_percent": 101.5}, r"disk_alarm_percent must be above 0 and below 100; got 101.5$"),
        ({"removal_policy": cdk.RemovalPolicy.SNAPSHOT}, r"removal_policy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY; got RemovalPolicy.SNAPSHOT$"),
        ({"cluster_name": "Analytics"}, r"cluster_name must be 1-63 lowercase .*; got 'Analytics'$"),
        ({"cluster_name": "analytics-"}, r"cluster_name must be .*; got 'analytics-'$"),
        ({"cluster_name": "analytics--dw"}, r"cluster_name must be .*; got 'analytics--dw'$"),
        ({"cluster_name": "a" * 64}, r"cluster_name must be 1-63 .*; got 'a{64}'$"),
        ({"snapshot_copy": SnapshotCopy("eu-west-1", 7, "grant")},
         r"snapshot_copy.destination_region must be another region than the cluster's; got 'eu-west-1'$"),
        ({"snapshot_copy": SnapshotCopy("Frankfurt", 7, "grant")}, r"snapshot_copy.destination_region must be a region name; got 'Frankfurt'$"),
        ({"snapshot_copy": SnapshotCopy("eu-central-1", 0, "grant")}, r"snapshot_copy.retention_days must be a whole number from 1 to 35; got 0$"),
        ({"snapshot_copy": SnapshotCopy("eu-central-1", 36, "grant")}, r"snapshot_copy.retention_days must be .*; got 36$"),
        ({"snapshot_copy": SnapshotCopy("eu-central-1", 7, "Grant_1")}, r"snapshot_copy.grant_name must be .*; got 'Grant_1'$"),
        ({"pause_resume": PauseResumeSchedule("0 19 * * ? *", PAUSE.resume_schedule)},
         r"pause_resume.pause_schedule must be 'cron\(Minutes .*; got '0 19 \* \* \? \*'$"),
        ({"pause_resume": PauseResumeSchedule(PAUSE.pause_schedule, "cron(0 7 * * MON-FRI *)")},
         r"pause_resume.resume_schedule must be .*exactly one of day-of-month and day-of-week; got 'cron\(0 7 \* \* MON-FRI \*\)'$"),
        ({"pause_resume": PauseResumeSchedule("cron(0 19 ? * ?)", PAUSE.resume_schedule)}, r"pause_resume.pause_schedule must be .*; got 'cron\(0 19 \? \* \?\)'$"),
        ({"pause_resume": PauseResumeSchedule(PAUSE.pause_schedule, PAUSE.pause_schedule)}, r"pause_resume pauses and resumes at the same time: 'cron\(0 19 \? \* MON-FRI \*\)'$"),
        ({"vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)}, r"vpc_subnets must select private or isolated subnets; the selection includes public subnets$"),
    ],
)
def test_an_invalid_prop_is_rejected_naming_it_and_the_value(invalid, overrides, message) -> None:
    with pytest.raises(ValueError, match=f"^RedshiftWarehouse: {message}"):
        invalid.warehouse(**overrides)


def test_valid_edges_are_accepted(invalid) -> None:
    for overrides in (
        {"node_type": "ra3.large", "number_of_nodes": 16, "port": 5431},
        {"node_type": "ra3.16xlarge", "number_of_nodes": 100, "port": 8215},
        {"admin_username": "a" * 128, "database_name": "d" * 64, "maintenance_window": "sun:23:45-mon:00:15"},
        {"admin_secret_rotation": cdk.Duration.hours(4), "snapshot_retention_days": 1, "cpu_alarm_percent": 99.5},
        {"admin_secret_rotation": cdk.Duration.minutes(300), "maintenance_window": "SUN:03:00-SUN:03:30"},
    ):
        invalid.warehouse(**overrides)


def test_subnets_chosen_one_by_one_must_not_include_a_public_one(invalid) -> None:
    selection = ec2.SubnetSelection(subnets=[invalid.vpc.isolated_subnets[0], invalid.vpc.public_subnets[1]])
    with pytest.raises(ValueError, match="the selection includes public subnets$"):
        invalid.warehouse(vpc_subnets=selection)


@pytest.mark.parametrize(
    "encryption", [s3.BucketEncryption.KMS, s3.BucketEncryption.KMS_MANAGED, s3.BucketEncryption.DSSE_MANAGED]
)
def test_a_kms_encrypted_audit_log_bucket_is_rejected(invalid, encryption) -> None:
    bucket = s3.Bucket(invalid.scope, f"Kms{encryption.name}", encryption=encryption)
    with pytest.raises(ValueError, match=rf"^RedshiftWarehouse: audit_log_bucket must use SSE-S3 .*got Test/Kms{encryption.name} encrypted with"):
        invalid.warehouse(audit_log_bucket=bucket)


def test_an_imported_audit_log_bucket_is_rejected_saying_what_its_owner_must_allow(invalid) -> None:
    bucket = s3.Bucket.from_bucket_name(invalid.scope, "Imported", "central-audit-logs")
    with pytest.raises(ValueError, match=r"imported bucket\). Its owner must allow the service principal "
                                         r"redshift.amazonaws.com s3:PutObject on redshift/\w+/\* and s3:GetBucketAcl"):
        invalid.warehouse(audit_log_bucket=bucket)


def test_an_audit_log_bucket_in_another_region_is_rejected() -> None:
    app = cdk.App()
    other = cdk.Stack(app, "Logs", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
    scope = cdk.Stack(app, "Test", env=cdk.Environment(account=ACCOUNT, region=REGION))
    network = Network(scope)
    network.audit_logs = s3.Bucket(other, "AuditLogs", encryption=s3.BucketEncryption.S3_MANAGED)
    with pytest.raises(ValueError, match="audit_log_bucket must be in the cluster's region eu-west-1; got a bucket in us-east-1$"):
        network.warehouse("Warehouse")


# -- cdk-nag -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nag(tmp_path_factory):
    outdir: Path = tmp_path_factory.mktemp("redshift-nag")
    app = cdk.App(outdir=str(outdir), context={"@aws-cdk/core:enablePartitionLiterals": True})
    add_compliance_checks(app)
    network = Network(cdk.Stack(app, "Test", env=cdk.Environment(account=ACCOUNT, region=REGION)))
    network.warehouse("Default")
    tuned = network.warehouse("Tuned", **tuned_settings(network, network.lake_key))
    tuned.grant_spectrum_read("curated", [LakeLocation(network.lake, "curated/", network.lake_key)])
    try:
        app.synth()
    except Exception:  # noqa: BLE001 - the report is what we assert on
        pass
    found = findings(outdir)
    return app, {name: sorted(f.rule_id for f in found if f.path.startswith(f"Test/{name}/")) for name in ("Default", "Tuned")}


def inline_policies(*roles: str) -> list[str]:
    return [f"{pack}-IAMNoInlinePolicy" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321") for _ in roles]


def test_with_defaults_only_the_inline_policy_of_the_spectrum_role_remains(nag) -> None:
    _, found = nag
    assert found["Default"] == sorted(inline_policies("spectrum"))


def test_with_every_option_only_the_lake_prefix_and_inline_policies_remain(nag) -> None:
    _, found = nag
    assert found["Tuned"] == sorted(
        ["AwsSolutions-IAM5[Resource::arn:aws:s3:::lake-bucket/curated/*]", *inline_policies("spectrum", "scheduler")]
    )


def test_the_construct_acknowledges_only_inherent_findings_with_specific_reasons(nag) -> None:
    app, _ = nag
    acks = {(a.path, a.rule_id) for a in acknowledgments(app) if a.path.startswith("Test/")}
    assert acks == {
        ("Test/Default/SpectrumRole", "AwsSolutions-IAM5[Resource::*]"),
        ("Test/Tuned/SpectrumRole", "AwsSolutions-IAM5[Resource::*]"),
        ("Test/Tuned/SpectrumRole", f"AwsSolutions-IAM5[Resource::arn:aws:glue:{REGION}:{ACCOUNT}:table/curated/*]"),
    }
    for ack in acknowledgments(app):
        assert PACK_RULE_ID.match(ack.rule_id) and len(ack.reason) >= 100, ack
