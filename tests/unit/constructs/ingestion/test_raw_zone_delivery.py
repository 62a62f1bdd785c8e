"""RawZoneDelivery: event-time partitions, error and backup prefixes, the transform as
configured, a role that never deletes, and the alarms."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib import RawZoneDelivery, TelemetryStream
from tests.compliance.nag import acknowledgments
from tests.unit.constructs.stack_helpers import alarm_actions, only, stack, topic
from tests.unit.constructs.template_helpers import arn_of, logical_id, role_statements, via_service

CODE = lambda_.Code.from_inline("def handler(event, context):\n    return event\n")


def make(**kwargs):
    scope = stack()
    stream = TelemetryStream(scope, "Telemetry")
    key = kms.Key(scope, "LakeKey")
    bucket = s3.Bucket(scope, "Raw", encryption_key=key)
    delivery = RawZoneDelivery(
        scope, "Delivery", source_stream=stream.stream, destination_bucket=bucket, destination_key=key,
        transform_code=CODE, transform_handler="index.handler", log_key=stream.key, **kwargs,
    )
    return scope, delivery, Template.from_stack(scope)


@pytest.fixture(scope="module")
def default():
    return make()


def destination(template: Template) -> dict:
    return only(template, "AWS::KinesisFirehose::DeliveryStream")["Properties"]["ExtendedS3DestinationConfiguration"]


def processor_parameters(template: Template) -> dict[str, str]:
    (processor,) = destination(template)["ProcessingConfiguration"]["Processors"]
    return {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}


def test_records_are_partitioned_by_the_transforms_event_time_keys(default) -> None:
    _, _, template = default
    config = destination(template)
    assert config["Prefix"] == "telemetry/event_date=!{partitionKeyFromLambda:event_date}/event_hour=!{partitionKeyFromLambda:event_hour}/"
    assert config["DynamicPartitioningConfiguration"] == {"Enabled": True}
    assert config["ErrorOutputPrefix"] == "errors/telemetry/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/"
    assert config["CompressionFormat"] == "GZIP"
    assert config["BufferingHints"] == {"IntervalInSeconds": 60, "SizeInMBs": 64}


def test_the_source_is_the_stream(default) -> None:
    scope, _, template = default
    source = only(template, "AWS::KinesisFirehose::DeliveryStream")["Properties"]["KinesisStreamSourceConfiguration"]
    assert source["KinesisStreamARN"] == {"Fn::GetAtt": [next(iter(template.find_resources("AWS::Kinesis::Stream"))), "Arn"]}


def test_the_processor_is_the_transform_with_explicit_buffering(default) -> None:
    scope, delivery, template = default
    params = processor_parameters(template)
    assert params["LambdaArn"] == {"Fn::GetAtt": [scope.get_logical_id(delivery.transform.node.default_child), "Arn"]}
    assert (params["BufferSizeInMBs"], params["BufferIntervalInSeconds"], params["NumberOfRetries"]) == ("1", "60", "3")


def test_every_source_record_is_backed_up_for_replay(default) -> None:
    _, _, template = default
    config = destination(template)
    assert config["S3BackupMode"] == "Enabled"
    backup = config["S3BackupConfiguration"]
    assert backup["Prefix"] == "backup/telemetry/!{timestamp:yyyy/MM/dd/HH}/"
    assert backup["CompressionFormat"] == "GZIP"
    assert "KMSEncryptionConfig" in backup["EncryptionConfiguration"]


def test_delivery_is_logged_and_encrypted_with_the_lake_key(default) -> None:
    scope, delivery, template = default
    config = destination(template)
    assert config["CloudWatchLoggingOptions"]["LogGroupName"] == {"Ref": scope.get_logical_id(delivery.delivery_log_group.node.default_child)}
    assert config["EncryptionConfiguration"]["KMSEncryptionConfig"]["AWSKMSKeyARN"]["Fn::GetAtt"][0].startswith("LakeKey")


def test_transform_runs_the_newest_python_with_tracing_and_its_own_log_group(default) -> None:
    scope, delivery, template = default
    props = only(template, "AWS::Lambda::Function")["Properties"]
    assert props["Runtime"] == "python3.14"
    assert (props["MemorySize"], props["Timeout"], props["Handler"]) == (256, 120, "index.handler")
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["LoggingConfig"]["LogGroup"] == {"Ref": scope.get_logical_id(delivery.transform_log_group.node.default_child)}
    assert props["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "FirehoseTransform"


def test_the_destination_role_has_what_the_firehose_guide_lists_on_the_prefixes_it_writes(default) -> None:
    """Firehose developer guide, "Grant Firehose access to an Amazon S3 destination": no whole-bucket
    object access, no retention, legal hold, tagging or kms:ReEncrypt*, every deletion denied."""
    scope, delivery, template = default
    bucket = {"Fn::GetAtt": [next(k for k in template.find_resources("AWS::S3::Bucket")), "Arn"]}
    prefixes = ["telemetry/", "errors/telemetry/", "backup/telemetry/", "backup-errors/telemetry/"]
    function = {"Fn::GetAtt": [scope.get_logical_id(delivery.transform.node.default_child), "Arn"]}
    assert role_statements(template, delivery.destination_role) == [
        {"Action": ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], "Effect": "Allow", "Resource": bucket, "Sid": "LocateTheBucket"},
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": [p for prefix in prefixes for p in (prefix, f"{prefix}*")]}},
            "Effect": "Allow",
            "Resource": bucket,
            "Sid": "ListItsPrefixes",
        },
        {
            "Action": ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            "Effect": "Allow",
            "Resource": [{"Fn::Join": ["", [bucket, f"/{prefix}*"]]} for prefix in prefixes],
            "Sid": "WriteItsPrefixes",
        },
        {
            "Action": ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
            "Effect": "Allow",
            "Resource": [function, {"Fn::Join": ["", [function, ":$LATEST"]]}],
            "Sid": "InvokeTheTransform",
        },
        {
            "Action": ["s3:DeleteObject", "s3:DeleteObjectTagging", "s3:DeleteObjectVersion", "s3:DeleteObjectVersionTagging"],
            "Effect": "Deny",
            "Resource": {"Fn::Join": ["", [bucket, "/*"]]},
            "Sid": "FirehoseNeverDeletes",
        },
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Condition": {"StringEquals": {"kms:ViaService": via_service("s3")}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [next(k for k in template.find_resources("AWS::KMS::Key") if k.startswith("LakeKey")), "Arn"]},
        },
        {"Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Effect": "Allow", "Resource": arn_of(delivery.delivery_log_group)},
    ]


def test_nothing_grants_the_destination_role_more_than_its_own_statements(default) -> None:
    _, delivery, template = default
    granted = json.dumps(role_statements(template, delivery.destination_role))
    for action in ("s3:PutObjectRetention", "s3:PutObjectLegalHold", "kms:ReEncrypt", "s3:DeleteObject*", "s3:List*", "s3:GetObject*", "s3:PutObjectTagging"):
        assert action not in granted, action
    # Firehose checks the role when the stream is created: the policy is deployed first.
    stream = only(template, "AWS::KinesisFirehose::DeliveryStream")
    assert logical_id(delivery.destination_role.node.find_child("DefaultPolicy")) in stream["DependsOn"]


def test_no_reserved_concurrency_is_acknowledged_for_what_firehose_documents_not_a_shard_bound(default) -> None:
    scope, delivery, _ = default
    reasons = {
        a.rule_id: a.reason for a in acknowledgments(scope.node.root)
        if a.path == delivery.transform.node.path and a.rule_id.endswith("LambdaConcurrency")
    }
    assert set(reasons) == {"HIPAA.Security-LambdaConcurrency", "NIST.800.53.R5-LambdaConcurrency"}
    for reason in reasons.values():
        assert "shard" not in reason  # Firehose does not bound its invocations by shards
        assert "processing-failed" in reason and "retries three times" in reason


def test_the_written_prefixes_are_acknowledged_and_nothing_wider(default) -> None:
    scope, delivery, _ = default
    found = {a.rule_id for a in acknowledgments(scope.node.root) if a.path == delivery.destination_role.node.path}
    assert {f for f in found if f.startswith("AwsSolutions-IAM5")} == {
        f"AwsSolutions-IAM5[Resource::<{logical_id(scope.node.find_child('Raw'))}.Arn>/{prefix}*]"
        for prefix in ("telemetry/", "errors/telemetry/", "backup/telemetry/", "backup-errors/telemetry/")
    }


def test_seven_alarms_and_a_freshness_threshold_as_given() -> None:
    scope = stack()
    stream = TelemetryStream(scope, "Telemetry")
    delivery = RawZoneDelivery(
        scope, "Delivery", source_stream=stream.stream, destination_bucket=s3.Bucket(scope, "Raw"), destination_key=None,
        transform_code=CODE, transform_handler="index.handler", log_key=stream.key,
        max_data_freshness=cdk.Duration.minutes(20), alarm_topic=topic(scope),
    )
    template = Template.from_stack(scope)
    assert set(delivery.alarms) == {
        "data_freshness", "source_throttling", "transform_failures", "delivery_failures",
        "transform_errors", "transform_throttles", "invalid_records",
    }
    by_metric = {a["Properties"].get("MetricName"): a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()}
    assert by_metric["DeliveryToS3.DataFreshness"]["Threshold"] == 1200
    assert by_metric["RecordsFailed"]["Namespace"] == "FirehoseTransform"
    assert by_metric["RecordsFailed"]["Dimensions"] == [{"Name": "service", "Value": "firehose-transform"}]
    assert by_metric["ExecuteProcessing.Success"]["ComparisonOperator"] == "LessThanThreshold"
    actions = alarm_actions(template)
    assert actions.count(["arn:aws:sns:eu-west-1:111122223333:alarms"]) == 7  # the delivery alarms
    assert actions.count(None) == 3  # the stream here was given no topic


def test_overrides_reach_the_template() -> None:
    _, _, template = make(
        data_prefix="iot/", partition_keys=("event_date",), buffering_size=cdk.Size.mebibytes(128),
        buffering_interval=cdk.Duration.seconds(300), processor_buffer_size=cdk.Size.mebibytes(2),
        processor_buffer_interval=cdk.Duration.seconds(120), transform_memory_mib=512,
    )
    config = destination(template)
    assert config["Prefix"] == "iot/event_date=!{partitionKeyFromLambda:event_date}/"
    assert config["BufferingHints"] == {"IntervalInSeconds": 300, "SizeInMBs": 128}
    params = processor_parameters(template)
    assert (params["BufferSizeInMBs"], params["BufferIntervalInSeconds"]) == ("2", "120")
    assert only(template, "AWS::Lambda::Function")["Properties"]["MemorySize"] == 512


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"buffering_size": cdk.Size.mebibytes(32)}, "at least 64 MiB"),
        ({"data_prefix": "telemetry"}, "must end with '/'"),
        ({"partition_keys": ()}, "at least one key"),
    ],
)
def test_settings_firehose_would_reject_fail_at_synth(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        make(**kwargs)


def test_metric_names_environment_retention_and_removal_overrides_are_applied() -> None:
    from aws_cdk import aws_logs as logs

    _, delivery, template = make(
        metrics_namespace="Team/Ingest", metrics_service="team-transform", transform_environment={"FEATURE": "on"},
        log_retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    variables = only(template, "AWS::Lambda::Function")["Properties"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Team/Ingest"
    assert variables["POWERTOOLS_SERVICE_NAME"] == "team-transform"
    assert variables["FEATURE"] == "on"
    by_metric = {a["Properties"].get("MetricName"): a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()}
    assert by_metric["RecordsFailed"]["Namespace"] == "Team/Ingest"
    assert by_metric["RecordsFailed"]["Dimensions"] == [{"Name": "service", "Value": "team-transform"}]
    groups = template.find_resources("AWS::Logs::LogGroup")
    ours = {k: g for k, g in groups.items() if k.startswith("Delivery")}
    assert len(ours) == 2
    for group in ours.values():
        assert (group["Properties"]["RetentionInDays"], group["DeletionPolicy"]) == (30, "Delete")
