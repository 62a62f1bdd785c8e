"""Per-environment EMR cluster: Spark and Hive over the lake, with the Glue catalog as metastore.

Depends on the network (its VPC and one data subnet), the foundation (buckets, lake key, log
bucket), the account baseline (the catalog key) and the catalog (its Lake Formation grant names the
curated database, which must exist first). It has no dependency on the warehouse: the two slow
stacks deploy side by side.

The instance role reads the raw and curated zones' telemetry, writes only under ``emr/`` of the
analytics bucket, and reads (never writes) the raw and curated databases' catalog entries; Lake
Formation lets it SELECT the curated tables only (``stacks.lake_permissions``, persona ``emr``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import EmrCapacity, EmrCluster, EmrKerberos, LakeLocation, ResourceNamer
from stacks.acknowledgments import acknowledge_emr_findings
from stacks.lake_governance import grant_persona, serialize_lake_grants
from stacks.lake_permissions import GrantRow
from stacks.telemetry_tables import CURATED_PREFIX, RAW_PREFIX

#: Where EMR writes its results in the analytics bucket, and its logs in the log bucket.
ANALYTICS_PREFIX = "emr/"
LOG_PREFIX = "emr-logs/"


class EmrStack(cdk.Stack):
    """Attributes: ``emr`` (EmrCluster), ``lake_permissions`` (the instance role's Lake Formation
    grants) and the buckets it was given."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        namer: ResourceNamer,
        vpc: ec2.IVpc,
        data_subnets: ec2.SubnetSelection,
        raw_bucket: s3.IBucket,
        curated_bucket: s3.IBucket,
        analytics_bucket: s3.IBucket,
        log_bucket: s3.IBucket,
        data_key: kms.IKey,
        catalog_key: kms.IKey,
        release_label: str,
        extra_applications: Sequence[str],
        capacity: EmrCapacity,
        idle_timeout_minutes: int,
        tls_certificates_s3_uri: str | None,
        kerberos: EmrKerberos | None,
        key_pair_name: str | None,
        protect_cluster: bool,
        lake_grants: Sequence[GrantRow],
        removal_policy: cdk.RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.raw_bucket, self.curated_bucket, self.analytics_bucket, self.log_bucket = (
            raw_bucket, curated_bucket, analytics_bucket, log_bucket,
        )
        # One subnet: a cluster's instances live in one AZ (instance groups take one subnet).
        subnet = vpc.select_subnets(subnet_group_name=data_subnets.subnet_group_name).subnets[0]
        self.emr = EmrCluster(
            self,
            "Emr",
            cluster_name=namer.name("emr"),
            release_label=release_label,
            applications=extra_applications,
            vpc=vpc,
            subnet=subnet,
            capacity=capacity,
            data_key=data_key,
            log_bucket=log_bucket,
            log_prefix=LOG_PREFIX,
            idle_timeout=cdk.Duration.minutes(idle_timeout_minutes),
            read_locations=[
                LakeLocation(bucket=raw_bucket, prefix=RAW_PREFIX, key=data_key),
                LakeLocation(bucket=curated_bucket, prefix=CURATED_PREFIX, key=data_key),
            ],
            write_locations=[LakeLocation(bucket=analytics_bucket, prefix=ANALYTICS_PREFIX, key=data_key)],
            catalog_databases=[namer.sql_name("raw"), namer.sql_name("curated")],
            catalog_key=catalog_key,
            tls_certificates_s3_uri=tls_certificates_s3_uri,
            kerberos=kerberos,
            key_pair_name=key_pair_name,
            termination_protection=protect_cluster,
            removal_policy=removal_policy,
        )
        self.lake_permissions = grant_persona(
            self, "EmrLakePermissions", persona="emr", principal_arn=self.emr.instance_role.role_arn, grants=lake_grants
        )
        serialize_lake_grants(self)
        acknowledge_emr_findings(self)

        cdk.CfnOutput(self, "ClusterId", value=self.emr.cluster.ref)
        cdk.CfnOutput(self, "LogUri", value=self.emr.log_uri)
