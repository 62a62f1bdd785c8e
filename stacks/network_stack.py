"""Per-environment network: the VPC that Redshift, EMR and OpenSearch (and Firehose's ENIs for it) run in.

The data subnets have no route to the internet unless the config adds NAT gateways. Every AWS
API the workloads call is reached through an endpoint of this stack; ``INTERFACE_ENDPOINTS``
says who needs which, so that an endpoint nobody needs can be removed and a missing one is a
visible decision.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from config.model import NetworkConfig
from constructs_lib import EMR_MANAGED_POLICY_TAG, DataNetwork, DeployTimeAvailabilityZones
from constructs_lib.nag import INLINE_POLICY_RULES, acknowledge
from stacks.environment import EnvironmentSettings, EnvironmentStack
from stacks.nag_reasons import INLINE_GRANT_POLICIES

#: Interface endpoints and the callers inside the VPC that need them (S3 has a gateway endpoint).
INTERFACE_ENDPOINTS: dict[str, tuple[ec2.InterfaceVpcEndpointAwsService, str]] = {
    "glue": (
        ec2.InterfaceVpcEndpointAwsService.GLUE,
        "Redshift Spectrum's catalog calls under enhanced VPC routing; EMR's Glue metastore client",
    ),
    "kms": (
        ec2.InterfaceVpcEndpointAwsService.KMS,
        "EMR local-disk and EMRFS SSE-KMS encryption; the secret rotation function",
    ),
    "secretsmanager": (
        ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        "the Redshift admin-secret rotation function",
    ),
    "redshift-data": (
        ec2.InterfaceVpcEndpointAwsService.REDSHIFT_DATA,
        "the deploy-time SQL function that creates the Spectrum external schema",
    ),
    "sts": (
        ec2.InterfaceVpcEndpointAwsService.STS,
        "EMR nodes, and the OpenSearch security-roles function, which assumes the domain's master role",
    ),
}

PUBLIC_ROUTE_FOR_CONFIGURED_NAT = (
    "The environment's config sets network.nat_gateways > 0: the public subnets exist only to host "
    "the NAT gateways and route to the internet gateway by definition. Nothing else is placed in "
    "them (map-public-IP is off) and the data subnets stay private behind the NAT."
)


class NetworkStack(DeployTimeAvailabilityZones, EnvironmentStack):
    """Attributes: ``network`` (DataNetwork); ``vpc`` and ``data_subnets`` for the stacks that use it.

    Its availability zones are chosen by CloudFormation at deploy time, never looked up at synth:
    ``DeployTimeAvailabilityZones`` makes the stack's ``availability_zones`` ``Fn::GetAZs`` of the
    deployment region in every environment (CDK's default with a concrete account and region is a
    context lookup, which DataNetwork refuses)."""

    DESCRIPTION = "VPC with isolated data subnets and VPC endpoints of the {env} environment"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        config: NetworkConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, settings=settings, **kwargs)
        self.network = DataNetwork(
            self,
            "Network",
            cidr=config.cidr,
            availability_zones=config.availability_zones,
            nat_gateways=config.nat_gateways,
            interface_endpoints=[service for service, _ in INTERFACE_ENDPOINTS.values()],
            flow_log_retention=settings.log_retention,
            removal_policy=settings.removal_policy,
            # AmazonEMRServicePolicy_v2 acts only on user-provided subnets carrying this tag.
            data_subnet_tags={EMR_MANAGED_POLICY_TAG: "true"},
        )
        self.vpc = self.network.vpc
        self.data_subnets = self.network.data_subnets
        self._acknowledge_findings(nat_gateways=config.nat_gateways)

        cdk.CfnOutput(self, "VpcId", value=self.vpc.vpc_id)

    def _acknowledge_findings(self, *, nat_gateways: int) -> None:
        """The flow-log role's CDK-generated policy; with configured NAT gateways, their public subnets."""
        acknowledge(self.network.flow_log_role, INLINE_GRANT_POLICIES, *INLINE_POLICY_RULES)
        if nat_gateways > 0:
            for subnet in self.vpc.public_subnets:
                acknowledge(
                    subnet, PUBLIC_ROUTE_FOR_CONFIGURED_NAT,
                    "HIPAA.Security-VPCNoUnrestrictedRouteToIGW", "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",
                    "PCI.DSS.321-VPCNoUnrestrictedRouteToIGW",
                )
