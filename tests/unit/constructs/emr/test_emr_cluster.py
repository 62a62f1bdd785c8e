"""EmrCluster: a long-running Spark/Hive cluster in one private subnet, encrypted at rest always and in
transit with given certificates, Glue as metastore (and, asked for, Iceberg with a Glue-backed Spark
catalog), roles scoped to the listed prefixes and databases."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib.emr.emr_cluster import (
    CATALOG_READ_ACTIONS,
    EMR_MANAGED_POLICY_TAG,
    GLUE_CLIENT_FACTORY,
    EmrCapacity,
    EmrCluster,
    EmrIceberg,
    EmrKerberos,
    LakeLocation,
)
from stacks.compliance import add_compliance_checks
from tests.compliance.nag import PACK_RULE_ID, Finding, acknowledgments, findings
from tests.unit.constructs.stack_helpers import stack
from tests.unit.constructs.template_helpers import (
    actions,
    arn_of,
    logical_id,
    ref,
    role_statements,
    via_service,
    with_prefix,
)

ACCOUNT = "111122223333"
LAKE = "arn:aws:s3:::lake-bucket"
LOGS = "arn:aws:s3:::emr-logs-bucket"
TLS_URI = "s3://emr-certificates/clusters/analytics/certs.zip"
WAREHOUSE = "s3://lake-bucket/curated/iceberg"
TAG = {"Key": EMR_MANAGED_POLICY_TAG, "Value": "true"}
DEFAULT_CAPACITY = {
    "primary_instance_type": "m7g.xlarge",
    "core_instance_type": "r7g.2xlarge",
    "core_instances": 2,
    "max_core_instances": 5,
    "task_instance_type": "c7g.4xlarge",
    "max_task_instances": 0,
}


def capacity(**overrides) -> EmrCapacity:
    return EmrCapacity(**{**DEFAULT_CAPACITY, **overrides})


class Network:
    """An imported VPC with one private and one public subnet, a data key and two buckets."""

    def __init__(self, scope: cdk.Stack) -> None:
        self.scope = scope
        self.vpc = ec2.Vpc.from_vpc_attributes(
            scope, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["eu-west-1a"],
            private_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1"], public_subnet_ids=["subnet-0bbbbbbbbbbbbbbb1"],
        )
        self.key = kms.Key(scope, "DataKey", enable_key_rotation=True)
        self.other_key = kms.Key(scope, "OtherKey", enable_key_rotation=True)
        self.lake = s3.Bucket.from_bucket_name(scope, "Lake", "lake-bucket")
        self.logs = s3.Bucket.from_bucket_name(scope, "Logs", "emr-logs-bucket")

    def cluster(self, construct_id: str, **overrides) -> EmrCluster:
        settings = {
            "cluster_name": f"{construct_id.lower()}-cluster",
            "release_label": "emr-7.5.0",
            "vpc": self.vpc,
            "subnet": self.vpc.private_subnets[0],
            "capacity": capacity(),
            "data_key": self.key,
            "log_bucket": self.logs,
            "log_prefix": "emr/",
            "idle_timeout": cdk.Duration.hours(1),
            "read_locations": [LakeLocation(bucket=self.lake, prefix="raw/", key=self.key)],
            "write_locations": [LakeLocation(bucket=self.lake, prefix="curated/", key=self.key)],
            "catalog_databases": ["raw"],
        }
        return EmrCluster(self.scope, construct_id, **{**settings, **overrides})

    def tuned(self) -> EmrCluster:
        """Every optional prop set to a non-default value."""
        return self.cluster(
            "Tuned",
            release_label="emr-6.15.0",
            capacity=capacity(core_instances=3, max_core_instances=6, max_task_instances=10),
            applications=["Livy", "spark", "JupyterEnterpriseGateway", "livy", "HIVE", "Tez"],
            tls_certificates_s3_uri=TLS_URI,
            kerberos=EmrKerberos(realm="ANALYTICS.EXAMPLE.COM", ticket_lifetime_hours=10),
            key_pair_name="emr-admins",
            log_key=self.other_key,
            catalog_key=self.other_key,
            catalog_databases=["raw", "curated_v2"],
            read_locations=[
                LakeLocation(bucket=self.lake, prefix="raw/", key=self.key),
                LakeLocation(bucket=self.lake, prefix="reference/", key=None),
            ],
            write_locations=[
                LakeLocation(bucket=self.lake, prefix="curated/", key=self.key),
                LakeLocation(bucket=self.lake, prefix="quarantine/", key=self.key),
            ],
            idle_timeout=cdk.Duration.minutes(30),
            termination_protection=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
            iceberg=EmrIceberg(warehouse=WAREHOUSE, catalog_name="lake"),
        )


@dataclass
class Built:
    """The app, synthesised once with the compliance packs: its template and its findings."""

    app: cdk.App
    network: Network
    clusters: dict[str, EmrCluster]
    resources: dict[str, dict]
    findings: list[Finding]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    """Two clusters in one stack: all defaults, and every optional prop set."""
    outdir: Path = tmp_path_factory.mktemp("emr")
    app = cdk.App(outdir=str(outdir), context={"@aws-cdk/core:enablePartitionLiterals": True})
    add_compliance_checks(app)
    scope = cdk.Stack(app, "Test", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
    network = Network(scope)
    clusters = {"default": network.cluster("Default"), "tuned": network.tuned()}
    with pytest.raises(RuntimeError, match="^ValidationFailed: "):
        # The packs fail the synth on the findings left to the calling stack (asserted below);
        # the template is written before they run.
        app.synth()
    template = json.loads((outdir / "Test.template.json").read_text())
    return Built(app, network, clusters, template["Resources"], findings(outdir))


def resource(built_: Built, construct) -> dict:
    return built_.resources[logical_id(construct)]


def cluster_props(built_: Built, name: str) -> dict:
    return resource(built_, built_.clusters[name].cluster)["Properties"]


def security_document(built_: Built, name: str) -> dict:
    return resource(built_, built_.clusters[name].security_configuration)["Properties"]["SecurityConfiguration"]


def of_type(built_: Built, resource_type: str) -> dict[str, dict]:
    return {k: v for k, v in built_.resources.items() if v["Type"] == resource_type}


def statements(built_: Built, name: str, role: str) -> list[dict]:
    role_ref = ref(getattr(built_.clusters[name], role))
    return [
        statement
        for policy in of_type(built_, "AWS::IAM::Policy").values()
        if role_ref in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


# -- security configuration ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_at_rest_encryption_is_always_on_with_the_data_key_for_s3_local_disks_and_ebs(built, name) -> None:
    network = built.network
    encryption = security_document(built, name)["EncryptionConfiguration"]
    assert encryption["EnableAtRestEncryption"] is True
    assert encryption["AtRestEncryptionConfiguration"] == {
        "S3EncryptionConfiguration": {"EncryptionMode": "SSE-KMS", "AwsKmsKey": arn_of(network.key)},
        "LocalDiskEncryptionConfiguration": {
            "EncryptionKeyProviderType": "AwsKms",
            "AwsKmsKey": arn_of(network.key),
            "EnableEbsEncryption": True,
        },
    }


def test_without_certificates_in_transit_encryption_is_off_and_without_kerberos_there_is_no_kdc(built) -> None:
    document = security_document(built, "default")
    assert document["EncryptionConfiguration"]["EnableInTransitEncryption"] is False
    assert "InTransitEncryptionConfiguration" not in document["EncryptionConfiguration"]
    assert set(document) == {"EncryptionConfiguration", "InstanceMetadataServiceConfiguration"}


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_nodes_accept_imdsv2_only_within_one_hop(built, name) -> None:
    assert security_document(built, name)["InstanceMetadataServiceConfiguration"] == {
        "MinimumInstanceMetadataServiceVersion": 2, "HttpPutResponseHopLimit": 1,
    }


def test_certificates_turn_on_in_transit_encryption_with_the_pem_zip(built) -> None:
    encryption = security_document(built, "tuned")["EncryptionConfiguration"]
    assert encryption["EnableInTransitEncryption"] is True
    assert encryption["InTransitEncryptionConfiguration"] == {
        "TLSCertificateConfiguration": {"CertificateProviderType": "PEM", "S3Object": TLS_URI}
    }


def test_kerberos_configures_a_cluster_dedicated_kdc_with_the_ticket_lifetime(built) -> None:
    assert security_document(built, "tuned")["AuthenticationConfiguration"] == {
        "KerberosConfiguration": {
            "Provider": "ClusterDedicatedKdc",
            "ClusterDedicatedKdcConfiguration": {"TicketLifetimeInHours": 10},
        }
    }


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_each_cluster_uses_its_own_unnamed_security_configuration(built, name) -> None:
    clusters = built.clusters
    assert cluster_props(built, name)["SecurityConfiguration"] == ref(clusters[name].security_configuration)
    assert "Name" not in resource(built, clusters[name].security_configuration)["Properties"]


# -- cluster ------------------------------------------------------------------------------


def test_spark_and_hive_are_always_installed_first(built) -> None:
    clusters = built.clusters
    assert cluster_props(built, "default")["Applications"] == [{"Name": "Spark"}, {"Name": "Hive"}]
    assert clusters["default"].applications == ("Spark", "Hive")


def test_extra_applications_follow_in_order_without_case_insensitive_repeats(built) -> None:
    expected = ["Spark", "Hive", "Livy", "JupyterEnterpriseGateway", "Tez"]
    assert [a["Name"] for a in cluster_props(built, "tuned")["Applications"]] == expected


def test_the_cluster_is_retained_by_default_and_destroyed_only_when_asked(built) -> None:
    default, tuned = built.clusters["default"], built.clusters["tuned"]
    assert resource(built, default.cluster)["DeletionPolicy"] == "Retain"
    assert resource(built, default.cluster)["UpdateReplacePolicy"] == "Retain"
    assert resource(built, tuned.cluster)["DeletionPolicy"] == "Delete"
    assert resource(built, tuned.kdc_admin_secret)["DeletionPolicy"] == "Delete"
    warnings = [str(m.data) for m in tuned.node.metadata if m.type == "aws:cdk:warning"]
    assert any("EMR cluster (with its HDFS) and its KDC password" in w for w in warnings)
    assert not [m for m in default.node.metadata if m.type == "aws:cdk:warning"]


def test_a_removal_policy_that_makes_no_sense_for_data_is_refused(built) -> None:
    with pytest.raises(ValueError, match="EmrCluster: removal_policy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY"):
        built.network.cluster("Snapshot", removal_policy=cdk.RemovalPolicy.SNAPSHOT)


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_hive_and_spark_use_the_glue_data_catalog_as_metastore(built, name) -> None:
    assert cluster_props(built, name)["Configurations"][:2] == [
        {"Classification": classification, "ConfigurationProperties": {"hive.metastore.client.factory.class": GLUE_CLIENT_FACTORY}}
        for classification in ("hive-site", "spark-hive-site")
    ]


def test_without_iceberg_there_are_no_other_configurations(built) -> None:
    assert [c["Classification"] for c in cluster_props(built, "default")["Configurations"]] == ["hive-site", "spark-hive-site"]
    assert built.clusters["default"].iceberg is None


def test_iceberg_enables_emr_iceberg_and_a_glue_backed_spark_catalog(built) -> None:
    """iceberg-defaults for Spark and Hive, and spark-defaults with the extensions and the named catalog
    on the Glue Data Catalog, S3FileIO and the warehouse (EMR release guide, Iceberg with Spark)."""
    assert cluster_props(built, "tuned")["Configurations"][2:] == [
        {"Classification": "iceberg-defaults", "ConfigurationProperties": {"iceberg.enabled": "true"}},
        {
            "Classification": "spark-defaults",
            "ConfigurationProperties": {
                "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
                "spark.sql.catalog.lake": "org.apache.iceberg.spark.SparkCatalog",
                "spark.sql.catalog.lake.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
                "spark.sql.catalog.lake.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
                "spark.sql.catalog.lake.warehouse": WAREHOUSE,
            },
        },
    ]


def test_iceberg_changes_no_permission_of_the_instance_role(built) -> None:
    """Iceberg reads through the same Glue catalog and S3 locations: the roles are what the locations and
    databases make them, with or without it."""
    with_iceberg = Network(stack()).cluster("Cluster", iceberg=EmrIceberg(warehouse=WAREHOUSE))
    without = Network(stack()).cluster("Cluster")
    assert role_statements(Template.from_stack(cdk.Stack.of(with_iceberg)), with_iceberg.instance_role) == role_statements(
        Template.from_stack(cdk.Stack.of(without)), without.instance_role
    )


def test_default_cluster_settings(built) -> None:
    network, clusters = built.network, built.clusters
    props = cluster_props(built, "default")
    cluster = clusters["default"]
    assert (props["Name"], props["ReleaseLabel"]) == ("default-cluster", "emr-7.5.0")
    assert (props["VisibleToAllUsers"], props["ScaleDownBehavior"]) == (True, "TERMINATE_AT_TASK_COMPLETION")
    assert props["AutoTerminationPolicy"] == {"IdleTimeout": 3600}
    assert props["LogUri"] == "s3://emr-logs-bucket/emr/" == cluster.log_uri
    assert "LogEncryptionKmsKeyId" not in props
    assert (props["ServiceRole"], props["JobFlowRole"]) == (ref(cluster.service_role), ref(cluster.instance_profile))
    assert props["Tags"] == [TAG]
    assert "KerberosAttributes" not in props and cluster.kdc_admin_secret is None
    assert "Ec2KeyName" not in props["Instances"]
    assert props["Instances"]["TerminationProtected"] is False
    assert props["Instances"]["KeepJobFlowAliveWhenNoSteps"] is True
    assert props["Instances"]["Ec2SubnetId"] == network.vpc.private_subnets[0].subnet_id


def test_tuned_cluster_settings_are_as_passed(built) -> None:
    network = built.network
    props = cluster_props(built, "tuned")
    assert (props["Name"], props["ReleaseLabel"]) == ("tuned-cluster", "emr-6.15.0")
    assert props["AutoTerminationPolicy"] == {"IdleTimeout": 1800}
    assert props["LogEncryptionKmsKeyId"] == arn_of(network.other_key)
    assert props["Instances"]["Ec2KeyName"] == "emr-admins"
    assert props["Instances"]["TerminationProtected"] is True


def test_primary_is_one_on_demand_instance_and_core_an_on_demand_group(built) -> None:
    instances = cluster_props(built, "default")["Instances"]
    assert instances["MasterInstanceGroup"] == {
        "InstanceCount": 1, "InstanceType": "m7g.xlarge", "Market": "ON_DEMAND", "Name": "Primary",
    }
    assert instances["CoreInstanceGroup"] == {
        "InstanceCount": 2, "InstanceType": "r7g.2xlarge", "Market": "ON_DEMAND", "Name": "Core",
    }


def test_no_task_group_when_max_task_instances_is_zero(built) -> None:
    assert "TaskInstanceGroups" not in cluster_props(built, "default")["Instances"]


def test_task_group_is_spot_without_a_bid_price_and_starts_empty(built) -> None:
    assert cluster_props(built, "tuned")["Instances"]["TaskInstanceGroups"] == [
        {"InstanceCount": 0, "InstanceType": "c7g.4xlarge", "Market": "SPOT", "Name": "Task"}
    ]


@pytest.mark.parametrize(
    ("name", "limits"),
    [
        ("default", {"MinimumCapacityUnits": 2, "MaximumCapacityUnits": 5, "MaximumOnDemandCapacityUnits": 5, "MaximumCoreCapacityUnits": 5}),
        ("tuned", {"MinimumCapacityUnits": 3, "MaximumCapacityUnits": 16, "MaximumOnDemandCapacityUnits": 6, "MaximumCoreCapacityUnits": 6}),
    ],
)
def test_managed_scaling_grows_core_on_demand_then_adds_spot_tasks(built, name, limits) -> None:
    assert cluster_props(built, name)["ManagedScalingPolicy"] == {"ComputeLimits": {"UnitType": "Instances", **limits}}


def test_kerberos_realm_and_a_generated_kdc_password_by_dynamic_reference(built) -> None:
    network, clusters = built.network, built.clusters
    secret = clusters["tuned"].kdc_admin_secret
    assert secret is not None
    assert cluster_props(built, "tuned")["KerberosAttributes"] == {
        "Realm": "ANALYTICS.EXAMPLE.COM",
        "KdcAdminPassword": {"Fn::Join": ["", ["{{resolve:secretsmanager:", ref(secret), ":SecretString:::}}"]]},
    }
    assert resource(built, secret)["Properties"] == {
        "Description": "KDC admin password of the EMR cluster tuned-cluster (read by EMR at creation only)",
        "GenerateSecretString": {"ExcludePunctuation": True, "PasswordLength": 32},
        "KmsKeyId": arn_of(network.key),
    }
    assert len(of_type(built, "AWS::SecretsManager::Secret")) == 1


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_cluster_waits_for_the_role_policies_and_security_group_rules(built, name) -> None:
    clusters = built.clusters
    cluster = clusters[name]
    depends_on = set(resource(built, cluster.cluster)["DependsOn"])
    policies = {logical_id(role.node.find_child("DefaultPolicy")) for role in (cluster.service_role, cluster.instance_role)}
    rules = {
        rule_id
        for kind in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
        for rule_id, rule in of_type(built, kind).items()
        if rule["Properties"]["GroupId"] == {"Fn::GetAtt": [logical_id(cluster.service_access_security_group), "GroupId"]}
    }
    assert len(rules) == 3
    assert policies | rules <= depends_on
    # Not the roles or groups themselves: the cluster references them already (cfn-lint W3005).
    referenced = {logical_id(c) for c in (cluster.service_role, cluster.primary_security_group, cluster.core_security_group, cluster.service_access_security_group)}
    assert not referenced & depends_on


# -- network ------------------------------------------------------------------------------


def groups(built_, name: str) -> dict[str, dict]:
    cluster = built_.clusters[name]
    return {
        kind: resource(built_, getattr(cluster, f"{kind}_security_group"))
        for kind in ("primary", "core", "service_access")
    }


def group_id(construct) -> dict:
    return {"Fn::GetAtt": [logical_id(construct), "GroupId"]}


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_the_cluster_uses_its_three_managed_groups_each_tagged_for_the_v2_policy(built, name) -> None:
    clusters = built.clusters
    cluster = clusters[name]
    instances = cluster_props(built, name)["Instances"]
    assert (
        instances["EmrManagedMasterSecurityGroup"],
        instances["EmrManagedSlaveSecurityGroup"],
        instances["ServiceAccessSecurityGroup"],
    ) == tuple(group_id(g) for g in (cluster.primary_security_group, cluster.core_security_group, cluster.service_access_security_group))
    for group in groups(built, name).values():
        assert group["Properties"]["Tags"] == [TAG]
        assert group["Properties"]["VpcId"] == "vpc-0123456789abcdef0"
        assert "SecurityGroupIngress" not in group["Properties"]


def test_node_groups_allow_all_outbound_and_the_service_access_group_none_inline(built) -> None:
    by_kind = groups(built, "default")
    for kind in ("primary", "core"):
        assert by_kind[kind]["Properties"]["SecurityGroupEgress"] == [
            {"CidrIp": "0.0.0.0/0", "Description": "Allow all outbound traffic by default", "IpProtocol": "-1"}
        ]
    assert "SecurityGroupEgress" not in by_kind["service_access"]["Properties"]


def service_access_rules(built_: Built, cluster: EmrCluster, kind: str, peer: str) -> list[tuple]:
    """(peer group, protocol, from port, to port) of the separate rules on the service-access group."""
    service = group_id(cluster.service_access_security_group)
    return sorted(
        (
            json.dumps(r["Properties"][peer]), r["Properties"]["IpProtocol"], r["Properties"]["FromPort"], r["Properties"]["ToPort"],
        )
        for r in of_type(built_, kind).values()
        if r["Properties"]["GroupId"] == service
    )


def test_service_access_group_sends_8443_to_the_nodes_and_receives_9443_from_the_primary(built) -> None:
    cluster = built.clusters["default"]
    primary, core = (json.dumps(group_id(g)) for g in (cluster.primary_security_group, cluster.core_security_group))
    egress = service_access_rules(built, cluster, "AWS::EC2::SecurityGroupEgress", "DestinationSecurityGroupId")
    assert egress == sorted([(primary, "tcp", 8443, 8443), (core, "tcp", 8443, 8443)])
    ingress = service_access_rules(built, cluster, "AWS::EC2::SecurityGroupIngress", "SourceSecurityGroupId")
    assert ingress == [(primary, "tcp", 9443, 9443)]


def test_no_other_rules_on_any_group(built) -> None:
    service_access_groups = {json.dumps(group_id(c.service_access_security_group)) for c in built.clusters.values()}
    for kind in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
        for rule in of_type(built, kind).values():
            assert json.dumps(rule["Properties"]["GroupId"]) in service_access_groups


# -- service role ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_service_role_is_for_emr_of_this_account_and_region_with_the_v2_policy(built, name) -> None:
    role = resource(built, built.clusters[name].service_role)["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn": f"arn:aws:elasticmapreduce:eu-west-1:{ACCOUNT}:*"},
            },
            "Effect": "Allow",
            "Principal": {"Service": "elasticmapreduce.amazonaws.com"},
        }
    ]
    assert role["ManagedPolicyArns"] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AmazonEMRServicePolicy_v2"]]}
    ]


def test_service_role_passes_only_its_instance_role_and_only_to_ec2(built) -> None:
    clusters = built.clusters
    for name, cluster in clusters.items():
        passes = [s for s in statements(built, name, "service_role") if "iam:PassRole" in actions(s)]
        assert passes == [
            {
                "Action": "iam:PassRole",
                "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
                "Effect": "Allow",
                "Resource": arn_of(cluster.instance_role),
            }
        ]


def test_service_role_uses_the_data_key_only_through_ec2_for_ebs_volumes(built) -> None:
    network = built.network
    granted = statements(built, "default", "service_role")
    assert [s["Action"] for s in granted] == [
        "iam:PassRole",
        ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"],
        ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
        "kms:DescribeKey",
    ]
    for statement in with_prefix(granted, "kms"):
        assert statement["Resource"] == arn_of(network.key)
    assert granted[1]["Condition"] == {"StringEquals": {"kms:ViaService": via_service("ec2")}}
    assert granted[2]["Condition"] == {
        "StringEquals": {"kms:ViaService": via_service("ec2")},
        "Bool": {"kms:GrantIsForAWSResource": "true"},
    }


# -- instance role --------------------------------------------------------------------------


def s3_scopes(built_, name: str) -> dict[str, list[str]]:
    """Each S3 resource of the instance role -> its actions (lists by their s3:prefix)."""
    scopes: dict[str, list[str]] = {}
    for statement in with_prefix(statements(built_, name, "instance_role"), "s3"):
        target = statement["Resource"]
        if "Condition" in statement:
            target = f"{target} list {statement['Condition']['StringLike']['s3:prefix'][0]}"
        scopes.setdefault(target, []).extend(actions(statement))
    return scopes


def test_instance_role_s3_scopes_are_exactly_the_locations_and_the_log_prefix(built) -> None:
    write = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"]
    assert s3_scopes(built, "tuned") == {
        f"{LAKE} list raw/": ["s3:ListBucket"],
        f"{LAKE}/raw/*": ["s3:GetObject"],
        f"{LAKE} list reference/": ["s3:ListBucket"],
        f"{LAKE}/reference/*": ["s3:GetObject"],
        f"{LAKE} list curated/": ["s3:ListBucket"],
        f"{LAKE}/curated/*": write,
        f"{LAKE} list quarantine/": ["s3:ListBucket"],
        f"{LAKE}/quarantine/*": write,
        "arn:aws:s3:::emr-certificates/clusters/analytics/certs.zip": ["s3:GetObject"],
        f"{LOGS} list emr/": ["s3:ListBucket"],
        # Logs are written, never deleted.
        f"{LOGS}/emr/*": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
    }


def test_instance_role_never_writes_a_read_location(built) -> None:
    for statement in with_prefix(statements(built, "tuned", "instance_role"), "s3"):
        if statement["Resource"] in (f"{LAKE}/raw/*", f"{LAKE}/reference/*"):
            assert actions(statement) == ["s3:GetObject"]


def test_without_certificates_the_instance_role_reads_no_certificate_object(built) -> None:
    assert set(s3_scopes(built, "default")) == {
        f"{LAKE} list raw/", f"{LAKE}/raw/*", f"{LAKE} list curated/", f"{LAKE}/curated/*", f"{LOGS} list emr/", f"{LOGS}/emr/*",
    }


def glue_arn(resource_name: str) -> str:
    return f"arn:aws:glue:eu-west-1:{ACCOUNT}:{resource_name}"


def test_instance_role_reads_the_listed_databases_and_looks_up_default_only(built) -> None:
    glue = with_prefix(statements(built, "tuned", "instance_role"), "glue")
    assert glue == [
        {
            "Action": list(CATALOG_READ_ACTIONS),
            "Effect": "Allow",
            "Resource": [
                # CDK drops the repeated catalog ARN of the second database.
                glue_arn("catalog"), glue_arn("database/raw"), glue_arn("table/raw/*"),
                glue_arn("database/curated_v2"), glue_arn("table/curated_v2/*"),
            ],
        },
        # Functions authorise on the catalog, the database and the function itself, not on tables.
        {
            "Action": ["glue:GetUserDefinedFunction", "glue:GetUserDefinedFunctions"],
            "Effect": "Allow",
            "Resource": [
                glue_arn("catalog"), glue_arn("database/raw"), glue_arn("userDefinedFunction/raw/*"),
                glue_arn("database/curated_v2"), glue_arn("userDefinedFunction/curated_v2/*"),
            ],
            "Sid": "ResolveUserDefinedFunctions",
        },
        {"Action": "glue:GetDatabase", "Effect": "Allow", "Resource": [glue_arn("catalog"), glue_arn("database/default")]},
    ]
    assert all(a.startswith(("glue:Get", "glue:BatchGet")) for s in glue for a in actions(s))


def test_without_databases_the_instance_role_only_looks_up_default() -> None:
    network = Network(stack())
    cluster = network.cluster("NoDatabases", catalog_databases=[])
    glue = with_prefix(role_statements(Template.from_stack(network.scope), cluster.instance_role), "glue")
    assert [s["Action"] for s in glue] == ["glue:GetDatabase"]


def kms_statements(built_, name: str) -> list[dict]:
    return with_prefix(statements(built_, name, "instance_role"), "kms")


def test_instance_role_uses_the_data_key_directly_for_local_disks(built) -> None:
    network = built.network
    direct = [s for s in kms_statements(built, "default") if "Condition" not in s]
    assert direct == [{"Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Effect": "Allow", "Resource": arn_of(network.key)}]


def test_location_keys_are_used_through_s3_and_the_catalog_key_through_glue_only(built) -> None:
    network = built.network
    conditioned = [
        (s["Condition"], s["Resource"], actions(s)) for s in kms_statements(built, "tuned") if "Condition" in s
    ]
    through = {service: {"StringEquals": {"kms:ViaService": via_service(service)}} for service in ("s3", "glue")}
    assert conditioned == [
        # Reads of raw; writes of curated and quarantine (one statement: CDK merges equal ones).
        (through["s3"], arn_of(network.key), ["kms:Decrypt"]),
        (through["s3"], arn_of(network.key), ["kms:Decrypt", "kms:GenerateDataKey"]),
        (through["glue"], arn_of(network.other_key), ["kms:Decrypt"]),
        # The log key, for the log prefix.
        (through["s3"], arn_of(network.other_key), ["kms:Decrypt", "kms:GenerateDataKey"]),
    ]


def test_without_catalog_or_log_keys_no_other_key_is_used(built) -> None:
    network = built.network
    assert {json.dumps(s["Resource"]) for s in kms_statements(built, "default")} == {json.dumps(arn_of(network.key))}


def test_the_instance_profile_holds_the_instance_role(built) -> None:
    clusters = built.clusters
    cluster = clusters["default"]
    assert resource(built, cluster.instance_profile)["Properties"] == {"Roles": [ref(cluster.instance_role)]}
    trust = resource(built, cluster.instance_role)["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}}]


# -- cdk-nag ------------------------------------------------------------------------------


def findings_of(built_: Built, name: str) -> list[str]:
    return sorted(f.rule_id for f in built_.findings if f.path.startswith(f"Test/{name}/"))


INLINE_POLICIES = sorted(
    f"{pack}-IAMNoInlinePolicy" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321") for _ in ("service", "instance")
)


def prefix_objects(*objects: str) -> list[str]:
    return [f"AwsSolutions-IAM5[Resource::{o}]" for o in objects]


def test_remaining_findings_without_tls_and_kerberos_are_the_callers_choices(built) -> None:
    assert findings_of(built, "Default") == sorted(
        [
            "AwsSolutions-EMR5", "AwsSolutions-EMR6", "HIPAA.Security-EMRKerberosEnabled", "PCI.DSS.321-EMRKerberosEnabled",
            *prefix_objects(f"{LAKE}/raw/*", f"{LAKE}/curated/*", f"{LOGS}/emr/*"),
            *INLINE_POLICIES,
        ]
    )


def test_with_tls_kerberos_and_a_key_pair_only_location_and_inline_policy_findings_remain(built) -> None:
    assert findings_of(built, "Tuned") == sorted(
        [
            *prefix_objects(f"{LAKE}/raw/*", f"{LAKE}/reference/*", f"{LAKE}/curated/*", f"{LAKE}/quarantine/*", f"{LOGS}/emr/*"),
            *INLINE_POLICIES,
        ]
    )


def test_the_construct_acknowledges_only_inherent_findings_with_specific_reasons(built) -> None:
    app = built.app
    acks = {(a.path.split("/")[1], a.rule_id) for a in acknowledgments(app) if a.path.startswith("Test/")}
    inherent = {
        "AwsSolutions-EMR4",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2]",
        f"AwsSolutions-IAM5[Resource::{glue_arn('table/raw/*')}]",
        f"AwsSolutions-IAM5[Resource::{glue_arn('userDefinedFunction/raw/*')}]",
    }
    assert acks == {("Default", rule) for rule in inherent} | {
        ("Tuned", rule)
        for rule in inherent | {
            "AwsSolutions-EMR5",
            f"AwsSolutions-IAM5[Resource::{glue_arn('table/curated_v2/*')}]",
            f"AwsSolutions-IAM5[Resource::{glue_arn('userDefinedFunction/curated_v2/*')}]",
            "AwsSolutions-SMG4",
            "HIPAA.Security-SecretsManagerRotationEnabled",
            "NIST.800.53.R5-SecretsManagerRotationEnabled",
        }
    }
    for ack in acknowledgments(app):
        assert PACK_RULE_ID.match(ack.rule_id) and len(ack.reason) >= 100, ack


# -- validation ---------------------------------------------------------------------------


def make(**overrides) -> EmrCluster:
    return Network(stack()).cluster("Cluster", **overrides)


@pytest.mark.parametrize("name", ["", " ", "a\nb", "x" * 257])
def test_a_bad_cluster_name_is_rejected(name) -> None:
    with pytest.raises(ValueError, match=rf"^EmrCluster: cluster_name .*; got {re.escape(repr(name))}$"):
        make(cluster_name=name)


@pytest.mark.parametrize("label", ["emr-7.5", "7.5.0", "emr-7.5.0-beta", "EMR-7.5.0"])
def test_a_malformed_release_label_is_rejected(label) -> None:
    with pytest.raises(ValueError, match=rf"^EmrCluster: release_label must look like 'emr-7.5.0'; got {re.escape(repr(label))}$"):
        make(release_label=label)


@pytest.mark.parametrize("label", ["emr-5.36.2", "emr-6.0.0", "emr-6.1.1"])
def test_a_release_without_auto_termination_or_imdsv2_is_rejected(label) -> None:
    with pytest.raises(ValueError, match=rf"release_label must be emr-6.2.0 or later .*got '{label}'$"):
        make(release_label=label)


def test_emr_6_2_is_accepted() -> None:
    assert make(release_label="emr-6.2.0").cluster.release_label == "emr-6.2.0"


def test_iceberg_before_emr_6_9_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"^EmrCluster: iceberg needs emr-6.9.0 or later .*got 'emr-6.8.0'$"):
        make(release_label="emr-6.8.0", iceberg=EmrIceberg(warehouse=WAREHOUSE))
    assert make(release_label="emr-6.9.0", iceberg=EmrIceberg(warehouse=WAREHOUSE)).iceberg.catalog_name == "glue_catalog"


@pytest.mark.parametrize(
    ("kwargs", "error", "says"),
    [
        ({"warehouse": "lake-bucket/iceberg"}, ValueError, "warehouse must be an s3:// URI"),
        ({"warehouse": "s3://"}, ValueError, "warehouse must be an s3:// URI"),
        ({"warehouse": ["s3://lake/iceberg"]}, TypeError, "warehouse must be"),
        ({"warehouse": WAREHOUSE, "catalog_name": "spark_catalog"}, ValueError, "other than 'spark_catalog'"),
        ({"warehouse": WAREHOUSE, "catalog_name": "Glue-Catalog"}, ValueError, "catalog_name must be a lower-case identifier"),
    ],
)
def test_bad_iceberg_settings_are_rejected_naming_the_field(kwargs, error, says) -> None:
    with pytest.raises(error, match=f"^EmrIceberg: .*{re.escape(says)}"):
        EmrIceberg(**kwargs)


def test_iceberg_must_be_an_emr_iceberg() -> None:
    with pytest.raises(TypeError, match="^EmrCluster: iceberg must be a EmrIceberg"):
        make(iceberg={"warehouse": WAREHOUSE})


@pytest.mark.parametrize("application", ["", "Jupyter Hub", "spark-sql", 7])
def test_a_bad_application_name_is_rejected(application) -> None:
    with pytest.raises(ValueError, match=rf"^EmrCluster: an application name .*; got {re.escape(repr(application))}$"):
        make(applications=["Livy", application])


@pytest.mark.parametrize("prefix", ["emr", "/emr/", "emr/*/"])
def test_a_bad_log_prefix_is_rejected(prefix) -> None:
    with pytest.raises(ValueError, match=rf"^EmrCluster: an S3 prefix .*; got {re.escape(repr(prefix))}$"):
        make(log_prefix=prefix)


@pytest.mark.parametrize(("timeout", "seconds"), [(cdk.Duration.seconds(59), 59), (cdk.Duration.seconds(604_801), 604_801)])
def test_an_idle_timeout_outside_emr_range_is_rejected(timeout, seconds) -> None:
    with pytest.raises(ValueError, match=rf"^EmrCluster: idle_timeout must be between 60 seconds and 7 days .*; got {seconds} seconds$"):
        make(idle_timeout=timeout)


@pytest.mark.parametrize(("timeout", "seconds"), [(cdk.Duration.seconds(60), 60), (cdk.Duration.days(7), 604_800)])
def test_idle_timeouts_at_the_bounds_are_accepted(timeout, seconds) -> None:
    cluster = make(idle_timeout=timeout)
    assert cdk.Stack.of(cluster).resolve(cluster.cluster.auto_termination_policy) == {"idleTimeout": seconds}


@pytest.mark.parametrize("database", ["Raw", "raw*", "", "raw db"])
def test_a_bad_catalog_database_is_rejected(database) -> None:
    with pytest.raises(ValueError, match=rf"^EmrCluster: a catalog database name .*; got {re.escape(repr(database))}$"):
        make(catalog_databases=["raw", database])


def test_a_repeated_catalog_database_is_rejected() -> None:
    with pytest.raises(ValueError, match="^EmrCluster: catalog_databases names a database more than once: raw$"):
        make(catalog_databases=["raw", "curated", "raw"])


@pytest.mark.parametrize("uri", ["s3://emr-certificates/certs.tar", "https://emr-certificates/certs.zip", "s3://emr-certificates/", "s3://E/certs.zip"])
def test_a_bad_certificate_uri_is_rejected(uri) -> None:
    with pytest.raises(ValueError, match=rf"^EmrCluster: tls_certificates_s3_uri must look like .*; got {re.escape(repr(uri))}$"):
        make(tls_certificates_s3_uri=uri)


def test_an_empty_key_pair_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="^EmrCluster: key_pair_name must be 1 to 255 characters; got ''$"):
        make(key_pair_name="")


def test_a_public_subnet_is_rejected() -> None:
    network = Network(stack())
    with pytest.raises(ValueError, match="^EmrCluster: subnet must be a private subnet; got the public subnet Test/Vpc/PublicSubnet1$"):
        network.cluster("Cluster", subnet=network.vpc.public_subnets[0])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"primary_instance_type": "m7g"}, "EmrCapacity.primary_instance_type must be an EC2 instance type such as 'm7g.xlarge'; got 'm7g'"),
        ({"core_instance_type": "M7G.XLARGE"}, "EmrCapacity.core_instance_type must be an EC2 instance type such as 'm7g.xlarge'; got 'M7G.XLARGE'"),
        ({"task_instance_type": ""}, "EmrCapacity.task_instance_type must be an EC2 instance type such as 'm7g.xlarge'; got ''"),
        ({"core_instances": 0}, "EmrCapacity.core_instances must be at least 1 (the on-demand minimum); got 0"),
        ({"max_core_instances": 1}, "EmrCapacity.max_core_instances must be at least core_instances (2); got 1"),
        ({"max_task_instances": -1}, "EmrCapacity.max_task_instances must be 0 or more; got -1"),
    ],
)
def test_bad_capacity_is_rejected_naming_the_field(overrides, message) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        capacity(**overrides)


def test_core_range_of_one_value_is_accepted() -> None:
    assert capacity(core_instances=3, max_core_instances=3).max_core_instances == 3


@pytest.mark.parametrize("realm", ["example.com", "", "1EXAMPLE.COM", "EXAMPLE COM"])
def test_a_bad_realm_is_rejected(realm) -> None:
    with pytest.raises(ValueError, match=rf"^EmrKerberos.realm must be upper-case .*; got {re.escape(repr(realm))}$"):
        EmrKerberos(realm=realm)


def test_a_ticket_lifetime_below_one_hour_is_rejected() -> None:
    with pytest.raises(ValueError, match="^EmrKerberos.ticket_lifetime_hours must be at least 1; got 0$"):
        EmrKerberos(realm="EXAMPLE.COM", ticket_lifetime_hours=0)


def test_kerberos_ticket_lifetime_defaults_to_a_day() -> None:
    assert EmrKerberos(realm="EXAMPLE.COM").ticket_lifetime_hours == 24


def test_a_bad_location_prefix_is_rejected() -> None:
    network = Network(stack())
    with pytest.raises(ValueError, match=r"^LakeLocation: an S3 prefix .*; got 'raw'$"):
        LakeLocation(bucket=network.lake, prefix="raw", key=None)
