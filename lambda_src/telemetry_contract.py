"""The telemetry contract: the one definition of a device reading, used everywhere.

Devices publish a JSON object per reading on ``<prefix>/<device_id>/telemetry``. The IoT topic
rule adds ``device_id`` (from the topic, so a device cannot claim another's id) and
``ingested_at`` (epoch milliseconds). The Firehose transform validates and normalises the
record with :func:`parse_reading`; the device simulator builds readings with
:func:`build_reading`; the Glue job reads the normalised form described by
:data:`NORMALISED_FIELDS`.

Published reading (schema version 1)::

    {
      "schema_version": 1,                        # int, one of SUPPORTED_SCHEMA_VERSIONS
      "device_id": "pump-0042",                   # 1-128 of [A-Za-z0-9_-]; set by the topic rule
      "event_time": "2026-11-23T09:15:02.125+01:00",  # ISO-8601 with offset, or epoch millis
      "metrics": {"temperature_c": 21.5, "vibration_mm_s": 0.8},  # 1-100 finite numbers
      "attributes": {"site": "hamburg"}           # optional, 0-50 short strings
      "ingested_at": 1795425302250                # optional epoch millis, added by the rule
    }

Normalised reading (what lands in the raw zone, one JSON line each): the same keys with
``event_time`` and ``ingested_at`` in UTC with a ``Z`` (see :func:`format_timestamp`),
``attributes`` always present (``{}`` when absent), and the partition keys ``event_date``
(``2026-11-23``) and ``event_hour`` (``08``) derived from ``event_time``. Unknown top-level keys
are rejected, so a typo is caught at the edge rather than silently dropped.

Nothing accepted is altered on its way to the curated table (``metrics`` is
``map<string,double>``, strings are UTF-8 Parquet, times are microsecond timestamps): a value
that could not be kept exactly is rejected with a reason, never rounded or replaced.

* Metric values are IEEE-754 doubles. A JSON integer literal is accepted only if a double holds
  it exactly: every integer up to 2^53 in magnitude, and beyond that only those a double happens
  to hold (2^60 is fine; 9007199255316501 = 2^53 + 564,509 is not, it would become
  ...500). The rule is about integer literals only: a literal with a fraction or an exponent
  (``0.1``, ``1e-05``) is a double by nature and is read as the nearest double, as JSON
  readers do. A device with wider counters (64-bit byte counters) sends them as an attribute
  string (``"attributes": {"bytes_total": "9007199255316501"}``) or splits them into metrics
  that each stay below 2^53.
* Strings must be valid Unicode. JSON can carry a lone surrogate escape (``"\\ud83d"``, a
  string cut in the middle of an emoji), which Python decodes to a string UTF-8 cannot encode
  and Spark writes as ``?``. Only attribute values can hold one (device ids and names match
  ASCII patterns); such a reading is rejected (``attributes.<name>: not valid Unicode``). A
  proper pair (``"\\ud83d\\ude00"``) is one character and is kept.
* Times keep up to microseconds exactly (the curated columns are microsecond timestamps), so
  two readings 0.5 ms apart stay two readings. A time with more than six fractional digits whose
  extra digits are not all zero is rejected (``finer than a microsecond``), never truncated. An
  epoch-milliseconds number may have a fraction (``1795421702125.5``); being a JSON number it is
  read as a double, and its shortest decimal form must then have at most three fractional
  digits (whole microseconds). For sub-millisecond times, ISO-8601 strings are the exact form.

Standard library only: this module is deployed inside the Lambda asset, imported by the
simulator and shipped to Glue as an extra Python file.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Mapping
from typing import Any

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = (1,)

#: A reading larger than this (UTF-8 JSON as published) is rejected. IoT Core caps an MQTT
#: message at 128 KiB; the limit here is the same, so anything the broker accepts is judged on
#: its content, not its size.
MAX_READING_BYTES = 128 * 1024
MAX_METRICS = 100
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_VALUE_LENGTH = 256

DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
METRIC_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
ATTRIBUTE_NAME = METRIC_NAME

#: Epoch milliseconds outside these bounds are certainly wrong (seconds sent as millis, or a
#: clock far in the future), so they are rejected instead of landing in year-1970 partitions.
EARLIEST_EVENT_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
LATEST_EVENT_TIME = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
#: The fractional seconds of an ISO-8601 time (``.`` or ``,``, as ``fromisoformat`` accepts).
_FRACTION = re.compile(r"[.,](\d+)")

REQUIRED_FIELDS = ("schema_version", "device_id", "event_time", "metrics")
OPTIONAL_FIELDS = ("attributes", "ingested_at")
#: Keys of a normalised reading, in the order they are written.
NORMALISED_FIELDS = (
    "schema_version",
    "device_id",
    "event_time",
    "ingested_at",
    "metrics",
    "attributes",
    "event_date",
    "event_hour",
)
PARTITION_KEYS = ("event_date", "event_hour")


class ContractError(ValueError):
    """A reading breaks the contract; the message says which field and why."""


def _finite(number: int | float) -> bool:
    """True for finite floats and for ints that fit a float (JSON allows 400-digit integers,
    on which ``math.isfinite`` raises OverflowError)."""
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def _exact_double(number: int | float) -> bool:
    """True if a double holds ``number`` exactly: any float, and an int whose conversion to
    float is lossless (Python compares int and float exactly). Call after :func:`_finite`."""
    return type(number) is not int or -(2**53) <= number <= 2**53 or float(number) == number


def _valid_unicode(text: str) -> bool:
    """False if ``text`` holds a surrogate code point (json decodes a proper ``\\ud83d\\ude00``
    pair to one character, so any surrogate left is a lone one), which UTF-8 cannot encode."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def format_timestamp(moment: dt.datetime) -> str:
    """UTC ISO-8601 with ``Z``, in one canonical form per instant: milliseconds
    (``2026-11-23T08:15:02.125Z``), or microseconds when the sub-millisecond part is not zero
    (``2026-11-23T08:15:02.125500Z``).

    Why not always six digits: every line written before microseconds were kept is then still
    canonical (the raw zone's history, replays, a run straddling a deploy), and the common case
    (millisecond clocks, the rule's epoch-millis ``ingested_at``) is unchanged byte for byte.
    The price: across the two widths, the raw text does not sort as the time does
    (``...02.125500Z`` < ``...02.125Z``); compare the parsed times, as the curated table does."""
    if moment.utcoffset() is None:
        raise ContractError(f"timestamp {moment!r} has no UTC offset")
    utc = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds" if utc.microsecond % 1000 == 0 else "microseconds") + "Z"


def _from_epoch_millis(value: int | float, field: str) -> dt.datetime:
    """An epoch-milliseconds number as an exact UTC time (whole microseconds, else rejected)."""
    if not _finite(value):
        raise ContractError(f"{field}: epoch milliseconds must be a finite number within float range")
    if type(value) is int:
        micros = value * 1000
    else:
        # The shortest decimal that is this double: what the device wrote, up to a double's
        # precision (a JSON number with a fraction is a double by contract, as for metrics).
        exact = decimal.Decimal(repr(value)).scaleb(3)
        if exact != exact.to_integral_value():
            raise ContractError(f"{field}: {value!r} epoch milliseconds is finer than a microsecond")
        micros = int(exact)
    try:
        return _EPOCH + dt.timedelta(microseconds=micros)
    except OverflowError:
        raise ContractError(f"{field}: {value!r} is not a usable epoch-milliseconds value") from None


def _check_fraction(value: str, field: str) -> None:
    """Reject more than six fractional digits unless the extra ones are zeros:
    ``fromisoformat`` would silently drop them."""
    fraction = _FRACTION.search(value)
    if fraction is not None and fraction.group(1)[6:].strip("0"):
        raise ContractError(f"{field}: {value!r} is finer than a microsecond (at most 6 fractional digits)")


def parse_timestamp(value: Any, field: str) -> dt.datetime:
    """An aware UTC datetime from ISO-8601 with an offset (or ``Z``) or from epoch millis,
    exact to the microsecond (finer precision is rejected, see the module docstring)."""
    if isinstance(value, bool):
        raise ContractError(f"{field}: expected an ISO-8601 string or epoch milliseconds, got a boolean")
    if isinstance(value, int | float):
        moment = _from_epoch_millis(value, field)
    elif isinstance(value, str):
        if len(value) > 64:
            raise ContractError(f"{field}: timestamp string longer than 64 characters")
        _check_fraction(value, field)
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
        except ValueError:
            raise ContractError(f"{field}: {value!r} is not an ISO-8601 timestamp") from None
        if moment.tzinfo is None:
            raise ContractError(f"{field}: {value!r} has no UTC offset (add Z or +hh:mm)")
        moment = moment.astimezone(dt.timezone.utc)
    else:
        raise ContractError(f"{field}: expected an ISO-8601 string or epoch milliseconds, got {type(value).__name__}")
    if not EARLIEST_EVENT_TIME <= moment < LATEST_EVENT_TIME:
        raise ContractError(f"{field}: {format_timestamp(moment)} is outside 2000-01-01..2100-01-01")
    return moment


def _metrics(value: Any) -> dict[str, float | int]:
    if not isinstance(value, Mapping):
        raise ContractError(f"metrics: expected an object, got {type(value).__name__}")
    if not 1 <= len(value) <= MAX_METRICS:
        raise ContractError(f"metrics: expected 1-{MAX_METRICS} entries, got {len(value)}")
    for name, number in value.items():
        if not METRIC_NAME.fullmatch(name):
            raise ContractError(f"metrics: name {name[:80]!r} must match {METRIC_NAME.pattern}")
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ContractError(f"metrics.{name}: expected a number, got {type(number).__name__}")
        if not _finite(number):
            raise ContractError(f"metrics.{name}: must be finite and within float range")
        if not _exact_double(number):
            raise ContractError(
                f"metrics.{name}: integer {number} is not exactly representable as a double (metric values are "
                "doubles; send wider counters as an attribute string)"
            )
    return dict(value)


def _attributes(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ContractError(f"attributes: expected an object, got {type(value).__name__}")
    if len(value) > MAX_ATTRIBUTES:
        raise ContractError(f"attributes: at most {MAX_ATTRIBUTES} entries, got {len(value)}")
    for name, text in value.items():
        if not ATTRIBUTE_NAME.fullmatch(name):
            raise ContractError(f"attributes: name {name[:80]!r} must match {ATTRIBUTE_NAME.pattern}")
        if not isinstance(text, str):
            raise ContractError(f"attributes.{name}: expected a string, got {type(text).__name__}")
        if len(text) > MAX_ATTRIBUTE_VALUE_LENGTH:
            raise ContractError(f"attributes.{name}: longer than {MAX_ATTRIBUTE_VALUE_LENGTH} characters")
        if not _valid_unicode(text):
            raise ContractError(f"attributes.{name}: not valid Unicode (a lone surrogate, e.g. a string cut inside an emoji)")
    return dict(value)


def parse_reading(reading: Any, *, arrival_time: dt.datetime | None = None) -> dict[str, Any]:
    """Validate a published reading and return its normalised form.

    ``arrival_time`` stands in for ``ingested_at`` when the rule did not add it (records put on
    the stream directly). Raises :class:`ContractError` naming the first broken field.
    """
    if not isinstance(reading, Mapping):
        raise ContractError(f"reading: expected a JSON object, got {type(reading).__name__}")
    missing = [name for name in REQUIRED_FIELDS if name not in reading]
    if missing:
        raise ContractError(f"missing required field(s): {', '.join(missing)}")
    unknown = sorted(set(reading) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise ContractError(f"unknown field(s): {', '.join(str(u)[:80] for u in unknown[:5])}")
    version = reading["schema_version"]
    # type(...) is int: 1.0 == 1 and True == 1 in Python, but the curated column is an integer
    # and a reading claiming version 1.0 or true is not one the contract defines.
    if type(version) is not int or version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ContractError(f"schema_version: {version!r} is not one of {SUPPORTED_SCHEMA_VERSIONS}")
    device_id = reading["device_id"]
    if not isinstance(device_id, str) or not DEVICE_ID.fullmatch(device_id):
        raise ContractError(f"device_id: {str(device_id)[:80]!r} must match {DEVICE_ID.pattern}")
    event_time = parse_timestamp(reading["event_time"], "event_time")
    if reading.get("ingested_at") is not None:
        ingested_at: dt.datetime | None = parse_timestamp(reading["ingested_at"], "ingested_at")
    else:
        ingested_at = arrival_time
    event_time_text = format_timestamp(event_time)
    return {
        "schema_version": version,
        "device_id": device_id,
        "event_time": event_time_text,
        "ingested_at": format_timestamp(ingested_at) if ingested_at is not None else None,
        "metrics": _metrics(reading["metrics"]),
        "attributes": _attributes(reading.get("attributes")),
        "event_date": event_time_text[:10],
        "event_hour": event_time_text[11:13],
    }


def build_reading(
    device_id: str,
    event_time: dt.datetime,
    metrics: Mapping[str, float | int],
    attributes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A published reading that satisfies the contract (checked before it is returned).
    ``event_time`` must be timezone-aware: a naive datetime raises ContractError rather than
    being read as local time."""
    reading: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "device_id": device_id,
        "event_time": format_timestamp(event_time),
        "metrics": dict(metrics),
    }
    if attributes:
        reading["attributes"] = dict(attributes)
    parse_reading(reading)
    return reading
