"""RedshiftSql: a Custom::RedshiftSql resource answered by its own function, in the VPC behind
HTTPS-only egress, with a role that reaches one cluster, one secret and its own statements."""

from __future__ import annotations

import re
from dataclasses import dataclass

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager

from constructs_lib import DataNetwork
from constructs_lib.common.monitoring import allow_cloudwatch_logs
from constructs_lib.warehouse.redshift_sql import HANDLER_DIR, RedshiftSql
from tests.unit.constructs.deploy_time_function_helpers import (
    FUNCTION_ACKNOWLEDGMENTS,
    DeployTimeFunctionContract,
    Synthesised,
    acknowledged,
    assert_function,
    assert_role_is_lambdas_alone,
    expected_role_statements,
    vpc_function_acknowledgments,
)
from tests.unit.constructs.stack_helpers import stack
from tests.unit.constructs.template_helpers import arn_of, logical_id, ref, role_statements, via_service

CREATE = "CREATE EXTERNAL SCHEMA IF NOT EXISTS curated FROM DATA CATALOG DATABASE 'team_dev_curated'"
GRANT = "GRANT USAGE ON SCHEMA curated TO GROUP analysts"
DROP = "DROP SCHEMA IF EXISTS curated"
PARTIAL_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:warehouse-admin"
COMPLETE_SECRET_ARN = f"{PARTIAL_SECRET_ARN}-AbCdEf"
CLUSTER_IMPORT = {"Fn::ImportValue": "WarehouseClusterId"}


@dataclass
class Built(Synthesised):
    network: DataNetwork
    secret: secretsmanager.Secret
    secret_key: kms.Key
    caller_key: kms.Key
    caller_group: ec2.SecurityGroup
    default: RedshiftSql
    tuned: RedshiftSql

    def sql(self, name: str) -> RedshiftSql:
        return getattr(self, name)


@pytest.fixture(scope="module")
def built() -> Built:
    """Two resources in one stack: only the required props, and every tunable set."""
    scope = stack()
    network = DataNetwork(
        scope,
        "Network",
        cidr="10.40.0.0/16",
        availability_zones=2,
        interface_endpoints=[ec2.InterfaceVpcEndpointAwsService.REDSHIFT_DATA],
        flow_log_retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    secret_key = kms.Key(scope, "SecretKey")
    secret = secretsmanager.Secret(scope, "AdminSecret", encryption_key=secret_key)
    caller_key = kms.Key(scope, "CallerKey")
    allow_cloudwatch_logs(caller_key)
    caller_group = ec2.SecurityGroup(scope, "CallerGroup", vpc=network.vpc, allow_all_outbound=False)
    common = {"vpc": network.vpc, "vpc_subnets": network.data_subnets}
    default = RedshiftSql(
        scope, "Default", cluster_identifier="analytics-dev", database="analytics", secret=secret,
        create_statements=[CREATE], **common,
    )
    tuned = RedshiftSql(
        scope, "Tuned",
        cluster_identifier=cdk.Fn.import_value("WarehouseClusterId"),
        database="sandbox",
        secret=secretsmanager.Secret.from_secret_partial_arn(scope, "ImportedSecret", PARTIAL_SECRET_ARN),
        create_statements=[CREATE, GRANT],
        delete_statements=[DROP],
        key=caller_key,
        security_group=caller_group,
        timeout=cdk.Duration.minutes(10),
        log_retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        **common,
    )
    return Built(scope, *Synthesised.template_of(scope), network, secret, secret_key, caller_key, caller_group, default, tuned)


# --- the function -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "timeout"), [("default", 300), ("tuned", 600)])
def test_function_is_python_on_the_newest_runtime_with_one_execution_and_tracing(built, name, timeout) -> None:
    props = assert_function(built, built.sql(name), timeout=timeout, concurrency=1)
    assert "Environment" not in props


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_function_runs_in_the_given_subnets_behind_one_security_group(built, name) -> None:
    sql = built.sql(name)
    subnets = built.network.vpc.select_subnets(subnet_group_name="Data").subnets
    assert built.props(sql.function)["VpcConfig"] == {
        "SecurityGroupIds": [{"Fn::GetAtt": [logical_id(sql.security_group), "GroupId"]}],
        "SubnetIds": [ref(subnet) for subnet in subnets],
    }
    assert len(subnets) == 2


def test_own_security_group_allows_https_egress_only(built) -> None:
    props = built.props(built.default.security_group)
    assert props["SecurityGroupEgress"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "HTTPS to VPC endpoints", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
    ]
    assert "SecurityGroupIngress" not in props
    assert built.template.find_resources("AWS::EC2::SecurityGroupIngress") == {}


def test_a_passed_security_group_is_used_as_is(built) -> None:
    assert built.tuned.security_group is built.caller_group
    assert built.tuned.node.try_find_child("SecurityGroup") is None
    # Left as the caller made it: CDK's "no egress" placeholder, no rule added by the construct.
    assert [r["CidrIp"] for r in built.props(built.caller_group)["SecurityGroupEgress"]] == ["255.255.255.255/32"]


# --- the custom resource ----------------------------------------------------------------------


def test_custom_resource_carries_the_target_and_the_statements(built) -> None:
    resource = built.resource(built.default.resource)
    assert resource["Type"] == "Custom::RedshiftSql"
    assert resource["Properties"] == {
        "ServiceToken": arn_of(built.default.function),
        "ServiceTimeout": "600",  # the function's 5 minutes plus 5
        "ClusterIdentifier": "analytics-dev",
        "Database": "analytics",
        "SecretArn": ref(built.secret),
        "CreateStatements": [CREATE],
        "DeleteStatements": [],
    }


def test_custom_resource_with_every_tunable(built) -> None:
    props = built.props(built.tuned.resource)
    assert (props["ServiceTimeout"], props["ClusterIdentifier"], props["Database"]) == ("900", CLUSTER_IMPORT, "sandbox")
    assert (props["CreateStatements"], props["DeleteStatements"]) == ([CREATE, GRANT], [DROP])
    assert props["SecretArn"] == PARTIAL_SECRET_ARN


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_custom_resource_is_always_deleted_so_the_delete_statements_run(built, name) -> None:
    resource = built.resource(built.sql(name).resource)
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Delete", "Delete")


# --- what every deploy-time function has: asset, dead letters, key, logs, removal -------------


class TestItsDeployTimeFunction(DeployTimeFunctionContract):
    handler_dir, plain, tuned = HANDLER_DIR, "default", "tuned"


# --- IAM ----------------------------------------------------------------------------------------


def test_role_may_do_exactly_what_the_handler_needs(built) -> None:
    sql = built.default
    own = [
        {
            "Action": ["redshift-data:BatchExecuteStatement", "redshift-data:ExecuteStatement"],
            "Effect": "Allow",
            "Resource": "arn:aws:redshift:eu-west-1:111122223333:cluster:analytics-dev",
            "Sid": "RunStatementsOnThisCluster",
        },
        {
            "Action": ["redshift-data:CancelStatement", "redshift-data:DescribeStatement"],
            "Condition": {"StringEquals": {"redshift-data:statement-owner-iam-userid": "${aws:userid}"}},
            "Effect": "Allow",
            "Resource": "*",
            "Sid": "FollowOwnStatementsOnly",
        },
        {"Action": "secretsmanager:GetSecretValue", "Effect": "Allow", "Resource": ref(built.secret), "Sid": "ReadTheAdminSecret"},
    ]
    decrypt_the_secret = {
        "Action": "kms:Decrypt",
        "Condition": {"StringEquals": {"kms:ViaService": via_service("secretsmanager")}},
        "Effect": "Allow",
        "Resource": arn_of(built.secret_key),
        "Sid": "DecryptTheAdminSecret",
    }
    # The secret's key after the VPC actions, where it has always been: the deployed policy is unchanged.
    assert role_statements(built.template, sql.role) == expected_role_statements(
        sql, own, after=[decrypt_the_secret], vpc_config=built.props(sql.function)["VpcConfig"]
    )
    assert_role_is_lambdas_alone(built, sql)


def test_a_token_cluster_and_an_imported_secret_are_granted_exactly(built) -> None:
    statements = {s.get("Sid"): s for s in role_statements(built.template, built.tuned.role)}
    assert statements["RunStatementsOnThisCluster"]["Resource"] == {
        "Fn::Join": ["", ["arn:aws:redshift:eu-west-1:111122223333:cluster:", CLUSTER_IMPORT]]
    }
    # Secrets Manager appends six random characters to a secret's name in its ARN.
    assert statements["ReadTheAdminSecret"]["Resource"] == f"{PARTIAL_SECRET_ARN}-??????"
    assert "DecryptTheAdminSecret" not in statements  # the imported secret uses the AWS managed key
    assert statements["UseKeyForDeadLetters"]["Resource"] == arn_of(built.caller_key)


def test_a_secret_imported_by_complete_arn_is_granted_as_is() -> None:
    scope = stack()
    secret = secretsmanager.Secret.from_secret_complete_arn(scope, "Secret", COMPLETE_SECRET_ARN)
    sql = RedshiftSql(scope, "Sql", **light_props(scope, secret=secret))
    statement = next(s for s in sql.role.node.find_child("DefaultPolicy").document.to_json()["Statement"] if s.get("Sid") == "ReadTheAdminSecret")
    assert statement["Resource"] == COMPLETE_SECRET_ARN


def test_inherent_findings_are_acknowledged_on_the_construct_with_reviewable_reasons(built) -> None:
    found = acknowledged(built.default)
    # nothing of its own beyond what every such function in a VPC has
    assert set(found) == FUNCTION_ACKNOWLEDGMENTS | vpc_function_acknowledgments(built.default)
    assert all(len(reason) >= 100 for reason in found.values())
    assert "redshift-data:DescribeStatement" in found[("/Role", "AwsSolutions-IAM5[Resource::*]")]
    assert "scoped to the cluster, secret, key, queue and log group" in found[("/Role", "HIPAA.Security-IAMNoInlinePolicy")]


# --- validation ---------------------------------------------------------------------------------


def light_props(scope: cdk.Stack, **overrides) -> dict:
    """Props with an imported VPC and secret: cheap to build, nothing to synthesise."""
    vpc = ec2.Vpc.from_vpc_attributes(
        scope, f"Vpc{len(scope.node.children)}", vpc_id="vpc-1", availability_zones=["eu-west-1a"],
        isolated_subnet_ids=["subnet-1"], isolated_subnet_route_table_ids=["rtb-1"],
    )
    props = {
        "cluster_identifier": "analytics-dev",
        "database": "analytics",
        "secret": secretsmanager.Secret.from_secret_complete_arn(scope, f"Secret{len(scope.node.children)}", COMPLETE_SECRET_ARN),
        "create_statements": [CREATE],
        "vpc": vpc,
        "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
    }
    props.update(overrides)
    return props


def build(**overrides) -> RedshiftSql:
    scope = stack()
    return RedshiftSql(scope, "Sql", **light_props(scope, **overrides))


@pytest.mark.parametrize("value", ["Analytics", "1analytics", "analytics--dev", "analytics-", "a" * 64, ""])
def test_a_bad_cluster_identifier_is_rejected_naming_it(value: str) -> None:
    with pytest.raises(ValueError, match=rf"^RedshiftSql: cluster_identifier must .*; got {re.escape(repr(value))}$"):
        build(cluster_identifier=value)


@pytest.mark.parametrize("value", ["Analytics", "1analytics", "my-db", "a" * 65, ""])
def test_a_bad_database_is_rejected_naming_it(value: str) -> None:
    with pytest.raises(ValueError, match=rf"^RedshiftSql: database must .*; got {re.escape(repr(value))}$"):
        build(database=value)


@pytest.mark.parametrize(
    ("prop", "value", "message"),
    [
        ("create_statements", [], r"create_statements must hold at least one SQL statement; got \[\]"),
        ("create_statements", CREATE, r"create_statements must be a sequence of SQL strings, not one string"),
        ("create_statements", [CREATE, "  "], r"every statement of create_statements must be a non-empty string; got '  '"),
        ("create_statements", [CREATE] * 41, r"create_statements holds 41 statements; the Data API runs at most 40"),
        ("delete_statements", DROP, r"delete_statements must be a sequence of SQL strings, not one string"),
        ("delete_statements", [""], r"every statement of delete_statements must be a non-empty string; got ''"),
        ("delete_statements", [DROP] * 41, r"delete_statements holds 41 statements"),
    ],
)
def test_bad_statements_are_rejected_naming_the_prop(prop: str, value, message: str) -> None:
    with pytest.raises(ValueError, match=f"^RedshiftSql: {message}"):
        build(**{prop: value})


@pytest.mark.parametrize("timeout", [cdk.Duration.seconds(59), cdk.Duration.minutes(16)])
def test_a_timeout_outside_one_to_fifteen_minutes_is_rejected(timeout: cdk.Duration) -> None:
    with pytest.raises(ValueError, match=rf"^RedshiftSql: timeout must be between 1 and 15 minutes .*; got {timeout.to_human_string()}$"):
        build(timeout=timeout)


def test_a_removal_policy_other_than_retain_or_destroy_is_rejected() -> None:
    with pytest.raises(ValueError, match="^RedshiftSql: removal_policy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY"):
        build(removal_policy=cdk.RemovalPolicy.SNAPSHOT)


@pytest.mark.parametrize(
    "overrides",
    [
        {"cluster_identifier": "a", "database": "_x$1", "timeout": cdk.Duration.minutes(1)},
        {"cluster_identifier": "a" * 63, "database": "d" * 64, "timeout": cdk.Duration.minutes(15)},
        {"create_statements": [CREATE] * 40, "delete_statements": [DROP] * 40},
    ],
)
def test_values_at_the_limits_are_accepted(overrides: dict) -> None:
    sql = build(**overrides)
    assert sql.resource.node.default_child is not None
