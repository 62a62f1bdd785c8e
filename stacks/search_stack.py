"""Per-environment operational search: the telemetry stream, indexed in OpenSearch within a minute.

Depends on the network (VPC, data subnets), the foundation (raw bucket for failed documents, lake
key, alarm topic) and the ingestion stack (the Kinesis stream it reads, in parallel with the raw
zone's delivery stream). Neither the warehouse nor EMR waits for it, nor it for them: the three
slow stacks deploy side by side.

Data path (deployed ready to use: the delivery role is mapped to an OpenSearch role at deploy time):
Kinesis -> Firehose (the ingestion transform's ``document_handler``: the same
normalised reading as in the raw zone, one document per record) -> ``telemetry-YYYY-MM-DD`` in the
domain, through ENIs in the data subnets that may reach the domain on HTTPS only. A record the
transform rejects, or a document the domain refuses after the retry duration, goes with its error
to ``s3://<raw>/search-failed/telemetry/``: nothing is lost.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib import (
    ResourceNamer,
    SearchCapacity,
    SearchDomain,
    SearchRole,
    SearchSecurityRoles,
    StreamToSearchDelivery,
)
from stacks.acknowledgments import acknowledge_search_findings
from stacks.log_retention import retention_days
from stacks.transform_code import DOCUMENT_HANDLER, METRICS_NAMESPACE, powertools_layer, transform_code

#: Where documents the domain refuses land in the raw bucket (the raw zone's crawler reads
#: ``telemetry/`` only, so they never reach the catalog).
FAILED_DOCUMENTS_PREFIX = "search-failed/telemetry/"
INDEX_NAME = "telemetry"


class SearchStack(cdk.Stack):
    """Attributes: ``search`` (SearchDomain), ``delivery`` (StreamToSearchDelivery),
    ``security_roles`` (SearchSecurityRoles: the delivery role's OpenSearch role mapping) and the
    raw bucket it backs up to."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        namer: ResourceNamer,
        vpc: ec2.IVpc,
        data_subnets: ec2.SubnetSelection,
        source_stream: kinesis.IStream,
        raw_bucket: s3.IBucket,
        data_key: kms.IKey,
        alarm_topic: sns.ITopic,
        capacity: SearchCapacity,
        buffer_size_mib: int,
        buffer_interval_seconds: int,
        retry_duration_seconds: int,
        max_data_freshness_seconds: int,
        transform_memory_mib: int,
        transform_timeout_seconds: int,
        powertools_layer_version: int,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.raw_bucket = raw_bucket
        log_retention = retention_days(log_retention_days)
        self.search = SearchDomain(
            self,
            "Search",
            domain_name=namer.name("search"),
            vpc=vpc,
            vpc_subnets=data_subnets,
            capacity=capacity,
            log_retention=log_retention,
            removal_policy=removal_policy,
            alarm_topic=alarm_topic,
        )
        self.delivery = StreamToSearchDelivery(
            self,
            "ToSearch",
            source_stream=source_stream,
            domain=self.search.domain,
            domain_connections=self.search,
            vpc=vpc,
            vpc_subnets=data_subnets,
            backup_bucket=raw_bucket,
            backup_key=data_key,
            backup_prefix=FAILED_DOCUMENTS_PREFIX,
            transform_code=transform_code(),
            transform_handler=DOCUMENT_HANDLER,
            metrics_namespace=METRICS_NAMESPACE,
            transform_layers=[powertools_layer(self, "PowertoolsLayer", powertools_layer_version)],
            transform_memory_mib=transform_memory_mib,
            transform_timeout=cdk.Duration.seconds(transform_timeout_seconds),
            log_key=self.search.key,
            index_name=INDEX_NAME,
            retry_duration=cdk.Duration.seconds(retry_duration_seconds),
            buffering_size=cdk.Size.mebibytes(buffer_size_mib),
            buffering_interval=cdk.Duration.seconds(buffer_interval_seconds),
            max_data_freshness=cdk.Duration.seconds(max_data_freshness_seconds),
            log_retention=log_retention,
            removal_policy=removal_policy,
            alarm_topic=alarm_topic,
        )
        # Firehose bulk-indexes at the domain root (POST /_bulk), so the write grant is domain-wide.
        self.search.grant_write(self.delivery.role)
        # Fine-grained access control also needs the role mapped to an OpenSearch role that may
        # write the telemetry indices; the stream starts delivering only once it is.
        self.security_roles = SearchSecurityRoles(
            self,
            "SearchRoles",
            domain=self.search,
            vpc=vpc,
            vpc_subnets=data_subnets,
            roles=[SearchRole.firehose_writer(self.delivery.role.role_arn, INDEX_NAME)],
            key=self.search.key,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        self.delivery.delivery_stream.node.add_dependency(self.security_roles.resource)
        acknowledge_search_findings(self)

        cdk.CfnOutput(self, "DomainEndpoint", value=self.search.domain.domain_endpoint)
        cdk.CfnOutput(self, "DashboardsUrl", value=f"https://{self.search.domain.domain_endpoint}/_dashboards")
        cdk.CfnOutput(self, "MasterRoleArn", value=self.search.master_role.role_arn)
        cdk.CfnOutput(self, "DeliveryStreamName", value=self.delivery.delivery_stream.ref)
