"""Firehose Direct PUT of JSON lines into one prefix of a lake bucket, one folder per day, with the
Glue table that reads them.

What lands where, in ``bucket``:

- ``<prefix><partition_column>=YYYY-MM-DD/``: the records, GZIP JSON lines, in the folder of the
  day (UTC) Firehose received them (``!{timestamp:yyyy-MM-dd}``, the approximate arrival time of the
  oldest record of each object: a record written just before midnight can land in the previous
  day's folder, so a query for a day filters its own time column too);
- ``errors/<prefix>!{firehose:error-output-type}/YYYY/MM/dd/``: what Firehose could not deliver. With
  an expression in the prefix, Firehose requires an error prefix, with the error output type in it.

GZIP: Athena reads gzip-compressed JSON lines by their ``.gz`` extension, which Firehose adds, and
bills the bytes it scans, so compressed objects cost less to store and to query. A gzip object is
not splittable, which matters only for objects far larger than one buffer.

The table (``table``): the caller's columns, read with the OpenX JSON SerDe (a line without a column
reads as null, so several record types can share the sink), partitioned by ``partition_column`` with
partition projection on the day: Athena computes the day folders from the query's filter instead of
reading partitions from the catalog, so no crawler and no ``MSCK REPAIR TABLE`` is needed as days go
by, and a query for one day lists one folder. The flip side, which the Athena guide spells out: with
projection enabled Athena ignores any partition registered in the catalog for this table; register
none. Projection covers ``projection_start`` to ``NOW``.

Encryption, fixed: Firehose server-side encryption with ``key`` (a customer-managed key: Firehose
creates and manages its own grant on it when the stream is created) and the objects with SSE-KMS
under ``key``. The table says nothing about it: SSE-KMS is transparent to readers, and
``has_encrypted_data`` marks client-side (CSE-KMS) encryption, so the table has no such property.

The destination role holds what the Firehose developer guide lists for an S3 destination ("Grant
Firehose access to an Amazon S3 destination") on the two prefixes it writes, and nothing more;
object deletion is explicitly denied. Producers get ``firehose:PutRecord`` and
``firehose:PutRecordBatch`` on this stream through :meth:`JsonLinesDelivery.grant_put`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.common.firehose_processing import ABOVE, BELOW, create_alarms, firehose_metric
from constructs_lib.common.monitoring import encrypted_log_group, notify
from constructs_lib.common.nag import acknowledge_resources
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import instance, instance_list, text
from constructs_lib.governance.lake_access import KMS_WRITE_ACTIONS, check_prefix, key_statement
from constructs_lib.ingestion.raw_zone_delivery import OBJECT_DELETION_ACTIONS

OWNER = "JsonLinesDelivery"

#: What a Direct PUT producer calls (resource type ``deliverystream``).
PUT_ACTIONS = ("firehose:PutRecord", "firehose:PutRecordBatch")
#: Firehose's S3 buffering hints without dynamic partitioning: 1 to 128 MiB, 0 to 900 seconds.
MIN_BUFFER_MIB, MAX_BUFFER_MIB = 1, 128
MAX_BUFFER_SECONDS = 900
_ITS_PREFIXES = (
    "Objects under the two prefixes this delivery stream writes (<prefix> and errors/<prefix>) only: Firehose "
    "names each object itself (day folder, timestamp and a random suffix), so keys cannot be listed in advance. "
    "The actions are those the Firehose developer guide lists for an S3 destination; object deletion is denied."
)


def _check_day(value: object) -> str:
    text(OWNER, "projection_start", value)
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{OWNER}: projection_start must be a day as YYYY-MM-DD; got {value!r}") from None
    if len(str(value)) != 10:
        raise ValueError(f"{OWNER}: projection_start must be a day as YYYY-MM-DD; got {value!r}")
    return str(value)


class JsonLinesDelivery(Construct):
    """Attributes: ``delivery_stream``, ``destination_role`` (Firehose's role for the bucket),
    ``log_group``, ``table``, ``data_prefix`` (the Firehose prefix with its day expression),
    ``error_prefix``, ``alarms`` (``data_freshness``, ``delivery_failures``, ``throttled_records``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        prefix: str,
        key: kms.IKey,
        database: glue.IDatabase,
        table_name: str,
        columns: Sequence[glue.Column],
        projection_start: str,
        log_key: kms.IKey,
        partition_column: str = "event_date",
        buffering_size: cdk.Size = cdk.Size.mebibytes(5),
        buffering_interval: cdk.Duration = cdk.Duration.seconds(300),
        max_data_freshness: cdk.Duration = cdk.Duration.minutes(15),
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        """``columns`` are the record's fields as the producer writes them (not the partition column).
        ``projection_start`` is the first day (YYYY-MM-DD) the table's projection covers. ``log_key`` must
        let CloudWatch Logs use it."""
        super().__init__(scope, construct_id)
        instance(OWNER, "bucket", bucket, s3.IBucket)
        check_prefix(text(OWNER, "prefix", prefix), owner=OWNER)
        instance(OWNER, "key", key, kms.IKey)
        instance(OWNER, "database", database, glue.IDatabase)
        text(OWNER, "table_name", table_name)
        columns = instance_list(OWNER, "columns", columns, glue.Column, allow_empty=False)
        projection_start = _check_day(projection_start)
        instance(OWNER, "log_key", log_key, kms.IKey)
        text(OWNER, "partition_column", partition_column)
        names = [column.name for column in columns]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"{OWNER}: columns name {', '.join(duplicates)} more than once")
        if partition_column in names:
            raise ValueError(f"{OWNER}: columns must not include the partition column {partition_column!r}")
        instance(OWNER, "buffering_size", buffering_size, cdk.Size)
        for prop, value in (("buffering_interval", buffering_interval), ("max_data_freshness", max_data_freshness)):
            instance(OWNER, prop, value, cdk.Duration)
        mebibytes = buffering_size.to_mebibytes(rounding=cdk.SizeRoundingBehavior.NONE)
        if not (MIN_BUFFER_MIB <= mebibytes <= MAX_BUFFER_MIB and mebibytes == int(mebibytes)):
            raise ValueError(f"{OWNER}: buffering_size must be a whole number of MiB, 1 to 128 MiB; got {mebibytes:g} MiB")
        if not 0 <= buffering_interval.to_seconds() <= MAX_BUFFER_SECONDS:
            raise ValueError(f"{OWNER}: buffering_interval must be 0 to 900 seconds; got {buffering_interval.to_seconds()}")
        instance(OWNER, "log_retention", log_retention, logs.RetentionDays)
        if alarm_topic is not None:
            instance(OWNER, "alarm_topic", alarm_topic, sns.ITopic)
        check_data_removal_policy(removal_policy, owner=OWNER)
        apply_data_removal_policy(self, removal_policy, what="the delivery log group and the Glue table (not the objects in the bucket)")

        self.data_prefix: str = f"{prefix}{partition_column}=!{{timestamp:yyyy-MM-dd}}/"
        self.error_prefix: str = f"errors/{prefix}!{{firehose:error-output-type}}/!{{timestamp:yyyy/MM/dd}}/"
        written = [prefix, f"errors/{prefix}"]

        self.destination_role: iam.Role = iam.Role(
            self, "DestinationRole", assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"),
            description="Firehose: write JSON lines under one prefix of the lake, never delete",
        )
        self.log_group: logs.LogGroup = encrypted_log_group(
            self, "LogGroup", key=log_key, retention=log_retention, removal_policy=removal_policy
        )
        # The role is given without policy updates, also as the stream's own role: aws-cdk-lib would
        # otherwise create a second role and grant it the key, which Firehose does not use (it works
        # with the grant it creates on the key itself).
        fixed_role = self.destination_role.without_policy_updates()
        self.delivery_stream: firehose.DeliveryStream = firehose.DeliveryStream(
            self, "DeliveryStream",
            encryption=firehose.StreamEncryption.customer_managed_key(key),
            role=fixed_role,
            destination=firehose.S3Bucket(
                bucket,
                role=fixed_role,
                encryption_key=key,
                data_output_prefix=self.data_prefix,
                error_output_prefix=self.error_prefix,
                compression=firehose.Compression.GZIP,
                buffering_size=buffering_size,
                buffering_interval=buffering_interval,
                logging_config=firehose.EnableLogging(self.log_group),
            ),
        )
        self._grant_destination(bucket, key, written)
        self.delivery_stream.node.add_dependency(self.destination_role.node.find_child("DefaultPolicy"))

        self.table: glue.S3Table = glue.S3Table(
            self, "Table",
            database=database,
            table_name=table_name,
            description=f"JSON lines delivered by Firehose under s3://<bucket>/{prefix}, one folder per day of arrival (UTC)",
            storage=glue.S3TableStorage.from_bucket(bucket),
            s3_prefix=prefix,
            data_format=glue.DataFormat.JSON,
            compressed=True,
            columns=columns,
            partition_keys=[glue.Column(name=partition_column, type=glue.Schema.STRING, comment="day of arrival, UTC")],
            partition_projection={
                partition_column: glue.PartitionProjectionConfiguration.date(
                    format="yyyy-MM-dd", min=projection_start, max="NOW",
                    step=glue.DateProjectionStep(interval=1, interval_unit=glue.DateIntervalUnit.DAYS),
                )
            },
        )
        # aws-cdk-lib writes has_encrypted_data (true by default, a JSON boolean where Glue keeps strings);
        # the property marks client-side encryption, so it is left out: SSE-KMS needs no table property
        # (Athena User Guide, "Create tables based on encrypted datasets in Amazon S3").
        table_resource = self.table.node.default_child
        assert isinstance(table_resource, glue.CfnTable)
        table_resource.add_property_deletion_override("TableInput.Parameters.has_encrypted_data")
        self.table.apply_removal_policy(removal_policy)

        def metric(name: str, statistic: str) -> cloudwatch.Metric:
            return firehose_metric(self.delivery_stream.delivery_stream_name, name, statistic)

        self.alarms: dict[str, cloudwatch.Alarm] = create_alarms(self, {
            "data_freshness": (metric("DeliveryToS3.DataFreshness", "Maximum"), ABOVE, max_data_freshness.to_seconds(),
                               "Records wait in Firehose longer than allowed before reaching S3"),
            "delivery_failures": (metric("DeliveryToS3.Success", "Average"), BELOW, 1,
                                  "Firehose failed to write to S3; it retries, then writes to the error prefix"),
            "throttled_records": (metric("ThrottledRecords", "Sum"), ABOVE, 0,
                                  "Producers were throttled: the delivery stream's ingestion limit was exceeded"),
        })
        notify(self.alarms, alarm_topic)

    def _grant_destination(self, bucket: s3.IBucket, key: kms.IKey, prefixes: Sequence[str]) -> None:
        """The destination role's whole policy (see the module docstring)."""
        role = self.destination_role
        stack = cdk.Stack.of(self)
        log_stream = self.log_group.node.find_child("S3Destination")
        assert isinstance(log_stream, logs.LogStream)
        for statement in (
            iam.PolicyStatement(sid="LocateTheBucket", actions=["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
                                resources=[bucket.bucket_arn]),
            iam.PolicyStatement(sid="ListItsPrefixes", actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
                                conditions={"StringLike": {"s3:prefix": [p for prefix in prefixes for p in (prefix, f"{prefix}*")]}}),
            iam.PolicyStatement(sid="WriteItsPrefixes", actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                                resources=[bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes]),
            iam.PolicyStatement(sid="WriteItsLogStream", actions=["logs:PutLogEvents"], resources=[stack.format_arn(
                service="logs", resource="log-group",
                resource_name=f"{self.log_group.log_group_name}:log-stream:{log_stream.log_stream_name}",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )]),
            iam.PolicyStatement(sid="FirehoseNeverDeletes", effect=iam.Effect.DENY, actions=list(OBJECT_DELETION_ACTIONS),
                                resources=[bucket.arn_for_objects("*")]),
            key_statement(key, KMS_WRITE_ACTIONS, via="s3"),
        ):
            role.add_to_principal_policy(statement)
        acknowledge_resources(role, _ITS_PREFIXES, *(bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes))

    def grant_put(self, grantee: iam.IGrantable) -> None:
        """``firehose:PutRecord`` and ``firehose:PutRecordBatch`` on this delivery stream, nothing else:
        Firehose encrypts with its own grant on the key, so producers need no KMS permission."""
        instance(OWNER, "grantee", grantee, iam.IGrantable)
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=list(PUT_ACTIONS), resources=[self.delivery_stream.delivery_stream_arn])
        )
