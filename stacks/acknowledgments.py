"""The app's own cdk-nag acknowledgments, in one place, each with its finding id and reason.

Fix a finding first; acknowledge only what is a deliberate, explained choice. Ids are exact
rule ids (``HIPAA.Security-S3BucketReplicationEnabled``); cdk-nag 3 matches each finding
individually, so one acknowledgment never hides another rule's finding. Findings that are
inherent to a construct's design are acknowledged inside that construct, next to the code
that causes them (for example the SSE-S3 access-log bucket in DataLakeStorage).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aws_cdk as cdk
from constructs import IConstruct

from constructs_lib import DataLakeStorage

if TYPE_CHECKING:
    from aws_cdk import aws_s3 as s3

    from stacks.catalog_stack import CatalogStack
    from stacks.emr_stack import EmrStack
    from stacks.ingestion_stack import IngestionStack
    from stacks.network_stack import NetworkStack
    from stacks.warehouse_stack import WarehouseStack

REPLICATION_RULES = (
    "HIPAA.Security-S3BucketReplicationEnabled",
    "NIST.800.53.R5-S3BucketReplicationEnabled",
    "PCI.DSS.321-S3BucketReplicationEnabled",
)

NO_CROSS_REGION_REPLICATION = (
    "Cross-region replication is not part of this platform's recovery design: buckets are "
    "single-region by decision (data residency in the configured region). Objects are stored "
    "across at least three AZs by S3; versioning, noncurrent-version retention and the Retain "
    "removal policy (enforced in prod) protect against overwrite and deletion. Revisit if a "
    "regional-outage RPO is ever required."
)


def acknowledge(construct: IConstruct, reason: str, *rule_ids: str) -> None:
    """Acknowledge each of ``rule_ids`` on ``construct`` (and its children) for ``reason``."""
    cdk.Validations.of(construct).acknowledge(
        *(cdk.Acknowledgment(id=rule_id, reason=reason) for rule_id in rule_ids)
    )


def acknowledge_storage_findings(storage: DataLakeStorage) -> None:
    """The data lake buckets are deliberately not replicated to another region."""
    acknowledge(storage, NO_CROSS_REGION_REPLICATION, *REPLICATION_RULES)


RAW_BUCKET_ARN_OUTPUT = "PublishOutputFnGetAttDataLakeRawBucket881B694BArnAF96B5B0"
CURATED_BUCKET_ARN_OUTPUT = "PublishOutputFnGetAttDataLakeCuratedBucketFF1C9EA8Arn75DFFC01"


def objects_under(bucket: s3.IBucket, arn_output: str, key_pattern: str) -> str:
    """How cdk-nag names ``<bucket ARN>/<key_pattern>`` when the bucket is in another stack: by
    the cross-stack reference CDK renders for its ARN. The output name derives from the bucket's
    pinned logical id (tests/unit/stacks/test_logical_ids.py), and a stale id fails the nag
    gate's stale-acknowledgment check."""
    return (
        '{"Fn::GetStackOutput":{"StackName":"' + cdk.Stack.of(bucket).stack_name + '",'
        '"Region":{"Ref":"AWS::Region"},"OutputName":"' + arn_output + '"}}/' + key_pattern
    )

INLINE_POLICY_RULES = (
    "HIPAA.Security-IAMNoInlinePolicy",
    "NIST.800.53.R5-IAMNoInlinePolicy",
    "PCI.DSS.321-IAMNoInlinePolicy",
)
INLINE_GRANT_POLICIES = (
    "This role's permissions are the policy CDK generates from explicit grants (one AWS::IAM::Policy "
    "attached to this role only, each statement scoped to the stream, bucket, key or log group the "
    "role needs). A customer-managed policy would be a separately attachable object that could be "
    "reused on other principals, which widens rather than narrows access."
)
FIREHOSE_S3_GRANTS = (
    "Firehose writes new, unpredictable object keys under its prefixes and must list, read back and "
    "abort multipart uploads for them; these are CDK's S3 and KMS grant actions on the raw bucket and "
    "its key only (object resource <bucket>/*). Deleting objects or versions is explicitly denied."
)
FIREHOSE_INVOKES_TRANSFORM_VERSIONS = (
    "Firehose invokes the transform function by ARN including any version or alias (<function>:*); the "
    "wildcard covers versions of this one function only."
)
XRAY_HAS_NO_RESOURCES = (
    "Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which X-Ray does not "
    "support on any resource narrower than '*' (no resource-level permissions exist for them)."
)
FIREHOSE_SSE_WITH_KINESIS_SOURCE = (
    "Firehose server-side encryption cannot be enabled when the source is a Kinesis data stream; "
    "records are protected by the stream's customer-managed KMS key in transit through Firehose and "
    "by the raw bucket's KMS key at rest."
)
STREAM_USES_A_CMK_BY_DESIGN = (
    "The stream is deliberately encrypted with a customer-managed, rotating KMS key rather than "
    "aws/kinesis, so that key use is auditable and only the IoT rule, Firehose and log delivery "
    "principals can use it; the extra KMS cost is accepted."
)
TRANSFORM_IS_INVOKED_SYNCHRONOUSLY = (
    "Firehose invokes the transform synchronously (RequestResponse); a Lambda dead-letter queue only "
    "applies to asynchronous invocations. Records the transform cannot process are written by "
    "Firehose to the errors/ prefix of the raw bucket, and every source record is also backed up."
)
TRANSFORM_NEEDS_NO_VPC = (
    "The transform only computes on the payload Firehose passes it and writes logs, metrics and "
    "traces; it reaches no database or private endpoint. Placing it in a VPC would add ENIs and "
    "interface endpoints without reducing its exposure."
)
TRANSFORM_CONCURRENCY_IS_BOUNDED_BY_SHARDS = (
    "Only Firehose invokes the transform, at most one invocation per stream shard at a time, so its "
    "concurrency is bounded by the stream's shard count. A reservation would throttle delivery when "
    "an on-demand stream scales out, or fail deployment in accounts with a low concurrency quota."
)
FIREHOSE_L2_UNUSED_MAPPING = (
    "aws-cdk-lib's DeliveryStream construct always adds a region-to-CIDR mapping used only by "
    "Redshift/Splunk/HTTP destinations; with an S3 destination it is unused. Generated by the "
    "library, harmless, and removed by no public option."
)


def acknowledge_ingestion_findings(stack: IngestionStack) -> None:
    """Findings of the ingestion stack that are inherent to Firehose, Lambda and CDK's grants."""
    delivery = stack.delivery
    firehose_stream = delivery.delivery_stream
    raw_bucket_objects = objects_under(stack.raw_bucket, RAW_BUCKET_ARN_OUTPUT, "*")
    acknowledge(
        delivery.destination_role,
        FIREHOSE_S3_GRANTS,
        *(f"AwsSolutions-IAM5[Action::{action}]" for action in (
            "kms:GenerateDataKey*", "kms:ReEncrypt*", "s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*",
            "s3:GetObject*", "s3:List*",
        )),
        f"AwsSolutions-IAM5[Resource::{raw_bucket_objects}]",
    )
    transform_arn = stack.get_logical_id(delivery.transform.node.default_child)
    acknowledge(delivery.destination_role, FIREHOSE_INVOKES_TRANSFORM_VERSIONS, f"AwsSolutions-IAM5[Resource::<{transform_arn}.Arn>:*]")
    acknowledge(firehose_stream, FIREHOSE_SSE_WITH_KINESIS_SOURCE, "AwsSolutions-KDF1")
    for role_scope in (firehose_stream, delivery.destination_role, delivery.transform.role, stack.iot.role):
        acknowledge(role_scope, INLINE_GRANT_POLICIES, *INLINE_POLICY_RULES)
    acknowledge(delivery.transform.role, XRAY_HAS_NO_RESOURCES, "AwsSolutions-IAM5[Resource::*]")
    acknowledge(delivery.transform, TRANSFORM_IS_INVOKED_SYNCHRONOUSLY,
                "HIPAA.Security-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "Serverless-LambdaDLQ")
    acknowledge(delivery.transform, TRANSFORM_NEEDS_NO_VPC,
                "HIPAA.Security-LambdaInsideVPC", "NIST.800.53.R5-LambdaInsideVPC", "PCI.DSS.321-LambdaInsideVPC")
    acknowledge(delivery.transform, TRANSFORM_CONCURRENCY_IS_BOUNDED_BY_SHARDS,
                "HIPAA.Security-LambdaConcurrency", "NIST.800.53.R5-LambdaConcurrency")
    acknowledge(stack.stream.stream, STREAM_USES_A_CMK_BY_DESIGN, "AwsSolutions-KDS3")
    acknowledge(stack, FIREHOSE_L2_UNUSED_MAPPING, "CloudFormation-Validate::W7001")


ZONE_PREFIX_OBJECTS = (
    "Objects under one zone prefix of one data lake bucket (<bucket>/<prefix>*): a crawler or job "
    "reads and writes object keys that are new on every delivery or run, so they cannot be named in "
    "advance. Listing is limited to the same prefix (s3:prefix condition) and the bucket key may be "
    "used only through S3 (kms:ViaService)."
)
GLUE_MANAGED_LOG_GROUPS = (
    "Glue creates the log groups of crawlers and jobs that run under a security configuration itself, "
    "with names derived from the role and the configuration; the wildcard covers Glue's own "
    "/aws-glue/crawlers* or /aws-glue/jobs* log groups of this account and region only."
)
PUT_METRIC_DATA_HAS_NO_RESOURCES = (
    "cloudwatch:PutMetricData supports no resource narrower than '*'; the statement is limited to "
    "the Glue namespace with the cloudwatch:namespace condition."
)
JOB_SCRIPT_READ_GRANT = (
    "These are the actions of CDK's read grant on the job's script, which Glue downloads at start and "
    "which the Glue L2 always adds. Object reads are limited to that one asset object; the List* and "
    "GetBucket* actions apply to the CDK bootstrap assets bucket, which holds deployment artefacts "
    "(templates and code), never lake data, and the L2 offers no way to narrow them."
)
ENCRYPTED_TOPIC_PUBLISH_GRANT = (
    "CDK's publish grant on the KMS-encrypted alarm topic: SNS needs kms:GenerateDataKey* (data keys "
    "with or without plaintext) and kms:Decrypt on the topic's key, and on that key only."
)


def acknowledge_catalog_findings(stack: CatalogStack) -> None:
    """Findings of the catalog stack that are inherent to S3 prefixes, Glue and CDK's grants."""
    raw_objects = objects_under(stack.raw_bucket, RAW_BUCKET_ARN_OUTPUT, "telemetry/*")
    curated_objects = objects_under(stack.curated_bucket, CURATED_BUCKET_ARN_OUTPUT, "telemetry/*")
    quarantine_objects = objects_under(stack.curated_bucket, CURATED_BUCKET_ARN_OUTPUT, "quarantine/telemetry/*")
    crawler_logs = "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws-glue/crawlers*"
    job_logs = "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws-glue/jobs*"

    acknowledge(stack.raw_crawler.role, ZONE_PREFIX_OBJECTS, f"AwsSolutions-IAM5[Resource::{raw_objects}]")
    acknowledge(stack.curated_crawler.role, ZONE_PREFIX_OBJECTS, f"AwsSolutions-IAM5[Resource::{curated_objects}]")
    acknowledge(
        stack.job.role, ZONE_PREFIX_OBJECTS,
        *(f"AwsSolutions-IAM5[Resource::{objects}]" for objects in (raw_objects, curated_objects, quarantine_objects)),
    )
    for crawler in (stack.raw_crawler, stack.curated_crawler):
        acknowledge(crawler.role, GLUE_MANAGED_LOG_GROUPS, f"AwsSolutions-IAM5[Resource::{crawler_logs}]")
    acknowledge(stack.job.role, GLUE_MANAGED_LOG_GROUPS, f"AwsSolutions-IAM5[Resource::{job_logs}]")
    acknowledge(stack.job.role, PUT_METRIC_DATA_HAS_NO_RESOURCES, "AwsSolutions-IAM5[Resource::*]")
    acknowledge(
        stack.job.role, JOB_SCRIPT_READ_GRANT,
        *(f"AwsSolutions-IAM5[Action::{action}]" for action in ("s3:GetBucket*", "s3:GetObject*", "s3:List*")),
    )
    events_role = stack.workflow.events_role
    if events_role is not None:
        acknowledge(events_role, ENCRYPTED_TOPIC_PUBLISH_GRANT, "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]")
    for role in (stack.raw_crawler.role, stack.curated_crawler.role, stack.job.role, events_role):
        if role is not None:
            acknowledge(role, INLINE_GRANT_POLICIES, *INLINE_POLICY_RULES)


PUBLIC_ROUTE_FOR_CONFIGURED_NAT = (
    "The environment's config sets network.nat_gateways > 0: the public subnets exist only to host "
    "the NAT gateways and route to the internet gateway by definition. Nothing else is placed in "
    "them (map-public-IP is off) and the data subnets stay private behind the NAT."
)


def acknowledge_network_findings(stack: NetworkStack, *, nat_gateways: int) -> None:
    """The flow-log role's CDK-generated policy; with configured NAT gateways, their public subnets."""
    network = stack.network
    acknowledge(network.flow_log_role, INLINE_GRANT_POLICIES, *INLINE_POLICY_RULES)
    if nat_gateways > 0:
        for subnet in network.vpc.public_subnets:
            acknowledge(
                subnet, PUBLIC_ROUTE_FOR_CONFIGURED_NAT,
                "HIPAA.Security-VPCNoUnrestrictedRouteToIGW", "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",
                "PCI.DSS.321-VPCNoUnrestrictedRouteToIGW",
            )


ANALYTICS_BUCKET_ARN_OUTPUT = "PublishOutputFnGetAttDataLakeAnalyticsBucket218960F6ArnC099383B"
ACCESS_LOGS_BUCKET_ARN_OUTPUT = "PublishOutputFnGetAttDataLakeAccessLogsBucket7B54C271Arn071F6FFB"

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


def acknowledge_emr_findings(stack: EmrStack) -> None:
    """The instance role's prefix wildcards and CDK's inline policies; without TLS or Kerberos in
    the config, the findings that choice causes (and only then)."""
    emr = stack.emr
    objects = [
        objects_under(stack.raw_bucket, RAW_BUCKET_ARN_OUTPUT, "telemetry/*"),
        objects_under(stack.curated_bucket, CURATED_BUCKET_ARN_OUTPUT, "telemetry/*"),
        objects_under(stack.analytics_bucket, ANALYTICS_BUCKET_ARN_OUTPUT, "emr/*"),
        objects_under(stack.log_bucket, ACCESS_LOGS_BUCKET_ARN_OUTPUT, "emr-logs/*"),
    ]
    acknowledge(emr.instance_role, EMR_PREFIX_OBJECTS, *(f"AwsSolutions-IAM5[Resource::{o}]" for o in objects))
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


SPECTRUM_READS_THE_CURATED_PREFIX = (
    "Objects under the curated zone's telemetry/ prefix (<bucket>/telemetry/*): Redshift Spectrum "
    "reads whichever Parquet files the curated table's partitions hold, and new ones arrive on every "
    "ETL run, so they cannot be named in advance. Read-only; listing is limited to the same prefix "
    "(s3:prefix condition) and the lake key may be used only through S3 (kms:ViaService)."
)


def acknowledge_warehouse_findings(stack: WarehouseStack) -> None:
    """The Spectrum role's prefix wildcard and CDK's inline policies (Spectrum, pause/resume)."""
    warehouse = stack.warehouse
    curated_objects = objects_under(stack.curated_bucket, CURATED_BUCKET_ARN_OUTPUT, "telemetry/*")
    acknowledge(warehouse.spectrum_role, SPECTRUM_READS_THE_CURATED_PREFIX, f"AwsSolutions-IAM5[Resource::{curated_objects}]")
    for role in (warehouse.spectrum_role, warehouse.scheduler_role):
        if role is not None:
            acknowledge(role, INLINE_GRANT_POLICIES, *INLINE_POLICY_RULES)
