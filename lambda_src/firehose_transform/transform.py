r"""Pure logic of the Firehose transform: every input record gets exactly one response record.

For each record Firehose sends (Kinesis Data Streams source), the response holds one record
with the same ``recordId``, in input order:

* ``Ok``: ``data`` is the base64 of the normalised reading (:func:`telemetry_contract.parse_reading`)
  as one compact JSON line (keys in ``NORMALISED_FIELDS`` order) ending in exactly one ``\n``;
  ``metadata.partitionKeys`` holds ``event_date`` and ``event_hour``, from the event time, for
  Firehose dynamic partitioning. The Kinesis arrival time stands in for ``ingested_at`` only when
  the reading has none.
* With ``output_format=DOCUMENT`` (the OpenSearch variant, :func:`transform_records`), an ``Ok``
  record's ``data`` is the same normalised reading as one compact JSON object with no trailing
  newline (one record is one OpenSearch document), and it has no ``metadata``: dynamic
  partitioning exists only for S3 destinations. Everything else below holds for both formats.
* ``ProcessingFailed``: ``data`` is the original string, unchanged, so Firehose writes the record
  as received to the error prefix, from where it can be replayed. The matching
  :class:`RecordFailure` names a short machine reason (never the record's content): one of
  :data:`FAILURE_REASONS` or ``contract:<field>``.

No input makes :func:`transform_records` raise: each record is handled in its own ``try``, and
anything unforeseen becomes ``unexpected_error`` for that record alone.

Response size: Lambda rejects a response over 6 MB, and Firehose would then fail (and retry)
the whole batch. The response is therefore kept within :data:`RESPONSE_BUDGET_BYTES`, measured
exactly as ``json.dumps`` writes it. Accounting starts from the size of an all-failed response
(every record returned as received: smaller than the request Lambda accepted, so always under
Lambda's cap) and lets a record become ``Ok`` only if the response still fits, so every later
record can still be returned. The first record that does not fit, and every record after it,
is returned ``ProcessingFailed`` with reason ``response_size_limit``: they go to the error
prefix, are counted, and are never lost. Normalised records are larger than published ones
(about 640 response bytes per 300-byte reading in the benchmark), so keep the Firehose Lambda
processor's BufferSizeInMBs (0.2-3) well under 3 for the budget to bite only on odd batches.

No Powertools logger or metrics here: the handler logs and counts from :class:`TransformResult`.
"""

from __future__ import annotations

import binascii
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import Any, TypeAlias

from aws_lambda_powertools.utilities.data_classes.kinesis_firehose_event import (
    KinesisFirehoseDataTransformationRecord,
    KinesisFirehoseDataTransformationRecordMetadata,
    KinesisFirehoseDataTransformationResponse,
)

from telemetry_contract import MAX_READING_BYTES, ContractError, parse_reading, parse_timestamp

#: A Firehose input record: the event's dict, or Powertools' ``KinesisFirehoseRecord`` wrapping it.
FirehoseRecordLike: TypeAlias = Mapping[str, Any]

#: Lambda's documented cap on a synchronous response (6 MiB).
LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024
#: The serialized response (envelope included) is kept at or under this, leaving ~290 KB of
#: margin under Lambda's cap for the runtime's own serialization.
RESPONSE_BUDGET_BYTES = 6_000_000

OK = "Ok"
PROCESSING_FAILED = "ProcessingFailed"

#: Output formats of :func:`transform_records`: JSON lines with partition keys for S3 (the raw
#: zone), or one JSON document per record without metadata (OpenSearch).
JSON_LINES = "json_lines"
DOCUMENT = "document"
OUTPUT_FORMATS = (JSON_LINES, DOCUMENT)

INVALID_RECORD = "invalid_record"  # recordId or data missing or not a string (Firehose never does this)
INVALID_BASE64 = "invalid_base64"
TOO_LARGE = "too_large"
NOT_UTF8 = "not_utf8"
NOT_JSON = "not_json"
NOT_OBJECT = "not_object"
UNEXPECTED_ERROR = "unexpected_error"
RESPONSE_SIZE_LIMIT = "response_size_limit"
FAILURE_REASONS = (
    INVALID_RECORD, INVALID_BASE64, TOO_LARGE, NOT_UTF8, NOT_JSON, NOT_OBJECT, UNEXPECTED_ERROR, RESPONSE_SIZE_LIMIT,
)

#: Fields a :class:`ContractError` message can start with; the reason is ``contract:<field>``.
CONTRACT_FIELDS = ("reading", "schema_version", "device_id", "event_time", "ingested_at", "metrics", "attributes")
_CONTRACT_REASONS = {name: f"contract:{name}" for name in CONTRACT_FIELDS}
CONTRACT_MISSING_FIELD = "contract:missing_field"
CONTRACT_UNKNOWN_FIELD = "contract:unknown_field"
CONTRACT_OTHER = "contract:other"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# Built once: json.loads/json.dumps with keyword arguments build a new decoder/encoder per call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
# base64.b64decode(s, validate=True) is exactly binascii.a2b_base64(s, strict_mode=True) (3.11+),
# without first copying the string into bytes.
_a2b_base64 = binascii.a2b_base64
_b2a_base64 = binascii.b2a_base64

# Serialized sizes, as json.dumps writes them by default (", " and ": " separators, ASCII
# escapes): at least as large as any other standard serialization of the same response.
_ENVELOPE_BYTES = len(json.dumps({"records": []}))
_SEPARATOR_BYTES = len(json.dumps([0, 0])) - len(json.dumps([0])) - 1
_OK_FIXED_BYTES = len(json.dumps(
    {"recordId": "", "result": OK, "data": "", "metadata": {"partitionKeys": {"event_date": "", "event_hour": ""}}}
)) - 2  # minus the recordId's quotes: the record's own id is counted with its quotes
_DOCUMENT_FIXED_BYTES = len(json.dumps({"recordId": "", "result": OK, "data": ""})) - 2  # minus the recordId's quotes
_FAILED_FIXED_BYTES = len(json.dumps({"recordId": "", "result": PROCESSING_FAILED, "data": ""})) - 4  # minus both


@dataclass(frozen=True, slots=True)
class RecordFailure:
    """Why the record at ``index`` (its ``record_id``) was returned ``ProcessingFailed``."""

    index: int
    record_id: Any
    reason: str


@dataclass(slots=True)
class TransformResult:
    """The response records (input order), the failures among them, and the response's size."""

    records: list[KinesisFirehoseDataTransformationRecord]
    failures: list[RecordFailure]
    #: Size of ``json.dumps(self.as_response())`` in bytes, computed while transforming.
    response_bytes: int
    failed_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def processed(self) -> int:
        return len(self.records)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def ok(self) -> int:
        return len(self.records) - len(self.failures)

    def response(self) -> KinesisFirehoseDataTransformationResponse:
        return KinesisFirehoseDataTransformationResponse(records=self.records)

    def as_response(self) -> dict[str, list[dict[str, Any]]]:
        """The dict the handler returns: ``{"records": [{"recordId", "result", "data", ...}]}``."""
        # Powertools' response.asdict() refuses an empty batch; Firehose never sends one, but an
        # empty input deserves an empty answer rather than an exception.
        return {"records": [record.asdict() for record in self.records]}


def contract_reason(error: ContractError) -> str:
    """``contract:<field>`` from a :class:`ContractError`, without any of the record's content."""
    head = str(error).split(":", 1)[0].split(".", 1)[0]
    reason = _CONTRACT_REASONS.get(head)
    if reason is not None:
        return reason
    if head.startswith("missing required"):
        return CONTRACT_MISSING_FIELD
    if head.startswith("unknown field"):
        return CONTRACT_UNKNOWN_FIELD
    return CONTRACT_OTHER


def arrival_time(record: FirehoseRecordLike) -> dt.datetime | None:
    """When the record reached Kinesis: ``kinesisRecordMetadata.approximateArrivalTimestamp``,
    else the record's ``approximateArrivalTimestamp`` (epoch millis; an ISO-8601 string is also
    accepted); None if neither is a usable time."""
    metadata = record.get("kinesisRecordMetadata")
    candidates = (
        metadata.get("approximateArrivalTimestamp") if isinstance(metadata, Mapping) else None,
        record.get("approximateArrivalTimestamp"),
    )
    for value in candidates:
        if value is None:
            continue
        try:
            return parse_timestamp(value, "approximateArrivalTimestamp")
        except Exception:  # noqa: BLE001 - ContractError, or OverflowError for absurd integers
            continue
    return None


def _json_len(value: Any) -> int:
    """Length of ``json.dumps(value)`` (quotes included), computed cheaply for strings."""
    if type(value) is str:
        return len(encode_basestring_ascii(value))
    try:
        return len(json.dumps(value))
    except Exception:  # noqa: BLE001 - not serializable: the size is moot, the response cannot be sent
        return 0


def _transform_one(record: Mapping[str, Any], raw: bytes, terminator: str) -> tuple[str, str, str] | str:
    """``(base64 line, event_date, event_hour)`` for a good record's decoded bytes, else the
    failure reason. ``terminator`` ends the JSON text (``"\\n"`` for JSON lines, ``""`` for a
    document)."""
    if len(raw) > MAX_READING_BYTES:
        return TOO_LARGE
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8
    try:
        reading = _DECODER.decode(text)
    except (ValueError, RecursionError):  # JSONDecodeError, NaN/Infinity, too many int digits, deep nesting
        return NOT_JSON
    if type(reading) is not dict:
        return NOT_OBJECT
    arrival = arrival_time(record) if reading.get("ingested_at") is None else None
    try:
        normalised = parse_reading(reading, arrival_time=arrival)
    except ContractError as error:
        return contract_reason(error)
    line = _ENCODER.encode(normalised) + terminator
    encoded = _b2a_base64(line.encode("ascii"), newline=False).decode("ascii")
    return encoded, normalised["event_date"], normalised["event_hour"]


def _unwrap(record: Any) -> Any:
    # Powertools' KinesisFirehoseRecord wraps the event dict; reading the dict directly is faster.
    raw = getattr(record, "raw_event", None)
    return raw if isinstance(raw, Mapping) else record


def transform_records(
    records: Iterable[FirehoseRecordLike],
    *,
    response_budget: int = RESPONSE_BUDGET_BYTES,
    output_format: str = JSON_LINES,
) -> TransformResult:
    """Transform a Firehose batch; see the module docstring for the rules. Never raises for
    any record content (``records`` itself must be iterable). ``output_format`` is
    :data:`JSON_LINES` (S3: newline-terminated lines with partition keys) or :data:`DOCUMENT`
    (OpenSearch: one JSON object per record, no metadata); an unknown format raises
    ``ValueError`` before any record is looked at (a wiring error, not a record's fault)."""
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"transform_records: output_format must be one of {OUTPUT_FORMATS}; got {output_format!r}")
    as_document = output_format == DOCUMENT
    terminator = "" if as_document else "\n"
    items = [_unwrap(record) for record in records]
    # Pass 1: decode the base64, and add up what an all-failed response would weigh. That is the
    # starting point of the size accounting, so a record becomes Ok only while every later
    # record still fits as failed.
    prepared: list[tuple[Any, Any, Any, bytes | None, int, int]] = []
    projected = _ENVELOPE_BYTES + _SEPARATOR_BYTES * max(len(items) - 1, 0)
    for item in items:
        if isinstance(item, Mapping):
            record_id, data = item.get("recordId"), item.get("data")
        else:
            record_id = data = None
        raw: bytes | None = None
        id_bytes = _json_len(record_id)
        if type(data) is str:
            try:
                raw = _a2b_base64(data, strict_mode=True)  # == base64.b64decode(data, validate=True)
                data_bytes = len(data) + 2  # valid base64 needs no JSON escapes
            except ValueError:  # binascii.Error, and non-ASCII text
                data_bytes = _json_len(data)
        else:
            data_bytes = 2  # returned as ""
        failed_bytes = _FAILED_FIXED_BYTES + id_bytes + data_bytes
        projected += failed_bytes
        prepared.append((item, record_id, data, raw, id_bytes, failed_bytes))

    # Pass 2: transform in order.
    Record = KinesisFirehoseDataTransformationRecord
    Metadata = KinesisFirehoseDataTransformationRecordMetadata
    out: list[KinesisFirehoseDataTransformationRecord] = []
    failures: list[RecordFailure] = []
    failed_by_reason: dict[str, int] = {}
    exhausted = False
    for index, (item, record_id, data, raw, id_bytes, failed_bytes) in enumerate(prepared):
        if exhausted:
            reason = RESPONSE_SIZE_LIMIT
        elif type(record_id) is not str or type(data) is not str:
            reason = INVALID_RECORD
        elif raw is None:
            reason = INVALID_BASE64
        else:
            try:
                outcome = _transform_one(item, raw, terminator)
            except Exception:  # noqa: BLE001 - one bad record must never fail the batch
                outcome = UNEXPECTED_ERROR
            if type(outcome) is str:
                reason = outcome
            else:
                encoded, event_date, event_hour = outcome
                if as_document:
                    growth = _DOCUMENT_FIXED_BYTES + id_bytes + len(encoded) - failed_bytes
                else:
                    growth = _OK_FIXED_BYTES + id_bytes + len(encoded) + len(event_date) + len(event_hour) - failed_bytes
                if growth <= 0 or projected + growth <= response_budget:
                    projected += growth
                    metadata = None if as_document else Metadata({"event_date": event_date, "event_hour": event_hour})
                    out.append(Record(record_id, OK, encoded, metadata))
                    continue
                exhausted = True
                reason = RESPONSE_SIZE_LIMIT
        failures.append(RecordFailure(index, record_id, reason))
        failed_by_reason[reason] = failed_by_reason.get(reason, 0) + 1
        out.append(Record(record_id, PROCESSING_FAILED, data if type(data) is str else ""))
    return TransformResult(out, failures, projected, failed_by_reason)
