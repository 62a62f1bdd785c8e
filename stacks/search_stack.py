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
from constructs import Construct

from config.model import SearchConfig, TransformConfig
from constructs_lib import (
    SearchCapacity,
    SearchDomain,
    SearchRole,
    SearchSecurityRoles,
    StreamToSearchDelivery,
)
from constructs_lib.nag import INLINE_POLICY_RULES, acknowledge, acknowledge_resources
from stacks.environment import EnvironmentSettings, EnvironmentStack, LakeResources
from stacks.nag_reasons import INLINE_GRANT_POLICIES
from stacks.transform_code import DOCUMENT_HANDLER, METRICS_NAMESPACE, powertools_layer, transform_code

#: Where documents the domain refuses land in the raw bucket (the raw zone's crawler reads
#: ``telemetry/`` only, so they never reach the catalog).
FAILED_DOCUMENTS_PREFIX = "search-failed/telemetry/"
INDEX_NAME = "telemetry"

FIREHOSE_WRITES_FAILED_DOCUMENTS = (
    "Objects under the raw bucket's search-failed/telemetry/ prefix only: Firehose writes every document "
    "the transform rejects or the domain refuses there, under new keys it generates per delivery. "
    "Deleting is explicitly denied, listing is limited to the prefix and the lake key is usable through "
    "S3 only."
)


class SearchStack(EnvironmentStack):
    """Attributes: ``search`` (SearchDomain), ``delivery`` (StreamToSearchDelivery),
    ``security_roles`` (SearchSecurityRoles: the delivery role's OpenSearch role mapping) and the
    raw bucket it backs up to."""

    DESCRIPTION = "OpenSearch domain fed from the telemetry stream of the {env} environment"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        config: SearchConfig,
        transform: TransformConfig,
        powertools_layer_version: int,
        lake: LakeResources,
        source_stream: kinesis.IStream,
        vpc: ec2.IVpc,
        data_subnets: ec2.SubnetSelection,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, settings=settings, **kwargs)
        self.raw_bucket = lake.raw_bucket
        delivery = config.delivery
        self.search = SearchDomain(
            self,
            "Search",
            domain_name=settings.namer.name("search"),
            vpc=vpc,
            vpc_subnets=data_subnets,
            capacity=SearchCapacity(
                data_node_instance_type=config.data_node_instance_type,
                data_nodes=config.data_nodes,
                volume_size_gib=config.volume_size_gib,
                master_node_instance_type=config.master_node_instance_type,
                master_nodes=config.master_nodes,
                multi_az_with_standby=config.multi_az_with_standby,
            ),
            log_retention=settings.log_retention,
            removal_policy=settings.removal_policy,
            alarm_topic=lake.alarm_topic,
        )
        self.delivery = StreamToSearchDelivery(
            self,
            "ToSearch",
            source_stream=source_stream,
            domain=self.search.domain,
            domain_connections=self.search,
            vpc=vpc,
            vpc_subnets=data_subnets,
            backup_bucket=lake.raw_bucket,
            backup_key=lake.key,
            backup_prefix=FAILED_DOCUMENTS_PREFIX,
            transform_code=transform_code(),
            transform_handler=DOCUMENT_HANDLER,
            metrics_namespace=METRICS_NAMESPACE,
            transform_layers=[powertools_layer(self, "PowertoolsLayer", powertools_layer_version)],
            transform_memory_mib=transform.memory_mib,
            transform_timeout=cdk.Duration.seconds(transform.timeout_seconds),
            log_key=self.search.key,
            index_name=INDEX_NAME,
            retry_duration=cdk.Duration.seconds(delivery.retry_duration_seconds),
            buffering_size=cdk.Size.mebibytes(delivery.buffer_size_mib),
            buffering_interval=cdk.Duration.seconds(delivery.buffer_interval_seconds),
            max_data_freshness=cdk.Duration.seconds(delivery.max_data_freshness_seconds),
            log_retention=settings.log_retention,
            removal_policy=settings.removal_policy,
            alarm_topic=lake.alarm_topic,
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
            log_retention=settings.log_retention,
            removal_policy=settings.removal_policy,
        )
        self.delivery.delivery_stream.node.add_dependency(self.security_roles.resource)
        self._acknowledge_findings()

        cdk.CfnOutput(self, "DomainEndpoint", value=self.search.domain.domain_endpoint)
        cdk.CfnOutput(self, "DashboardsUrl", value=f"https://{self.search.domain.domain_endpoint}/_dashboards")
        cdk.CfnOutput(self, "MasterRoleArn", value=self.search.master_role.role_arn)
        cdk.CfnOutput(self, "DeliveryStreamName", value=self.delivery.delivery_stream.ref)

    def _acknowledge_findings(self) -> None:
        """The failed-documents prefix in the foundation's raw bucket, and CDK's inline grant policies
        on the delivery role and the transform role."""
        delivery = self.delivery
        acknowledge_resources(
            delivery.role, FIREHOSE_WRITES_FAILED_DOCUMENTS, self.raw_bucket.arn_for_objects(f"{delivery.backup_prefix}*")
        )
        for role in (delivery.role, delivery.transform.role):
            acknowledge(role, INLINE_GRANT_POLICIES, *INLINE_POLICY_RULES)
