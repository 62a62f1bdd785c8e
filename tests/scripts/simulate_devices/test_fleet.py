"""scripts/simulate_devices/fleet.py: the simulated devices and their readings (contract, cycle,
determinism, jitter and late readings, plausible values, battery swaps)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import telemetry_contract
from scripts import simulate_devices as sim
from tests.scripts.simulate_devices.helpers import NOW, fixed_now


def test_readings_satisfy_the_contract_and_cycle_through_the_devices() -> None:
    simulator = sim.TelemetrySimulator(3, seed=7, now=fixed_now)
    readings = simulator.readings(7)
    assert [r["device_id"] for r in readings] == ["sim-0001", "sim-0002", "sim-0003"] * 2 + ["sim-0001"]
    for reading in readings:
        normalised = telemetry_contract.parse_reading(reading)
        assert normalised["event_time"] == "2026-11-23T08:15:02.125Z"
        assert set(normalised["metrics"]) == {"temperature_c", "humidity_pct", "vibration_mm_s", "battery_pct"}
        assert set(normalised["attributes"]) == {"site", "firmware", "model", "source"}
        assert normalised["attributes"]["site"] in sim.SITES
        assert normalised["attributes"]["firmware"] in sim.FIRMWARE
    # A device's attributes do not change from one reading to the next.
    assert readings[0]["attributes"] == readings[3]["attributes"] == readings[6]["attributes"]


def test_device_ids_and_topics() -> None:
    assert sim.device_ids(3) == ["sim-0001", "sim-0002", "sim-0003"]
    assert sim.device_ids(12345, "pump")[-1] == "pump-12345"
    assert sim.TelemetrySimulator(2, seed=1, device_prefix="line_7").device_ids == ["line_7-0001", "line_7-0002"]
    assert sim.topic_for("telemetry", "sim-0001") == "telemetry/sim-0001/telemetry"
    assert sim.topic_for("plant-b", "sim-0042") == "plant-b/sim-0042/telemetry"
    for device_id in sim.device_ids(3, "x" * 100):
        assert telemetry_contract.DEVICE_ID.match(device_id)


def test_the_same_seed_and_clock_give_the_same_readings() -> None:
    def make(seed: int) -> list[dict[str, Any]]:
        return sim.TelemetrySimulator(
            5, seed=seed, now=fixed_now, jitter_seconds=0.5, late_probability=0.2
        ).readings(200)

    assert make(42) == make(42)
    assert make(42) != make(43)


def test_jitter_and_late_readings_move_event_time_back_only() -> None:
    jittered = sim.TelemetrySimulator(4, seed=3, now=fixed_now, jitter_seconds=0.25).readings(200)
    times = [telemetry_contract.parse_timestamp(r["event_time"], "event_time") for r in jittered]
    assert all(NOW - dt.timedelta(seconds=0.25, milliseconds=1) <= t <= NOW for t in times)
    assert len(set(times)) > 1

    late = sim.TelemetrySimulator(4, seed=3, now=fixed_now, late_probability=1.0, late_max_seconds=7200).readings(200)
    delays = [(NOW - telemetry_contract.parse_timestamp(r["event_time"], "event_time")).total_seconds() for r in late]
    assert all(60 - 0.001 <= d <= 7200 for d in delays)
    # Late readings land in earlier event_hour partitions.
    assert {telemetry_contract.parse_reading(r)["event_hour"] for r in late} >= {"06", "07"}

    on_time = sim.TelemetrySimulator(4, seed=3, now=fixed_now).readings(50)
    assert {r["event_time"] for r in on_time} == {"2026-11-23T08:15:02.125Z"}


@pytest.mark.parametrize("seed", [0, 1, 7, 2024, 31337, 2**31 - 1])
def test_values_stay_plausible_over_many_steps(seed: int) -> None:
    simulator = sim.TelemetrySimulator(2, seed=seed, now=fixed_now)
    temperatures = {d.device_id: [] for d in simulator.devices}
    for _ in range(2000):
        reading = simulator.next_reading()
        m = reading["metrics"]
        assert -40.0 <= m["temperature_c"] <= 85.0
        assert 0.0 <= m["humidity_pct"] <= 100.0
        assert 0.0 <= m["vibration_mm_s"] < 50.0
        assert 0.0 <= m["battery_pct"] <= 100.0
        temperatures[reading["device_id"]].append(m["temperature_c"])
    for device in simulator.devices:
        series = temperatures[device.device_id]
        # Mean-reverting: a device stays near its own baseline rather than wandering off.
        assert abs(sum(series) / len(series) - device.temperature_baseline) < 3.0


def test_battery_drains_slowly_and_is_replaced_when_flat() -> None:
    simulator = sim.TelemetrySimulator(1, seed=11, now=fixed_now)
    simulator.devices[0].battery_pct = 20.0  # close to flat, so a swap happens within the run
    levels = [r["metrics"]["battery_pct"] for r in simulator.readings(2000)]
    steps = [b - a for a, b in zip(levels, levels[1:])]
    assert all(-0.06 < step <= 0 or step > 90 for step in steps)  # drain, or a fresh battery
    assert any(step > 90 for step in steps)
    assert min(levels) >= sim.DeviceState.BATTERY_REPLACED_BELOW - 0.05


def test_bad_simulator_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        sim.TelemetrySimulator(0)
    with pytest.raises(ValueError):
        sim.TelemetrySimulator(1, device_prefix="bad/prefix")
    with pytest.raises(ValueError):
        sim.TelemetrySimulator(1, late_probability=1.5)
