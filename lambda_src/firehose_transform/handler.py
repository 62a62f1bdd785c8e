"""Lambda entry points of the Firehose transform.

- ``firehose_transform.handler.lambda_handler``: the raw zone (S3) variant: JSON lines with
  partition keys for dynamic partitioning.
- ``firehose_transform.handler.document_handler``: the OpenSearch variant: the same normalised
  reading as one JSON document per record, without partition keys (see
  :mod:`firehose_transform.transform`, ``output_format``).

Both log, count and fail records identically; only the shape of an ``Ok`` record differs.

Thin on purpose: Powertools parses the event, logs and counts; :mod:`firehose_transform.transform`
does the work. Service and namespace come from ``POWERTOOLS_SERVICE_NAME`` and
``POWERTOOLS_METRICS_NAMESPACE``.

Each failed record is logged at WARNING with its ``record_id`` and machine ``reason`` only (never
its content: that goes, unchanged, to the error prefix). Metrics, all ``Count`` with only the
service dimension: ``RecordsProcessed``, ``RecordsOk``, ``RecordsFailed``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import KinesisFirehoseEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from firehose_transform.transform import DOCUMENT, JSON_LINES, transform_records

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=KinesisFirehoseEvent)
def lambda_handler(event: KinesisFirehoseEvent, context: LambdaContext) -> dict[str, Any]:
    return _transform_batch(event, JSON_LINES)


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=KinesisFirehoseEvent)
def document_handler(event: KinesisFirehoseEvent, context: LambdaContext) -> dict[str, Any]:
    return _transform_batch(event, DOCUMENT)


def _transform_batch(event: KinesisFirehoseEvent, output_format: str) -> dict[str, Any]:
    result = transform_records(event.records, output_format=output_format)
    for failure in result.failures:
        logger.warning("record failed", extra={"record_id": failure.record_id, "reason": failure.reason})
    metrics.add_metric(name="RecordsProcessed", unit=MetricUnit.Count, value=result.processed)
    metrics.add_metric(name="RecordsOk", unit=MetricUnit.Count, value=result.ok)
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=result.failed)
    logger.info(
        "batch transformed",
        extra={
            "invocation_id": event.get("invocationId"),
            "records": result.processed,
            "ok": result.ok,
            "failed": result.failed,
            "failed_by_reason": result.failed_by_reason,
            "response_bytes": result.response_bytes,
        },
    )
    return result.as_response()
