"""Per-environment Redshift warehouse, with a Spectrum schema over the curated zone.

Depends on the network (VPC, data subnets), the foundation (curated bucket, lake key, log bucket,
alarm topic), the account baseline (catalog key) and the catalog (the curated database must exist
before the schema over it is created). It does not depend on EMR: the two slow stacks deploy side
by side.

After ``cdk deploy``, ``SELECT * FROM <spectrum schema>.telemetry`` works: a deploy-time SQL
resource runs stacks/redshift_sql/create_spectrum_schema.sql through the Redshift Data API with
the cluster's admin secret, once the Spectrum role may read the catalog and the curated zone.

The curated tables are Apache Iceberg tables (issue 19). Nothing here changed for them: an external
schema over the Glue database reads its Iceberg tables as they are (Redshift's "Using Apache Iceberg
tables with Amazon Redshift", https://docs.aws.amazon.com/redshift/latest/dg/querying-iceberg.html),
at their current snapshot, read-only; the README lists what Spectrum does not carry over ("Supported
data types with Apache Iceberg tables": a string is read as VARCHAR(16384), longer values truncated
to 16384 characters, which the quarantine's ``raw_line`` can exceed; maps arrive as SUPER).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from config.model import RedshiftConfig
from constructs_lib import LakeLocation, PauseResumeSchedule, RedshiftSql, RedshiftWarehouse, SnapshotCopy
from constructs_lib.nag import INLINE_POLICY_RULES, acknowledge, acknowledge_resources
from stacks.environment import EnvironmentSettings, EnvironmentStack, LakeResources
from stacks.lake_governance import grant_persona, serialize_lake_grants
from stacks.lake_permissions import GrantRow
from stacks.nag_reasons import INLINE_GRANT_POLICIES
from stacks.spectrum_schema import create_statements, drop_statements
from stacks.telemetry_tables import CURATED_PREFIX

#: Where Redshift writes its audit logs in the log bucket (SSE-S3, as Redshift requires).
AUDIT_LOG_PREFIX = "redshift-audit/"

SPECTRUM_READS_THE_CURATED_PREFIX = (
    "Objects under the curated zone's telemetry/ prefix (<bucket>/telemetry/*): Redshift Spectrum "
    "reads whichever data, manifest and metadata files the curated Iceberg tables' current snapshots "
    "name, and new ones arrive on every ETL run and compaction, so they cannot be named in advance. "
    "Read-only; listing is limited to the same prefix (s3:prefix condition) and the lake key may be "
    "used only through S3 (kms:ViaService)."
)


class WarehouseStack(EnvironmentStack):
    """Attributes: ``warehouse`` (RedshiftWarehouse), ``spectrum_schema`` (RedshiftSql),
    ``lake_permissions`` (the Spectrum role's Lake Formation grants) and the buckets it was given."""

    DESCRIPTION = "Redshift warehouse with a Spectrum schema over the curated zone of the {env} environment"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        config: RedshiftConfig,
        lake: LakeResources,
        vpc: ec2.IVpc,
        data_subnets: ec2.SubnetSelection,
        catalog_key: kms.IKey,
        curated_database_name: str,
        lake_grants: Sequence[GrantRow],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, settings=settings, **kwargs)
        self.curated_bucket, self.log_bucket = lake.curated_bucket, lake.access_logs_bucket
        self.warehouse = RedshiftWarehouse(
            self,
            "Warehouse",
            cluster_name=settings.namer.name("warehouse"),
            vpc=vpc,
            vpc_subnets=data_subnets,
            node_type=config.node_type,
            number_of_nodes=config.number_of_nodes,
            port=config.port,
            admin_username=config.admin_username,
            database_name=config.database_name,
            audit_log_bucket=self.log_bucket,
            audit_log_prefix=AUDIT_LOG_PREFIX,
            snapshot_retention_days=config.snapshot_retention_days,
            snapshot_copy=None if config.snapshot_copy is None else SnapshotCopy(
                destination_region=config.snapshot_copy.destination_region,
                retention_days=config.snapshot_copy.retention_days,
                grant_name=config.snapshot_copy.grant_name,
            ),
            maintenance_window=config.maintenance_window,
            admin_secret_rotation=cdk.Duration.days(config.admin_secret_rotation_days),
            pause_resume=None if config.pause_resume is None else PauseResumeSchedule(
                pause_schedule=config.pause_resume.pause_schedule,
                resume_schedule=config.pause_resume.resume_schedule,
            ),
            alarm_topic=lake.alarm_topic,
            removal_policy=settings.removal_policy,
        )
        self.warehouse.grant_spectrum_read(
            database_name=curated_database_name,
            locations=[LakeLocation(bucket=self.curated_bucket, prefix=CURATED_PREFIX, key=lake.key)],
            catalog_key=catalog_key,
        )
        self.lake_permissions = grant_persona(
            self, "SpectrumLakePermissions", persona="redshift-spectrum",
            principal_arn=self.warehouse.spectrum_role.role_arn, grants=lake_grants,
        )
        serialize_lake_grants(self)
        self.spectrum_schema = RedshiftSql(
            self,
            "SpectrumSchema",
            cluster_identifier=self.warehouse.cluster_identifier,
            database=config.database_name,
            secret=self.warehouse.secret,
            create_statements=create_statements(
                schema=config.spectrum_schema,
                database=curated_database_name,
                role_arn=self.warehouse.spectrum_role.role_arn,
            ),
            delete_statements=drop_statements(schema=config.spectrum_schema),
            vpc=vpc,
            vpc_subnets=data_subnets,
            log_retention=settings.log_retention,
            removal_policy=settings.removal_policy,
        )
        # CREATE EXTERNAL SCHEMA checks the role against the catalog: its grants come first
        # (the role itself is referenced by the SQL already).
        self.spectrum_schema.node.add_dependency(self.warehouse.spectrum_role.node.find_child("DefaultPolicy"))
        if self.lake_permissions is not None:
            # Under Lake Formation, Redshift checks the role's DESCRIBE on the database too.
            self.spectrum_schema.node.add_dependency(self.lake_permissions)
        self._acknowledge_findings()

        cdk.CfnOutput(self, "ClusterIdentifier", value=self.warehouse.cluster_identifier)
        cdk.CfnOutput(self, "Endpoint", value=self.warehouse.cluster.cluster_endpoint.socket_address)
        cdk.CfnOutput(self, "AdminSecretArn", value=self.warehouse.secret.secret_arn)
        cdk.CfnOutput(self, "SpectrumRoleArn", value=self.warehouse.spectrum_role.role_arn)

    def _acknowledge_findings(self) -> None:
        """The Spectrum role's prefix wildcard and CDK's inline policies (Spectrum, pause/resume)."""
        warehouse = self.warehouse
        acknowledge_resources(
            warehouse.spectrum_role, SPECTRUM_READS_THE_CURATED_PREFIX, self.curated_bucket.arn_for_objects(f"{CURATED_PREFIX}*")
        )
        for role in (warehouse.spectrum_role, warehouse.scheduler_role):
            if role is not None:
                acknowledge(role, INLINE_GRANT_POLICIES, *INLINE_POLICY_RULES)
