"""scripts/simulate_devices/encoding.py: the contract the simulator builds readings with, and the
bytes they travel as (the topics are in test_fleet.py's test_device_ids_and_topics)."""

from __future__ import annotations

import json

import telemetry_contract
from scripts import simulate_devices as sim
from tests.scripts.simulate_devices.helpers import fixed_now


def test_the_package_uses_the_contract_module_the_transform_uses() -> None:
    """One module object, not a second copy: what the simulator builds is what the tests (and
    tools/smoke, through ``sim.telemetry_contract``) parse with the transform's rules."""
    assert sim.telemetry_contract is telemetry_contract
    assert sim.encoding.telemetry_contract is telemetry_contract


def test_a_reading_on_the_wire_is_compact_utf8_json() -> None:
    reading = {"device_id": "größe-1", "attributes": {"site": "Malmö ✓"}}
    data = sim.encode_reading(reading)
    # No spaces, and non-ASCII as UTF-8 rather than \u escapes: the one encoding for MQTT and Kinesis.
    assert data == '{"device_id":"größe-1","attributes":{"site":"Malmö ✓"}}'.encode("utf-8")
    assert data != json.dumps(reading, separators=(",", ":")).encode("ascii")
    assert json.loads(data.decode("utf-8")) == reading


def test_a_seeded_fleet_sends_exactly_these_bytes() -> None:
    """tools/pipeline generates its fleet from the simulator with a seed, so the bytes for a seed
    are part of what the simulator promises. A deliberate change of the model changes them: then
    update these, and say so, since every fleet the pipeline generates changes with them."""
    simulator = sim.TelemetrySimulator(2, seed=42, now=fixed_now)
    assert [sim.encode_reading(simulator.next_reading()) for _ in range(2)] == [
        b'{"schema_version":1,"device_id":"sim-0001","event_time":"2026-11-23T08:15:02.125Z",'
        b'"metrics":{"temperature_c":25.79,"humidity_pct":27.3,"vibration_mm_s":1.267,"battery_pct":63.47},'
        b'"attributes":{"site":"lyon","firmware":"1.5.0","model":"pump-a100","source":"simulator"}}',
        b'{"schema_version":1,"device_id":"sim-0002","event_time":"2026-11-23T08:15:02.125Z",'
        b'"metrics":{"temperature_c":15.84,"humidity_pct":37.5,"vibration_mm_s":1.727,"battery_pct":68.81},'
        b'"attributes":{"site":"hamburg","firmware":"1.5.1","model":"compressor-c5","source":"simulator"}}',
    ]
