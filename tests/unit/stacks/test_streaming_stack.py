"""The streaming stack as the app builds it: the detector reads the telemetry stream through its own
enhanced fan-out consumer, takes its runtime properties from the environment's config, writes every
anomaly to the analytics zone (a table with a saved query) and notifies the alarm topic; capacity and
retention follow the environment."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
import sqlglot

from config import load_config
from config.model import DetectionConfig, SeverityConfig, StreamingConfig
from stacks.anomaly_records import ANOMALY_COLUMNS, PREFIX, TABLE_NAME
from stacks.streaming_stack import FLINK_RUNTIME, RUN_OPTIONS
from tests.synth import ENVIRONMENTS
from tests.unit.stacks.templates import only, resources


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def env(request, synthesised):
    name = request.param
    return name, synthesised(name).template(f"analytics-{name}-streaming"), load_config(name).environment


def property_groups(template: dict) -> dict[str, dict]:
    config = only(template, "AWS::KinesisAnalyticsV2::Application")["Properties"]["ApplicationConfiguration"]
    groups = config["EnvironmentProperties"]["PropertyGroups"]
    return {group["PropertyGroupId"]: group["PropertyMap"] for group in groups}


def detection_properties(detection: DetectionConfig) -> dict[str, str]:
    """What the application must receive for ``detection`` (flink_apps/anomaly_detection/properties.py keys)."""
    return {
        "window.size.seconds": str(detection.window_minutes * 60),
        "window.slide.seconds": str(detection.slide_minutes * 60),
        "min.samples": str(detection.min_samples),
        "severity.alert.threshold": str(detection.severity.alert),
        "severity.high.threshold": str(detection.severity.high),
        "severity.critical.threshold": str(detection.severity.critical),
        "watermark.out.of.orderness.seconds": str(detection.out_of_orderness_seconds),
    }


def test_the_detector_runs_the_built_application_on_the_configured_capacity(env) -> None:
    name, template, config = env
    application = only(template, "AWS::KinesisAnalyticsV2::Application")["Properties"]
    assert application["RuntimeEnvironment"] == FLINK_RUNTIME
    assert application["ApplicationName"] == f"analytics-{name}-anomaly-detection"
    flink = application["ApplicationConfiguration"]["FlinkApplicationConfiguration"]
    capacity = config.streaming.capacity
    assert flink["ParallelismConfiguration"] == {
        "ConfigurationType": "CUSTOM", "Parallelism": capacity.parallelism,
        "ParallelismPerKPU": capacity.parallelism_per_kpu, "AutoScalingEnabled": capacity.autoscaling,
    }
    assert flink["CheckpointConfiguration"]["CheckpointingEnabled"] is True
    assert application["ApplicationConfiguration"]["ApplicationSnapshotConfiguration"] == {"SnapshotsEnabled": True}


def test_the_application_properties_come_from_config_and_name_this_stacks_resources(env) -> None:
    name, template, config = env
    groups = property_groups(template)
    assert groups["kinesis.analytics.flink.run.options"] == RUN_OPTIONS
    assert groups["Detection"] == detection_properties(config.streaming.detection)
    (consumer_id,) = resources(template, "AWS::Kinesis::StreamConsumer")
    assert groups["TelemetrySource"] == {"efo.consumer.arn": {"Fn::GetAtt": [consumer_id, "ConsumerARN"]}, "initial.position": "LATEST"}
    (delivery_id,) = resources(template, "AWS::KinesisFirehose::DeliveryStream")
    assert groups["AnomalySink"] == {"delivery.stream.name": {"Ref": delivery_id}}
    notifications = groups["Notifications"]
    assert notifications["dedup.period.seconds"] == str(config.streaming.detection.notification_dedup_minutes * 60)
    assert "foundation" in json.dumps(notifications["topic.arn"])  # the environment's alarm topic


def test_the_consumer_is_the_detectors_own_on_the_ingestion_stream(env) -> None:
    name, template, _ = env
    consumer = only(template, "AWS::Kinesis::StreamConsumer")["Properties"]
    assert consumer["ConsumerName"] == f"analytics-{name}-anomaly-detection"
    assert f"analytics-{name}-ingestion" in json.dumps(consumer["StreamARN"])


def test_anomalies_land_in_the_analytics_zone_with_a_table_and_a_saved_query(env) -> None:
    name, template, config = env
    delivery = only(template, "AWS::KinesisFirehose::DeliveryStream")["Properties"]
    s3 = delivery["ExtendedS3DestinationConfiguration"]
    assert s3["Prefix"].startswith(PREFIX)
    assert "AnalyticsBucket" in json.dumps(s3["BucketARN"])
    assert s3["BufferingHints"] == {
        "IntervalInSeconds": config.streaming.delivery.buffer_interval_seconds,
        "SizeInMBs": config.streaming.delivery.buffer_size_mib,
    }
    table = only(template, "AWS::Glue::Table")["Properties"]["TableInput"]
    assert table["Name"] == TABLE_NAME
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == [c.name for c in ANOMALY_COLUMNS]
    database = f"analytics_{name}_streaming"
    (query,) = resources(template, "AWS::Athena::NamedQuery").values()
    assert query["Properties"]["Database"] == database
    sql = query["Properties"]["QueryString"]
    assert f'FROM "{database}"."{TABLE_NAME}"' in sql
    sqlglot.parse_one(sql.replace("?", "'2026-12-06'"), read="trino")  # Athena (Trino) SQL


def test_only_high_and_critical_notify_and_the_detector_may_publish_only_to_the_alarm_topic(env) -> None:
    _, template, _ = env
    policies = [p["Properties"]["PolicyDocument"]["Statement"] for p in resources(template, "AWS::IAM::Policy").values()]
    publish = [s for statements in policies for s in statements if s["Action"] == "sns:Publish"]
    assert len(publish) == 1 and "AlarmsTopic" in json.dumps(publish[0]["Resource"])


def test_the_detector_is_alarmed_to_the_alarm_topic(env) -> None:
    _, template, config = env
    alarms = {a["Properties"]["MetricName"]: a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values() if "MetricName" in a["Properties"]}
    assert {"downtime", "millisBehindLatest"} <= set(alarms)
    assert alarms["millisBehindLatest"]["Threshold"] == config.streaming.max_millis_behind_latest
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        assert "AlarmsTopic" in json.dumps(alarm["Properties"]["AlarmActions"])


def test_prod_keeps_the_application_its_state_and_its_logs(synthesised) -> None:
    template = synthesised("prod").template("analytics-prod-streaming")
    for kind in ("AWS::KinesisAnalyticsV2::Application", "AWS::Logs::LogGroup", "AWS::Glue::Table", "AWS::Glue::Database"):
        for logical_id, resource in resources(template, kind).items():
            assert resource.get("DeletionPolicy") == "Retain", (kind, logical_id)


def test_config_that_no_shipped_environment_uses_reaches_the_properties(tmp_path) -> None:
    """Every environment ships the reference defaults: build the stack with other values once."""
    from stacks.environment import EnvironmentSettings
    from stacks.streaming_stack import StreamingStack
    from tests.unit.stacks.governance_helpers import imported_lake
    from tests.unit.constructs.streaming.builders import application_zip
    from constructs_lib import TelemetryStream

    app = cdk.App()
    lake = imported_lake(app)
    ingestion = cdk.Stack(app, "Ingestion", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    stream = TelemetryStream(ingestion, "Stream", removal_policy=cdk.RemovalPolicy.DESTROY)
    detection = DetectionConfig(
        window_minutes=30, slide_minutes=5, min_samples=25, severity=SeverityConfig(alert=1.5, high=2.5, critical=6.0),
        out_of_orderness_seconds=120, notification_dedup_minutes=60,
    )
    config = StreamingConfig.model_validate({
        "detection": detection.model_dump(), "capacity": {"parallelism": 3, "parallelism_per_kpu": 2, "autoscaling": False},
        "delivery": {"buffer_size_mib": 8, "buffer_interval_seconds": 120}, "max_millis_behind_latest": 5000,
    })
    settings = EnvironmentSettings(
        project="team", name="qa", env=cdk.Environment(account="111122223333", region="eu-west-1"),
        removal_policy=cdk.RemovalPolicy.DESTROY, log_retention_days=30, is_production=False,
    )
    stack = StreamingStack(
        app, "Streaming", settings=settings, config=config, lake=lake, stream=stream,
        application_zip=application_zip(tmp_path),
    )
    template = cdk.assertions.Template.from_stack(stack).to_json()
    groups = property_groups(template)
    assert groups["Detection"] == detection_properties(detection)
    assert groups["Notifications"]["dedup.period.seconds"] == "3600"
    parallelism = only(template, "AWS::KinesisAnalyticsV2::Application")["Properties"]["ApplicationConfiguration"][
        "FlinkApplicationConfiguration"]["ParallelismConfiguration"]
    assert (parallelism["Parallelism"], parallelism["ParallelismPerKPU"], parallelism["AutoScalingEnabled"]) == (3, 2, False)
    hints = only(template, "AWS::KinesisFirehose::DeliveryStream")["Properties"]["ExtendedS3DestinationConfiguration"]["BufferingHints"]
    assert hints == {"IntervalInSeconds": 120, "SizeInMBs": 8}
    for resource in resources(template, "AWS::Logs::LogGroup").values():
        assert resource["Properties"]["RetentionInDays"] == 30 and resource["DeletionPolicy"] == "Delete"


def test_the_application_accepts_the_properties_the_stack_renders(env, tmp_path) -> None:
    """The app's own validation (flink_apps/anomaly_detection/properties.py) takes the rendered
    groups, tokens replaced by well-formed values: a key the stack renders that the app does not know
    would stop the application at start."""
    from flink_apps.anomaly_detection.properties import load_settings

    _, template, config = env
    groups = property_groups(template)
    concrete = {
        "TelemetrySource": {"efo.consumer.arn": "arn:aws:kinesis:eu-west-1:111111111111:stream/s/consumer/c:1", "initial.position": "LATEST"},
        "AnomalySink": {"delivery.stream.name": "analytics-dev-anomalies"},
        "Notifications": {**groups["Notifications"], "topic.arn": "arn:aws:sns:eu-west-1:111111111111:alarms"},
    }
    document = [{"PropertyGroupId": group, "PropertyMap": {**props, **concrete.get(group, {})}} for group, props in groups.items()]
    path = tmp_path / "application_properties.json"
    path.write_text(json.dumps(document))
    settings = load_settings(path)
    detection = config.streaming.detection
    assert settings.window_size_ms == detection.window_minutes * 60_000
    assert (settings.alert_threshold, settings.critical_threshold) == (detection.severity.alert, detection.severity.critical)
