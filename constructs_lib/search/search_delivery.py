"""A second Firehose delivery stream: from a Kinesis stream into an OpenSearch domain in a VPC.

Records are read from ``source_stream``, transformed by a Lambda function (the same kind of
function RawZoneDelivery runs, :mod:`constructs_lib.common.firehose_processing`, with your code: the
library ships no transform; the analytics app of this library's repository passes the same package
as its raw-zone delivery, with an entry point that returns one JSON document per record and no S3
partition keys, so that OpenSearch gets the same normalised readings as the raw zone), and
bulk-indexed into
``<index_name>-YYYY-MM-DD`` (``index_rotation``) through ENIs that Firehose places in
``vpc_subnets``.

Nothing is lost: a record the transform rejects, and a document OpenSearch refuses after
``retry_duration``, is written with its error to the backup bucket under
``<backup_prefix>!{firehose:error-output-type}/yyyy/MM/dd/HH/`` (GZIP, SSE-KMS with
``backup_key``). Firehose gives each record a document id that stays the same across retries
(``FIREHOSE_DEFAULT``), so a retried bulk request does not index a record twice. With a Kinesis
stream as source Firehose resumes from the stream for as long as it retains records.

The API takes the domain as ``domain`` (``opensearch.IDomain``) plus ``domain_connections``
(anything with the domain's security group: a SearchDomain, or
``ec2.SecurityGroup.from_security_group_id(..., mutable=True)``), not a SearchDomain: a team with
a domain of its own can then use it with ``Domain.from_domain_attributes``. The construct adds
the domain group's ingress rule from the Firehose group (HTTPS only); the Firehose group has no
other egress and no ingress.

What the caller still does: let the role into the domain. Call
``search_domain.grant_write(delivery.role)`` (or add the role to your domain's access policy),
and map the role to an OpenSearch role that may create and write ``<index_name>-*`` indices
(fine-grained access control; see SearchDomain). Without that mapping deliveries fail with
``AuthFailure``/``DeliveryRejected`` (alarmed) and the documents go to the backup prefix.

The role's permissions are those the Amazon Data Firehose developer guide lists in "Controlling
access with Amazon Data Firehose" (sections "Grant Firehose access to a public OpenSearch
Service destination" and "... to an OpenSearch Service destination in a VPC"), scoped to this
stream, function, domain, index, bucket prefix, key, log streams, subnets and security group:

- Kinesis: DescribeStream, DescribeStreamSummary, GetShardIterator, GetRecords, ListShards on
  the stream; kms:Decrypt on its key through Kinesis only, when it has one;
- Lambda: InvokeFunction and GetFunctionConfiguration on the transform (unqualified and
  ``$LATEST``);
- OpenSearch: DescribeDomain(s) and DescribeDomainConfig on the domain, ESHttpPost and ESHttpPut
  on ``<domain>/*`` (one statement, also when ``grant_write`` adds it); ESHttpGet on
  ``_all/_settings``, ``_cluster/stats``,
  ``<index>*/_mapping/*``, ``_nodes``, ``_nodes/stats``, ``_nodes/*/stats``, ``_stats``,
  ``<index>*/_stats`` and ``_cat/indices``;
- EC2: DescribeVpcs, DescribeVpcAttribute, DescribeSubnets, DescribeSecurityGroups and
  DescribeNetworkInterfaces (on ``*``: EC2 describe actions have no resource-level
  permissions); CreateNetworkInterface in the chosen subnets with the Firehose group only;
  CreateNetworkInterfacePermission and DeleteNetworkInterface on network interfaces;
- S3: write (never delete: every object deletion action explicitly denied) under ``backup_prefix`` only, GetBucketLocation
  and ListBucketMultipartUploads on the bucket, the backup key through S3 only;
- logs:PutLogEvents on its two log streams.

Its trust policy admits firehose.amazonaws.com for delivery streams of this account and region
only (``aws:SourceAccount``, ``aws:SourceArn``).

Alarms (``alarms``): ``data_freshness`` (oldest record not yet indexed is older than
``max_data_freshness``), ``delivery_failures`` (indexing success below 100 %), ``auth_failure``
and ``delivery_rejected`` (the domain refuses the role), ``backup_failures`` (writes to the
backup bucket failing), ``source_throttling``, ``transform_failures``, ``transform_errors``,
``transform_throttles``, ``invalid_records``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.common.firehose_processing import (
    ABOVE,
    BELOW,
    DEFAULT_METRICS_NAMESPACE,
    FIREHOSE_SSE_WITH_KINESIS_SOURCE,
    MAX_PROCESSOR_BUFFER_INTERVAL_SECONDS,
    MAX_PROCESSOR_BUFFER_MIB,
    MIN_PROCESSOR_BUFFER_INTERVAL_SECONDS,
    TRANSFORM_ARCHITECTURE,
    TRANSFORM_RUNTIME,
    create_alarms,
    firehose_metric,
    transform_alarm_specs,
    transform_function,
)
from constructs_lib.common.monitoring import encrypted_log_group, notify
from constructs_lib.common.nag import acknowledge, nag_resource
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.governance.lake_access import check_prefix, grant_prefix_write, key_statement
from constructs_lib.ingestion.raw_zone_delivery import OBJECT_DELETION_ACTIONS
from constructs_lib.search.search_domain import HTTPS, selected_subnets

OWNER = "StreamToSearchDelivery"
#: Firehose's index rotation periods (IndexRotationPeriod); the suffix is appended to the index.
INDEX_ROTATIONS = ("NoRotation", "OneHour", "OneDay", "OneWeek", "OneMonth")
#: Firehose's limits for an OpenSearch destination.
MAX_RETRY_SECONDS = 7200
MIN_BUFFER_MIB, MAX_BUFFER_MIB = 1, 100
MAX_BUFFER_INTERVAL_SECONDS = 900
MAX_INDEX_NAME_LENGTH = 80
KINESIS_READ_ACTIONS = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetShardIterator",
    "kinesis:GetRecords",
    "kinesis:ListShards",
)
DOMAIN_ACTIONS = ("es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig")
#: On ``<domain>/*``, as the Firehose developer guide lists them (bulk requests at the domain root,
#: index creation with rotation). The statement carries no Sid, so that ``SearchDomain.grant_write``
#: on this role, which the caller makes for the domain access policy, renders as the same statement
#: and is written once.
INDEX_ACTIONS = ("es:ESHttpPost", "es:ESHttpPut")
EC2_DESCRIBE_ACTIONS = (
    "ec2:DescribeVpcs",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeNetworkInterfaces",
)
DESTINATION_LOG_STREAM = "DestinationDelivery"
BACKUP_LOG_STREAM = "BackupDelivery"

# Index names: lowercase, no wildcards, separators or characters OpenSearch forbids, not
# starting with '_', '-' or '+'.
_INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

_EC2_DESCRIBE_HAS_NO_RESOURCES = (
    "Firehose must describe the VPC, subnets, security groups and network interfaces to place its "
    "ENIs (Firehose developer guide, OpenSearch destination in a VPC); EC2 Describe* actions support "
    "no resource narrower than '*'. The statement holds only those five read-only actions."
)
_FIREHOSE_ENIS = (
    "Firehose creates, shares with its service and deletes the ENIs of a VPC delivery itself, with IDs "
    "that do not exist before; the statement covers network interfaces of this account and region "
    "only, and creating one is further limited to the chosen subnets and the Firehose security group."
)
#: Checked in the Amazon Data Firehose developer guide, "Controlling access with Amazon Data Firehose",
#: sections "Grant Firehose access to a public OpenSearch Service destination" and "... in a VPC"
#: (https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html): es:ESHttpPost and
#: es:ESHttpPut on <domain>/*, es:ESHttpGet on the listed statistics and mapping paths.
_FIREHOSE_INDEXES_THE_DOMAIN = (
    "Firehose bulk-indexes at the domain root and into time-rotated indices it names itself "
    "(<index>-YYYY-MM-DD): the Firehose developer guide grants es:ESHttpPost and es:ESHttpPut on <domain>/* "
    "for that, and es:ESHttpGet on the statistics and mapping paths it lists (<index>*/_mapping/*, "
    "_nodes/*/stats, <index>*/_stats). These are exactly those, on this one domain; reads are limited to "
    "the listed paths and the Describe actions to the domain itself."
)
_FIREHOSE_BACKUP_PREFIX = (
    "Objects under this delivery's backup prefix only (<bucket>/<backup_prefix>*): Firehose writes "
    "failed records and documents under keys it generates (timestamp folders and random suffixes), so "
    "they cannot be named in advance. Listing is limited to the same prefix, the key may be used only "
    "through S3, and deleting objects is explicitly denied."
)


class StreamToSearchDelivery(Construct):
    """Attributes: ``delivery_stream`` (``CfnDeliveryStream``), ``role`` (Firehose's one role for
    source, destination and VPC), ``security_group`` (Firehose's ENIs), ``transform`` (the
    function), ``transform_role``, ``transform_log_group``, ``delivery_log_group``,
    ``destination_log_stream``, ``backup_log_stream``, ``alarms``, ``index_name``,
    ``backup_prefix``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source_stream: kinesis.IStream,
        domain: opensearch.IDomain,
        domain_connections: ec2.IConnectable,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        backup_bucket: s3.IBucket,
        backup_key: kms.IKey | None,
        transform_code: lambda_.Code,
        transform_handler: str,
        log_key: kms.IKey,
        transform_layers: Sequence[lambda_.ILayerVersion] = (),
        transform_memory_mib: int = 256,
        transform_timeout: cdk.Duration = cdk.Duration.minutes(2),
        transform_environment: dict[str, str] | None = None,
        metrics_namespace: str = DEFAULT_METRICS_NAMESPACE,
        metrics_service: str = "search-transform",
        index_name: str = "telemetry",
        index_rotation: str = "OneDay",
        retry_duration: cdk.Duration = cdk.Duration.minutes(5),
        buffering_size: cdk.Size = cdk.Size.mebibytes(5),
        buffering_interval: cdk.Duration = cdk.Duration.seconds(0),
        processor_buffer_size: cdk.Size = cdk.Size.mebibytes(1),
        processor_buffer_interval: cdk.Duration = cdk.Duration.seconds(60),
        backup_prefix: str = "search-failed/telemetry/",
        max_data_freshness: cdk.Duration = cdk.Duration.minutes(5),
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        alarm_topic: sns.ITopic | None = None,
        transform_runtime: lambda_.Runtime = TRANSFORM_RUNTIME,
        transform_architecture: lambda_.Architecture = TRANSFORM_ARCHITECTURE,
    ) -> None:
        super().__init__(scope, construct_id)
        _check_settings(
            index_name=index_name, index_rotation=index_rotation, retry_duration=retry_duration,
            buffering_size=buffering_size, buffering_interval=buffering_interval,
            processor_buffer_size=processor_buffer_size, processor_buffer_interval=processor_buffer_interval,
        )
        self.backup_prefix: str = check_prefix(backup_prefix, owner=OWNER)
        check_data_removal_policy(removal_policy, owner=OWNER)
        self.index_name = index_name
        stack = cdk.Stack.of(self)

        transform = transform_function(
            self,
            description="Validates and normalises telemetry into OpenSearch documents for Firehose",
            code=transform_code,
            handler=transform_handler,
            log_key=log_key,
            layers=transform_layers,
            memory_mib=transform_memory_mib,
            timeout=transform_timeout,
            environment=transform_environment,
            metrics_namespace=metrics_namespace,
            metrics_service=metrics_service,
            log_retention=log_retention,
            removal_policy=removal_policy,
            runtime=transform_runtime,
            architecture=transform_architecture,
        )
        self.transform: lambda_.Function = transform.function
        self.transform_role: iam.Role = transform.role
        self.transform_log_group: logs.LogGroup = transform.log_group

        self.security_group: ec2.SecurityGroup = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="Firehose ENIs: HTTPS to the OpenSearch domain only",
        )
        domain_connections.connections.allow_from(
            self.security_group, ec2.Port.tcp(HTTPS), "HTTPS from the Firehose delivery to OpenSearch"
        )
        subnet_ids = [subnet.subnet_id for subnet in selected_subnets(vpc, vpc_subnets)]

        self.delivery_log_group: logs.LogGroup = encrypted_log_group(
            self, "DeliveryLogGroup", key=log_key, retention=log_retention, removal_policy=removal_policy
        )
        self.destination_log_stream = logs.LogStream(
            self, "DestinationLogStream", log_group=self.delivery_log_group,
            log_stream_name=DESTINATION_LOG_STREAM, removal_policy=removal_policy,
        )
        self.backup_log_stream = logs.LogStream(
            self, "BackupLogStream", log_group=self.delivery_log_group,
            log_stream_name=BACKUP_LOG_STREAM, removal_policy=removal_policy,
        )

        self.role: iam.Role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "firehose.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": stack.format_arn(
                        service="firehose", resource="deliverystream", resource_name="*")},
                },
            ),
            description="Firehose: read the stream, invoke the transform, index into OpenSearch, back up failures",
        )
        self._grant_role(
            source_stream=source_stream, domain=domain, subnet_ids=subnet_ids,
            backup_bucket=backup_bucket, backup_key=backup_key,
        )

        def log_options(stream_name: str) -> firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty:
            return firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                enabled=True, log_group_name=self.delivery_log_group.log_group_name, log_stream_name=stream_name
            )

        timestamp_folders = "!{timestamp:yyyy/MM/dd/HH}/"
        if backup_key is None:
            encryption = firehose.CfnDeliveryStream.EncryptionConfigurationProperty(no_encryption_config="NoEncryption")
        else:
            encryption = firehose.CfnDeliveryStream.EncryptionConfigurationProperty(
                kms_encryption_config=firehose.CfnDeliveryStream.KMSEncryptionConfigProperty(awskms_key_arn=backup_key.key_arn)
            )
        processor_parameters = {
            "LambdaArn": self.transform.function_arn,
            "NumberOfRetries": "3",
            "BufferSizeInMBs": str(int(processor_buffer_size.to_mebibytes())),
            "BufferIntervalInSeconds": str(int(processor_buffer_interval.to_seconds())),
        }
        self.delivery_stream: firehose.CfnDeliveryStream = firehose.CfnDeliveryStream(
            self,
            "DeliveryStream",
            delivery_stream_type="KinesisStreamAsSource",
            kinesis_stream_source_configuration=firehose.CfnDeliveryStream.KinesisStreamSourceConfigurationProperty(
                kinesis_stream_arn=source_stream.stream_arn, role_arn=self.role.role_arn
            ),
            amazonopensearchservice_destination_configuration=firehose.CfnDeliveryStream.AmazonopensearchserviceDestinationConfigurationProperty(
                domain_arn=domain.domain_arn,
                index_name=index_name,
                index_rotation_period=index_rotation,
                role_arn=self.role.role_arn,
                retry_options=firehose.CfnDeliveryStream.AmazonopensearchserviceRetryOptionsProperty(
                    duration_in_seconds=int(retry_duration.to_seconds())
                ),
                s3_backup_mode="FailedDocumentsOnly",
                document_id_options=firehose.CfnDeliveryStream.DocumentIdOptionsProperty(
                    default_document_id_format="FIREHOSE_DEFAULT"
                ),
                buffering_hints=firehose.CfnDeliveryStream.AmazonopensearchserviceBufferingHintsProperty(
                    interval_in_seconds=int(buffering_interval.to_seconds()),
                    size_in_m_bs=int(buffering_size.to_mebibytes()),
                ),
                cloud_watch_logging_options=log_options(DESTINATION_LOG_STREAM),
                s3_configuration=firehose.CfnDeliveryStream.S3DestinationConfigurationProperty(
                    bucket_arn=backup_bucket.bucket_arn,
                    role_arn=self.role.role_arn,
                    prefix=f"{self.backup_prefix}{timestamp_folders}",
                    error_output_prefix=f"{self.backup_prefix}!{{firehose:error-output-type}}/{timestamp_folders}",
                    compression_format="GZIP",
                    encryption_configuration=encryption,
                    cloud_watch_logging_options=log_options(BACKUP_LOG_STREAM),
                ),
                processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                    enabled=True,
                    processors=[
                        firehose.CfnDeliveryStream.ProcessorProperty(
                            type="Lambda",
                            parameters=[
                                firehose.CfnDeliveryStream.ProcessorParameterProperty(
                                    parameter_name=name, parameter_value=value
                                )
                                for name, value in processor_parameters.items()
                            ],
                        )
                    ],
                ),
                vpc_configuration=firehose.CfnDeliveryStream.VpcConfigurationProperty(
                    role_arn=self.role.role_arn,
                    subnet_ids=subnet_ids,
                    security_group_ids=[self.security_group.security_group_id],
                ),
            ),
        )
        # Firehose checks the role's permissions (and creates its ENIs) when the stream is created:
        # its policy must exist first (the role itself is referenced already).
        self.delivery_stream.node.add_dependency(self.role.node.find_child("DefaultPolicy"))
        acknowledge(self.delivery_stream, FIREHOSE_SSE_WITH_KINESIS_SOURCE, "AwsSolutions-KDF1")

        def metric(name: str, statistic: str) -> cloudwatch.Metric:
            return firehose_metric(self.delivery_stream.ref, name, statistic)

        specs = {
            "data_freshness": (metric("DeliveryToAmazonOpenSearchService.DataFreshness", "Maximum"), ABOVE,
                               max_data_freshness.to_seconds(), "Records wait in Firehose longer than allowed before OpenSearch indexes them"),
            "delivery_failures": (metric("DeliveryToAmazonOpenSearchService.Success", "Average"), BELOW, 1,
                                  "OpenSearch refused documents; Firehose retries, then writes them to the backup prefix"),
            "auth_failure": (metric("DeliveryToAmazonOpenSearchService.AuthFailure", "Maximum"), ABOVE, 0,
                             "OpenSearch refuses Firehose's role: check the domain access policy and the role mapping"),
            "delivery_rejected": (metric("DeliveryToAmazonOpenSearchService.DeliveryRejected", "Maximum"), ABOVE, 0,
                                  "OpenSearch rejects Firehose's requests: check the domain access policy and the role mapping"),
            "backup_failures": (metric("DeliveryToS3.Success", "Average"), BELOW, 1,
                                "Firehose failed to write failed documents to the backup bucket; it retries"),
            "source_throttling": (metric("ThrottledGetRecords", "Sum"), ABOVE, 0,
                                  "Firehose is throttled reading the Kinesis stream"),
            "transform_failures": (metric("ExecuteProcessing.Success", "Average"), BELOW, 1,
                                   "Firehose could not invoke the transform successfully; records go to the backup prefix"),
            **transform_alarm_specs(transform),
        }
        self.alarms: dict[str, cloudwatch.Alarm] = create_alarms(self, specs)
        notify(self.alarms, alarm_topic)
        apply_data_removal_policy(self, removal_policy, what="the delivery and transform log groups")

    # -- the role ----------------------------------------------------------------------------

    def _grant_role(
        self,
        *,
        source_stream: kinesis.IStream,
        domain: opensearch.IDomain,
        subnet_ids: list[str],
        backup_bucket: s3.IBucket,
        backup_key: kms.IKey | None,
    ) -> None:
        stack = cdk.Stack.of(self)
        role = self.role
        domain_arn = domain.domain_arn
        index = self.index_name
        get_paths = (
            "_all/_settings", "_cluster/stats", f"{index}*/_mapping/*", "_nodes", "_nodes/stats",
            "_nodes/*/stats", "_stats", f"{index}*/_stats", "_cat/indices",
        )
        network_interfaces = stack.format_arn(service="ec2", resource="network-interface", resource_name="*")
        statements = [
            iam.PolicyStatement(sid="ReadTheSourceStream", actions=list(KINESIS_READ_ACTIONS),
                                resources=[source_stream.stream_arn]),
            iam.PolicyStatement(sid="InvokeTheTransform",
                                actions=["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
                                resources=[self.transform.function_arn, f"{self.transform.function_arn}:$LATEST"]),
            iam.PolicyStatement(sid="DescribeTheDomain", actions=list(DOMAIN_ACTIONS), resources=[domain_arn]),
            iam.PolicyStatement(actions=list(INDEX_ACTIONS), resources=[f"{domain_arn}/*"]),
            iam.PolicyStatement(sid="ReadTheDomainsStatistics", actions=["es:ESHttpGet"],
                                resources=[f"{domain_arn}/{path}" for path in get_paths]),
            iam.PolicyStatement(sid="DescribeTheVpc", actions=list(EC2_DESCRIBE_ACTIONS), resources=["*"]),
            iam.PolicyStatement(
                sid="CreateEnisInTheChosenSubnets", actions=["ec2:CreateNetworkInterface"],
                resources=[
                    network_interfaces,
                    *(stack.format_arn(service="ec2", resource="subnet", resource_name=subnet_id) for subnet_id in subnet_ids),
                    stack.format_arn(service="ec2", resource="security-group",
                                     resource_name=self.security_group.security_group_id),
                ],
            ),
            iam.PolicyStatement(sid="ManageItsEnis",
                                actions=["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface"],
                                resources=[network_interfaces]),
            iam.PolicyStatement(sid="LocateTheBackupBucket",
                                actions=["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
                                resources=[backup_bucket.bucket_arn]),
            iam.PolicyStatement(
                sid="WriteItsLogStreams", actions=["logs:PutLogEvents"],
                resources=[
                    stack.format_arn(
                        service="logs", resource="log-group",
                        resource_name=f"{self.delivery_log_group.log_group_name}:log-stream:{name}",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                    for name in (DESTINATION_LOG_STREAM, BACKUP_LOG_STREAM)
                ],
            ),
            # Firehose never deletes; the prefix grant does not allow it either, this makes it explicit.
            iam.PolicyStatement(sid="FirehoseNeverDeletes", effect=iam.Effect.DENY,
                                actions=list(OBJECT_DELETION_ACTIONS),
                                resources=[backup_bucket.arn_for_objects("*")]),
        ]
        if source_stream.encryption_key is not None:
            statements.append(key_statement(source_stream.encryption_key, ("kms:Decrypt",), via="kinesis"))
        for statement in statements:
            role.add_to_principal_policy(statement)
        grant_prefix_write(role, backup_bucket, self.backup_prefix, backup_key)

        wildcards = {
            _EC2_DESCRIBE_HAS_NO_RESOURCES: ["*"],
            _FIREHOSE_ENIS: [network_interfaces],
            _FIREHOSE_INDEXES_THE_DOMAIN: [f"{domain_arn}/*", *(f"{domain_arn}/{p}" for p in get_paths if "*" in p)],
            _FIREHOSE_BACKUP_PREFIX: [backup_bucket.arn_for_objects(f"{self.backup_prefix}*")],
        }
        for reason, resources in wildcards.items():
            # A reference to another stack is named by the app's cross-stack reference: the app acknowledges it.
            names = [nag_resource(role, resource) for resource in resources]
            acknowledge(role, reason, *(f"AwsSolutions-IAM5[Resource::{name}]" for name in names if name is not None))


def _check_settings(
    *,
    index_name: str,
    index_rotation: str,
    retry_duration: cdk.Duration,
    buffering_size: cdk.Size,
    buffering_interval: cdk.Duration,
    processor_buffer_size: cdk.Size,
    processor_buffer_interval: cdk.Duration,
) -> None:
    """Reject at synth what Firehose or OpenSearch would reject at deploy time."""
    if not isinstance(index_name, str) or len(index_name) > MAX_INDEX_NAME_LENGTH or not _INDEX_NAME.match(index_name):
        raise ValueError(
            f"{OWNER}: index_name must be 1-{MAX_INDEX_NAME_LENGTH} lowercase letters, digits, '.', '_' or '-', "
            f"starting with a letter or digit (no '*', spaces or other separators); got {index_name!r}"
        )
    if index_rotation not in INDEX_ROTATIONS:
        raise ValueError(f"{OWNER}: index_rotation must be one of {INDEX_ROTATIONS}; got {index_rotation!r}")
    retry = retry_duration.to_seconds()
    if not 0 <= retry <= MAX_RETRY_SECONDS:
        raise ValueError(f"{OWNER}: retry_duration must be 0 to {MAX_RETRY_SECONDS} seconds; got {retry} s")
    size = buffering_size.to_mebibytes()
    if not MIN_BUFFER_MIB <= size <= MAX_BUFFER_MIB:
        raise ValueError(f"{OWNER}: buffering_size must be {MIN_BUFFER_MIB} to {MAX_BUFFER_MIB} MiB; got {size} MiB")
    interval = buffering_interval.to_seconds()
    if not 0 <= interval <= MAX_BUFFER_INTERVAL_SECONDS:
        raise ValueError(
            f"{OWNER}: buffering_interval must be 0 to {MAX_BUFFER_INTERVAL_SECONDS} seconds; got {interval} s"
        )
    processor_size = processor_buffer_size.to_mebibytes()
    if not 1 <= processor_size <= MAX_PROCESSOR_BUFFER_MIB:
        raise ValueError(
            f"{OWNER}: processor_buffer_size must be 1 to {MAX_PROCESSOR_BUFFER_MIB} MiB (Lambda's 6 MB payload "
            f"cap); got {processor_size} MiB"
        )
    processor_interval = processor_buffer_interval.to_seconds()
    if not MIN_PROCESSOR_BUFFER_INTERVAL_SECONDS <= processor_interval <= MAX_PROCESSOR_BUFFER_INTERVAL_SECONDS:
        raise ValueError(
            f"{OWNER}: processor_buffer_interval must be {MIN_PROCESSOR_BUFFER_INTERVAL_SECONDS} to "
            f"{MAX_PROCESSOR_BUFFER_INTERVAL_SECONDS} seconds; got {processor_interval} s"
        )
