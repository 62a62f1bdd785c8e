"""Per-environment Redshift warehouse, with a Spectrum schema over the curated zone.

Depends on the network (VPC, data subnets), the foundation (curated bucket, lake key, log bucket,
alarm topic), the account baseline (catalog key) and the catalog (the curated database must exist
before the schema over it is created). It does not depend on EMR: the two slow stacks deploy side
by side.

After ``cdk deploy``, ``SELECT * FROM <spectrum schema>.telemetry`` works: a deploy-time SQL
resource runs stacks/redshift_sql/create_spectrum_schema.sql through the Redshift Data API with
the cluster's admin secret, once the Spectrum role may read the catalog and the curated zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib import LakeLocation, PauseResumeSchedule, RedshiftSql, RedshiftWarehouse, ResourceNamer, SnapshotCopy
from stacks.acknowledgments import acknowledge_warehouse_findings
from stacks.lake_governance import grant_persona, serialize_lake_grants
from stacks.lake_permissions import GrantRow
from stacks.log_retention import retention_days
from stacks.spectrum_schema import create_statements, drop_statements
from stacks.telemetry_tables import CURATED_PREFIX

#: Where Redshift writes its audit logs in the log bucket (SSE-S3, as Redshift requires).
AUDIT_LOG_PREFIX = "redshift-audit/"


class WarehouseStack(cdk.Stack):
    """Attributes: ``warehouse`` (RedshiftWarehouse), ``spectrum_schema`` (RedshiftSql),
    ``lake_permissions`` (the Spectrum role's Lake Formation grants) and the buckets it was given."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        namer: ResourceNamer,
        vpc: ec2.IVpc,
        data_subnets: ec2.SubnetSelection,
        curated_bucket: s3.IBucket,
        log_bucket: s3.IBucket,
        data_key: kms.IKey,
        catalog_key: kms.IKey,
        curated_database_name: str,
        alarm_topic: sns.ITopic,
        node_type: str,
        number_of_nodes: int,
        port: int,
        admin_username: str,
        database_name: str,
        snapshot_retention_days: int,
        snapshot_copy: SnapshotCopy | None,
        maintenance_window: str,
        admin_secret_rotation_days: int,
        pause_resume: PauseResumeSchedule | None,
        spectrum_schema: str,
        lake_grants: Sequence[GrantRow],
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.curated_bucket, self.log_bucket = curated_bucket, log_bucket
        self.warehouse = RedshiftWarehouse(
            self,
            "Warehouse",
            cluster_name=namer.name("warehouse"),
            vpc=vpc,
            vpc_subnets=data_subnets,
            node_type=node_type,
            number_of_nodes=number_of_nodes,
            port=port,
            admin_username=admin_username,
            database_name=database_name,
            audit_log_bucket=log_bucket,
            audit_log_prefix=AUDIT_LOG_PREFIX,
            snapshot_retention_days=snapshot_retention_days,
            snapshot_copy=snapshot_copy,
            maintenance_window=maintenance_window,
            admin_secret_rotation=cdk.Duration.days(admin_secret_rotation_days),
            pause_resume=pause_resume,
            alarm_topic=alarm_topic,
            removal_policy=removal_policy,
        )
        self.warehouse.grant_spectrum_read(
            database_name=curated_database_name,
            locations=[LakeLocation(bucket=curated_bucket, prefix=CURATED_PREFIX, key=data_key)],
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
            database=database_name,
            secret=self.warehouse.secret,
            create_statements=create_statements(
                schema=spectrum_schema,
                database=curated_database_name,
                role_arn=self.warehouse.spectrum_role.role_arn,
            ),
            delete_statements=drop_statements(schema=spectrum_schema),
            vpc=vpc,
            vpc_subnets=data_subnets,
            log_retention=retention_days(log_retention_days),
            removal_policy=removal_policy,
        )
        # CREATE EXTERNAL SCHEMA checks the role against the catalog: its grants come first
        # (the role itself is referenced by the SQL already).
        self.spectrum_schema.node.add_dependency(self.warehouse.spectrum_role.node.find_child("DefaultPolicy"))
        if self.lake_permissions is not None:
            # Under Lake Formation, Redshift checks the role's DESCRIBE on the database too.
            self.spectrum_schema.node.add_dependency(self.lake_permissions)
        acknowledge_warehouse_findings(self)

        cdk.CfnOutput(self, "ClusterIdentifier", value=self.warehouse.cluster_identifier)
        cdk.CfnOutput(self, "Endpoint", value=self.warehouse.cluster.cluster_endpoint.socket_address)
        cdk.CfnOutput(self, "AdminSecretArn", value=self.warehouse.secret.secret_arn)
        cdk.CfnOutput(self, "SpectrumRoleArn", value=self.warehouse.spectrum_role.role_arn)
