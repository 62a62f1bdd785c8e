"""The ingestion stack as the app builds it: config reaches the template, and the parts are
wired to the foundation (raw bucket, lake key, alarm topic) and to each other."""

from __future__ import annotations

import json

import pytest

from config import load_config
from tests.synth import ENVIRONMENTS
from tests.unit.stacks.templates import only, resources


def foundation_output(env_name: str, output_prefix: str) -> str:
    """How a reference to the foundation stack's resource renders (weak cross-stack reference)."""
    return f'"Fn::GetStackOutput": {{"StackName": "analytics-{env_name}-foundation", "Region": {{"Ref": "AWS::Region"}}, "OutputName": "{output_prefix}'


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def env(request, synthesised):
    name = request.param
    return name, synthesised(name).template(f"analytics-{name}-ingestion"), load_config(name).environment


def test_stream_capacity_and_retention_come_from_config(env) -> None:
    _, template, config = env
    props = only(template, "AWS::Kinesis::Stream")["Properties"]
    stream = config.ingestion.stream
    assert props["RetentionPeriodHours"] == stream.retention_hours
    if stream.capacity_mode == "provisioned":
        assert (props["StreamModeDetails"], props["ShardCount"]) == ({"StreamMode": "PROVISIONED"}, stream.shard_count)
    else:
        assert (props["StreamModeDetails"], "ShardCount" in props) == ({"StreamMode": "ON_DEMAND"}, False)


def test_delivery_and_transform_settings_come_from_config(env) -> None:
    _, template, config = env
    delivery = config.ingestion.delivery
    destination = only(template, "AWS::KinesisFirehose::DeliveryStream")["Properties"]["ExtendedS3DestinationConfiguration"]
    assert destination["BufferingHints"] == {"IntervalInSeconds": delivery.buffer_interval_seconds, "SizeInMBs": delivery.buffer_size_mib}
    (processor,) = destination["ProcessingConfiguration"]["Processors"]
    params = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}
    assert params["BufferSizeInMBs"] == str(delivery.processor_buffer_size_mib)
    assert params["BufferIntervalInSeconds"] == str(delivery.processor_buffer_interval_seconds)
    function = only(template, "AWS::Lambda::Function")["Properties"]
    assert (function["MemorySize"], function["Timeout"]) == (config.ingestion.transform.memory_mib, config.ingestion.transform.timeout_seconds)
    rule = only(template, "AWS::IoT::TopicRule")["Properties"]["TopicRulePayload"]
    assert rule["Sql"].endswith(f"FROM '{config.ingestion.topic_prefix}/+/telemetry'")


def test_every_log_group_keeps_logs_as_long_as_config_says(env) -> None:
    _, template, config = env
    groups = resources(template, "AWS::Logs::LogGroup")
    assert len(groups) == 3
    assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {config.logging.retention_days}


def test_transform_uses_the_configured_powertools_layer_and_the_lambda_src_asset(synthesised) -> None:
    template = synthesised("dev").template("analytics-dev-ingestion")
    function = only(template, "AWS::Lambda::Function")["Properties"]
    version = load_config("dev").project.powertools_layer_version
    assert json.dumps(function["Layers"]).endswith(f':017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-x86_64:{version}"]]}}]')
    assert function["Handler"] == "firehose_transform.handler.lambda_handler"
    assert function["Runtime"] == "python3.14"


def test_the_lambda_asset_holds_the_transform_and_the_contract_but_no_caches(synthesised) -> None:
    app = synthesised("dev")
    function = only(app.template("analytics-dev-ingestion"), "AWS::Lambda::Function")
    asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    asset_dir = app.outdir / f"asset.{asset_hash}"
    files = sorted(str(p.relative_to(asset_dir)) for p in asset_dir.rglob("*") if p.is_file())
    assert "telemetry_contract.py" in files
    assert "firehose_transform/handler.py" in files
    assert not [f for f in files if "__pycache__" in f or f.endswith((".pyc", "README.md", "requirements.txt"))]


def test_firehose_writes_to_the_foundation_raw_bucket_with_the_lake_key(env) -> None:
    name, template, _ = env
    destination = json.dumps(only(template, "AWS::KinesisFirehose::DeliveryStream")["Properties"]["ExtendedS3DestinationConfiguration"])
    assert foundation_output(name, "PublishOutputFnGetAttDataLakeRawBucket") in destination
    assert foundation_output(name, "PublishOutputFnGetAttDataLakeDataKey") in destination


def test_roles_can_do_their_job_and_nothing_else(env) -> None:
    name, template, _ = env
    policies = {k: json.dumps(p["Properties"]["PolicyDocument"]) for k, p in resources(template, "AWS::IAM::Policy").items()}
    by_owner = {owner: next(v for k, v in policies.items() if k.startswith(owner)) for owner in (
        "IotRole", "DeliveryDestinationRole", "DeliveryDeliveryStreamServiceRole", "DeliveryTransformRole")}
    # IoT: put to the stream and encrypt with its key.
    assert '"kinesis:PutRecord"' in by_owner["IotRole"] and '"Stream862536A4"' in by_owner["IotRole"]
    assert '"kms:GenerateDataKey"' in by_owner["IotRole"] and "DataLake" not in by_owner["IotRole"]
    # Firehose source role: read the stream, decrypt with its key; no S3.
    assert '"kinesis:GetRecords"' in by_owner["DeliveryDeliveryStreamServiceRole"]
    assert '"kms:Decrypt"' in by_owner["DeliveryDeliveryStreamServiceRole"] and "s3:" not in by_owner["DeliveryDeliveryStreamServiceRole"]
    # Firehose destination role: the raw bucket only (not curated, analytics...), never delete.
    destination = by_owner["DeliveryDestinationRole"]
    assert "DataLakeRawBucket" in destination
    assert not any(other in destination for other in ("Curated", "Analytics", "QueryResults", "AccessLogs"))
    assert '"Effect": "Deny"' in destination
    # Transform: its own logs and traces only.
    assert "s3:" not in by_owner["DeliveryTransformRole"] and "kinesis:" not in by_owner["DeliveryTransformRole"]


def test_every_alarm_notifies_the_environments_alarm_topic(env) -> None:
    name, template, _ = env
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) == 3 + 1 + 7
    for logical_id, alarm in alarms.items():
        assert foundation_output(name, "PublishOutputRefAlarmsTopic") in json.dumps(alarm["Properties"]["AlarmActions"]), logical_id
