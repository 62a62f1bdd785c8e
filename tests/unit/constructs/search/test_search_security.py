"""SearchSecurityRoles: a Custom::OpenSearchSecurityRoles resource answered by its own function in the
VPC, which reaches the domain on 443 only and assumes exactly the domain's master role; SearchRole's
validation and factories; and a cdk-nag run of a stack holding a SearchDomain and the construct."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs

from constructs_lib import DataNetwork
from constructs_lib.common.monitoring import allow_cloudwatch_logs
from constructs_lib.search.search_domain import SearchCapacity, SearchDomain
from constructs_lib.search.search_security import HANDLER_DIR, RESERVED_ROLE_NAMES, SearchRole, SearchSecurityRoles
from stacks.compliance import add_compliance_checks
from tests.compliance.nag import PACK_RULE_ID, acknowledgments, findings
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
from tests.unit.constructs.stack_helpers import TeamStack, stack, topic
from tests.unit.constructs.template_helpers import arn_of, logical_id, ref, role_statements

ACCOUNT, REGION = "111122223333", "eu-west-1"
WRITER_ARN = f"arn:aws:iam::{ACCOUNT}:role/telemetry-firehose"
READER_ARN = f"arn:aws:iam::{ACCOUNT}:role/analysts"
IMPORTED_ARN = {"Fn::ImportValue": "ReaderRoleArn"}
SMALL = SearchCapacity("r7g.large.search", 3, 20)


def network(scope: cdk.Stack) -> DataNetwork:
    return DataNetwork(
        scope, "Network", cidr="10.30.0.0/16", availability_zones=3,
        interface_endpoints=[ec2.InterfaceVpcEndpointAwsService.STS],
        flow_log_retention=logs.RetentionDays.ONE_YEAR, removal_policy=cdk.RemovalPolicy.RETAIN,
    )


@dataclass
class Built(Synthesised):
    network: DataNetwork
    search: SearchDomain
    writer: iam.Role
    caller_key: kms.Key
    default: SearchSecurityRoles
    tuned: SearchSecurityRoles

    def roles(self, name: str) -> SearchSecurityRoles:
        return getattr(self, name)


@pytest.fixture(scope="module")
def built() -> Built:
    """Two constructs on one domain: the usual Firehose writer with every default, and a role of
    every field with every tunable set."""
    scope = stack()
    net = network(scope)
    search = SearchDomain(scope, "Search", vpc=net.vpc, vpc_subnets=net.data_subnets, capacity=SMALL)
    writer = iam.Role(scope, "Writer", assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"))
    caller_key = kms.Key(scope, "CallerKey")
    allow_cloudwatch_logs(caller_key)
    common = {"domain": search, "vpc": net.vpc, "vpc_subnets": net.data_subnets}
    default = SearchSecurityRoles(scope, "Default", roles=[SearchRole.firehose_writer(writer.role_arn, "telemetry")], **common)
    tuned = SearchSecurityRoles(
        scope, "Tuned",
        roles=[
            SearchRole(
                name="audit-loader", backend_role_arns=[WRITER_ARN, cdk.Fn.import_value("ReaderRoleArn")],
                index_patterns=["audit-*", "audit.archive"], index_actions=["indices:data/write/bulk*", "create_index"],
                cluster_actions=["indices:data/write/bulk"],
            ),
            SearchRole.reader([READER_ARN], ["telemetry-*"], name="telemetry_reader"),
        ],
        key=caller_key, timeout=cdk.Duration.minutes(10), log_retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=cdk.RemovalPolicy.DESTROY, **common,
    )
    return Built(scope, *Synthesised.template_of(scope), net, search, writer, caller_key, default, tuned)


# --- the custom resource ----------------------------------------------------------------------


def test_custom_resource_carries_the_endpoint_the_master_role_and_the_firehose_role(built) -> None:
    resource = built.resource(built.default.resource)
    assert resource["Type"] == "Custom::OpenSearchSecurityRoles"
    assert resource["Properties"] == {
        "ServiceToken": arn_of(built.default.function),
        "ServiceTimeout": "600",  # the function's 5 minutes plus 5
        "Endpoint": {"Fn::GetAtt": [logical_id(built.search.domain), "DomainEndpoint"]},
        "MasterRoleArn": arn_of(built.search.master_role),
        "Roles": [
            {
                "Name": "telemetry_firehose_writer",
                "BackendRoles": [arn_of(built.writer)],
                "IndexPatterns": ["telemetry", "telemetry-*"],
                "IndexActions": ["crud", "create_index", "manage"],
                "ClusterActions": ["cluster_composite_ops", "cluster_monitor"],
            }
        ],
    }


def test_custom_resource_with_every_field_and_tunable(built) -> None:
    props = built.props(built.tuned.resource)
    assert props["ServiceTimeout"] == "900"
    assert props["Roles"] == [
        {
            "Name": "audit-loader",
            "BackendRoles": [WRITER_ARN, IMPORTED_ARN],
            "IndexPatterns": ["audit-*", "audit.archive"],
            "IndexActions": ["indices:data/write/bulk*", "create_index"],
            "ClusterActions": ["indices:data/write/bulk"],
        },
        {
            "Name": "telemetry_reader",
            "BackendRoles": [READER_ARN],
            "IndexPatterns": ["telemetry-*"],
            "IndexActions": ["read"],
            "ClusterActions": ["cluster_composite_ops_ro"],
        },
    ]
    assert built.tuned.roles[1] == SearchRole.reader([READER_ARN], ["telemetry-*"], name="telemetry_reader")


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_custom_resource_is_always_deleted_and_waits_for_both_ends_of_the_https_rule(built, name) -> None:
    roles = built.roles(name)
    resource = built.resource(roles.resource)
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Delete", "Delete")
    ingress = [k for k, v in built.of_type("AWS::EC2::SecurityGroupIngress").items()
               if v["Properties"].get("SourceSecurityGroupId") == {"Fn::GetAtt": [logical_id(roles.security_group), "GroupId"]}]
    egress = [k for k, v in built.of_type("AWS::EC2::SecurityGroupEgress").items()
              if v["Properties"]["GroupId"] == {"Fn::GetAtt": [logical_id(roles.security_group), "GroupId"]}]
    assert len(ingress) == len(egress) == 1
    assert {*ingress, *egress, logical_id(built.search.security_group), logical_id(roles.security_group)} <= set(resource["DependsOn"])


# --- the network ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_function_runs_in_the_given_subnets_behind_its_own_security_group(built, name) -> None:
    roles = built.roles(name)
    subnets = built.network.vpc.select_subnets(subnet_group_name="Data").subnets
    assert built.props(roles.function)["VpcConfig"] == {
        "SecurityGroupIds": [{"Fn::GetAtt": [logical_id(roles.security_group), "GroupId"]}],
        "SubnetIds": [ref(subnet) for subnet in subnets],
    }


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_security_group_reaches_the_domain_on_443_only_and_vpc_endpoints_on_https(built, name) -> None:
    group = built.roles(name).security_group
    group_id = {"Fn::GetAtt": [logical_id(group), "GroupId"]}
    domain_group_id = {"Fn::GetAtt": [logical_id(built.search.security_group), "GroupId"]}
    props = built.props(group)
    assert props["SecurityGroupEgress"] == [{
        "CidrIp": "0.0.0.0/0", "Description": "HTTPS to VPC endpoints (STS, S3 for the CloudFormation response)",
        "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443,
    }]
    assert "SecurityGroupIngress" not in props
    rule = {"Description": "HTTPS between the SearchSecurityRoles function and the domain", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
    ingress = [v["Properties"] for v in built.of_type("AWS::EC2::SecurityGroupIngress").values()
               if v["Properties"].get("SourceSecurityGroupId") == group_id]
    assert ingress == [{**rule, "GroupId": domain_group_id, "SourceSecurityGroupId": group_id}]
    egress = [v["Properties"] for v in built.of_type("AWS::EC2::SecurityGroupEgress").values() if v["Properties"]["GroupId"] == group_id]
    assert egress == [{**rule, "GroupId": group_id, "DestinationSecurityGroupId": domain_group_id}]
    # Nothing may reach the function.
    assert not [v for v in built.of_type("AWS::EC2::SecurityGroupIngress").values() if v["Properties"]["GroupId"] == group_id]


# --- the function -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "timeout"), [("default", 300), ("tuned", 600)])
def test_function_is_python_on_the_newest_runtime_with_one_execution_tracing_and_regional_sts(built, name, timeout) -> None:
    props = assert_function(built, built.roles(name), timeout=timeout, concurrency=1)
    assert props["Environment"] == {"Variables": {"AWS_STS_REGIONAL_ENDPOINTS": "regional"}}


# --- what every deploy-time function has: asset, dead letters, key, logs, removal -------------


class TestItsDeployTimeFunction(DeployTimeFunctionContract):
    handler_dir, plain, tuned = HANDLER_DIR, "default", "tuned"


# --- IAM --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_role_may_assume_exactly_the_master_role_and_nothing_else_of_note(built, name) -> None:
    roles = built.roles(name)
    assume = {"Action": "sts:AssumeRole", "Effect": "Allow", "Resource": arn_of(built.search.master_role), "Sid": "AssumeTheDomainsMasterRole"}
    assert role_statements(built.template, roles.role) == expected_role_statements(roles, [assume], vpc_config=built.props(roles.function)["VpcConfig"])
    assert_role_is_lambdas_alone(built, roles)


def test_searchdomains_master_role_lets_iam_decide_so_the_identity_policy_suffices(built) -> None:
    assert built.props(built.search.master_role)["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}
    ]


def test_inherent_findings_are_acknowledged_on_the_construct_with_reviewable_reasons(built) -> None:
    found = acknowledged(built.default)
    # nothing of its own beyond what every such function in a VPC has
    assert set(found) == FUNCTION_ACKNOWLEDGMENTS | vpc_function_acknowledgments(built.default)
    assert all(len(reason) >= 100 for reason in found.values())
    assert "sts:AssumeRole, names the domain's master role alone" in found[("/Role", "AwsSolutions-IAM5[Resource::*]")]
    assert "scoped to the master role, key, queue and log group" in found[("/Role", "HIPAA.Security-IAMNoInlinePolicy")]
    # The documented case for an inline policy, not the claim that a managed one widens access.
    assert "IAM User Guide (Managed policies and inline policies)" in found[("/Role", "HIPAA.Security-IAMNoInlinePolicy")]


# --- SearchRole -------------------------------------------------------------------------------


def test_the_firehose_writer_has_what_the_firehose_guide_lists_on_its_index_and_rotations() -> None:
    role = SearchRole.firehose_writer(WRITER_ARN, "telemetry.v2")
    assert role == SearchRole(
        name="telemetry_v2_firehose_writer", backend_role_arns=(WRITER_ARN,), index_patterns=("telemetry.v2", "telemetry.v2-*"),
        index_actions=("crud", "create_index", "manage"), cluster_actions=("cluster_composite_ops", "cluster_monitor"),
    )
    assert SearchRole.firehose_writer(WRITER_ARN, "telemetry", name="ingest").name == "ingest"


def test_a_reader_reads_and_may_use_multi_get_search_and_scroll() -> None:
    role = SearchRole.reader([READER_ARN, WRITER_ARN], ["telemetry-*", "audit-*"], name="readers")
    assert (role.name, role.backend_role_arns, role.index_patterns) == ("readers", (READER_ARN, WRITER_ARN), ("telemetry-*", "audit-*"))
    assert (role.index_actions, role.cluster_actions) == (("read",), ("cluster_composite_ops_ro",))


def role(**overrides) -> SearchRole:
    fields = {"name": "writer", "backend_role_arns": [WRITER_ARN], "index_patterns": ["telemetry-*"], "index_actions": ["crud"]}
    return SearchRole(**{**fields, **overrides})


@pytest.mark.parametrize("name", ["Writer", "_writer", "-writer", "writer.one", "writer/one", "a" * 65, ""])
def test_a_bad_role_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=rf"^SearchRole: name must be 1-64 lowercase letters.*; got {re.escape(repr(name))}$"):
        role(name=name)


def test_a_token_role_name_is_refused() -> None:
    with pytest.raises(ValueError, match="^SearchRole: name must be .*no token"):
        role(name=cdk.Token.as_string(cdk.Fn.import_value("Name")))


@pytest.mark.parametrize("name", ["all_access", "security_manager", "readall", "kibana_user", "logstash", "ml_full_access"])
def test_a_role_opensearch_defines_is_refused(name: str) -> None:
    assert name in RESERVED_ROLE_NAMES
    with pytest.raises(ValueError, match=rf"^SearchRole: name must not be a role OpenSearch defines itself; got '{name}'$"):
        role(name=name)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"backend_role_arns": []}, r"backend_role_arns must not be empty; got \(\)"),
        ({"backend_role_arns": WRITER_ARN}, "backend_role_arns must be a sequence of strings, not one string"),
        ({"backend_role_arns": [f"arn:aws:iam::{ACCOUNT}:user/alice"]}, "backend_role_arns must be IAM role ARNs; got 'arn:aws:iam::111122223333:user/alice'"),
        ({"backend_role_arns": ["analysts"]}, "backend_role_arns must be IAM role ARNs; got 'analysts'"),
        ({"backend_role_arns": [WRITER_ARN, WRITER_ARN]}, "backend_role_arns lists .* more than once"),
        ({"backend_role_arns": [""]}, "every item of backend_role_arns must be a non-empty string; got ''"),
        ({"index_patterns": []}, "index_patterns must not be empty"),
        ({"index_patterns": [".opendistro_security"]}, "index_patterns must be lowercase index names"),
        ({"index_patterns": ["_all"]}, "index_patterns must be lowercase index names"),
        ({"index_patterns": ["Telemetry-*"]}, "index_patterns must be lowercase index names"),
        ({"index_patterns": ["tele metry"]}, "index_patterns must be lowercase index names"),
        ({"index_actions": []}, "index_actions must not be empty"),
        ({"index_actions": ["read all"]}, "index_actions must be action group or permission names; got 'read all'"),
        ({"index_actions": ["indices_all"]}, "index_actions must not grant everything or the security REST API .*; got 'indices_all'"),
        ({"index_actions": ["*"]}, "index_actions must not grant everything"),
        ({"cluster_actions": ["cluster_all"]}, "cluster_actions must not grant everything"),
        ({"cluster_actions": ["unlimited"]}, "cluster_actions must not grant everything"),
        ({"cluster_actions": ["restapi:admin/rolesmapping"]}, "cluster_actions must not grant everything or the security REST API"),
        ({"cluster_actions": "cluster_monitor"}, "cluster_actions must be a sequence of strings, not one string"),
    ],
)
def test_bad_role_fields_are_refused_naming_the_prop(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=f"^SearchRole: {message}"):
        role(**overrides)


def test_token_arns_and_index_pattern_tokens_are_told_apart() -> None:
    assert role(backend_role_arns=[cdk.Token.as_string(cdk.Fn.import_value("Arn"))]).backend_role_arns
    with pytest.raises(ValueError, match="index_patterns must be lowercase index names .*no token"):
        role(index_patterns=[cdk.Token.as_string(cdk.Fn.import_value("Pattern"))])


@pytest.mark.parametrize("index_name", ["telemetry-*", "Telemetry", "_telemetry", ""])
def test_a_firehose_writer_needs_the_streams_literal_index_name(index_name: str) -> None:
    with pytest.raises(ValueError, match=rf"^SearchRole: index_name must be a lowercase index name .*; got {re.escape(repr(index_name))}$"):
        SearchRole.firehose_writer(WRITER_ARN, index_name)


def test_values_at_the_limits_are_accepted() -> None:
    assert role(name="a" * 64, index_patterns=["*"], cluster_actions=[]).cluster_actions == ()
    assert role(name="0").name == "0"


# --- construct validation ---------------------------------------------------------------------


@dataclass
class Light:
    scope: cdk.Stack
    props: dict


def light() -> Light:
    """A SearchDomain on an imported VPC: nothing to synthesise."""
    scope = stack()
    vpc = ec2.Vpc.from_vpc_attributes(
        scope, "Vpc", vpc_id="vpc-1", availability_zones=["eu-west-1a", "eu-west-1b"],
        isolated_subnet_ids=["subnet-1", "subnet-2"], isolated_subnet_route_table_ids=["rtb-1", "rtb-2"],
    )
    subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
    search = SearchDomain(scope, "Search", vpc=vpc, vpc_subnets=subnets, capacity=SearchCapacity("r7g.large.search", 2, 20))
    return Light(scope, {"domain": search, "vpc": vpc, "vpc_subnets": subnets, "roles": [role()]})


def build(**overrides) -> SearchSecurityRoles:
    built = light()
    return SearchSecurityRoles(built.scope, "Roles", **{**built.props, **overrides})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"roles": []}, r"roles must hold at least one SearchRole; got \(\)"),
        ({"roles": [role(), role(index_patterns=["audit-*"])]}, r"roles names \['writer'\] more than once"),
        ({"roles": [{"name": "writer"}]}, "every item of roles must be a SearchRole"),
        ({"timeout": cdk.Duration.seconds(59)}, "timeout must be between 1 and 15 minutes .*; got 59 seconds"),
        ({"timeout": cdk.Duration.minutes(16)}, "timeout must be between 1 and 15 minutes .*; got 16 minutes"),
        ({"removal_policy": cdk.RemovalPolicy.SNAPSHOT}, "removal_policy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY"),
    ],
)
def test_bad_construct_props_are_refused_naming_the_prop(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=f"^SearchSecurityRoles: {message}"):
        build(**overrides)


def test_the_domain_must_be_a_search_domain_whose_master_role_signs() -> None:
    built = light()
    with pytest.raises(ValueError, match="^SearchSecurityRoles: domain must be a SearchDomain"):
        SearchSecurityRoles(built.scope, "Roles", **{**built.props, "domain": built.props["domain"].domain})


def test_two_constructs_may_not_write_the_same_role_on_one_domain() -> None:
    built = light()
    SearchSecurityRoles(built.scope, "First", **built.props)
    SearchSecurityRoles(built.scope, "Other", **{**built.props, "roles": [role(name="other")]})
    with pytest.raises(ValueError, match=r"^SearchSecurityRoles: roles \['writer'\] are already written on this domain by Test/First"):
        SearchSecurityRoles(built.scope, "Second", **built.props)


def test_timeouts_at_the_limits_are_accepted() -> None:
    for timeout in (cdk.Duration.minutes(1), cdk.Duration.minutes(15)):
        assert build(timeout=timeout).resource is not None


# --- cdk-nag: SearchDomain and SearchSecurityRoles in one stack ---------------------------------

OURS = "Test/SecurityRoles/"


@dataclass
class Nag:
    app: cdk.App
    findings: set[tuple[str, str]]


def synth_with_packs(outdir: Path) -> Nag:
    app = cdk.App(outdir=str(outdir), context={"@aws-cdk/core:enablePartitionLiterals": True})
    scope = TeamStack(app, "Test", env=cdk.Environment(account=ACCOUNT, region=REGION))
    net = network(scope)
    search = SearchDomain(scope, "Search", vpc=net.vpc, vpc_subnets=net.data_subnets, capacity=SMALL, alarm_topic=topic(scope))
    writer = iam.Role(scope, "Writer", assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"))
    search.grant_write(writer)
    SearchSecurityRoles(
        scope, "SecurityRoles", domain=search, vpc=net.vpc, vpc_subnets=net.data_subnets,
        roles=[SearchRole.firehose_writer(writer.role_arn, "telemetry"), SearchRole.reader([READER_ARN], ["telemetry-*"], name="readers")],
    )
    add_compliance_checks(app)
    try:
        app.synth()
    except RuntimeError as error:  # the app's own findings (the network's flow-log role, the writer's policy)
        assert "ValidationFailed" in str(error)
    return Nag(app, {(f.rule_id, f.path) for f in findings(outdir)})


@pytest.fixture(scope="module")
def nag(tmp_path_factory) -> Nag:
    return synth_with_packs(tmp_path_factory.mktemp("search-security-nag"))


def test_the_five_packs_find_nothing_in_the_construct(nag) -> None:
    assert {(rule, path) for rule, path in nag.findings if path.startswith(OURS)} == set()
    assert nag.findings  # the packs ran: the test fixture's own parts have findings


def test_every_acknowledgment_is_specific_and_hides_a_real_finding(nag, tmp_path, monkeypatch) -> None:
    acks = [a for a in acknowledgments(nag.app) if a.path.startswith(OURS)]
    for ack in acks:
        assert PACK_RULE_ID.match(ack.rule_id) and len(ack.reason) >= 100, ack
        assert not any(w in ack.reason.lower() for w in ("todo", "n/a", "not needed", "suppress", "ignore", "false positive"))
    assert {(a.path, a.rule_id) for a in acks} == {
        (f"{OURS}Role", "AwsSolutions-IAM5[Resource::*]"),
        # Lambda names its network interfaces itself; creating one needs the function's subnets and group.
        (f"{OURS}Role", "AwsSolutions-IAM5[Resource::arn:aws:ec2:eu-west-1:111122223333:network-interface/*]"),
        *((f"{OURS}Role", f"{pack}-IAMNoInlinePolicy") for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")),
        (f"{OURS}Function", "Serverless-LambdaAsyncFailureDestination"),
        (f"{OURS}DeadLetterQueue", "Serverless-SQSRedrivePolicy"),
    }
    # Switched off, each acknowledgment's finding appears, and nothing else of ours does.
    monkeypatch.setattr(cdk.Validations, "acknowledge", lambda self, *rules: None)
    bare = synth_with_packs(tmp_path)
    raw = {(rule, path) for rule, path in bare.findings if path.startswith(OURS)}
    for ack in acks:
        assert any(rule == ack.rule_id and (path + "/").startswith(ack.path + "/") for rule, path in raw), f"stale: {ack}"
    for rule, path in raw:
        assert any(a.rule_id == rule and (path + "/").startswith(a.path + "/") for a in acks), (rule, path)
