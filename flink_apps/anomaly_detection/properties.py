"""The application's runtime properties: read as Managed Service for Apache Flink provides them,
validated before any operator is built.

Managed Flink writes the application's property groups (``EnvironmentProperties.PropertyGroups``)
to ``/etc/flink/application_properties.json`` as a list of ``{"PropertyGroupId": ...,
"PropertyMap": {...}}``; locally the same list is read from a file path. Every value arrives as a
string. :func:`load_settings` turns the groups into one frozen :class:`Settings`, refusing a
missing required key, an unknown group or key (a typo would otherwise silently fall back to a
default), a value of the wrong type or out of range, with an error naming the group and key.

The one place the defaults live is :data:`SCHEMA`; the README's property table is checked
against it by a test.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Where Managed Service for Apache Flink puts the runtime properties.
MANAGED_PROPERTIES_PATH = Path("/etc/flink/application_properties.json")
#: Groups the service reads itself (the Python entry point and the jar); never ours to validate.
SERVICE_GROUPS = frozenset({"kinesis.analytics.flink.run.options"})

#: ``arn:aws:kinesis:<region>:<account>:stream/<stream>/consumer/<consumer>:<creation epoch>``
CONSUMER_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):kinesis:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"stream/(?P<stream>[A-Za-z0-9_.-]{1,128})/consumer/(?P<consumer>[A-Za-z0-9_.-]{1,128}):(?P<created>\d+)"
)
TOPIC_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):sns:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<topic>[A-Za-z0-9_-]{1,256}(\.fifo)?)"
)
DELIVERY_STREAM_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
INITIAL_POSITIONS = ("LATEST", "TRIM_HORIZON", "AT_TIMESTAMP")


class PropertyError(ValueError):
    """A runtime property is missing, unknown or invalid; the message names group and key."""


@dataclass(frozen=True)
class Property:
    """One key of a group: its default (``None`` = required) and how its string is read."""

    default: str | None
    parse: Callable[[str], Any]
    description: str


def _positive_int(text: str) -> int:
    value = int(text.strip())
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text.strip())
    if value < 0:
        raise ValueError("must be zero or a positive integer")
    return value


def _positive_float(text: str) -> float:
    value = float(text.strip())
    if not math.isfinite(value) or value <= 0:
        raise ValueError("must be a finite number above 0")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text.strip())
    if not math.isfinite(value) or value < 0:
        raise ValueError("must be a finite number, 0 or above")
    return value


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not pattern.fullmatch(text):
            raise ValueError(f"is not {what} (must match {pattern.pattern})")
        return text

    return parse


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return text

    return parse


def _optional(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    return lambda text: None if text == "" else parse(text)


SOURCE = "TelemetrySource"
ANOMALY_SINK = "AnomalySink"
NOTIFICATIONS = "Notifications"
DETECTION = "Detection"

#: Every group and key the application reads, with its default. ``None`` = required.
SCHEMA: dict[str, dict[str, Property]] = {
    SOURCE: {
        "efo.consumer.arn": Property(
            None, _matching(CONSUMER_ARN, "a Kinesis stream consumer ARN"),
            "ARN of the enhanced fan-out consumer registered for this application (AWS::Kinesis::StreamConsumer); "
            "the stream name and region are taken from it",
        ),
        "initial.position": Property(
            "LATEST", _one_of(*INITIAL_POSITIONS),
            "where to start when there is no snapshot: LATEST, TRIM_HORIZON or AT_TIMESTAMP",
        ),
        "initial.timestamp": Property(
            "", _optional(_non_negative_float),
            "epoch seconds to start from, required with AT_TIMESTAMP and refused otherwise",
        ),
    },
    ANOMALY_SINK: {
        "delivery.stream.name": Property(
            None, _matching(DELIVERY_STREAM_NAME, "a Firehose delivery stream name"),
            "Firehose delivery stream (Direct PUT) receiving every anomaly, late reading and rejected record",
        ),
        "aws.region": Property("", _optional(_matching(REGION, "an AWS region")), "its region; default: the source's"),
    },
    NOTIFICATIONS: {
        "topic.arn": Property(
            None, _matching(TOPIC_ARN, "an SNS topic ARN"),
            "SNS topic (the alarm topic) that receives the de-duplicated HIGH and CRITICAL anomalies",
        ),
        "publish.max.attempts": Property(
            "5", _positive_int,
            "attempts per notification (exponential back-off, 0.2 s doubling to 5 s) before it is written to "
            "the anomaly sink as notification_failed",
        ),
        "dedup.period.seconds": Property(
            "900", _positive_int,
            "per device and metric, at most one notification per period of event time (an escalation to a "
            "higher severity is sent at once)",
        ),
    },
    DETECTION: {
        "window.size.seconds": Property("600", _positive_int, "sliding window length"),
        "window.slide.seconds": Property("60", _positive_int, "sliding window slide; must divide the length"),
        "min.samples": Property("10", _positive_int, "readings a window needs before any reading is scored in it"),
        "min.stddev": Property(
            "0", _non_negative_float,
            "floor of the standard deviation a score divides by (0: none; a flat window scores 0)",
        ),
        "severity.alert.threshold": Property("2.0", _positive_float, "score above which a reading is an anomaly (MEDIUM)"),
        "severity.high.threshold": Property("3.0", _positive_float, "score above which it is HIGH"),
        "severity.critical.threshold": Property("4.0", _positive_float, "score above which it is CRITICAL"),
        "watermark.out.of.orderness.seconds": Property(
            "30", _non_negative_int, "how far behind a sensor's newest reading its readings may arrive and still count",
        ),
        "watermark.idleness.seconds": Property(
            "60", _positive_int, "a source shard silent this long stops holding the job's watermark back",
        ),
    },
}


@dataclass(frozen=True)
class Settings:
    """The validated properties. Durations in milliseconds (Flink's unit)."""

    consumer_arn: str
    consumer_name: str
    stream_name: str
    region: str
    initial_position: str
    initial_timestamp: float | None
    anomaly_delivery_stream: str
    anomaly_region: str
    topic_arn: str
    topic_region: str
    publish_max_attempts: int
    dedup_period_ms: int
    window_size_ms: int
    window_slide_ms: int
    min_samples: int
    min_stddev: float
    alert_threshold: float
    high_threshold: float
    critical_threshold: float
    out_of_orderness_ms: int
    idleness_ms: int


def property_groups(document: Any, source: str) -> dict[str, dict[str, str]]:
    """``{group id: {key: value}}`` from the service's list form, refusing anything else."""
    if not isinstance(document, list):
        raise PropertyError(f"{source}: expected a list of property groups, got {type(document).__name__}")
    groups: dict[str, dict[str, str]] = {}
    for index, group in enumerate(document):
        if not isinstance(group, Mapping) or not isinstance(group.get("PropertyGroupId"), str):
            raise PropertyError(f"{source}: item {index} is not a {{PropertyGroupId, PropertyMap}} object")
        group_id = group["PropertyGroupId"]
        values = group.get("PropertyMap", {})
        if not isinstance(values, Mapping) or not all(isinstance(v, str) for v in values.values()):
            raise PropertyError(f"{source}: group {group_id}: PropertyMap must map keys to strings")
        if group_id in groups:
            raise PropertyError(f"{source}: group {group_id} appears twice")
        groups[group_id] = dict(values)
    return groups


def _read(groups: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, Any]]:
    unknown_groups = sorted(set(groups) - set(SCHEMA) - SERVICE_GROUPS)
    if unknown_groups:
        raise PropertyError(f"unknown property group(s) {', '.join(unknown_groups)} (known: {', '.join(SCHEMA)})")
    values: dict[str, dict[str, Any]] = {}
    for group_id, keys in SCHEMA.items():
        given = groups.get(group_id, {})
        unknown = sorted(set(given) - set(keys))
        if unknown:
            raise PropertyError(f"{group_id}: unknown key(s) {', '.join(unknown)} (known: {', '.join(keys)})")
        values[group_id] = {}
        for key, spec in keys.items():
            text = given.get(key, spec.default)
            if text is None:
                raise PropertyError(f"{group_id}.{key} is required: {spec.description}")
            try:
                values[group_id][key] = spec.parse(text)
            except ValueError as error:
                raise PropertyError(f"{group_id}.{key} = {text!r}: {error}") from None
    return values


def settings_from_groups(groups: Mapping[str, Mapping[str, str]]) -> Settings:
    """Validate the groups (each key, then the rules between keys) into :class:`Settings`."""
    v = _read(groups)
    source, sink, notify, detect = v[SOURCE], v[ANOMALY_SINK], v[NOTIFICATIONS], v[DETECTION]
    arn = CONSUMER_ARN.fullmatch(source["efo.consumer.arn"])
    assert arn is not None  # checked by its parser
    if (source["initial.position"] == "AT_TIMESTAMP") != (source["initial.timestamp"] is not None):
        raise PropertyError(
            f"{SOURCE}.initial.timestamp is required with initial.position AT_TIMESTAMP and refused otherwise "
            f"(initial.position = {source['initial.position']})"
        )
    size, slide = detect["window.size.seconds"], detect["window.slide.seconds"]
    if slide > size or size % slide:
        raise PropertyError(
            f"{DETECTION}.window.slide.seconds = {slide} must divide {DETECTION}.window.size.seconds = {size} "
            "(a reading is scored in the window that ends at the end of its slide)"
        )
    alert, high, critical = (detect[f"severity.{name}.threshold"] for name in ("alert", "high", "critical"))
    if not alert < high < critical:
        raise PropertyError(
            f"{DETECTION}.severity thresholds must rise: alert {alert} < high {high} < critical {critical}"
        )
    if detect["min.samples"] < 2:
        raise PropertyError(f"{DETECTION}.min.samples = {detect['min.samples']}: a standard deviation needs 2 readings")
    return Settings(
        consumer_arn=arn.group(0),
        consumer_name=arn.group("consumer"),
        stream_name=arn.group("stream"),
        region=arn.group("region"),
        initial_position=source["initial.position"],
        initial_timestamp=source["initial.timestamp"],
        anomaly_delivery_stream=sink["delivery.stream.name"],
        anomaly_region=sink["aws.region"] or arn.group("region"),
        topic_arn=notify["topic.arn"],
        topic_region=TOPIC_ARN.fullmatch(notify["topic.arn"]).group("region"),
        publish_max_attempts=notify["publish.max.attempts"],
        dedup_period_ms=notify["dedup.period.seconds"] * 1000,
        window_size_ms=size * 1000,
        window_slide_ms=slide * 1000,
        min_samples=detect["min.samples"],
        min_stddev=detect["min.stddev"],
        alert_threshold=alert,
        high_threshold=high,
        critical_threshold=critical,
        out_of_orderness_ms=detect["watermark.out.of.orderness.seconds"] * 1000,
        idleness_ms=detect["watermark.idleness.seconds"] * 1000,
    )


def load_settings(path: Path) -> Settings:
    """Read and validate the properties file (the service's, or a local one)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PropertyError(f"cannot read the application properties {path}: {error}") from None
    except ValueError as error:
        raise PropertyError(f"{path} is not JSON: {error}") from None
    return settings_from_groups(property_groups(document, str(path)))
