"""Firehose emulated around the real transform: Kinesis records in, the raw zone's objects out.

What it does, in the order Firehose does it, with every setting from :class:`DeliveryConfig`
(read from the synthesised template):

1. **Processor buffer.** Records, in arrival order, are gathered until their data reaches the
   Lambda processor's ``BufferSizeInMBs`` or the oldest has waited ``BufferIntervalInSeconds``;
   a batch never makes a request over Lambda's 6 MB cap.
2. **Invocation.** The handler gets a Kinesis-source Firehose event (``recordId``,
   ``approximateArrivalTimestamp``, base64 ``data``, ``kinesisRecordMetadata``). A raised
   exception, an over-6 MB response or one that does not answer every ``recordId`` with a known
   result counts as a failed invocation: retried ``NumberOfRetries`` times, then every record of
   the batch goes to the error prefix.
3. **Delivery.** ``Ok`` records go to the buffer of their rendered prefix (the transform's
   partition keys fill ``!{partitionKeyFromLambda:...}``); ``ProcessingFailed`` records go, as
   Firehose's processing-failed JSON (``attemptsMade``, ``arrivalTimestamp``, ``errorCode``,
   ``errorMessage``, ``attemptEndingTimestamp``, ``rawData`` = the original bytes in base64,
   ``lambdaArn``), to the error prefix with ``!{firehose:error-output-type}`` =
   ``processing-failed``; ``Dropped`` records are counted. Each buffer is written as one object
   when it reaches ``SizeInMBs`` or has waited ``IntervalInSeconds``, named as Firehose names
   objects (``<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<random>``), compressed as configured,
   with the object's modification time set to the simulated delivery time (what job bookmarks
   go by).

Error codes and messages follow what Firehose writes for a ``ProcessingFailed`` result
(``Lambda.ProcessingFailedStatus``); the AWS documentation fixes the fields, not these strings.
The transform's own reason for each failure is in its log (``cloudwatch/transform.log``), as in
AWS, and is collected into :attr:`FirehoseStats.failed_by_reason`.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
import random
import re
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.pipeline.delivery_config import DeliveryConfig
from tools.pipeline.fleet import SentRecord, from_ms, utc_ms
from tools.pipeline.lambda_runtime import LambdaRuntime

#: Lambda's cap on a synchronous request and response payload.
LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024
MIB = 1024 * 1024
RESULTS = ("Ok", "Dropped", "ProcessingFailed")
PROCESSING_FAILED = "processing-failed"
PARTITIONING_FAILED = "partitioning-failed"
PROCESSING_FAILED_CODE = "Lambda.ProcessingFailedStatus"
PROCESSING_FAILED_MESSAGE = "ProcessingFailed status set for record"
STREAM_VERSION = 1
_NAMESPACE = re.compile(r"!\{([A-Za-z]+):([^}]*)\}")
_JAVA_DATE = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}


def render_prefix(template: str, *, at: dt.datetime, partition_keys: dict[str, str] | None = None,
                  error_type: str | None = None) -> str:
    """Fills Firehose's prefix namespaces; a key the template needs but is not given raises KeyError."""

    def fill(match: re.Match[str]) -> str:
        namespace, value = match.groups()
        if namespace == "partitionKeyFromLambda":
            return (partition_keys or {})[value]
        if namespace == "timestamp":
            return at.strftime(re.sub("yyyy|MM|dd|HH|mm|ss", lambda m: _JAVA_DATE[m.group()], value))
        if namespace == "firehose" and value == "error-output-type" and error_type:
            return error_type
        raise KeyError(f"{namespace}:{value}")

    return _NAMESPACE.sub(fill, template)


@dataclass
class S3Object:
    key: str
    path: Path
    records: int
    delivered_at: dt.datetime
    kind: str  # "data" or "error"


@dataclass
class FirehoseStats:
    records_in: int = 0
    ok: int = 0
    failed: int = 0
    dropped: int = 0
    invocations: int = 0
    failed_invocations: int = 0
    max_request_bytes: int = 0
    max_response_bytes: int = 0
    max_batch_records: int = 0
    failed_by_reason: Counter = field(default_factory=Counter)
    #: The transform's logged reason for each failed record, by the record's base64 data.
    reason_by_data: dict[str, str] = field(default_factory=dict)
    objects: list[S3Object] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data_objects = [o for o in self.objects if o.kind == "data"]
        error_objects = [o for o in self.objects if o.kind == "error"]
        return {
            "records_in": self.records_in, "ok": self.ok, "processing_failed": self.failed, "dropped": self.dropped,
            "failed_by_reason": dict(sorted(self.failed_by_reason.items())),
            "invocations": self.invocations, "failed_invocations": self.failed_invocations,
            "max_batch_records": self.max_batch_records,
            "max_request_bytes": self.max_request_bytes, "max_response_bytes": self.max_response_bytes,
            "data_objects": len(data_objects), "error_objects": len(error_objects),
        }


@dataclass
class _Buffer:
    prefix: str
    kind: str
    opened_at: dt.datetime
    lines: list[bytes] = field(default_factory=list)
    size: int = 0


class DeliveryStream:
    """One delivery stream writing into ``bucket`` (a local folder standing for the raw bucket)."""

    def __init__(self, config: DeliveryConfig, bucket: Path, runtime: LambdaRuntime, *, seed: int = 0) -> None:
        if config.compression not in ("GZIP", "UNCOMPRESSED"):
            raise ValueError(f"the emulation writes GZIP or UNCOMPRESSED objects, not {config.compression}")
        self.config, self.bucket, self.runtime = config, bucket, runtime
        self.rng = random.Random(f"firehose-{seed}")
        self.stats = FirehoseStats()
        self._buffers: dict[str, _Buffer] = {}
        self._batch: list[SentRecord] = []
        self._batch_bytes = 0
        self._batch_request_bytes = 0
        self.arn = f"arn:aws:firehose:local:000000000000:deliverystream/{config.stream_name}"

    # -- processor buffer ------------------------------------------------------------------------

    def put(self, record: SentRecord) -> None:
        now = from_ms(record.arrival_ms)
        interval = dt.timedelta(seconds=self.config.processor_buffer_interval_seconds)
        if self._batch and now - from_ms(self._batch[0].arrival_ms) >= interval:
            self._invoke(from_ms(self._batch[0].arrival_ms) + interval)
        entry_bytes = len(json.dumps(self._entry(record, 0))) + 2
        if self._batch and (self._batch_bytes + len(record.data) > self.config.processor_buffer_size_mib * MIB
                            or self._batch_request_bytes + entry_bytes > LAMBDA_PAYLOAD_LIMIT_BYTES - 1024):
            self._invoke(now)
        self._batch.append(record)
        self._batch_bytes += len(record.data)
        self._batch_request_bytes += entry_bytes
        self._flush_due(now)

    def close(self) -> None:
        """Invoke what is left, then write every buffer (as the intervals run out)."""
        if self._batch:
            self._invoke(from_ms(self._batch[0].arrival_ms) + dt.timedelta(seconds=self.config.processor_buffer_interval_seconds))
        for buffer in list(self._buffers.values()):
            self._write(buffer, buffer.opened_at + dt.timedelta(seconds=self.config.buffer_interval_seconds))

    def _entry(self, record: SentRecord, index: int) -> dict[str, Any]:
        return {
            "recordId": f"{record.sequence_number}{index:06d}",
            "approximateArrivalTimestamp": record.arrival_ms,
            "data": base64.b64encode(record.data).decode("ascii"),
            "kinesisRecordMetadata": {
                "shardId": record.shard_id,
                "partitionKey": record.partition_key,
                "approximateArrivalTimestamp": record.arrival_ms,
                "sequenceNumber": record.sequence_number,
                "subsequenceNumber": "",
            },
        }

    # -- invocation ------------------------------------------------------------------------------

    def _invoke(self, at: dt.datetime) -> None:
        batch, self._batch, self._batch_bytes, self._batch_request_bytes = self._batch, [], 0, 0
        entries = [self._entry(record, index) for index, record in enumerate(batch)]
        event = {
            "invocationId": str(uuid.UUID(int=self.rng.getrandbits(128))),
            "deliveryStreamArn": self.arn,
            "sourceKinesisStreamArn": "arn:aws:kinesis:local:000000000000:stream/telemetry",
            "region": "local",
            "records": entries,
        }
        request_bytes = len(json.dumps(event))
        if request_bytes > LAMBDA_PAYLOAD_LIMIT_BYTES:
            raise AssertionError(f"the emulation built a {request_bytes}-byte request")
        stats = self.stats
        stats.records_in += len(batch)
        stats.max_request_bytes = max(stats.max_request_bytes, request_bytes)
        stats.max_batch_records = max(stats.max_batch_records, len(batch))
        problem: tuple[str, str] | None = None
        for attempt in range(1, self.config.processor_retries + 2):
            stats.invocations += 1
            try:
                response, logs = self.runtime.invoke(event, str(uuid.UUID(int=self.rng.getrandbits(128))))
                problem = self._check(response, entries)
            except Exception as error:  # noqa: BLE001 - a function error, as Lambda reports it
                problem, logs = ("Lambda.FunctionError", f"{type(error).__name__}: {error}"), []
            if problem is None:
                break
            stats.failed_invocations += 1
        if problem is not None:
            for entry in entries:
                self._fail(entry, at, problem, attempts=attempt)
            stats.failed += len(entries)
            return
        stats.max_response_bytes = max(stats.max_response_bytes, len(json.dumps(response)))
        data_by_id = {entry["recordId"]: entry["data"] for entry in entries}
        for log in logs:
            if log.get("message") == "record failed":
                stats.failed_by_reason[log.get("reason", "?")] += 1
                stats.reason_by_data[data_by_id.get(log.get("record_id"), "")] = log.get("reason", "")
        for entry, result in zip(entries, _in_request_order(response, entries)):
            self._deliver(entry, result, at)
        self._flush_due(at)

    def _check(self, response: Any, entries: list[dict[str, Any]]) -> tuple[str, str] | None:
        if len(json.dumps(response)) > LAMBDA_PAYLOAD_LIMIT_BYTES:
            return "Lambda.ResponseSizeExceeded", "The response exceeds Lambda's 6 MB payload limit."
        records = response.get("records") if isinstance(response, dict) else None
        if not isinstance(records, list):
            return "Lambda.InvalidReturnFormat", "The response has no records list."
        ids = [r.get("recordId") for r in records if isinstance(r, dict)]
        if sorted(ids) != sorted(e["recordId"] for e in entries):
            return "Lambda.MissingRecordId", "The response does not answer every recordId exactly once."
        if any(r.get("result") not in RESULTS for r in records):
            return "Lambda.InvalidReturnFormat", "The result field must be one of Ok, Dropped or ProcessingFailed."
        return None

    def _deliver(self, entry: dict[str, Any], result: dict[str, Any], at: dt.datetime) -> None:
        outcome = result["result"]
        if outcome == "Dropped":
            self.stats.dropped += 1
            return
        if outcome == "ProcessingFailed":
            self.stats.failed += 1
            self._fail(entry, at, (PROCESSING_FAILED_CODE, PROCESSING_FAILED_MESSAGE), attempts=1)
            return
        keys = (result.get("metadata") or {}).get("partitionKeys") or {}
        try:
            prefix = render_prefix(self.config.prefix, at=at, partition_keys=keys)
            data = base64.b64decode(result["data"], validate=True)
        except (KeyError, ValueError) as error:
            self.stats.failed += 1
            self._fail(entry, at, ("DynamicPartitioning.MetadataExtractionFailed", f"no partition key {error}"),
                       attempts=1, error_type=PARTITIONING_FAILED)
            return
        self.stats.ok += 1
        self._append(prefix, "data", data, at)

    def _fail(self, entry: dict[str, Any], at: dt.datetime, problem: tuple[str, str], *, attempts: int,
              error_type: str = PROCESSING_FAILED) -> None:
        arrival = entry["approximateArrivalTimestamp"]
        document = {
            "attemptsMade": attempts,
            "arrivalTimestamp": arrival,
            "errorCode": problem[0],
            "errorMessage": problem[1],
            "attemptEndingTimestamp": utc_ms(at),
            "rawData": entry["data"],
            "lambdaArn": self.runtime.arn,
        }
        prefix = render_prefix(self.config.error_prefix, at=from_ms(arrival), error_type=error_type)
        self._append(prefix, "error", (json.dumps(document, separators=(",", ":")) + "\n").encode(), at)

    # -- delivery buffers ------------------------------------------------------------------------

    def _append(self, prefix: str, kind: str, line: bytes, at: dt.datetime) -> None:
        buffer = self._buffers.get(prefix)
        if buffer is None:
            buffer = self._buffers[prefix] = _Buffer(prefix, kind, at)
        buffer.lines.append(line)
        buffer.size += len(line)
        if buffer.size >= self.config.buffer_size_mib * MIB:
            self._write(buffer, at)

    def _flush_due(self, now: dt.datetime) -> None:
        interval = dt.timedelta(seconds=self.config.buffer_interval_seconds)
        for buffer in list(self._buffers.values()):
            if now - buffer.opened_at >= interval:
                self._write(buffer, buffer.opened_at + interval)

    def _write(self, buffer: _Buffer, at: dt.datetime) -> None:
        del self._buffers[buffer.prefix]
        suffix = ".gz" if self.config.compression == "GZIP" else ""
        name = f"{self.config.stream_name}-{STREAM_VERSION}-{at:%Y-%m-%d-%H-%M-%S}-{uuid.UUID(int=self.rng.getrandbits(128))}{suffix}"
        key = buffer.prefix + name
        path = self.bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        body = b"".join(buffer.lines)
        path.write_bytes(gzip.compress(body, mtime=int(at.timestamp())) if suffix else body)
        os.utime(path, (at.timestamp(), at.timestamp()))
        self.stats.objects.append(S3Object(key, path, len(buffer.lines), at, buffer.kind))


def _in_request_order(response: dict[str, Any], entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {record["recordId"]: record for record in response["records"]}
    return [by_id[entry["recordId"]] for entry in entries]


def deliver(records: Iterable[SentRecord], stream: DeliveryStream, progress: Any = None) -> FirehoseStats:
    """Every record through the stream (in arrival order), then the last buffers written."""
    for record in records:
        stream.put(record)
        if progress is not None:
            progress.update(1)
    stream.close()
    return stream.stats
