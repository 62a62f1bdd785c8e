"""The deployed job: read and validate the runtime properties, wire Kinesis -> detection -> sinks,
run. ``main.py`` (the zip's entry point, which Managed Flink starts) calls :func:`main`.

Properties come from ``/etc/flink/application_properties.json`` on Managed Flink, or from the file
named by ``APPLICATION_PROPERTIES`` (a local run against real AWS resources, with the connector jar
given by ``FLINK_CONNECTOR_JAR``). An invalid property stops the job before any operator exists,
with the group and key in the message (Managed Flink logs it under the logger ``PythonDriver``).
"""

from __future__ import annotations

import os
from pathlib import Path

from pyflink.datastream import StreamExecutionEnvironment

from .connectors import AwsSinks, kinesis_source
from .pipeline import DetectionParams, build_pipeline
from .properties import MANAGED_PROPERTIES_PATH, Settings, load_settings

JOB_NAME = "anomaly-detection"


def properties_path() -> Path:
    return Path(os.environ.get("APPLICATION_PROPERTIES", str(MANAGED_PROPERTIES_PATH)))


def build_job(env: StreamExecutionEnvironment, settings: Settings) -> None:
    build_pipeline(kinesis_source(env, settings), DetectionParams.from_settings(settings), AwsSinks(settings))


def main() -> None:
    settings = load_settings(properties_path())
    env = StreamExecutionEnvironment.get_execution_environment()
    jar = os.environ.get("FLINK_CONNECTOR_JAR")
    if jar:  # local runs only: on Managed Flink the jar comes from the `jarfile` run option
        env.add_jars(Path(jar).resolve().as_uri())
    build_job(env, settings)
    env.execute(JOB_NAME)
