#!/usr/bin/env python3
"""Two device fleets, two ingestion pipelines, one data lake whose raw bucket already exists.

Composes ``constructs_lib`` the way another team might: one stack, a pipeline construct of the
team's own used twice, a raw bucket owned by someone else, and the five cdk-nag packs. It needs
nothing but the installed library, aws-cdk-lib and cdk-nag. See README.md next to this file.

``python app.py`` (or ``cdk synth``) synthesises it; no AWS account or credentials are needed.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks
from constructs import Construct, IConstruct

from constructs_lib import (
    AlarmTopic,
    AthenaWorkgroup,
    DataLakeStorage,
    IotTelemetryRule,
    RawZoneDelivery,
    ResourceNamer,
    TelemetryStream,
)

#: The raw bucket another team owns and the KMS key it is encrypted with. Their bucket policy and
#: key policy must let this account's Firehose roles write with it. Override with
#: ``cdk synth -c raw_bucket_name=... -c raw_bucket_key_arn=...``.
RAW_BUCKET_NAME = "device-team-raw-111122223333"
RAW_BUCKET_KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

#: One pipeline per fleet, construct id -> (IoT topic prefix, raw bucket prefix): devices publish
#: to ``<topic prefix>/<device id>/telemetry``; readings land under
#: ``<data prefix>event_date=YYYY-MM-DD/event_hour=HH/`` of the raw bucket.
FLEETS = {
    "Turbines": ("turbines", "fleets/turbines/"),
    "Meters": ("meters", "fleets/meters/"),
}
METRICS_NAMESPACE = "FleetTelemetry"
WORKGROUP_NAME = ResourceNamer("fleets", "example").name("adhoc")  # "fleets-example-adhoc"

#: The Firehose transform, inline (Lambda's ``index.handler``). The library ships no transform:
#: what a valid reading is belongs to the team that owns the devices. This one relies only on what
#: IotTelemetryRule adds to every reading (``device_id``, and ``ingested_at`` in epoch
#: milliseconds), partitions by ingestion hour (UTC), ends every record with a newline (JSON
#: lines for Athena), and publishes the count of rejected records as the ``RecordsFailed`` metric
#: (embedded metric format) that RawZoneDelivery's ``invalid_records`` alarm watches.
TRANSFORM_SOURCE = '''
import base64, json, os, time
from datetime import datetime, timezone


def handler(event, context):
    records, failed = [], 0
    for record in event["records"]:
        try:
            reading = json.loads(base64.b64decode(record["data"]))
            if not isinstance(reading.get("device_id"), str):
                raise ValueError("no device_id")
            at = datetime.fromtimestamp(reading["ingested_at"] / 1000, tz=timezone.utc)
            line = json.dumps(reading, separators=(",", ":")) + "\\n"
            records.append({
                "recordId": record["recordId"],
                "result": "Ok",
                "data": base64.b64encode(line.encode()).decode(),
                "metadata": {"partitionKeys": {"event_date": at.strftime("%Y-%m-%d"), "event_hour": at.strftime("%H")}},
            })
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError, OSError):
            failed += 1
            records.append({"recordId": record["recordId"], "result": "ProcessingFailed", "data": record["data"]})
    print(json.dumps({
        "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
            "Namespace": os.environ["POWERTOOLS_METRICS_NAMESPACE"],
            "Dimensions": [["service"]],
            "Metrics": [{"Name": "RecordsFailed", "Unit": "Count"}],
        }]},
        "service": os.environ["POWERTOOLS_SERVICE_NAME"],
        "RecordsFailed": failed,
    }))
    return {"records": records}
'''

# --- Why each remaining cdk-nag finding is accepted in this example --------------------------
# Every acknowledgment names one rule id on the narrowest construct that has the finding.
INLINE_POLICY_RULES = (
    "HIPAA.Security-IAMNoInlinePolicy",
    "NIST.800.53.R5-IAMNoInlinePolicy",
    "PCI.DSS.321-IAMNoInlinePolicy",
)
REPLICATION_RULES = (
    "HIPAA.Security-S3BucketReplicationEnabled",
    "NIST.800.53.R5-S3BucketReplicationEnabled",
    "PCI.DSS.321-S3BucketReplicationEnabled",
)
GRANT_POLICIES = (
    "This role's permissions are the one policy CDK generates from the library's explicit grants, "
    "attached to this role only and scoped to the fleet's stream, key, log group or the raw bucket. A "
    "customer-managed policy would be a separately attachable object, reusable on other principals."
)
SINGLE_REGION_LAKE = (
    "This example's lake is single-region by decision: objects are stored across at least three "
    "Availability Zones by S3, and versioning, noncurrent-version retention and the RETAIN removal "
    "policy protect against overwrites and deletion. Add replication where a regional RPO is required."
)
FIREHOSE_L2_MAPPING = (
    "aws-cdk-lib's DeliveryStream always adds a region-to-CIDR mapping that only Redshift, Splunk and "
    "HTTP destinations use; with the S3 destination of this example it is unused and cannot be removed."
)


def acknowledge(construct: IConstruct, reason: str, *rule_ids: str) -> None:
    cdk.Validations.of(construct).acknowledge(*(cdk.Acknowledgment(id=rule_id, reason=reason) for rule_id in rule_ids))


class FleetPipeline(Construct):
    """IoT topic rule -> encrypted Kinesis stream -> Firehose with the inline transform -> one prefix
    of the raw bucket. Attributes: ``stream``, ``iot``, ``delivery`` (the library's constructs)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic_prefix: str,
        data_prefix: str,
        raw_bucket: s3.IBucket,
        raw_bucket_key: kms.IKey,
        alarm_topic: AlarmTopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stream = TelemetryStream(self, "Stream", alarm_topic=alarm_topic.topic)
        self.iot = IotTelemetryRule(
            self, "Iot", stream=self.stream.stream, topic_prefix=topic_prefix, log_key=self.stream.key,
            alarm_topic=alarm_topic.topic,
        )
        self.delivery = RawZoneDelivery(
            self,
            "Delivery",
            source_stream=self.stream.stream,
            destination_bucket=raw_bucket,
            destination_key=raw_bucket_key,
            transform_code=lambda_.Code.from_inline(TRANSFORM_SOURCE),
            transform_handler="index.handler",
            transform_memory_mib=128,
            log_key=self.stream.key,
            data_prefix=data_prefix,
            metrics_namespace=METRICS_NAMESPACE,
            metrics_service=f"{topic_prefix}-transform",
            alarm_topic=alarm_topic.topic,
        )
        self._acknowledge()

    def _acknowledge(self) -> None:
        """The one kind of finding the library's constructs leave to the app: CDK puts each role's
        grants in an inline policy, and whether that is acceptable is the app's call."""
        delivery = self.delivery
        for role_scope in (delivery.delivery_stream, delivery.destination_role, delivery.transform.role, self.iot.role):
            acknowledge(role_scope, GRANT_POLICIES, *INLINE_POLICY_RULES)


class FleetLakeStack(cdk.Stack):
    """The lake (around the existing raw bucket), the alarm topic, one pipeline per fleet, and an
    Athena workgroup whose results go to the lake's query-results bucket.

    Attributes: ``raw_bucket`` (imported), ``lake`` (DataLakeStorage), ``alarms`` (AlarmTopic),
    ``pipelines`` (construct id -> FleetPipeline), ``workgroup`` (AthenaWorkgroup).
    """

    def __init__(self, scope: Construct, construct_id: str, *, raw_bucket_name: str, raw_bucket_key_arn: str,
                 **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        raw_bucket_key = kms.Key.from_key_arn(self, "RawBucketKey", raw_bucket_key_arn)
        self.raw_bucket = s3.Bucket.from_bucket_attributes(
            self, "RawBucket", bucket_name=raw_bucket_name, encryption_key=raw_bucket_key
        )
        # The curated, analytics, query-results and access-log buckets and their key are created;
        # the raw bucket is used as it is (its settings stay the device team's).
        self.lake = DataLakeStorage(self, "Lake", existing_raw_bucket=self.raw_bucket)
        self.alarms = AlarmTopic(self, "Alarms")
        self.pipelines = {
            name: FleetPipeline(
                self, name, topic_prefix=topic_prefix, data_prefix=data_prefix,
                raw_bucket=self.raw_bucket, raw_bucket_key=raw_bucket_key, alarm_topic=self.alarms,
            )
            for name, (topic_prefix, data_prefix) in FLEETS.items()
        }
        self.workgroup = AthenaWorkgroup(
            self,
            "Queries",
            workgroup_name=WORKGROUP_NAME,
            results_bucket=self.lake.query_results_bucket,
            results_prefix="adhoc/",
            results_key=self.lake.key,
            bytes_scanned_cutoff_per_query=1_000_000_000,
        )

        acknowledge(self.lake, SINGLE_REGION_LAKE, *REPLICATION_RULES)
        acknowledge(self, FIREHOSE_L2_MAPPING, "CloudFormation-Validate::W7001")


COMPLIANCE_PACKS = (AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks)


def build_app(outdir: str | None = None, context: dict[str, str] | None = None) -> cdk.App:
    """The app with the five cdk-nag packs registered: synth fails on any unacknowledged finding.
    ``outdir`` and ``context`` are for tests; the CDK CLI passes both through the environment."""
    app = cdk.App(outdir=outdir, context=context)
    raw_bucket_name = app.node.try_get_context("raw_bucket_name")
    raw_bucket_key_arn = app.node.try_get_context("raw_bucket_key_arn")
    FleetLakeStack(
        app,
        "FleetTelemetry",
        description="Two device fleets' ingestion into one data lake (constructs_lib example)",
        raw_bucket_name=RAW_BUCKET_NAME if raw_bucket_name is None else raw_bucket_name,
        raw_bucket_key_arn=RAW_BUCKET_KEY_ARN if raw_bucket_key_arn is None else raw_bucket_key_arn,
    )
    cdk.Validations.of(app).add_plugins(*(pack(app) for pack in COMPLIANCE_PACKS))
    return app


if __name__ == "__main__":
    build_app().synth()
