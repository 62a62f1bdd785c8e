"""What the streaming tests build: a stand-in application zip, the anomaly sink's columns as the
PyFlink application writes them (flink_apps/anomaly_detection/records.py), and the three streaming
constructs wired as a stack would wire them."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from constructs_lib import EnhancedFanOutConsumer, JsonLinesDelivery, PyFlinkApplication, TelemetryStream
from stacks.anomaly_records import ANOMALY_COLUMNS as STACK_ANOMALY_COLUMNS
from tests.unit.constructs.stack_helpers import topic as imported_topic

BUCKET = "team-dev-analytics"
RUN_OPTIONS = {"python": "main.py", "jarfile": "lib/anomaly-detection-connectors.jar", "pyFiles": "python/"}

#: The columns the streaming stack passes (stacks/anomaly_records.py), one definition for both.
ANOMALY_COLUMNS = list(STACK_ANOMALY_COLUMNS)


def topic(scope: cdk.Stack):
    """The stack's one imported alarm topic."""
    found = scope.node.try_find_child("Alarms")
    return found if found is not None else imported_topic(scope)


def application_zip(directory: Path, name: str = "app.zip", body: str = "print('anomaly detection')\n") -> str:
    """A minimal zip in the layout the service runs (main.py at the root)."""
    path = directory / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("main.py", body)
    return str(path)


def sink(scope: cdk.Stack, stream: TelemetryStream, **overrides: Any) -> JsonLinesDelivery:
    lake_key = kms.Key(scope, "LakeKey", enable_key_rotation=True)
    # The lake's bucket belongs to another stack, as in the app: imported, so its own findings stay there.
    bucket = s3.Bucket.from_bucket_attributes(scope, "Analytics", bucket_name=BUCKET, encryption_key=lake_key)
    database = glue.Database(scope, "Database", database_name="team_dev_analytics")
    props: dict[str, Any] = {
        "bucket": bucket, "prefix": "anomalies/", "key": lake_key, "database": database, "table_name": "anomalies",
        "columns": ANOMALY_COLUMNS, "projection_start": "2026-12-01", "log_key": stream.key, "alarm_topic": topic(scope),
    }
    return JsonLinesDelivery(scope, "Anomalies", **{**props, **overrides})


def application(scope: cdk.Stack, code: str, consumer: EnhancedFanOutConsumer, delivery: JsonLinesDelivery,
                stream: TelemetryStream, **overrides: Any) -> PyFlinkApplication:
    props: dict[str, Any] = {
        "code_path": code,
        "runtime": "FLINK-1_20",
        "property_groups": {
            "kinesis.analytics.flink.run.options": RUN_OPTIONS,
            "TelemetrySource": {"efo.consumer.arn": consumer.consumer_arn, "initial.position": "LATEST"},
            "AnomalySink": {"delivery.stream.name": delivery.delivery_stream.delivery_stream_name},
            "Detection": {"window.size.seconds": "600", "window.slide.seconds": "60", "min.samples": "10"},
        },
        "log_key": stream.key,
        "alarm_topic": topic(scope),
    }
    app = PyFlinkApplication(scope, "Detector", **{**props, **overrides})
    app.grant_read_consumer(consumer.consumer)
    delivery.grant_put(app.role)
    return app


def pipeline(scope: cdk.Stack, code: str, **application_overrides: Any) -> dict[str, Any]:
    """The stream, its application's consumer, the sink and the application, as the stack wires them."""
    stream = TelemetryStream(scope, "Telemetry", alarm_topic=topic(scope))
    consumer = EnhancedFanOutConsumer(scope, "Consumer", stream=stream.stream, consumer_name="anomaly-detection")
    delivery = sink(scope, stream)
    app = application(scope, code, consumer, delivery, stream, **application_overrides)
    return {"stream": stream, "consumer": consumer, "sink": delivery, "application": app}
