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

from constructs_lib import EMR_MANAGED_POLICY_TAG, DataNetwork, DeployTimeAvailabilityZones
from stacks.acknowledgments import acknowledge_network_findings
from stacks.log_retention import retention_days

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


class NetworkStack(DeployTimeAvailabilityZones, cdk.Stack):
    """Attributes: ``network`` (DataNetwork); ``vpc`` and ``data_subnets`` for the stacks that use it.

    Its availability zones are chosen by CloudFormation at deploy time, never looked up at synth:
    ``DeployTimeAvailabilityZones`` makes the stack's ``availability_zones`` ``Fn::GetAZs`` of the
    deployment region in every environment (CDK's default with a concrete account and region is a
    context lookup, which DataNetwork refuses)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cidr: str,
        availability_zones: int,
        nat_gateways: int,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.network = DataNetwork(
            self,
            "Network",
            cidr=cidr,
            availability_zones=availability_zones,
            nat_gateways=nat_gateways,
            interface_endpoints=[service for service, _ in INTERFACE_ENDPOINTS.values()],
            flow_log_retention=retention_days(log_retention_days),
            removal_policy=removal_policy,
            # AmazonEMRServicePolicy_v2 acts only on user-provided subnets carrying this tag.
            data_subnet_tags={EMR_MANAGED_POLICY_TAG: "true"},
        )
        self.vpc = self.network.vpc
        self.data_subnets = self.network.data_subnets
        acknowledge_network_findings(self, nat_gateways=nat_gateways)

        cdk.CfnOutput(self, "VpcId", value=self.vpc.vpc_id)
