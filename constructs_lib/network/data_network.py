"""A VPC for data services that reach AWS only through VPC endpoints.

Redshift, EMR and OpenSearch run in the ``Data`` subnets. Without a NAT gateway (the default)
those subnets are isolated: their route tables hold the local route and the S3 gateway endpoint
and nothing else, so every other AWS API a service calls must have an interface endpoint here.
That is why the endpoint list is a required prop, not a default: the caller states which
services its workloads call.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.common.encryption import rotating_key
from constructs_lib.common.monitoring import allow_cloudwatch_logs, encrypted_log_group
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import boolean, instance, instance_list, integer, string_map, text

DATA_SUBNET_GROUP = "Data"
PUBLIC_SUBNET_GROUP = "Public"

#: VPC prefix lengths this layout fits: the data subnets take three quarters of the range
#: (prefix + 2, one per AZ), the public subnets for NAT gateways a sixteenth each (prefix + 6),
#: and the smallest subnet AWS allows is a /28.
MIN_VPC_PREFIX = 16
MAX_VPC_PREFIX = 22
MAX_AVAILABILITY_ZONES = 3
HTTPS = 443


class DataNetwork(Construct):
    """A VPC over ``availability_zones`` AZs with one ``Data`` subnet per AZ.

    - ``nat_gateways=0`` (default): the data subnets are isolated, with no internet route at all.
      ``nat_gateways>0`` adds public subnets with that many NAT gateways and gives the data
      subnets a default route through them.
    - An S3 gateway endpoint on every route table, and one interface endpoint with private DNS
      per service in ``interface_endpoints``, reachable on HTTPS from inside the VPC only.
    - VPC flow logs of all traffic to a KMS-encrypted log group with ``flow_log_retention``.
    - The default security group loses all its rules (CDK's restrict-default-security-group
      custom resource), so nothing can rely on it.

    AZs are chosen with ``Fn::GetAZs`` at deploy time, never looked up at synth, so the same
    template works with or without an account and region, and with three AZs in an
    environment-agnostic stack (where CDK would otherwise use two).

    ``ec2.Vpc`` still reads its stack's ``availability_zones``, which in a stack with a concrete
    account and region is a context lookup (synth then needs credentials or a ``cdk.context.json``).
    A construct cannot change its stack's property, so a stack with a concrete environment must
    mix in :class:`DeployTimeAvailabilityZones` (``class MyStack(DeployTimeAvailabilityZones,
    cdk.Stack)``); DataNetwork refuses to be built in one that would look up, unless
    ``allow_availability_zone_lookup=True`` says the team wants CDK's lookup (the VPC then takes
    the first ``availability_zones`` of the looked-up names, which belong in ``cdk.context.json``).

    ``existing_flow_log_key``: a key of your own for the flow log group (its policy must let
    CloudWatch Logs of this account and region use it); none is created then.

    Attributes: ``vpc``, ``data_subnets`` (SubnetSelection), ``endpoint_security_group``,
    ``interface_endpoints`` (by service short name), ``s3_endpoint``, ``flow_log``,
    ``flow_log_group``, ``flow_log_key``, ``flow_log_role``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cidr: str,
        availability_zones: int,
        interface_endpoints: Sequence[ec2.InterfaceVpcEndpointAwsService],
        flow_log_retention: logs.RetentionDays,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        nat_gateways: int = 0,
        data_subnet_tags: Mapping[str, str] | None = None,
        existing_flow_log_key: kms.IKey | None = None,
        allow_availability_zone_lookup: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        network = _check_cidr(text("DataNetwork", "cidr", cidr))
        _check_counts(
            integer("DataNetwork", "availability_zones", availability_zones),
            integer("DataNetwork", "nat_gateways", nat_gateways),
        )
        interface_endpoints = instance_list(
            "DataNetwork", "interface_endpoints", interface_endpoints, ec2.InterfaceVpcEndpointAwsService
        )
        instance("DataNetwork", "flow_log_retention", flow_log_retention, logs.RetentionDays)
        if data_subnet_tags is not None:
            data_subnet_tags = string_map("DataNetwork", "data_subnet_tags", data_subnet_tags)
        if existing_flow_log_key is not None:
            instance("DataNetwork", "existing_flow_log_key", existing_flow_log_key, kms.IKey)
        lookup = boolean("DataNetwork", "allow_availability_zone_lookup", allow_availability_zone_lookup)
        self.removal_policy: cdk.RemovalPolicy = check_data_removal_policy(removal_policy, owner="DataNetwork")
        self._existing_flow_log_key = existing_flow_log_key
        if not lookup:
            _refuse_availability_zone_lookup(self)

        self.vpc: ec2.Vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            nat_gateways=nat_gateways,
            subnet_configuration=_subnet_layout(network.prefixlen, with_nat=nat_gateways > 0),
            enable_dns_hostnames=True,  # private DNS of interface endpoints needs both
            enable_dns_support=True,
            restrict_default_security_group=True,
            # With the lookup opted in, CDK picks the first AZs of the looked-up names.
            availability_zones=None if lookup else deploy_time_availability_zones(availability_zones),
            max_azs=availability_zones if lookup else None,
        )
        self.data_subnets: ec2.SubnetSelection = ec2.SubnetSelection(subnet_group_name=DATA_SUBNET_GROUP)
        for key, value in sorted((data_subnet_tags or {}).items()):
            for subnet in self.vpc.select_subnets(subnet_group_name=DATA_SUBNET_GROUP).subnets:
                cdk.Tags.of(subnet).add(key, value)

        self.s3_endpoint: ec2.GatewayVpcEndpoint = self.vpc.add_gateway_endpoint(
            "S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3
        )
        self.endpoint_security_group: ec2.SecurityGroup = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface endpoints: HTTPS from inside the VPC only",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(
            # The literal range, not the VPC's Fn::GetAtt: reviewers and rule checkers read it as is.
            ec2.Peer.ipv4(str(network)), ec2.Port.tcp(HTTPS), "HTTPS from the VPC"
        )
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = self._interface_endpoints(interface_endpoints)
        flow_log = self._flow_log(flow_log_retention)
        self.flow_log_key: kms.IKey = flow_log[0]
        self.flow_log_group: logs.LogGroup = flow_log[1]
        self.flow_log: ec2.CfnFlowLog = flow_log[2]
        apply_data_removal_policy(
            self,
            self.removal_policy,
            what="the VPC flow logs" + (" and their key" if existing_flow_log_key is None else ""),
        )

    def _interface_endpoints(
        self, services: Sequence[ec2.InterfaceVpcEndpointAwsService]
    ) -> dict[str, ec2.InterfaceVpcEndpoint]:
        endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        for service in services:
            name = service.short_name
            if name in endpoints:
                raise ValueError(f"DataNetwork: interface_endpoints lists {name!r} twice")
            endpoints[name] = self.vpc.add_interface_endpoint(
                _endpoint_id(name),
                service=service,
                private_dns_enabled=True,
                security_groups=[self.endpoint_security_group],
                subnets=self.data_subnets,
                open=False,  # the security group above decides who may connect
            )
        return endpoints

    def _flow_log(
        self, retention: logs.RetentionDays
    ) -> tuple[kms.IKey, logs.LogGroup, ec2.CfnFlowLog]:
        key: kms.IKey
        if self._existing_flow_log_key is not None:
            key = self._existing_flow_log_key
        else:
            key = rotating_key(
                self, "FlowLogKey", description="Encrypts the VPC flow log group", removal_policy=self.removal_policy
            )
            allow_cloudwatch_logs(key)
        log_group = encrypted_log_group(
            self, "FlowLogGroup", key=key, retention=retention, removal_policy=self.removal_policy
        )
        self.flow_log_role: iam.Role = iam.Role(
            self,
            "FlowLogRole",
            assumed_by=iam.ServicePrincipal(
                "vpc-flow-logs.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}},
            ),
            description="Lets VPC Flow Logs write to the flow log group",
        )
        role = self.flow_log_role
        # The L1, not ec2.FlowLog: the L2 acknowledges CloudFormation-Validate F3002 and F3003 (error
        # level) on itself whatever its destination. Those rules concern DestinationOptions, which the L2
        # renders in camelCase for S3 destinations only; a CloudWatch Logs flow log has none, so the
        # acknowledgments would hide nothing today and any real F3002/F3003 tomorrow. Same construct
        # path as the L2's default child (Vpc/FlowLog/FlowLog), so the logical id is unchanged; the
        # role gets what the L2's CloudWatch Logs destination granted it.
        holder = Construct(self.vpc, "FlowLog")
        cdk.Tags.of(holder).add("Name", holder.node.path)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        flow_log = ec2.CfnFlowLog(
            holder,
            "FlowLog",
            resource_id=self.vpc.vpc_id,
            resource_type="VPC",
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_group_name=log_group.log_group_name,
            deliver_logs_permission_arn=role.role_arn,
        )
        return key, log_group, flow_log


def _check_cidr(cidr: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.IPv4Network(cidr)
    except ValueError as error:
        raise ValueError(f"DataNetwork: cidr must be an IPv4 network such as '10.20.0.0/16'; got {cidr!r} ({error})") from None
    if not network.is_private:
        raise ValueError(f"DataNetwork: cidr must be a private (RFC 1918) range; got {cidr!r}")
    if not MIN_VPC_PREFIX <= network.prefixlen <= MAX_VPC_PREFIX:
        raise ValueError(
            f"DataNetwork: cidr prefix length must be /{MIN_VPC_PREFIX} to /{MAX_VPC_PREFIX} "
            f"(room for three data subnets and three public subnets); got {cidr!r}"
        )
    return network


class DeployTimeAvailabilityZones:
    """Mix into a ``cdk.Stack`` (first: ``class MyStack(DeployTimeAvailabilityZones, cdk.Stack)``)
    so that its ``availability_zones`` are ``Fn::GetAZs`` of the deployment region in every
    environment, never a context lookup.

    CDK's default for a stack with a concrete account and region is a lookup at synth (an AWS call,
    or a committed ``cdk.context.json`` holding one account's AZ names, which differ between
    accounts), and ``ec2.Vpc`` reads the property even when it is given its AZs. Only a stack can
    override it (jsii honours the Python override); :class:`DataNetwork` needs it, or its
    ``allow_availability_zone_lookup`` opt-in, in such a stack."""

    @property
    def availability_zones(self) -> list[str]:
        """The first three AZs of the deployment region, chosen by CloudFormation at deploy time."""
        return deploy_time_availability_zones(MAX_AVAILABILITY_ZONES)


def _refuse_availability_zone_lookup(network: Construct) -> None:
    stack = cdk.Stack.of(network)
    concrete = not cdk.Token.is_unresolved(stack.account) and not cdk.Token.is_unresolved(stack.region)
    overridden = type(stack).availability_zones is not cdk.Stack.availability_zones
    if concrete and not overridden:
        raise ValueError(
            f"DataNetwork {network.node.path!r}: its stack {stack.stack_name!r} has a concrete environment "
            f"({stack.account}/{stack.region}), where CDK looks up the stack's availability zones at synth "
            "(ec2.Vpc reads them even when given its own), so synth would need AWS credentials or a "
            "cdk.context.json. Fix: declare the stack as "
            f"`class {type(stack).__name__}(constructs_lib.DeployTimeAvailabilityZones, cdk.Stack)` "
            "(AZs chosen by CloudFormation at deploy time), or pass allow_availability_zone_lookup=True "
            "to DataNetwork to keep CDK's lookup and commit cdk.context.json"
        )


def deploy_time_availability_zones(count: int) -> list[str]:
    """The first ``count`` AZs of the deployment region as ``Fn::Select`` of ``Fn::GetAZs``:
    CloudFormation picks them when it deploys, so synth needs no lookup and no account."""
    return [cdk.Fn.select(index, cdk.Fn.get_azs()) for index in range(count)]


def _check_counts(availability_zones: int, nat_gateways: int) -> None:
    if not 2 <= availability_zones <= MAX_AVAILABILITY_ZONES:
        raise ValueError(
            f"DataNetwork: availability_zones must be 2 or 3 (Redshift subnet groups and "
            f"OpenSearch zone awareness need two); got {availability_zones}"
        )
    if not 0 <= nat_gateways <= availability_zones:
        raise ValueError(
            f"DataNetwork: nat_gateways must be between 0 and availability_zones "
            f"({availability_zones}); got {nat_gateways}"
        )


def _subnet_layout(vpc_prefix: int, *, with_nat: bool) -> list[ec2.SubnetConfiguration]:
    data = ec2.SubnetConfiguration(
        name=DATA_SUBNET_GROUP,
        subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS if with_nat else ec2.SubnetType.PRIVATE_ISOLATED,
        cidr_mask=vpc_prefix + 2,
    )
    if not with_nat:
        return [data]
    public = ec2.SubnetConfiguration(
        name=PUBLIC_SUBNET_GROUP,
        subnet_type=ec2.SubnetType.PUBLIC,
        cidr_mask=vpc_prefix + 6,
        map_public_ip_on_launch=False,
    )
    return [data, public]


def _endpoint_id(short_name: str) -> str:
    """``redshift-data`` -> ``RedshiftDataEndpoint``: a readable, stable logical id."""
    return "".join(part.capitalize() for part in short_name.replace(".", "-").split("-")) + "Endpoint"
