"""DataNetwork: isolated data subnets, S3 gateway and interface endpoints, encrypted flow logs."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Annotations, Match, Template

from aws_cdk import aws_kms as kms

from constructs_lib import DataNetwork, DeployTimeAvailabilityZones
from tests.compliance.nag import acknowledgments
from tests.unit.constructs.stack_helpers import only
from tests.unit.constructs.template_helpers import logical_id, role_statements

ENV = cdk.Environment(account="111122223333", region="eu-west-1")


class DataStack(DeployTimeAvailabilityZones, cdk.Stack):
    """How a team declares a stack with a concrete environment that holds a DataNetwork."""


def stack() -> cdk.Stack:
    app = cdk.App(context={"@aws-cdk/core:enablePartitionLiterals": True})
    return DataStack(app, "Test", env=ENV)

ENDPOINTS = [ec2.InterfaceVpcEndpointAwsService.GLUE, ec2.InterfaceVpcEndpointAwsService.REDSHIFT_DATA]


def network(scope: cdk.Stack | None = None, **overrides) -> tuple[DataNetwork, Template]:
    scope = stack() if scope is None else scope
    props = dict(
        cidr="10.20.0.0/16",
        availability_zones=3,
        interface_endpoints=ENDPOINTS,
        flow_log_retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    props.update(overrides)
    built = DataNetwork(scope, "Network", **props)
    return built, Template.from_stack(scope)


@pytest.fixture(scope="module")
def isolated() -> tuple[DataNetwork, Template]:
    return network(data_subnet_tags={"for-use-with-amazon-emr-managed-policies": "true", "tier": "data"})


@pytest.fixture(scope="module")
def with_nat() -> tuple[DataNetwork, Template]:
    return network(availability_zones=2, nat_gateways=1, cidr="10.30.0.0/20", removal_policy=cdk.RemovalPolicy.DESTROY)


def test_one_isolated_data_subnet_per_zone_chosen_at_deploy_time(isolated) -> None:
    _, template = isolated
    subnets = template.find_resources("AWS::EC2::Subnet")
    assert sorted(s["Properties"]["AvailabilityZone"]["Fn::Select"][0] for s in subnets.values()) == [0, 1, 2]
    assert all(s["Properties"]["AvailabilityZone"]["Fn::Select"][1] == {"Fn::GetAZs": ""} for s in subnets.values())
    assert sorted(s["Properties"]["CidrBlock"] for s in subnets.values()) == ["10.20.0.0/18", "10.20.128.0/18", "10.20.64.0/18"]
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())


def test_isolated_network_has_no_route_out(isolated) -> None:
    _, template = isolated
    for resource_type in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::Route", "AWS::EC2::EIP"):
        assert template.find_resources(resource_type) == {}, resource_type


def test_s3_gateway_endpoint_serves_every_data_route_table(isolated) -> None:
    _, template = isolated
    gateways = template.find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Gateway"}})
    (gateway,) = gateways.values()
    assert gateway["Properties"]["ServiceName"] == {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]}
    route_tables = template.find_resources("AWS::EC2::RouteTable")
    assert sorted(r["Ref"] for r in gateway["Properties"]["RouteTableIds"]) == sorted(route_tables)


def test_interface_endpoints_use_private_dns_and_the_endpoint_group(isolated) -> None:
    built, template = isolated
    assert sorted(built.interface_endpoints) == ["glue", "redshift-data"]
    endpoints = template.find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}})
    assert len(endpoints) == 2
    group = logical_id(built.endpoint_security_group)
    for endpoint in endpoints.values():
        props = endpoint["Properties"]
        assert props["PrivateDnsEnabled"] is True
        assert props["SecurityGroupIds"] == [{"Fn::GetAtt": [group, "GroupId"]}]
        assert len(props["SubnetIds"]) == 3
    assert {logical_id(e) for e in built.interface_endpoints.values()} == set(endpoints)
    assert all(name.startswith(("NetworkVpcGlueEndpoint", "NetworkVpcRedshiftDataEndpoint")) for name in endpoints)


def test_endpoint_group_admits_https_from_the_vpc_range_only(isolated) -> None:
    built, template = isolated
    group = template.find_resources("AWS::EC2::SecurityGroup")[logical_id(built.endpoint_security_group)]
    (ingress,) = group["Properties"]["SecurityGroupIngress"]
    assert (ingress["CidrIp"], ingress["IpProtocol"], ingress["FromPort"], ingress["ToPort"]) == ("10.20.0.0/16", "tcp", 443, 443)
    # CDK's placeholder for "no egress": one rule to an address that cannot exist.
    (egress,) = group["Properties"]["SecurityGroupEgress"]
    assert egress["CidrIp"] == "255.255.255.255/32"


def test_the_flow_log_carries_no_blanket_template_validation_acknowledgment(isolated) -> None:
    """aws-cdk-lib's ec2.FlowLog acknowledges F3002/F3003 (error level) on itself even without
    DestinationOptions; the construct's flow log has neither, so a real finding would surface."""
    built, template = isolated
    flow_log = only(template, "AWS::EC2::FlowLog")
    assert "DestinationOptions" not in flow_log["Properties"]
    acknowledged = [a.rule_id for a in acknowledgments(built.node.root) if a.path.startswith(built.vpc.node.path)]
    assert not [rule for rule in acknowledged if rule.startswith("CloudFormation-Validate::")]
    # The L2's path, so the logical id is what it was; and the role keeps what the L2 granted it.
    assert built.flow_log.node.path == f"{built.vpc.node.path}/FlowLog/FlowLog"
    assert {"Key": "Name", "Value": f"{built.vpc.node.path}/FlowLog"} in flow_log["Properties"]["Tags"]
    assert role_statements(template, built.flow_log_role) == [{
        "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [logical_id(built.flow_log_group), "Arn"]},
    }]


def test_default_security_group_is_stripped(isolated) -> None:
    _, template = isolated
    template.resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_flow_logs_capture_all_traffic_into_an_encrypted_retained_group(isolated) -> None:
    built, template = isolated
    flow_log = only(template, "AWS::EC2::FlowLog")["Properties"]
    assert flow_log["TrafficType"] == "ALL"
    assert flow_log["LogDestinationType"] == "cloud-watch-logs"
    assert flow_log["LogGroupName"] == {"Ref": logical_id(built.flow_log_group)}
    assert flow_log["DeliverLogsPermissionArn"] == {"Fn::GetAtt": [logical_id(built.flow_log_role), "Arn"]}
    log_group = only(template, "AWS::Logs::LogGroup")
    assert log_group["Properties"]["RetentionInDays"] == 30
    assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [logical_id(built.flow_log_key), "Arn"]}
    assert log_group["DeletionPolicy"] == "Retain"
    key = only(template, "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"


def test_flow_log_role_trusts_the_service_for_this_account_only(isolated) -> None:
    built, template = isolated
    role = template.find_resources("AWS::IAM::Role")[logical_id(built.flow_log_role)]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "111122223333"}}


def test_data_subnets_carry_the_requested_tags(isolated) -> None:
    _, template = isolated
    for subnet in template.find_resources("AWS::EC2::Subnet").values():
        tags = {t["Key"]: t["Value"] for t in subnet["Properties"]["Tags"]}
        assert tags["for-use-with-amazon-emr-managed-policies"] == "true"
        assert tags["tier"] == "data"


def test_nat_adds_public_subnets_and_routes_data_through_it(with_nat) -> None:
    built, template = with_nat
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    template.resource_count_is("AWS::EC2::InternetGateway", 1)
    public = built.vpc.public_subnets
    assert len(public) == 2
    data = built.vpc.select_subnets(subnet_group_name="Data")
    # PRIVATE_WITH_EGRESS, not isolated
    assert [x.node.path for x in data.subnets] == [x.node.path for x in built.vpc.private_subnets]
    assert built.vpc.isolated_subnets == []
    subnets = template.find_resources("AWS::EC2::Subnet")
    cidrs = sorted(s["Properties"]["CidrBlock"] for s in subnets.values())
    assert cidrs == ["10.30.0.0/22", "10.30.4.0/22", "10.30.8.0/26", "10.30.8.64/26"]
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())
    nat_routes = template.find_resources("AWS::EC2::Route", {"Properties": {"NatGatewayId": Match.any_value()}})
    assert len(nat_routes) == 2


def test_destroy_reaches_the_flow_log_group_and_key_and_warns(with_nat) -> None:
    built, template = with_nat
    assert only(template, "AWS::Logs::LogGroup")["DeletionPolicy"] == "Delete"
    assert only(template, "AWS::KMS::Key")["DeletionPolicy"] == "Delete"
    warnings = [m for m in built.node.metadata if m.type == "aws:cdk:warning"]
    assert any("VPC flow logs" in str(m.data) for m in warnings)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"cidr": "10.0.0.0"}, "cidr prefix length must be /16 to /22"),
        ({"cidr": "not-a-cidr"}, "cidr must be an IPv4 network"),
        ({"cidr": "52.0.0.0/16"}, "cidr must be a private (RFC 1918) range"),
        ({"cidr": "10.0.0.0/15"}, "cidr prefix length must be /16 to /22"),
        ({"cidr": "10.0.0.0/23"}, "cidr prefix length must be /16 to /22"),
        ({"availability_zones": 1}, "availability_zones must be 2 or 3"),
        ({"availability_zones": 4}, "availability_zones must be 2 or 3"),
        ({"nat_gateways": 4}, "nat_gateways must be between 0 and availability_zones (3)"),
        ({"nat_gateways": -1}, "nat_gateways must be between 0 and availability_zones (3)"),
        ({"interface_endpoints": [ec2.InterfaceVpcEndpointAwsService.KMS] * 2}, "lists 'kms' twice"),
        ({"removal_policy": cdk.RemovalPolicy.SNAPSHOT}, "removal_policy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY"),
    ],
)
def test_bad_props_are_named(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match="DataNetwork") as caught:
        network(**overrides)
    assert message in str(caught.value)


# --- No lookups: the stack's availability zones (issue 17) ----------------------------------------

def _missing_context(app: cdk.IConstruct) -> list[str]:
    """The context lookups synth asked for (read from manifest.json: jsii cannot hand over the manifest)."""
    directory = app.synth().directory  # type: ignore[attr-defined]
    manifest = json.loads((Path(directory) / "manifest.json").read_text(encoding="utf-8"))
    return [m["key"] for m in manifest.get("missing", [])]


def test_a_plain_stack_with_a_concrete_environment_is_refused_naming_the_cause_and_the_fix() -> None:
    app = cdk.App()
    plain = cdk.Stack(app, "Plain", env=ENV)
    with pytest.raises(ValueError) as error:
        network(plain)
    message = str(error.value)
    for part in ("DataNetwork 'Plain/Network'", "stack 'Plain'", "111122223333/eu-west-1", "cdk.context.json",
                 "DeployTimeAvailabilityZones", "allow_availability_zone_lookup=True"):
        assert part in message


def test_the_mixin_stack_synthesises_with_no_lookup() -> None:
    scope = stack()
    network(scope)
    assert _missing_context(scope.node.root) == []


def test_an_environment_agnostic_stack_needs_no_mixin_and_gets_three_deploy_time_zones() -> None:
    agnostic = cdk.Stack(cdk.App(), "Agnostic")
    _, template = network(agnostic)
    assert len(template.find_resources("AWS::EC2::Subnet")) == 3
    assert _missing_context(agnostic.node.root) == []


def test_the_lookup_opt_in_keeps_cdks_lookup_and_its_zone_count() -> None:
    app = cdk.App()
    plain = cdk.Stack(app, "Plain", env=ENV)
    _, template = network(plain, allow_availability_zone_lookup=True, availability_zones=2)
    assert len(template.find_resources("AWS::EC2::Subnet")) == 2
    assert _missing_context(app) == ["availability-zones:account=111122223333:region=eu-west-1"]


def test_removal_policy_defaults_to_retain() -> None:
    built, template = network(removal_policy=cdk.RemovalPolicy.RETAIN)
    props = dict(cidr="10.20.0.0/16", availability_zones=2, interface_endpoints=[],
                 flow_log_retention=logs.RetentionDays.ONE_MONTH)
    scope = stack()
    default = DataNetwork(scope, "Network", **props)
    assert default.removal_policy == cdk.RemovalPolicy.RETAIN
    for group in Template.from_stack(scope).find_resources("AWS::Logs::LogGroup").values():
        assert group["DeletionPolicy"] == "Retain"


def test_an_existing_flow_log_key_is_used_and_no_key_is_created() -> None:
    scope = stack()
    key = kms.Key.from_key_arn(scope, "TeamKey", "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    built, template = network(scope, existing_flow_log_key=key, removal_policy=cdk.RemovalPolicy.DESTROY)
    assert built.flow_log_key is key
    assert template.find_resources("AWS::KMS::Key") == {}
    (group,) = template.find_resources("AWS::Logs::LogGroup").values()
    assert group["Properties"]["KmsKeyId"] == key.key_arn
    warnings = [str(w.entry.data) for w in Annotations.from_stack(scope).find_warning("/Test/Network", Match.any_value())]
    (warning,) = [w for w in warnings if "removal_policy is DESTROY" in w]
    assert "the VPC flow logs will be deleted" in warning  # not "and their key": the team's key is not
