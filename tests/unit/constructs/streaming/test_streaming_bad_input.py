"""Bad input to the streaming constructs fails at synth naming the construct and the prop, in the
style of tests/unit/constructs/test_bad_input.py: each case starts from a builder with valid props
(checked by ``test_the_valid_props_build``) and overrides one prop."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from constructs_lib import EnhancedFanOutConsumer, JsonLinesDelivery, PyFlinkApplication
from constructs_lib.streaming.stream_consumer import grant_consumer_read
from tests.unit.constructs.stack_helpers import stack
from tests.unit.constructs.streaming.builders import RUN_OPTIONS, application_zip

KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
STREAM_ARN = "arn:aws:kinesis:eu-west-1:111122223333:stream/telemetry"
CODE = application_zip(Path(tempfile.mkdtemp(prefix="streaming-bad-input-")))
COLUMNS = [glue.Column(name="device_id", type=glue.Schema.STRING), glue.Column(name="score", type=glue.Schema.DOUBLE)]


def _key(scope: cdk.Stack) -> kms.IKey:
    found = scope.node.try_find_child("ImportedKey")
    return found if found is not None else kms.Key.from_key_arn(scope, "ImportedKey", KEY_ARN)


def _stream(scope: cdk.Stack) -> kinesis.IStream:
    return kinesis.Stream.from_stream_arn(scope, "Stream", STREAM_ARN)


def _delivery(scope: cdk.Stack, **p: Any) -> JsonLinesDelivery:
    return JsonLinesDelivery(scope, "Subject", **{
        "bucket": s3.Bucket.from_bucket_name(scope, "Lake", "team-lake"), "key": _key(scope),
        "database": glue.Database.from_database_arn(scope, "Db", "arn:aws:glue:eu-west-1:111122223333:database/team_db"),
        "log_key": _key(scope), **p,
    })


def _consumer_read(scope: cdk.Stack, **p: Any) -> None:
    consumer = kinesis.StreamConsumer.from_stream_consumer_arn(
        scope, "Consumer", f"{STREAM_ARN}/consumer/anomaly-detection:1795425302"
    )
    grantee = iam.Role(scope, "Grantee", assumed_by=iam.AccountRootPrincipal())
    grant_consumer_read(**{"grantee": grantee, "consumer": consumer, **p})


Builder = Callable[..., Any]
BUILDERS: dict[str, tuple[Builder, dict[str, Any]]] = {
    "EnhancedFanOutConsumer": (
        lambda scope, **p: EnhancedFanOutConsumer(scope, "Subject", **{"stream": _stream(scope), **p}),
        {"consumer_name": "anomaly-detection"},
    ),
    "PyFlinkApplication": (
        lambda scope, **p: PyFlinkApplication(scope, "Subject", **{"log_key": _key(scope), **p}),
        {"code_path": CODE, "runtime": "FLINK-1_20", "property_groups": {"kinesis.analytics.flink.run.options": RUN_OPTIONS},
         "parallelism": 2, "parallelism_per_kpu": 1, "application_name": "team-dev-anomalies"},
    ),
    "JsonLinesDelivery": (
        _delivery,
        {"prefix": "anomalies/", "table_name": "anomalies", "columns": COLUMNS, "projection_start": "2026-12-01",
         "buffering_size": cdk.Size.mebibytes(5)},
    ),
    "grant_consumer_read": (_consumer_read, {}),
}


def build(name: str, /, **overrides: Any) -> Any:
    builder, props = BUILDERS[name]
    scope = stack()
    props = {**props, **overrides}
    if props.get("log_key") == "key":
        props["log_key"] = _key(scope)
    return builder(scope, **props)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_the_valid_props_build(name: str) -> None:
    build(name)


def _groups(**extra: Any) -> dict[str, Any]:
    return {"kinesis.analytics.flink.run.options": RUN_OPTIONS, **extra}


#: (construct, prop, bad value, error type, what the message must contain besides the construct and prop)
CASES: list[tuple[str, str, Any, type[Exception], str]] = [
    # EnhancedFanOutConsumer
    ("EnhancedFanOutConsumer", "consumer_name", 7, TypeError, "must be a string"),
    ("EnhancedFanOutConsumer", "consumer_name", "", ValueError, "must not be empty"),
    ("EnhancedFanOutConsumer", "consumer_name", "anomaly detection", ValueError, "1 to 128"),
    ("EnhancedFanOutConsumer", "consumer_name", "x" * 129, ValueError, "1 to 128"),
    ("EnhancedFanOutConsumer", "stream", STREAM_ARN, TypeError, "must be a IStream"),
    # PyFlinkApplication: the code, the runtime, the property groups
    ("PyFlinkApplication", "code_path", 7, TypeError, "must be a string"),
    ("PyFlinkApplication", "code_path", "build/flink/anomaly-detection.jar", ValueError, "existing .zip file"),
    ("PyFlinkApplication", "code_path", "build/flink/missing.zip", ValueError, "existing .zip file"),
    ("PyFlinkApplication", "runtime", "FLINK-1_11", ValueError, "must be one of FLINK-1_13"),
    ("PyFlinkApplication", "runtime", "SQL-1_0", ValueError, "must be one of"),
    ("PyFlinkApplication", "runtime", "ZEPPELIN-FLINK-3_0", ValueError, "must be one of"),
    ("PyFlinkApplication", "runtime", 1.20, TypeError, "must be a string"),
    ("PyFlinkApplication", "property_groups", "kinesis.analytics.flink.run.options", TypeError, "must be a mapping"),
    ("PyFlinkApplication", "property_groups", {}, ValueError, "1 to 50 groups"),
    ("PyFlinkApplication", "property_groups", {"Detection": {"min.samples": "10"}}, ValueError, "'python'"),
    ("PyFlinkApplication", "property_groups", _groups(**{"bad group": {"a": "b"}}), ValueError, "group id"),
    ("PyFlinkApplication", "property_groups", _groups(Detection={"min.samples": 10}), TypeError, "map strings to strings"),
    ("PyFlinkApplication", "property_groups", _groups(Detection={}), ValueError, "1 to 50 properties"),
    ("PyFlinkApplication", "property_groups", _groups(Detection={f"k{i}": "v" for i in range(51)}), ValueError, "1 to 50 properties"),
    ("PyFlinkApplication", "property_groups", _groups(Detection={"k": "v" * 2049}), ValueError, "1 to 2048 characters"),
    ("PyFlinkApplication", "property_groups", _groups(Detection="min.samples=10"), TypeError, "must be a mapping of strings"),
    # PyFlinkApplication: capacity, checkpoints, monitoring, logs, alarms
    ("PyFlinkApplication", "parallelism", "2", TypeError, "must be an int"),
    ("PyFlinkApplication", "parallelism", 0, ValueError, "at least 1"),
    ("PyFlinkApplication", "parallelism_per_kpu", True, TypeError, "must be an int"),
    ("PyFlinkApplication", "auto_scaling", "yes", TypeError, "True or False"),
    ("PyFlinkApplication", "allow_non_restored_state", "false", TypeError, "True or False"),
    ("PyFlinkApplication", "checkpoint_interval", 60_000, TypeError, "must be a Duration"),
    ("PyFlinkApplication", "min_pause_between_checkpoints", 5, TypeError, "must be a Duration"),
    ("PyFlinkApplication", "log_level", "TRACE", ValueError, "must be one of INFO"),
    ("PyFlinkApplication", "metrics_level", "application", ValueError, "must be one of APPLICATION"),
    ("PyFlinkApplication", "log_key", KEY_ARN, TypeError, "must be a IKey"),
    ("PyFlinkApplication", "log_retention", 30, TypeError, "must be a RetentionDays"),
    ("PyFlinkApplication", "application_name", "team dev anomalies", ValueError, "1 to 128 letters"),
    ("PyFlinkApplication", "application_name", "a" * 129, ValueError, "1 to 128 letters"),
    ("PyFlinkApplication", "application_name", 7, TypeError, "must be a string"),
    ("PyFlinkApplication", "alarm_topic", "arn:aws:sns:eu-west-1:111122223333:alarms", TypeError, "must be a ITopic"),
    ("PyFlinkApplication", "max_downtime", 0, TypeError, "must be a Duration"),
    ("PyFlinkApplication", "max_behind_latest", 60_000, TypeError, "must be a Duration"),
    ("PyFlinkApplication", "max_failed_checkpoints", -1, ValueError, "at least 0"),
    ("PyFlinkApplication", "max_restarts", "0", TypeError, "must be an int"),
    # JsonLinesDelivery
    ("JsonLinesDelivery", "prefix", "anomalies", ValueError, "S3 prefix"),
    ("JsonLinesDelivery", "prefix", "/anomalies/", ValueError, "S3 prefix"),
    ("JsonLinesDelivery", "prefix", 7, TypeError, "must be a string"),
    ("JsonLinesDelivery", "columns", "device_id", TypeError, "must be a list"),
    ("JsonLinesDelivery", "columns", [], ValueError, "must not be empty"),
    ("JsonLinesDelivery", "columns", ["device_id"], TypeError, "must hold Column"),
    ("JsonLinesDelivery", "columns", [*COLUMNS, COLUMNS[0]], ValueError, "more than once"),
    ("JsonLinesDelivery", "columns", [*COLUMNS, glue.Column(name="event_date", type=glue.Schema.STRING)], ValueError, "partition column"),
    ("JsonLinesDelivery", "projection_start", "2026-13-01", ValueError, "YYYY-MM-DD"),
    ("JsonLinesDelivery", "projection_start", "20261201", ValueError, "YYYY-MM-DD"),
    ("JsonLinesDelivery", "projection_start", None, TypeError, "must be a string"),
    ("JsonLinesDelivery", "buffering_size", cdk.Size.kibibytes(512), ValueError, "1 to 128 MiB"),
    ("JsonLinesDelivery", "buffering_size", cdk.Size.mebibytes(129), ValueError, "1 to 128 MiB"),
    ("JsonLinesDelivery", "buffering_size", cdk.Size.kibibytes(1536), ValueError, "whole number of MiB"),
    ("JsonLinesDelivery", "buffering_size", 5, TypeError, "must be a Size"),
    ("JsonLinesDelivery", "buffering_interval", cdk.Duration.seconds(901), ValueError, "0 to 900 seconds"),
    ("JsonLinesDelivery", "max_data_freshness", 900, TypeError, "must be a Duration"),
    ("JsonLinesDelivery", "bucket", "team-lake", TypeError, "must be a IBucket"),
    ("JsonLinesDelivery", "key", KEY_ARN, TypeError, "must be a IKey"),
    ("JsonLinesDelivery", "database", "team_db", TypeError, "must be a IDatabase"),
    ("JsonLinesDelivery", "table_name", "", ValueError, "must not be empty"),
    ("JsonLinesDelivery", "partition_column", 7, TypeError, "must be a string"),
    ("JsonLinesDelivery", "log_retention", 365, TypeError, "must be a RetentionDays"),
    # the grant helper
    ("grant_consumer_read", "consumer", f"{STREAM_ARN}/consumer/anomaly-detection:1795425302", TypeError, "must be a IStreamConsumer"),
    ("grant_consumer_read", "key", KEY_ARN, TypeError, "must be a IKey"),
]


@pytest.mark.parametrize(
    ("name", "prop", "value", "error", "says"), CASES, ids=[f"{c[0]}.{c[1]}={c[2]!r}"[:80] for c in CASES]
)
def test_bad_input_names_the_construct_and_the_prop(name: str, prop: str, value: Any, error: type[Exception], says: str) -> None:
    with pytest.raises(error) as raised:
        build(name, **{prop: value})
    message = str(raised.value)
    assert message.startswith(f"{name}:"), message
    assert prop in message and says in message, message


@pytest.mark.parametrize("policy", [cdk.RemovalPolicy.SNAPSHOT, cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE])
@pytest.mark.parametrize("name", ["PyFlinkApplication", "JsonLinesDelivery"])
def test_other_removal_policies_are_refused_naming_the_construct(name: str, policy: cdk.RemovalPolicy) -> None:
    with pytest.raises(ValueError, match=rf"^{name}: removal_policy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY"):
        build(name, removal_policy=policy)
