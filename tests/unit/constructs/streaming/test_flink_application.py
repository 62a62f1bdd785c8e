"""PyFlinkApplication: the runtime and code as given, property groups in a fixed order, checkpoints
and snapshots on, logging to an encrypted log group, a role holding its own statements plus the
caller's grants, the four alarms, and the removal policy of everything that holds the application."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from constructs_lib import DATA_DESTROYED_WARNING_ID
from tests.compliance.nag import acknowledgments
from tests.unit.constructs.stack_helpers import only, stack
from tests.unit.constructs.streaming.builders import RUN_OPTIONS, application_zip, pipeline
from tests.unit.constructs.template_helpers import ACCOUNT, REGION, arn_of, logical_id, ref, role_statements, via_service

ALARMS = "AWS::CloudWatch::Alarm"


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> str:
    return application_zip(tmp_path_factory.mktemp("flink-code"))


def make(code: str, **overrides):
    scope = stack()
    built = pipeline(scope, code, **overrides)
    return scope, built, Template.from_stack(scope)


@pytest.fixture(scope="module")
def default(code):
    return make(code)


def application(template: Template) -> dict:
    return only(template, "AWS::KinesisAnalyticsV2::Application")


def configuration(template: Template) -> dict:
    return application(template)["Properties"]["ApplicationConfiguration"]


def alarms_by_id(scope: cdk.Stack, app) -> dict[str, dict]:
    resources = Template.from_stack(scope).to_json()["Resources"]
    return {name: resources[logical_id(alarm)]["Properties"] for name, alarm in app.alarms.items()}


def test_the_runtime_and_the_zip_as_given(default) -> None:
    _, built, template = default
    app = built["application"]
    properties = application(template)["Properties"]
    assert properties["RuntimeEnvironment"] == "FLINK-1_20"
    assert properties["ApplicationMode"] == "STREAMING"
    assert properties["ServiceExecutionRole"] == arn_of(app.role)
    code = configuration(template)["ApplicationCodeConfiguration"]
    assert code["CodeContentType"] == "ZIPFILE"
    assert code["CodeContent"]["S3ContentLocation"] == {
        "BucketARN": f"arn:aws:s3:::cdk-hnb659fds-assets-{ACCOUNT}-{REGION}", "FileKey": app.code.s3_object_key,
    }
    assert app.code.s3_object_key.endswith(".zip")


def test_property_groups_are_rendered_sorted_with_the_tokens_resolved(default) -> None:
    _, built, template = default
    groups = configuration(template)["EnvironmentProperties"]["PropertyGroups"]
    assert [g["PropertyGroupId"] for g in groups] == [
        "AnomalySink", "Detection", "TelemetrySource", "kinesis.analytics.flink.run.options",
    ]
    by_id = {g["PropertyGroupId"]: g["PropertyMap"] for g in groups}
    assert by_id["kinesis.analytics.flink.run.options"] == RUN_OPTIONS
    assert list(by_id["Detection"]) == ["min.samples", "window.size.seconds", "window.slide.seconds"]
    assert by_id["TelemetrySource"]["efo.consumer.arn"] == {
        "Fn::GetAtt": [logical_id(built["consumer"].consumer), "ConsumerARN"]
    }
    assert by_id["AnomalySink"] == {"delivery.stream.name": ref(built["sink"].delivery_stream)}


def test_the_order_a_caller_builds_its_groups_in_does_not_change_the_template(code) -> None:
    def groups(reverse: bool) -> dict:
        items = [("Zeta", {"b": "2", "a": "1"}), ("kinesis.analytics.flink.run.options", RUN_OPTIONS), ("Alpha", {"x": "y"})]
        if reverse:
            items = [(g, dict(reversed(list(v.items())))) for g, v in reversed(items)]
        return dict(items)

    rendered = [
        configuration(make(code, property_groups=groups(reverse))[2])["EnvironmentProperties"] for reverse in (False, True)
    ]
    assert rendered[0] == rendered[1]


def test_checkpoints_and_snapshots_are_on_and_every_start_restores_the_latest_snapshot(default) -> None:
    _, _, template = default
    flink = configuration(template)["FlinkApplicationConfiguration"]
    assert flink["CheckpointConfiguration"] == {
        "ConfigurationType": "CUSTOM", "CheckpointingEnabled": True, "CheckpointInterval": 60_000,
        "MinPauseBetweenCheckpoints": 5_000,
    }
    assert configuration(template)["ApplicationSnapshotConfiguration"] == {"SnapshotsEnabled": True}
    assert application(template)["Properties"]["RunConfiguration"] == {
        "ApplicationRestoreConfiguration": {"ApplicationRestoreType": "RESTORE_FROM_LATEST_SNAPSHOT"},
        "FlinkRunConfiguration": {"AllowNonRestoredState": False},
    }
    assert flink["ParallelismConfiguration"] == {
        "ConfigurationType": "CUSTOM", "Parallelism": 1, "ParallelismPerKPU": 1, "AutoScalingEnabled": True,
    }
    assert flink["MonitoringConfiguration"] == {"ConfigurationType": "CUSTOM", "LogLevel": "INFO", "MetricsLevel": "APPLICATION"}


def test_overrides_reach_the_template(code) -> None:
    scope, built, template = make(
        code, runtime="FLINK-2_2", application_name="team-dev-anomalies", parallelism=4, parallelism_per_kpu=2,
        auto_scaling=False, checkpoint_interval=cdk.Duration.seconds(30), min_pause_between_checkpoints=cdk.Duration.seconds(10),
        allow_non_restored_state=True, log_level="WARN", metrics_level="OPERATOR",
        log_retention=cdk.aws_logs.RetentionDays.THREE_MONTHS,
    )
    properties = application(template)["Properties"]
    flink = properties["ApplicationConfiguration"]["FlinkApplicationConfiguration"]
    assert properties["RuntimeEnvironment"] == "FLINK-2_2"
    assert properties["ApplicationName"] == "team-dev-anomalies"
    assert flink["ParallelismConfiguration"] == {
        "ConfigurationType": "CUSTOM", "Parallelism": 4, "ParallelismPerKPU": 2, "AutoScalingEnabled": False,
    }
    assert (flink["CheckpointConfiguration"]["CheckpointInterval"], flink["CheckpointConfiguration"]["MinPauseBetweenCheckpoints"]) == (30_000, 10_000)
    assert flink["MonitoringConfiguration"] == {"ConfigurationType": "CUSTOM", "LogLevel": "WARN", "MetricsLevel": "OPERATOR"}
    assert properties["RunConfiguration"]["FlinkRunConfiguration"] == {"AllowNonRestoredState": True}
    assert template.to_json()["Resources"][logical_id(built["application"].log_group)]["Properties"]["RetentionInDays"] == 90
    # A named application: the role trusts that application only.
    (trust,) = template.to_json()["Resources"][logical_id(built["application"].role)]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:kinesisanalytics:{REGION}:{ACCOUNT}:application/team-dev-anomalies"
    }
    # Flink 2.2 removed fullRestarts: the restart alarm watches numRestarts.
    restarts = alarms_by_id(scope, built["application"])["restarts"]
    assert [m["MetricStat"]["Metric"]["MetricName"] for m in restarts["Metrics"] if "MetricStat" in m] == ["numRestarts"]


def test_logs_go_to_an_encrypted_retained_log_group_through_one_stream(default) -> None:
    _, built, template = default
    app = built["application"]
    resources = template.to_json()["Resources"]
    log_group = resources[logical_id(app.log_group)]
    assert log_group["Properties"] == {"KmsKeyId": arn_of(built["stream"].key), "RetentionInDays": 365}
    assert log_group["DeletionPolicy"] == "Retain"
    assert resources[logical_id(app.log_stream)]["Properties"] == {"LogGroupName": ref(app.log_group)}
    option = only(template, "AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption")["Properties"]
    assert option["ApplicationName"] == ref(app.application)
    assert option["CloudWatchLoggingOption"]["LogStreamARN"] == {"Fn::Join": ["", [
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:", ref(app.log_group), ":log-stream:", ref(app.log_stream),
    ]]}


def test_the_role_is_trusted_by_this_accounts_applications_only(default) -> None:
    _, built, template = default
    (trust,) = template.to_json()["Resources"][logical_id(built["application"].role)]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == {
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "kinesisanalytics.amazonaws.com"},
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:kinesisanalytics:{REGION}:{ACCOUNT}:application/*"},
        },
    }


def test_the_role_holds_its_own_statements_and_the_callers_grants_nothing_more(default) -> None:
    _, built, template = default
    app, consumer, sink, stream = built["application"], built["consumer"], built["sink"], built["stream"]
    log_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:"
    assert role_statements(template, app.role) == [
        {"Sid": "ReadTheCode", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Effect": "Allow",
         "Resource": f"arn:aws:s3:::cdk-hnb659fds-assets-{ACCOUNT}-{REGION}/{app.code.s3_object_key}"},
        {"Sid": "ListLogGroups", "Action": "logs:DescribeLogGroups", "Effect": "Allow", "Resource": f"{log_arn}*"},
        {"Sid": "ListItsLogStreams", "Action": "logs:DescribeLogStreams", "Effect": "Allow",
         "Resource": {"Fn::Join": ["", [log_arn, ref(app.log_group), ":log-stream:*"]]}},
        {"Sid": "WriteItsLogStream", "Action": "logs:PutLogEvents", "Effect": "Allow",
         "Resource": {"Fn::Join": ["", [log_arn, ref(app.log_group), ":log-stream:", ref(app.log_stream)]]}},
        {"Action": ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards"], "Effect": "Allow",
         "Resource": arn_of(stream.stream)},
        {"Action": ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"], "Effect": "Allow",
         "Resource": {"Fn::GetAtt": [logical_id(consumer.consumer), "ConsumerARN"]}},
        {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": arn_of(stream.key),
         "Condition": {"StringEquals": {"kms:ViaService": via_service("kinesis")}}},
        {"Action": ["firehose:PutRecord", "firehose:PutRecordBatch"], "Effect": "Allow", "Resource": arn_of(sink.delivery_stream)},
    ]


def test_the_application_is_created_after_its_role_and_policy(default) -> None:
    _, built, template = default
    role = built["application"].role
    assert set(application(template)["DependsOn"]) == {logical_id(role), logical_id(role.node.find_child("DefaultPolicy"))}


def test_the_two_log_wildcards_are_acknowledged_by_name_and_nothing_wider(default) -> None:
    scope, built, _ = default
    role = built["application"].role
    # Named by acknowledge_resources when the app was validated (Template.from_stack synthesised it).
    found = {a.rule_id for a in acknowledgments(scope.node.root) if a.path == role.node.path}
    log_group = logical_id(built["application"].log_group)
    assert found == {
        f"AwsSolutions-IAM5[Resource::arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*]",
        f"AwsSolutions-IAM5[Resource::arn:aws:logs:{REGION}:{ACCOUNT}:log-group:<{log_group}>:log-stream:*]",
    }


def test_four_alarms_on_the_documented_application_metrics(default) -> None:
    scope, built, template = default
    app = built["application"]
    alarms = alarms_by_id(scope, app)
    assert set(alarms) == {"downtime", "failed_checkpoints", "restarts", "behind_latest"}
    dimension = [{"Name": "Application", "Value": ref(app.application)}]
    simple = {name: alarms[name] for name in ("downtime", "behind_latest")}
    for name, metric, threshold, periods in (("downtime", "downtime", 0, 1), ("behind_latest", "millisBehindLatest", 60_000, 5)):
        alarm = simple[name]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]) == ("AWS/KinesisAnalytics", metric, dimension)
        assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"], alarm["EvaluationPeriods"]) == ("Maximum", 60, threshold, periods)
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["TreatMissingData"] == "notBreaching"
    for name, metric in (("failed_checkpoints", "numberOfFailedCheckpoints"), ("restarts", "fullRestarts")):
        alarm = alarms[name]
        (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
        (counted,) = [m for m in alarm["Metrics"] if "MetricStat" in m]
        assert expression["Expression"] == f"DIFF({counted['Id']})"
        assert counted["MetricStat"] == {
            "Metric": {"Namespace": "AWS/KinesisAnalytics", "MetricName": metric, "Dimensions": dimension},
            "Period": 300, "Stat": "Maximum",
        }
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms"
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [topic_arn] and alarm["OKActions"] == [topic_arn]


def test_alarm_thresholds_as_given(code) -> None:
    scope, built, _ = make(
        code, max_downtime=cdk.Duration.minutes(1), max_failed_checkpoints=2, max_restarts=3,
        max_behind_latest=cdk.Duration.minutes(10), alarm_topic=None,
    )
    alarms = alarms_by_id(scope, built["application"])
    assert {name: alarm["Threshold"] for name, alarm in alarms.items()} == {
        "downtime": 60_000, "failed_checkpoints": 2, "restarts": 3, "behind_latest": 600_000,
    }
    assert all("AlarmActions" not in alarm for alarm in alarms.values())


def test_metric_names_an_application_level_metric_of_this_application(default) -> None:
    scope, built, _ = default
    app = built["application"]
    metric = app.metric("recordsRejected", statistic="Sum", period=cdk.Duration.minutes(5))
    assert (metric.namespace, metric.metric_name, metric.statistic, metric.period.to_seconds()) == (
        "AWS/KinesisAnalytics", "recordsRejected", "Sum", 300,
    )
    assert scope.resolve(metric.dimensions) == {"Application": ref(app.application)}


HOLDS_THE_APPLICATION = (
    "AWS::KinesisAnalyticsV2::Application", "AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption",
    "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::Logs::LogGroup", "AWS::Logs::LogStream",
)


@pytest.mark.parametrize(("policy", "kept"), [(cdk.RemovalPolicy.RETAIN, "Retain"), (cdk.RemovalPolicy.DESTROY, "Delete")])
def test_the_removal_policy_holds_the_application_its_role_and_logs_not_its_alarms(code, policy, kept) -> None:
    scope, built, template = make(code, removal_policy=policy)
    app = built["application"]
    resources = template.to_json()["Resources"]
    holders = {name: r for name, r in resources.items() if r["Type"] in HOLDS_THE_APPLICATION and name.startswith("Detector")}
    assert sorted(r["Type"] for r in holders.values()) == sorted(HOLDS_THE_APPLICATION)
    for name, resource in holders.items():
        assert (resource.get("DeletionPolicy", "Delete"), resource.get("UpdateReplacePolicy", "Delete")) == (kept, kept), name
    for alarm in app.alarms.values():
        assert "DeletionPolicy" not in resources[logical_id(alarm)]
    warnings = Annotations.from_stack(scope).find_warning("/Test/Detector", Match.string_like_regexp(".*removal_policy is DESTROY.*"))
    assert len(warnings) == (1 if policy == cdk.RemovalPolicy.DESTROY else 0)
    if warnings:
        message = str(warnings[0].entry.data)
        assert DATA_DESTROYED_WARNING_ID in message and "snapshots" in message


def test_a_snapshot_removal_policy_is_refused(code) -> None:
    with pytest.raises(ValueError, match="^PyFlinkApplication: removal_policy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY"):
        make(code, removal_policy=cdk.RemovalPolicy.SNAPSHOT)


def test_a_zip_over_the_services_limit_is_refused(tmp_path: Path, code) -> None:
    big = tmp_path / "big.zip"
    with big.open("wb") as handle:
        handle.truncate(512 * 1024 * 1024 + 1)  # sparse: no disk used
    with pytest.raises(ValueError, match="PyFlinkApplication: code_path .* larger than the service's 512 MiB limit"):
        make(code, code_path=str(big))
