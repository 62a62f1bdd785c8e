"""The runtime properties: read as Managed Flink provides them, refused with the group and key named."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from flink_apps.anomaly_detection import properties
from flink_apps.anomaly_detection.properties import PropertyError, load_settings, settings_from_groups

ARN = "arn:aws:kinesis:eu-central-1:123456789012:stream/telemetry-dev/consumer/anomaly-detection:1795425302"
TOPIC = "arn:aws:sns:eu-central-1:123456789012:alarms-dev"
REQUIRED = {
    "TelemetrySource": {"efo.consumer.arn": ARN},
    "AnomalySink": {"delivery.stream.name": "anomalies-dev"},
    "Notifications": {"topic.arn": TOPIC},
}
README = Path(__file__).resolve().parents[2] / "flink_apps" / "anomaly_detection" / "README.md"


def groups(**changes: dict[str, str]) -> dict[str, dict[str, str]]:
    result = {group: dict(values) for group, values in REQUIRED.items()}
    for group, values in changes.items():
        result.setdefault(group, {}).update(values)
    return result


def test_the_defaults_and_what_the_arns_imply() -> None:
    settings = settings_from_groups(groups())
    assert (settings.stream_name, settings.consumer_name, settings.region) == ("telemetry-dev", "anomaly-detection", "eu-central-1")
    assert (settings.window_size_ms, settings.window_slide_ms, settings.min_samples) == (600_000, 60_000, 10)
    assert (settings.alert_threshold, settings.high_threshold, settings.critical_threshold) == (2.0, 3.0, 4.0)
    assert settings.anomaly_region == settings.topic_region == "eu-central-1"
    assert settings.dedup_period_ms == 900_000 and settings.out_of_orderness_ms == 30_000
    assert settings.initial_position == "LATEST" and settings.initial_timestamp is None


def test_the_service_file_format_is_read(tmp_path: Path) -> None:
    document = [{"PropertyGroupId": g, "PropertyMap": m} for g, m in groups(Detection={"min.samples": "20"}).items()]
    document.append({"PropertyGroupId": "kinesis.analytics.flink.run.options", "PropertyMap": {"python": "main.py"}})
    path = tmp_path / "application_properties.json"
    path.write_text(json.dumps(document))
    assert load_settings(path).min_samples == 20


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"TelemetrySource": {"efo.consumer.arn": ""}}, "TelemetrySource.efo.consumer.arn = '': is not a Kinesis stream consumer ARN"),
        ({"Detection": {"window.size.seconds": "ten"}}, "Detection.window.size.seconds = 'ten'"),
        ({"Detection": {"min.samples": "0"}}, "Detection.min.samples = '0': must be a positive integer"),
        ({"Detection": {"window.slide.seconds": "70"}}, "Detection.window.slide.seconds = 70 must divide"),
        ({"Detection": {"severity.high.threshold": "5"}}, "severity thresholds must rise: alert 2.0 < high 5.0 < critical 4.0"),
        ({"Detection": {"min.stddev": "nan"}}, "Detection.min.stddev = 'nan'"),
        ({"Detection": {"window.sise.seconds": "600"}}, "Detection: unknown key(s) window.sise.seconds"),
        ({"Detektion": {"min.samples": "5"}}, "unknown property group(s) Detektion"),
        ({"TelemetrySource": {"initial.position": "AT_TIMESTAMP"}}, "initial.timestamp is required with initial.position AT_TIMESTAMP"),
        ({"TelemetrySource": {"initial.timestamp": "1795425302"}}, "refused otherwise (initial.position = LATEST)"),
        ({"Notifications": {"topic.arn": "alarms"}}, "Notifications.topic.arn = 'alarms': is not an SNS topic ARN"),
        ({"AnomalySink": {"aws.region": "Frankfurt"}}, "AnomalySink.aws.region = 'Frankfurt'"),
    ],
)
def test_a_bad_value_is_refused_naming_group_and_key(changes: dict, message: str) -> None:
    with pytest.raises(PropertyError, match=re.escape(message)):
        settings_from_groups(groups(**changes))


@pytest.mark.parametrize("missing", [("TelemetrySource", "efo.consumer.arn"), ("AnomalySink", "delivery.stream.name"), ("Notifications", "topic.arn")])
def test_a_missing_required_key_is_named(missing: tuple[str, str]) -> None:
    given = groups()
    del given[missing[0]][missing[1]]
    with pytest.raises(PropertyError, match=re.escape(f"{missing[0]}.{missing[1]} is required")):
        settings_from_groups(given)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"PropertyGroupId": "x"}, "expected a list of property groups"),
        ([{"PropertyMap": {}}], "item 0 is not a {PropertyGroupId, PropertyMap} object"),
        ([{"PropertyGroupId": "Detection", "PropertyMap": {"min.samples": 5}}], "PropertyMap must map keys to strings"),
        ([{"PropertyGroupId": "Detection"}, {"PropertyGroupId": "Detection"}], "group Detection appears twice"),
    ],
)
def test_a_malformed_file_is_refused(tmp_path: Path, document: object, message: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(document))
    with pytest.raises(PropertyError, match=re.escape(message)):
        load_settings(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PropertyError, match="cannot read the application properties"):
        load_settings(tmp_path / "absent.json")


def test_the_example_properties_file_is_valid() -> None:
    load_settings(README.with_name("application_properties.json"))


def test_the_readme_documents_every_property_with_its_default() -> None:
    """Each group/key row of the README's table states the default SCHEMA holds (or 'required')."""
    text = README.read_text()
    rows = {
        (group, key): default
        for group, key, default in re.findall(r"^\| `([A-Za-z]+)` \| `([a-z.]+)` \| ([^|]+?) \|", text, re.MULTILINE)
    }
    expected = {
        (group, key): "required" if spec.default is None else (f"`{spec.default}`" if spec.default else "(empty)")
        for group, keys in properties.SCHEMA.items()
        for key, spec in keys.items()
    }
    assert rows == expected
