"""examples/two_pipelines_one_lake: the example other teams copy must synthesise with the five
cdk-nag packs and no unacknowledged finding, and must build what its README says it builds.

Synthesised in-process here, with the library from the checkout; tests/test_packaging.py
synthesises a copy of it in a fresh virtual environment that has only the built wheel.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import aws_cdk as cdk
import pytest

from tests.compliance.nag import PACK_RULE_ID, Ack, acknowledgments, findings
from tests.synth import ROOT

EXAMPLE_DIR = ROOT / "examples" / "two_pipelines_one_lake"
#: The five packs' plugin names in the validation report.
PACKS = {"AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless"}
#: Acknowledgments app.py makes, one per rule id and construct: 12 per pipeline (three packs' inline
#: policy rule on four roles), 3 replication rules on the lake, 1 template warning on the stack.
#: Changing the number is a security decision: update it (and the example's README table) in the
#: same change.
EXPECTED_EXAMPLE_ACKNOWLEDGMENTS = 2 * 12 + 3 + 1
GENERIC_REASONS = ("todo", "tbd", "n/a", "not needed", "suppress", "ignore", "false positive")
RAW_BUCKET_ARN = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::device-team-raw-111122223333"]]}
RAW_BUCKET_KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PARTITIONS = "event_date=!{partitionKeyFromLambda:event_date}/event_hour=!{partitionKeyFromLambda:event_hour}/"
FLEETS = {"Turbines": ("turbines", "fleets/turbines/"), "Meters": ("meters", "fleets/meters/")}


def load_example() -> ModuleType:
    """Import examples/.../app.py as a module of its own (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("example_two_pipelines_one_lake", EXAMPLE_DIR / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Built:
    example: ModuleType
    app: cdk.App
    stack: Any  # the example's FleetLakeStack
    template: dict
    outdir: Path

    def logical_id(self, construct) -> str:
        target = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child
        return self.stack.get_logical_id(target)

    def props(self, construct) -> dict:
        return self.template["Resources"][self.logical_id(construct)]["Properties"]

    def of_type(self, resource_type: str) -> dict[str, dict]:
        return {k: r for k, r in self.template["Resources"].items() if r["Type"] == resource_type}


def example_acknowledgments(example: ModuleType, app: cdk.App) -> list[Ack]:
    """The acknowledgments app.py made (not the library's): those giving one of its reasons."""
    reasons = {value for value in vars(example).values() if isinstance(value, str)}
    return [a for a in acknowledgments(app) if a.reason in reasons]


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return load_example()


@pytest.fixture(scope="module")
def built(example: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Built:
    outdir = tmp_path_factory.mktemp("example-cdk-out")
    app = example.build_app(outdir=str(outdir))
    assembly = app.synth()
    (stack,) = [c for c in app.node.children if isinstance(c, cdk.Stack)]
    return Built(example, app, stack, assembly.get_stack_by_name(stack.stack_name).template, outdir)


def test_the_example_registers_the_five_packs_and_synthesises_with_zero_findings(built: Built) -> None:
    assert {pack.__name__ for pack in built.example.COMPLIANCE_PACKS} == {
        "AwsSolutionsChecks", "HIPAASecurityChecks", "NIST80053R5Checks", "PCIDSS321Checks", "ServerlessChecks",
    }
    assert findings(built.outdir) == []  # any severity, any plugin (CloudFormation validation too)


def test_canary_without_acknowledgments_every_pack_fails_the_example_and_each_acknowledgment_hides_a_finding(
    example: ModuleType, built: Built, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    acks = example_acknowledgments(example, built.app)
    monkeypatch.setattr(cdk.Validations, "acknowledge", lambda self, *rules: None)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        example.build_app(outdir=str(tmp_path)).synth()
    reported = findings(tmp_path)
    assert {f.pack for f in reported if f.severity == "error"} >= PACKS
    raw = {(f"CloudFormation-Validate::{f.rule_id}" if f.pack == "CloudFormation Validate" else f.rule_id, f.path)
           for f in reported}
    for ack in acks:
        hidden = [r for r in raw if r[0] == ack.rule_id and (r[1] + "/").startswith(ack.path + "/")]
        assert hidden, f"stale acknowledgment: {ack.rule_id} on {ack.path} hides no finding"


def test_every_example_acknowledgment_names_one_rule_with_a_specific_reason(example: ModuleType, built: Built) -> None:
    acks = example_acknowledgments(example, built.app)
    assert len(acks) == EXPECTED_EXAMPLE_ACKNOWLEDGMENTS
    for ack in acks:
        assert PACK_RULE_ID.match(ack.rule_id), f"{ack.path}: {ack.rule_id!r} is not a specific rule id"
        assert len(ack.reason) >= 100, f"{ack.path} {ack.rule_id}: reason too short to review"
        assert not any(word in ack.reason.lower() for word in GENERIC_REASONS), f"{ack.path} {ack.rule_id}: generic reason"


@pytest.mark.parametrize("name", sorted(FLEETS))
def test_each_fleet_has_its_own_topic_stream_and_raw_prefix(built: Built, name: str) -> None:
    topic_prefix, data_prefix = FLEETS[name]
    pipeline = built.stack.pipelines[name]
    destination = built.props(pipeline.delivery.delivery_stream)["ExtendedS3DestinationConfiguration"]
    assert destination["BucketARN"] == RAW_BUCKET_ARN
    assert destination["Prefix"] == f"{data_prefix}{PARTITIONS}"
    assert destination["ErrorOutputPrefix"].startswith(f"errors/{data_prefix}!{{firehose:error-output-type}}/")
    assert destination["S3BackupConfiguration"]["Prefix"].startswith(f"backup/{data_prefix}")
    assert destination["EncryptionConfiguration"] == {"KMSEncryptionConfig": {"AWSKMSKeyARN": RAW_BUCKET_KEY_ARN}}
    source = built.props(pipeline.delivery.delivery_stream)["KinesisStreamSourceConfiguration"]
    assert source["KinesisStreamARN"] == {"Fn::GetAtt": [built.logical_id(pipeline.stream.stream), "Arn"]}
    rule = built.props(pipeline.iot.rule)["TopicRulePayload"]
    assert f"FROM '{topic_prefix}/+/telemetry'" in rule["Sql"]
    assert rule["Actions"][0]["Kinesis"]["StreamName"] == {"Ref": built.logical_id(pipeline.stream.stream)}
    function = built.props(pipeline.delivery.transform)
    assert (function["Handler"], function["Code"]) == ("index.handler", {"ZipFile": built.example.TRANSFORM_SOURCE})
    assert function["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == f"{topic_prefix}-transform"


def test_the_two_pipelines_share_nothing_but_the_bucket_and_the_alarm_topic(built: Built) -> None:
    assert len(built.of_type("AWS::KinesisFirehose::DeliveryStream")) == 2
    assert len(built.of_type("AWS::Kinesis::Stream")) == 2
    assert len(built.of_type("AWS::IoT::TopicRule")) == 2
    topic = {"Ref": built.logical_id(built.stack.alarms.topic)}
    actions = [a["Properties"].get("AlarmActions") for a in built.of_type("AWS::CloudWatch::Alarm").values()]
    assert actions and all(a == [topic] for a in actions)


def test_the_existing_raw_bucket_is_used_and_no_raw_bucket_is_created(built: Built) -> None:
    lake = built.stack.lake
    assert lake.raw_bucket is built.stack.raw_bucket
    assert lake.node.try_find_child("RawBucket") is None
    created = {built.logical_id(b) for b in lake.created_buckets}
    assert set(built.of_type("AWS::S3::Bucket")) == created
    assert {built.logical_id(b) for b in (lake.curated_bucket, lake.analytics_bucket, lake.query_results_bucket,
                                          lake.access_logs_bucket)} == created


def test_the_raw_bucket_and_its_key_can_be_named_in_context(example: ModuleType) -> None:
    app = example.build_app(context={"raw_bucket_name": "other-raw", "raw_bucket_key_arn": "arn:aws:kms:eu-west-1:444455556666:key/k"})
    (stack,) = [c for c in app.node.children if isinstance(c, cdk.Stack)]
    assert stack.raw_bucket.bucket_name == "other-raw"
    assert stack.raw_bucket.encryption_key.key_arn == "arn:aws:kms:eu-west-1:444455556666:key/k"


def test_the_workgroup_writes_encrypted_results_to_the_lake(built: Built) -> None:
    workgroup = built.props(built.stack.workgroup.workgroup)
    assert workgroup["Name"] == "fleets-example-adhoc"
    results = workgroup["WorkGroupConfiguration"]["ResultConfiguration"]
    assert results["OutputLocation"] == {
        "Fn::Join": ["", ["s3://", {"Ref": built.logical_id(built.stack.lake.query_results_bucket)}, "/adhoc/"]]
    }
    assert results["EncryptionConfiguration"]["KmsKey"] == {"Fn::GetAtt": [built.logical_id(built.stack.lake.key), "Arn"]}


# --- The inline transform (run here with the test's Python; in AWS it runs on Python 3.14) -------

def _record(record_id: str, data: bytes) -> dict:
    return {"recordId": record_id, "approximateArrivalTimestamp": 0, "data": base64.b64encode(data).decode()}


@pytest.fixture
def transform(example: ModuleType, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "FleetTelemetry")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "turbines-transform")
    namespace: dict = {}
    exec(compile(example.TRANSFORM_SOURCE, "index.py", "exec"), namespace)  # noqa: S102 - the example's own code
    return namespace["handler"]


def test_the_inline_transform_partitions_good_readings_by_ingestion_hour(transform) -> None:
    ingested_at = int(datetime(2026, 11, 23, 5, 35, 2, tzinfo=timezone.utc).timestamp() * 1000)
    reading = {"device_id": "t-1", "ingested_at": ingested_at, "rpm": 12.5}
    (out,) = transform({"records": [_record("r-1", json.dumps(reading).encode())]}, None)["records"]
    assert (out["recordId"], out["result"]) == ("r-1", "Ok")
    line = base64.b64decode(out["data"]).decode()
    assert line.endswith("\n") and json.loads(line) == reading
    assert out["metadata"]["partitionKeys"] == {"event_date": "2026-11-23", "event_hour": "05"}


def test_the_inline_transform_fails_unreadable_records_and_counts_them(transform, capsys) -> None:
    bad = [
        _record("not-json", b"{oops"),
        _record("no-device", json.dumps({"ingested_at": 1}).encode()),
        _record("no-time", json.dumps({"device_id": "m-1"}).encode()),
        _record("not-an-object", b"[1, 2]"),
    ]
    out = transform({"records": bad}, None)["records"]
    assert [(r["recordId"], r["result"], r["data"]) for r in out] == [
        (r["recordId"], "ProcessingFailed", r["data"]) for r in bad
    ]
    metric = json.loads(capsys.readouterr().out)
    assert (metric["RecordsFailed"], metric["service"]) == (4, "turbines-transform")
    assert metric["_aws"]["CloudWatchMetrics"] == [
        {"Namespace": "FleetTelemetry", "Dimensions": [["service"]], "Metrics": [{"Name": "RecordsFailed", "Unit": "Count"}]}
    ]
