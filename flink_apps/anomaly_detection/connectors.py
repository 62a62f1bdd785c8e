"""The deployed job's source and sinks: Kinesis (enhanced fan-out) in, Firehose and Kinesis out.

Connector artefacts (the jar in the zip's ``lib/``, built by ``make flink-app``; versions in
tools/flink/artifacts.py): ``flink-connector-kinesis`` 4.3.0-1.19 (the Kinesis source, its table
factory ``kinesis``, and the Kinesis Data Streams sink) and ``flink-connector-aws-kinesis-firehose``
4.3.0-1.19 (the Firehose sink), on Managed Flink's Flink 1.20 runtime.

* **Source**: the ``kinesis`` table connector with the ``raw`` format, so the application gets
  each record's bytes untouched (a record that is not UTF-8 or not JSON is rejected with its
  original bytes, not mangled by a decoder first). It reads through the enhanced fan-out consumer
  the infrastructure registered (``registration = NONE``: the application never registers or
  deregisters consumers, so its role needs no such permission), so it takes none of the shared
  2 MB/s per shard that the Firehose readers use.
* **Anomaly sink**: Firehose ``PutRecordBatch`` through the connector's async sink (batching,
  retries, back-pressure, flushed on checkpoints: at-least-once). One JSON line per record,
  newline-terminated so the delivered S3 objects are JSON lines.
* **Notifications**: published to the alarm topic (SNS) by :class:`PublishToSns`, with boto3,
  one synchronous ``Publish`` per de-duplicated notification; see ``sns`` for why this and not a
  Kinesis sink plus a notifier Lambda. Undeliverable ones come back as ``notification_failed``
  lines for the anomaly sink.

``fail_on_error`` is off on the Firehose sink: a throttled or failed entry is retried (the job slows
down) rather than failing the job and replaying from the last checkpoint.
"""

from __future__ import annotations

from pyflink.common import Types
from pyflink.common.serialization import SimpleStringSchema
from pyflink.datastream import DataStream, StreamExecutionEnvironment
from pyflink.datastream.connectors.kinesis import KinesisFirehoseSink
from pyflink.datastream.functions import ProcessFunction, RuntimeContext
from pyflink.table import StreamTableEnvironment

from . import sns
from .pipeline import Counted, now_ms
from .properties import Settings
from .records import iso_millis

SOURCE_TABLE = "telemetry_records"


def source_ddl(settings: Settings) -> str:
    """The Kinesis source table: one BYTES column with each record's data."""
    options = {
        "connector": "kinesis",
        "stream": settings.stream_name,
        "aws.region": settings.region,
        "format": "raw",
        "scan.stream.initpos": settings.initial_position,
        "scan.stream.recordpublisher": "EFO",
        "scan.stream.efo.registration": "NONE",
        "scan.stream.efo.consumername": settings.consumer_name,
        f"scan.stream.efo.consumerarn.{settings.stream_name}": settings.consumer_arn,
    }
    if settings.initial_timestamp is not None:
        options["scan.stream.initpos.timestamp"] = f"{settings.initial_timestamp:.3f}"
    rendered = ",\n  ".join(f"'{key}' = '{value}'" for key, value in options.items())
    return f"CREATE TABLE {SOURCE_TABLE} (\n  `data` BYTES\n) WITH (\n  {rendered}\n)"


def kinesis_source(env: StreamExecutionEnvironment, settings: Settings) -> DataStream:
    """The telemetry stream's records as a stream of Rows whose field 0 is the record's bytes."""
    tables = StreamTableEnvironment.create(env)
    tables.execute_sql(source_ddl(settings))
    return tables.to_data_stream(tables.from_path(SOURCE_TABLE))


def _newline_terminated(line: str) -> str:
    return line + "\n"


class AwsSinks:
    """The Firehose anomaly sink and the Kinesis notification sink (``pipeline.Sinks``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        #: Extra AWS client properties (a local endpoint and credentials in tests); none when deployed.
        self.client_properties: dict[str, str] = {}

    def anomalies(self, lines: DataStream) -> None:
        sink = (
            KinesisFirehoseSink.builder()
            .set_firehose_client_properties({"aws.region": self.settings.anomaly_region, **self.client_properties})
            .set_delivery_stream_name(self.settings.anomaly_delivery_stream)
            .set_serialization_schema(SimpleStringSchema())
            .set_fail_on_error(False)
            .build()
        )
        lines.map(_newline_terminated, output_type=Types.STRING()).name("json lines").sink_to(sink).name(
            "firehose anomaly sink"
        ).uid("firehose-anomaly-sink")

    def notifications(self, lines: DataStream) -> DataStream:
        return (
            lines.process(PublishToSns(self.settings.topic_arn, self.settings.topic_region, self.settings.publish_max_attempts),
                          output_type=Types.STRING())
            .name("publish to the alarm topic")
            .uid("publish-to-sns")
        )


class PublishToSns(ProcessFunction, Counted):
    """Publishes each notification; yields only the ones it could not deliver (as
    ``notification_failed`` lines), so that they reach the anomaly sink."""

    COUNTERS = ("notificationsPublished", "notificationsFailed")

    def __init__(self, topic_arn: str, region: str, max_attempts: int) -> None:
        self.topic_arn, self.region, self.max_attempts = topic_arn, region, max_attempts

    def open(self, runtime_context: RuntimeContext) -> None:
        import boto3  # bundled in the zip's python/ folder; only the deployed job needs it

        self.open_counters(runtime_context)
        self.client = boto3.client("sns", region_name=self.region)

    def close(self) -> None:
        self.dump_counters()

    def process_element(self, value, ctx):
        outcome = sns.publish(self.client, self.topic_arn, value, max_attempts=self.max_attempts)
        if outcome.delivered:
            self.inc("notificationsPublished")
        else:
            self.inc("notificationsFailed")
            yield sns.failed_record(value, outcome, iso_millis(now_ms()))
