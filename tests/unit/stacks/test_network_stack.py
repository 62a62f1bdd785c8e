"""The network stack as the app builds it: config reaches the VPC, the endpoints cover every
caller the stack documents, and EMR's managed policy can use the data subnets."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from config import load_config
from config.model import NetworkConfig
from stacks import NetworkStack
from constructs_lib import EMR_MANAGED_POLICY_TAG
from stacks.environment import EnvironmentSettings
from stacks.network_stack import INTERFACE_ENDPOINTS
from tests.compliance.nag import acknowledgments
from tests.synth import ENVIRONMENTS
from tests.unit.stacks.templates import only, resources


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def env(request, synthesised):
    name = request.param
    return name, synthesised(name).template(f"analytics-{name}-network"), load_config(name).environment


def test_config_sets_the_range_and_the_zones(env) -> None:
    _, template, config = env
    assert only(template, "AWS::EC2::VPC")["Properties"]["CidrBlock"] == config.network.cidr
    assert len(resources(template, "AWS::EC2::Subnet")) == config.network.availability_zones


def test_no_shipped_environment_can_reach_the_internet_from_its_data_subnets(env) -> None:
    _, template, _ = env
    for resource_type in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::Route"):
        assert resources(template, resource_type) == {}, resource_type


def test_every_documented_endpoint_exists_and_nothing_else(env) -> None:
    _, template, config = env
    endpoints = resources(template, "AWS::EC2::VPCEndpoint")
    services = sorted(
        e["Properties"]["ServiceName"]["Fn::Join"][1][-1].lstrip(".")
        if "Fn::Join" in e["Properties"]["ServiceName"] else e["Properties"]["ServiceName"]
        for e in endpoints.values()
    )
    assert services == sorted([*INTERFACE_ENDPOINTS, "s3"])
    for endpoint in endpoints.values():
        if endpoint["Properties"]["VpcEndpointType"] == "Interface":
            assert len(endpoint["Properties"]["SubnetIds"]) == config.network.availability_zones


def test_data_subnets_carry_the_emr_managed_policy_tag(env) -> None:
    _, template, _ = env
    for subnet in resources(template, "AWS::EC2::Subnet").values():
        assert {"Key": EMR_MANAGED_POLICY_TAG, "Value": "true"} in subnet["Properties"]["Tags"]


def test_flow_logs_keep_the_configured_retention_and_removal(env) -> None:
    _, template, config = env
    log_group = only(template, "AWS::Logs::LogGroup")
    assert log_group["Properties"]["RetentionInDays"] == config.logging.retention_days
    expected = "Delete" if config.destroys_data_on_delete else "Retain"
    assert log_group["DeletionPolicy"] == expected
    assert only(template, "AWS::KMS::Key")["DeletionPolicy"] == expected


def test_configured_nat_gateways_open_public_subnets_and_say_why() -> None:
    """Values no shipped environment uses: the NAT path and its acknowledgments."""
    app = cdk.App()
    settings = EnvironmentSettings(
        project="team", name="qa", env=None, removal_policy=cdk.RemovalPolicy.RETAIN, log_retention_days=30, is_production=False
    )
    NetworkStack(app, "Net", settings=settings, config=NetworkConfig(cidr="10.40.0.0/20", availability_zones=3, nat_gateways=2))
    template = app.synth().get_stack_by_name("Net").template
    assert len(resources(template, "AWS::EC2::NatGateway")) == 2
    assert len(resources(template, "AWS::EC2::Subnet")) == 6
    assert only(template, "AWS::Logs::LogGroup")["Properties"]["RetentionInDays"] == 30
    igw_acks = [a for a in acknowledgments(app) if a.rule_id.endswith("VPCNoUnrestrictedRouteToIGW")]
    assert len(igw_acks) == 3 * 3
    assert {a.path.rsplit("/", 1)[-1] for a in igw_acks} == {"PublicSubnet1", "PublicSubnet2", "PublicSubnet3"}
    assert all("network.nat_gateways" in a.reason for a in igw_acks)
