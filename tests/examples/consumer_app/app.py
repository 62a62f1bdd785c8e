#!/usr/bin/env python3
"""A consumer-style app (issue 17's acceptance): another team's composition of constructs_lib.

Composed differently from this repository's stacks: one stack in a concrete account and region, an
imported KMS key and raw bucket that the team already owns, its own Firehose transform (arm64,
Python 3.13, its own metrics namespace), a Glue crawler and a job from a local script
(``Code.from_asset``: the CDK assets bucket findings), Athena, a VPC, an OpenSearch domain fed from the
stream, its security roles, and an alarm topic. The five cdk-nag packs are registered, and every
finding the library leaves to the app is acknowledged below with its reason.

``cdk synth`` needs no credentials and no ``cdk.context.json``: the stack takes its availability zones
from CloudFormation (``DeployTimeAvailabilityZones``), so nothing is looked up.
"""

from __future__ import annotations

import os
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks
from constructs import Construct, IConstruct

from constructs_lib import (
    AlarmTopic,
    AthenaWorkgroup,
    DataLakeStorage,
    DataNetwork,
    DeployTimeAvailabilityZones,
    GlueSecurity,
    LakeCrawler,
    LakeEtlJob,
    RawZoneDelivery,
    SearchCapacity,
    SearchDomain,
    SearchRole,
    SearchSecurityRoles,
    StreamToSearchDelivery,
    TelemetryStream,
)
from constructs_lib.common.nag import INLINE_POLICY_RULES, acknowledge, acknowledge_resources

ACCOUNT, REGION = "444455556666", "eu-central-1"
TEAM_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
TEAM_RAW_BUCKET = f"sensors-raw-{ACCOUNT}"
COMPLIANCE_PACKS = (AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks)
HERE = Path(__file__).resolve().parent

TRANSFORM_SOURCE = '''
import base64, json


def handler(event, context):
    out = []
    for record in event["records"]:
        try:
            reading = json.loads(base64.b64decode(record["data"]))
            line = (json.dumps(reading, separators=(",", ":")) + "\\n").encode()
            out.append({"recordId": record["recordId"], "result": "Ok", "data": base64.b64encode(line).decode(),
                        "metadata": {"partitionKeys": {"site": str(reading["site"])}}})
        except (ValueError, KeyError, TypeError):
            out.append({"recordId": record["recordId"], "result": "ProcessingFailed", "data": record["data"]})
    return {"records": out}
'''

# --- Why each finding left to the app is accepted -------------------------------------------------
GRANT_POLICIES = (
    "The role's permissions are the one policy CDK generates from the library's explicit grants, attached "
    "to this role only and scoped to the team's stream, key, log groups, buckets or domain; a customer-managed "
    "policy would be a separately attachable object that other principals could reuse."
)
SINGLE_REGION_LAKE = (
    "The curated, analytics and query-results buckets are single-region by the team's decision: S3 stores "
    "objects across at least three Availability Zones, and versioning, noncurrent-version retention and RETAIN "
    "protect against overwrite and deletion. Replication is added where a regional recovery point is required."
)
REPLICATION_RULES = (
    "HIPAA.Security-S3BucketReplicationEnabled",
    "NIST.800.53.R5-S3BucketReplicationEnabled",
    "PCI.DSS.321-S3BucketReplicationEnabled",
)
PREFIX_OBJECTS = (
    "S3 has no ARN narrower than an object key pattern: the crawler and the job need every object under the "
    "one prefix they read or write (sensors/), and nothing outside it; the team's raw bucket holds other prefixes."
)
GLUE_LOG_GROUPS = (
    "Glue creates the crawler's and the job's log groups itself, under names it derives at run time from the "
    "role and the security configuration below /aws-glue/crawlers and /aws-glue/jobs; the grant is limited to "
    "those prefixes of this account and region."
)
PUT_METRIC_DATA = (
    "cloudwatch:PutMetricData supports no resource-level permissions (Resource must be '*'); the statement is "
    "limited by its cloudwatch:namespace condition to Glue's own job metrics."
)
DOMAIN_PATHS = (
    "The analysts' role may send read requests to any index of the team's domain at the IAM layer; which indices "
    "it can read is decided inside OpenSearch by the sensors_reader role that SearchSecurityRoles maps it to."
)
PINNED_RUNTIME = (
    "The team's Powertools layer and its packaging tooling are built for Python 3.13 on arm64; the transform stays "
    "on that supported runtime (deprecation in 2029) until the layer moves, which the team tracks with its upgrades."
)


def acknowledge_inline_policies(*roles: IConstruct) -> None:
    for role in roles:
        acknowledge(role, GRANT_POLICIES, *INLINE_POLICY_RULES)


class SensorStack(DeployTimeAvailabilityZones, cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        team_key = kms.Key.from_key_arn(self, "TeamKey", TEAM_KEY_ARN)
        raw_bucket = s3.Bucket.from_bucket_attributes(self, "TeamRaw", bucket_name=TEAM_RAW_BUCKET, encryption_key=team_key)
        self.lake = DataLakeStorage(self, "Lake", existing_raw_bucket=raw_bucket, existing_key=team_key)
        self.alarms = AlarmTopic(self, "Alarms", email_subscribers=["sensors-oncall@acme.example"])
        topic = self.alarms.topic

        self.telemetry = TelemetryStream(self, "Readings", shard_count=2, existing_key=team_key, alarm_topic=topic)
        self.raw = RawZoneDelivery(
            self, "ToRaw", source_stream=self.telemetry.stream, destination_bucket=raw_bucket, destination_key=team_key,
            transform_code=lambda_.Code.from_inline(TRANSFORM_SOURCE), transform_handler="index.handler",
            transform_runtime=lambda_.Runtime.PYTHON_3_13, transform_architecture=lambda_.Architecture.ARM_64,
            transform_memory_mib=512, log_key=team_key, data_prefix="sensors/", partition_keys=["site"],
            metrics_namespace="Acme/Sensors", metrics_service="sensors-transform", alarm_topic=topic,
        )

        self.glue_security = GlueSecurity(self, "Glue", configuration_name="sensors-prod-glue", data_key=team_key,
                                          existing_key=team_key)
        self.crawler = LakeCrawler(
            self, "RawCrawler", crawler_name="sensors-prod-raw", database_name="sensors_raw", bucket=raw_bucket,
            prefix="sensors/", bucket_key=team_key, security=self.glue_security,
        )
        self.job = LakeEtlJob(
            self, "Curate", job_name="sensors-prod-curate", script=glue.Code.from_asset(str(HERE / "job.py")),
            source_bucket=raw_bucket, source_prefix="sensors/", target_bucket=self.lake.curated_bucket,
            target_prefixes=["sensors/"], data_key=team_key, security=self.glue_security, number_of_workers=2,
        )
        self.athena = AthenaWorkgroup(
            self, "Adhoc", workgroup_name="sensors-prod-adhoc", results_bucket=self.lake.query_results_bucket,
            results_prefix="adhoc/", results_key=team_key, bytes_scanned_cutoff_per_query=5_000_000_000,
        )

        self.network = DataNetwork(
            self, "Network", cidr="10.60.0.0/20", availability_zones=2,
            interface_endpoints=[ec2.InterfaceVpcEndpointAwsService.STS],
            flow_log_retention=logs.RetentionDays.THREE_MONTHS, existing_flow_log_key=team_key,
        )
        self.search = SearchDomain(
            self, "Search", vpc=self.network.vpc, vpc_subnets=self.network.data_subnets,
            capacity=SearchCapacity("r7g.large.search", data_nodes=2, volume_size_gib=50), key=team_key, alarm_topic=topic,
        )
        self.to_search = StreamToSearchDelivery(
            self, "ToSearch", source_stream=self.telemetry.stream, domain=self.search.domain, domain_connections=self.search,
            vpc=self.network.vpc, vpc_subnets=self.network.data_subnets, backup_bucket=raw_bucket, backup_key=team_key,
            transform_code=lambda_.Code.from_inline(TRANSFORM_SOURCE), transform_handler="index.handler",
            transform_runtime=lambda_.Runtime.PYTHON_3_13, log_key=team_key, index_name="sensors",
            metrics_namespace="Acme/Sensors", alarm_topic=topic,
        )
        self.search.grant_write(self.to_search.role)
        self.analysts = iam.Role(self, "Analysts", assumed_by=iam.AccountRootPrincipal())
        self.search.grant_read(self.analysts)
        self.search_roles = SearchSecurityRoles(
            self, "SearchRoles", domain=self.search, vpc=self.network.vpc, vpc_subnets=self.network.data_subnets,
            roles=[SearchRole.reader([self.analysts.role_arn], ["sensors-*"], name="sensors_reader")], key=team_key,
        )
        self.search_roles.node.add_dependency(self.network.interface_endpoints["sts"])
        self._acknowledge()

    def _acknowledge(self) -> None:
        """Findings the library leaves to the app (constructs_lib/README.md, "Using cdk-nag")."""
        acknowledge_inline_policies(
            self.analysts, self.crawler.role, self.job.role, self.network.flow_log_role, self.raw.delivery_stream,
            self.raw.destination_role, self.raw.transform_role, self.to_search.role, self.to_search.transform_role,
        )
        for bucket in self.lake.created_buckets:
            acknowledge(bucket, SINGLE_REGION_LAKE, *REPLICATION_RULES)
        # Object-level grants on the prefixes the crawler and job read and write: objects have no
        # narrower ARN than the prefix.
        raw_objects = self.lake.raw_bucket.arn_for_objects("sensors/*")
        acknowledge_resources(self.crawler.role, PREFIX_OBJECTS, raw_objects)
        acknowledge_resources(self.job.role, PREFIX_OBJECTS, raw_objects, self.lake.curated_bucket.arn_for_objects("sensors/*"))
        # Glue creates the crawler's and job's log groups itself, under names derived at run time.
        acknowledge_resources(self.crawler.role, GLUE_LOG_GROUPS, self.glue_security.log_groups_arn("crawler"))
        acknowledge_resources(self.job.role, GLUE_LOG_GROUPS, self.glue_security.log_groups_arn("job"))
        acknowledge(self.job.role, PUT_METRIC_DATA, "AwsSolutions-IAM5[Resource::*]")
        # The analysts read any index of the domain (the security roles narrow it inside OpenSearch).
        acknowledge_resources(self.analysts, DOMAIN_PATHS, f"{self.search.domain.domain_arn}/*")
        # The team's layer and tooling are built for Python 3.13: the transforms stay on it.
        for transform in (self.raw.transform, self.to_search.transform):
            acknowledge(transform, PINNED_RUNTIME, "AwsSolutions-L1", "Serverless-LambdaLatestVersion")


def build_app(outdir: str | None = None) -> cdk.App:
    app = cdk.App(outdir=outdir)
    SensorStack(app, "Sensors", env=cdk.Environment(account=ACCOUNT, region=REGION))
    cdk.Validations.of(app).add_plugins(*(pack(app) for pack in COMPLIANCE_PACKS))
    return app


if __name__ == "__main__":
    build_app(os.environ.get("CDK_OUTDIR")).synth()
