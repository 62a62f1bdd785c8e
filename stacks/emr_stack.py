"""Per-environment EMR cluster: Spark and Hive over the lake, with the Glue catalog as metastore and
Apache Iceberg on (Spark's ``glue_catalog`` reads the curated Iceberg tables, as the Glue job writes them).

Depends on the network (its VPC and one data subnet), the foundation (buckets, lake key, log
bucket), the account baseline (the catalog key) and the catalog (its Lake Formation grant names the
curated database, which must exist first). It has no dependency on the warehouse: the two slow
stacks deploy side by side.

The instance role reads the raw and curated zones' telemetry, writes only under ``emr/`` of the
analytics bucket, and reads (never writes) the raw and curated databases' catalog entries; Lake
Formation lets it SELECT the curated tables only (``stacks.lake_permissions``, persona ``emr``).

Iceberg: EMR's ``iceberg-defaults`` (Spark and Hive load EMR's Iceberg runtime) and, in
``spark-defaults``, Iceberg's extensions and the catalog ``glue_catalog`` on the Glue Data Catalog with
the curated tables' warehouse: the same catalog settings as the job's ``--conf``
(glue_scripts/curated_table.py ``glue_spark_conf``; a test holds the two equal), so
``spark.table("glue_catalog.<curated db>.telemetry")`` on the cluster reads what the job committed.
The cluster only reads: its role may not update the catalog or write the curated bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from config.model import EmrConfig
from constructs_lib import EmrCapacity, EmrCluster, EmrIceberg, EmrKerberos, LakeLocation
from constructs_lib.nag import INLINE_POLICY_RULES, acknowledge, acknowledge_resources
from glue_scripts.curated_table import GLUE_CATALOG_NAME
from stacks.environment import EnvironmentSettings, EnvironmentStack, LakeResources
from stacks.lake_governance import grant_persona, serialize_lake_grants
from stacks.lake_permissions import GrantRow
from stacks.nag_reasons import INLINE_GRANT_POLICIES
from stacks.telemetry_tables import CURATED_PREFIX, RAW_PREFIX, WAREHOUSE_PREFIX

#: Where EMR writes its results in the analytics bucket, and its logs in the log bucket.
ANALYTICS_PREFIX = "emr/"
LOG_PREFIX = "emr-logs/"

EMR_PREFIX_OBJECTS = (
    "Objects under one prefix of one bucket (<bucket>/<prefix>*): Spark and Hive read every object of "
    "the raw and curated telemetry prefixes, write new, unpredictable keys under emr/ of the analytics "
    "bucket, and EMR's log pusher writes new log objects under emr-logs/ of the log bucket. Listing is "
    "limited to the same prefixes (s3:prefix condition); nothing outside them is reachable."
)
EMR_NO_IN_TRANSIT_CERTIFICATE = (
    "Configured choice: this environment's config sets no emr.tls_certificates_s3_uri, so the cluster "
    "has no certificate for in-transit encryption between its nodes. The nodes sit in isolated subnets "
    "of their own VPC, and S3, Glue and KMS traffic is HTTPS regardless. Environments that hold "
    "production-like data (staging, prod) configure a certificate."
)
EMR_NO_KERBEROS_OR_KEY_PAIR = (
    "Configured choice: this environment's config sets neither emr.kerberos nor emr.key_pair_name. "
    "Nobody logs in to the nodes over SSH (there is no key pair and no route in); operators reach the "
    "primary node through Systems Manager Session Manager with IAM authentication. Environments that "
    "hold production-like data (staging, prod) configure Kerberos."
)


class EmrStack(EnvironmentStack):
    """Attributes: ``emr`` (EmrCluster), ``lake_permissions`` (the instance role's Lake Formation
    grants) and the buckets it was given."""

    DESCRIPTION = "EMR cluster (Spark, Hive; Glue catalog as metastore) of the {env} environment"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        config: EmrConfig,
        lake: LakeResources,
        vpc: ec2.IVpc,
        data_subnets: ec2.SubnetSelection,
        catalog_key: kms.IKey,
        lake_grants: Sequence[GrantRow],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, settings=settings, **kwargs)
        self.raw_bucket, self.curated_bucket, self.analytics_bucket, self.log_bucket = (
            lake.raw_bucket, lake.curated_bucket, lake.analytics_bucket, lake.access_logs_bucket,
        )
        namer = settings.namer
        # One subnet: a cluster's instances live in one AZ (instance groups take one subnet).
        subnet = vpc.select_subnets(subnet_group_name=data_subnets.subnet_group_name).subnets[0]
        self.emr = EmrCluster(
            self,
            "Emr",
            cluster_name=namer.name("emr"),
            release_label=config.release_label,
            applications=config.extra_applications,
            vpc=vpc,
            subnet=subnet,
            capacity=EmrCapacity(
                primary_instance_type=config.primary_instance_type,
                core_instance_type=config.core_instance_type,
                core_instances=config.core_instances,
                max_core_instances=config.max_core_instances,
                task_instance_type=config.task_instance_type,
                max_task_instances=config.max_task_instances,
            ),
            data_key=lake.key,
            log_bucket=self.log_bucket,
            log_prefix=LOG_PREFIX,
            idle_timeout=cdk.Duration.minutes(config.idle_timeout_minutes),
            read_locations=[
                LakeLocation(bucket=self.raw_bucket, prefix=RAW_PREFIX, key=lake.key),
                LakeLocation(bucket=self.curated_bucket, prefix=CURATED_PREFIX, key=lake.key),
            ],
            write_locations=[LakeLocation(bucket=self.analytics_bucket, prefix=ANALYTICS_PREFIX, key=lake.key)],
            catalog_databases=[namer.sql_name("raw"), namer.sql_name("curated")],
            catalog_key=catalog_key,
            tls_certificates_s3_uri=config.tls_certificates_s3_uri,
            kerberos=None if config.kerberos is None else EmrKerberos(
                realm=config.kerberos.realm, ticket_lifetime_hours=config.kerberos.ticket_lifetime_hours
            ),
            key_pair_name=config.key_pair_name,
            termination_protection=settings.is_production,
            removal_policy=settings.removal_policy,
            iceberg=EmrIceberg(
                warehouse=f"s3://{self.curated_bucket.bucket_name}/{WAREHOUSE_PREFIX}", catalog_name=GLUE_CATALOG_NAME
            ),
        )
        self.lake_permissions = grant_persona(
            self, "EmrLakePermissions", persona="emr", principal_arn=self.emr.instance_role.role_arn, grants=lake_grants
        )
        serialize_lake_grants(self)
        self._acknowledge_findings()

        cdk.CfnOutput(self, "ClusterId", value=self.emr.cluster.ref)
        cdk.CfnOutput(self, "LogUri", value=self.emr.log_uri)

    def _acknowledge_findings(self) -> None:
        """The instance role's prefix wildcards and CDK's inline policies; without TLS or Kerberos in
        the config, the findings that choice causes (and only then)."""
        emr = self.emr
        acknowledge_resources(
            emr.instance_role, EMR_PREFIX_OBJECTS,
            self.raw_bucket.arn_for_objects(f"{RAW_PREFIX}*"),
            self.curated_bucket.arn_for_objects(f"{CURATED_PREFIX}*"),
            self.analytics_bucket.arn_for_objects(f"{ANALYTICS_PREFIX}*"),
            self.log_bucket.arn_for_objects(f"{LOG_PREFIX}*"),
        )
        for role in (emr.instance_role, emr.service_role):
            acknowledge(role, INLINE_GRANT_POLICIES, *INLINE_POLICY_RULES)
        if emr.tls_certificates_s3_uri is None:
            acknowledge(emr.cluster, EMR_NO_IN_TRANSIT_CERTIFICATE, "AwsSolutions-EMR5")
        if emr.kerberos is None:
            acknowledge(
                emr.cluster, EMR_NO_KERBEROS_OR_KEY_PAIR,
                "HIPAA.Security-EMRKerberosEnabled", "PCI.DSS.321-EMRKerberosEnabled",
                *(("AwsSolutions-EMR6",) if emr.key_pair_name is None else ()),
            )
