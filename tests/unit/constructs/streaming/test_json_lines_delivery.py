"""JsonLinesDelivery: Direct PUT into one prefix, a folder per day, GZIP, encrypted with the given
key, a role that writes its two prefixes and never deletes, a producer grant of exactly the put
actions, the Glue table with partition projection on the day, and the alarms."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Annotations, Match, Template

from constructs_lib import TelemetryStream
from tests.compliance.nag import acknowledgments
from tests.unit.constructs.stack_helpers import only, stack
from tests.unit.constructs.streaming.builders import ANOMALY_COLUMNS, BUCKET, sink
from tests.unit.constructs.template_helpers import ACCOUNT, REGION, arn_of, logical_id, ref, role_statements, via_service


def make(**overrides):
    scope = stack()
    stream = TelemetryStream(scope, "Telemetry")
    delivery = sink(scope, stream, **overrides)
    producer = iam.Role(scope, "Producer", assumed_by=iam.ServicePrincipal("kinesisanalytics.amazonaws.com"))
    delivery.grant_put(producer)
    return scope, delivery, producer, Template.from_stack(scope)


@pytest.fixture(scope="module")
def default():
    return make()


def delivery_stream(template: Template) -> dict:
    return only(template, "AWS::KinesisFirehose::DeliveryStream")


def destination(template: Template) -> dict:
    return delivery_stream(template)["Properties"]["ExtendedS3DestinationConfiguration"]


def table_input(template: Template) -> dict:
    return only(template, "AWS::Glue::Table")["Properties"]["TableInput"]


def test_direct_put_into_a_folder_per_day_with_the_error_type_in_the_error_prefix(default) -> None:
    scope, delivery, _, template = default
    assert delivery_stream(template)["Properties"]["DeliveryStreamType"] == "DirectPut"
    s3 = destination(template)
    assert s3["BucketARN"] == f"arn:aws:s3:::{BUCKET}"
    assert s3["Prefix"] == "anomalies/event_date=!{timestamp:yyyy-MM-dd}/"
    assert s3["ErrorOutputPrefix"] == "errors/anomalies/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"
    assert (delivery.data_prefix, delivery.error_prefix) == (s3["Prefix"], s3["ErrorOutputPrefix"])
    assert s3["CompressionFormat"] == "GZIP"
    assert s3["BufferingHints"] == {"IntervalInSeconds": 300, "SizeInMBs": 5}
    assert "ProcessingConfiguration" not in s3 and "DynamicPartitioningConfiguration" not in s3


def test_encrypted_at_rest_in_firehose_and_in_s3_with_the_given_key(default) -> None:
    scope, _, _, template = default
    key = arn_of(scope.node.find_child("LakeKey"))
    assert delivery_stream(template)["Properties"]["DeliveryStreamEncryptionConfigurationInput"] == {
        "KeyARN": key, "KeyType": "CUSTOMER_MANAGED_CMK",
    }
    assert destination(template)["EncryptionConfiguration"] == {"KMSEncryptionConfig": {"AWSKMSKeyARN": key}}
    # Firehose creates its own grant on the key: no second role holds it.
    template.resource_count_is("AWS::IAM::Role", 2)  # the destination role and the test's producer


def test_delivery_is_logged_to_an_encrypted_log_group(default) -> None:
    _, delivery, _, template = default
    logging = destination(template)["CloudWatchLoggingOptions"]
    assert logging["Enabled"] is True and logging["LogGroupName"] == ref(delivery.log_group)
    group = template.to_json()["Resources"][logical_id(delivery.log_group)]
    assert group["Properties"]["KmsKeyId"]["Fn::GetAtt"][0].startswith("TelemetryKey")
    assert (group["Properties"]["RetentionInDays"], group["DeletionPolicy"]) == (365, "Retain")


def test_the_destination_role_writes_its_two_prefixes_and_never_deletes(default) -> None:
    scope, delivery, _, template = default
    bucket = f"arn:aws:s3:::{BUCKET}"
    objects = lambda path: f"{bucket}/{path}"  # noqa: E731
    statements = role_statements(template, delivery.destination_role)
    log_stream = delivery.log_group.node.find_child("S3Destination")
    assert statements == [
        {"Sid": "LocateTheBucket", "Action": ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], "Effect": "Allow", "Resource": bucket},
        {"Sid": "ListItsPrefixes", "Action": "s3:ListBucket", "Effect": "Allow", "Resource": bucket,
         "Condition": {"StringLike": {"s3:prefix": ["anomalies/", "anomalies/*", "errors/anomalies/", "errors/anomalies/*"]}}},
        {"Sid": "WriteItsPrefixes", "Action": ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"], "Effect": "Allow",
         "Resource": [objects("anomalies/*"), objects("errors/anomalies/*")]},
        {"Sid": "WriteItsLogStream", "Action": "logs:PutLogEvents", "Effect": "Allow", "Resource": {"Fn::Join": ["", [
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:", ref(delivery.log_group), ":log-stream:", ref(log_stream)]]}},
        {"Sid": "FirehoseNeverDeletes", "Action": ["s3:DeleteObject", "s3:DeleteObjectTagging", "s3:DeleteObjectVersion",
                                                   "s3:DeleteObjectVersionTagging"], "Effect": "Deny", "Resource": objects("*")},
        {"Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Effect": "Allow", "Resource": arn_of(scope.node.find_child("LakeKey")),
         "Condition": {"StringEquals": {"kms:ViaService": via_service("s3")}}},
    ]
    # Firehose checks the role when the stream is created: the policy comes first.
    assert logical_id(delivery.destination_role.node.find_child("DefaultPolicy")) in delivery_stream(template)["DependsOn"]
    assert destination(template)["RoleARN"] == arn_of(delivery.destination_role)


def test_only_the_written_prefixes_are_acknowledged(default) -> None:
    scope, delivery, _, _ = default
    found = {a.rule_id for a in acknowledgments(scope.node.root) if a.path == delivery.destination_role.node.path}
    assert found == {f"AwsSolutions-IAM5[Resource::arn:aws:s3:::{BUCKET}/{p}*]" for p in ("anomalies/", "errors/anomalies/")}


def test_a_producer_gets_the_put_actions_on_this_stream_only(default) -> None:
    _, delivery, producer, template = default
    assert role_statements(template, producer) == [
        {"Action": ["firehose:PutRecord", "firehose:PutRecordBatch"], "Effect": "Allow", "Resource": arn_of(delivery.delivery_stream)},
    ]


def test_the_table_reads_the_json_lines_with_projection_on_the_day(default) -> None:
    scope, delivery, _, template = default
    table = table_input(template)
    assert table["Name"] == "anomalies" and table["TableType"] == "EXTERNAL_TABLE"
    assert only(template, "AWS::Glue::Table")["Properties"]["DatabaseName"] == ref(scope.node.find_child("Database"))
    storage = table["StorageDescriptor"]
    assert storage["SerdeInfo"] == {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"}
    assert storage["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    assert storage["Location"] == f"s3://{BUCKET}/anomalies/"
    assert storage["Compressed"] is True
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == [(c.name, c.type.input_string) for c in ANOMALY_COLUMNS]
    assert table["PartitionKeys"] == [{"Name": "event_date", "Type": "string", "Comment": "day of arrival, UTC"}]
    assert table["Parameters"] == {
        "classification": "json",
        "projection.enabled": "true",
        "projection.event_date.type": "date",
        "projection.event_date.format": "yyyy-MM-dd",
        "projection.event_date.range": "2026-12-01,NOW",
        "projection.event_date.interval": "1",
        "projection.event_date.interval.unit": "DAYS",
    }


def test_the_columns_the_stack_passes_cover_every_field_the_application_writes() -> None:
    """Each of the four record types the application writes to its sink (flink_apps/anomaly_detection:
    records.py, sns.py), built by its own code: every field is a column, none is missing."""
    import json

    from flink_apps.anomaly_detection import records, sns
    from flink_apps.anomaly_detection.scoring import WindowStats
    from flink_apps.anomaly_detection.windows import Entry, Evaluation, Late, Scored

    entry = Entry(event_ms=1_800_000_000_000, value=42.0, event_time="2027-01-15T08:00:00Z", received_ms=1_800_000_000_500)
    scored = Scored(entry=entry, score=4.2, severity="CRITICAL")
    evaluation = Evaluation(window_start=1_799_999_400_000, window_end=1_800_000_000_000,
                            stats=WindowStats(count=12, mean=20.0, stddev=5.0), scored=(scored,), unscored=0)
    anomaly = records.anomaly("dev-1", "temperature", evaluation, scored, 1_800_000_001_000, 1_800_000_001_100)
    notification = records.notification(anomaly, 3, 1_800_000_001_200)
    lines = [
        anomaly,
        records.late("dev-1", "temperature", Late(entry, 1_800_000_000_000, 1_800_000_060_000, 1_800_000_090_000), 30_000, 1_800_000_100_000),
        records.rejected("not JSON", b"\xff", 1_800_000_000_000),
        sns.failed_record(notification, sns.Outcome(delivered=False, attempts=5, error="Throttling"), "2027-01-15T08:00:01.300Z"),
    ]
    written = {field for line in lines for field in json.loads(line)}
    assert written == {c.name for c in ANOMALY_COLUMNS}


def test_overrides_reach_the_template() -> None:
    scope, delivery, _, template = make(
        prefix="fleets/turbines/anomalies/", partition_column="arrival_day", projection_start="2025-01-31",
        buffering_size=cdk.Size.mebibytes(64), buffering_interval=cdk.Duration.seconds(60),
        max_data_freshness=cdk.Duration.minutes(5), log_retention=cdk.aws_logs.RetentionDays.ONE_MONTH,
        columns=[glue.Column(name="device_id", type=glue.Schema.STRING)], table_name="turbine_anomalies", alarm_topic=None,
    )
    s3 = destination(template)
    assert s3["Prefix"] == "fleets/turbines/anomalies/arrival_day=!{timestamp:yyyy-MM-dd}/"
    assert s3["ErrorOutputPrefix"].startswith("errors/fleets/turbines/anomalies/!{firehose:error-output-type}/")
    assert s3["BufferingHints"] == {"IntervalInSeconds": 60, "SizeInMBs": 64}
    table = table_input(template)
    assert table["Name"] == "turbine_anomalies"
    assert table["PartitionKeys"][0]["Name"] == "arrival_day"
    assert table["Parameters"]["projection.arrival_day.range"] == "2025-01-31,NOW"
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["device_id"]
    assert template.to_json()["Resources"][logical_id(delivery.log_group)]["Properties"]["RetentionInDays"] == 30
    freshness = template.to_json()["Resources"][logical_id(delivery.alarms["data_freshness"])]["Properties"]
    assert freshness["Threshold"] == 300 and "AlarmActions" not in freshness


def test_three_alarms_to_the_topic(default) -> None:
    _, delivery, _, template = default
    resources = template.to_json()["Resources"]
    alarms = {name: resources[logical_id(alarm)]["Properties"] for name, alarm in delivery.alarms.items()}
    expected = {
        "data_freshness": ("DeliveryToS3.DataFreshness", "Maximum", "GreaterThanThreshold", 900),
        "delivery_failures": ("DeliveryToS3.Success", "Average", "LessThanThreshold", 1),
        "throttled_records": ("ThrottledRecords", "Sum", "GreaterThanThreshold", 0),
    }
    assert {
        name: (a["MetricName"], a["Statistic"], a["ComparisonOperator"], a["Threshold"]) for name, a in alarms.items()
    } == expected
    for alarm in alarms.values():
        assert alarm["Namespace"] == "AWS/Firehose"
        assert alarm["Dimensions"] == [{"Name": "DeliveryStreamName", "Value": ref(delivery.delivery_stream)}]
        assert alarm["AlarmActions"] == [f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms"]


@pytest.mark.parametrize(("policy", "kept"), [(cdk.RemovalPolicy.RETAIN, "Retain"), (cdk.RemovalPolicy.DESTROY, "Delete")])
def test_the_removal_policy_of_the_log_group_and_the_table(policy, kept) -> None:
    scope, delivery, _, template = make(removal_policy=policy)
    resources = template.to_json()["Resources"]
    for resource in (delivery.log_group, delivery.table):
        assert resources[logical_id(resource)].get("DeletionPolicy", "Delete") == kept
    warnings = Annotations.from_stack(scope).find_warning("/Test/Anomalies", Match.string_like_regexp(".*removal_policy is DESTROY.*"))
    assert len(warnings) == (1 if policy == cdk.RemovalPolicy.DESTROY else 0)
    if warnings:
        assert "not the objects in the bucket" in str(warnings[0].entry.data)
