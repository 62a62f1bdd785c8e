"""scripts/simulate_devices.py: readings, batching, both publishers, pacing and the CLI.

AWS is never called: every client is wrapped in an activated botocore Stubber before its first
call, and main() only ever gets clients from the injected factory (the real one is disabled).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

import telemetry_contract
from scripts import simulate_devices as sim

ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 11, 23, 8, 15, 2, 125000, tzinfo=dt.timezone.utc)
ENDPOINT = "abc123example-ats.iot.eu-west-1.amazonaws.com"


class FakeTime:
    """A monotonic clock that only moves when slept on (or advanced by hand)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def fixed_now() -> dt.datetime:
    return NOW


def client(service: str, **kwargs: Any) -> Any:
    return boto3.client(
        service, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing", **kwargs
    )


@pytest.fixture(autouse=True)
def no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, no config files, and main() cannot build a real client."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a test tried to create a real boto3 client factory")

    monkeypatch.setattr(sim.cli, "boto3_client_factory", refuse)


@pytest.fixture
def kinesis() -> Iterator[tuple[Any, Stubber]]:
    kinesis_client = client("kinesis")
    with Stubber(kinesis_client) as stubber:
        yield kinesis_client, stubber
        stubber.assert_no_pending_responses()


# The botocore model gives FailedRecordCount a minimum of 1, so the Stubber refuses the 0 that
# the real API returns on full success: successful stub responses omit the field (the publisher
# reads the per-entry ErrorCode, not the count).
def ok_results(n: int) -> list[dict[str, str]]:
    return [{"SequenceNumber": str(4960000000000 + i), "ShardId": "shardId-000000000000"} for i in range(n)]


def ok() -> dict[str, str]:
    return ok_results(1)[0]


def throttled() -> dict[str, str]:
    return {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded for shard shardId-0"}


def internal_failure() -> dict[str, str]:
    return {"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service failure."}


def entries(readings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"Data": sim.encode_reading(r), "PartitionKey": r["device_id"]} for r in readings]


def expect_put(
    stub: Stubber, stream: str, readings: list[dict[str, Any]], results: list[dict[str, str]] | None = None
) -> None:
    """Queue a PutRecords call carrying exactly ``readings``; all succeed unless ``results``."""
    results = results if results is not None else ok_results(len(readings))
    response: dict[str, Any] = {"Records": results}
    failed = sum(1 for r in results if "ErrorCode" in r)
    if failed:
        response["FailedRecordCount"] = failed
    stub.add_response("put_records", response, {"StreamName": stream, "Records": entries(readings)})


def expect_publish(stub: Stubber, prefix: str, reading: dict[str, Any]) -> None:
    expected = {"topic": f"{prefix}/{reading['device_id']}/telemetry", "qos": 1, "payload": sim.encode_reading(reading)}
    stub.add_response("publish", {}, expected)


# ---------------------------------------------------------------------------------------------
# Readings
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# IoT
# ---------------------------------------------------------------------------------------------


def test_iot_publisher_resolves_the_ats_endpoint_and_publishes_qos1_per_device_topic() -> None:
    iot = client("iot")
    readings = sim.TelemetrySimulator(2, seed=5, now=fixed_now).readings(3)
    with Stubber(iot) as iot_stub:
        iot_stub.add_response("describe_endpoint", {"endpointAddress": ENDPOINT}, {"endpointType": "iot:Data-ATS"})
        endpoint = sim.iot_data_endpoint(iot)
        iot_stub.assert_no_pending_responses()
    assert endpoint == f"https://{ENDPOINT}"

    data = client("iot-data", endpoint_url=endpoint)
    assert data.meta.endpoint_url == endpoint
    with Stubber(data) as data_stub:
        for reading in readings:
            expect_publish(data_stub, "plant-b", reading)
        publisher = sim.IotPublisher(data, "plant-b")
        reports = [publisher.add(r) for r in readings]
        data_stub.assert_no_pending_responses()
    assert [r.sent for r in reports] == [1, 1, 1]
    for reading in readings:
        payload = json.loads(sim.encode_reading(reading).decode("utf-8"))
        assert payload == reading
        assert telemetry_contract.parse_reading(payload)["device_id"] == reading["device_id"]


def test_main_publishes_to_iot_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    iot, data = client("iot"), client("iot-data", endpoint_url=f"https://{ENDPOINT}")
    expected = sim.TelemetrySimulator(2, seed=9, now=fixed_now).readings(4)
    requested: list[tuple[str, dict[str, Any]]] = []
    with Stubber(iot) as iot_stub, Stubber(data) as data_stub:
        iot_stub.add_response("describe_endpoint", {"endpointAddress": ENDPOINT}, {"endpointType": "iot:Data-ATS"})
        for reading in expected:
            expect_publish(data_stub, "telemetry", reading)

        def factory(service: str, **kwargs: Any) -> Any:
            requested.append((service, kwargs))
            return {"iot": iot, "iot-data": data}[service]

        fake = FakeTime()
        code = sim.main(
            ["--devices", "2", "--count", "4", "--rate", "2", "--seed", "9", "--no-progress"],
            client_factory=factory,
            clock=fake.clock,
            sleep=fake.sleep,
            now=fixed_now,
        )
        iot_stub.assert_no_pending_responses()
        data_stub.assert_no_pending_responses()
    assert code == 0
    assert requested == [("iot", {}), ("iot-data", {"endpoint_url": f"https://{ENDPOINT}"})]
    assert fake.sleeps == [0.5, 0.5, 0.5]
    out = capsys.readouterr().out
    assert "to topics telemetry/<device_id>/telemetry (seed 9)" in out
    assert "sent 4, failed 0 of 4 readings generated" in out
    assert "achieved rate 2.7/s" in out  # 4 readings in 1.5 s


def test_an_iot_error_stops_the_run_and_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    iot, data = client("iot"), client("iot-data", endpoint_url=f"https://{ENDPOINT}")
    with Stubber(iot) as iot_stub, Stubber(data) as data_stub:
        iot_stub.add_response("describe_endpoint", {"endpointAddress": ENDPOINT}, {"endpointType": "iot:Data-ATS"})
        data_stub.add_response("publish", {})
        data_stub.add_client_error("publish", "ForbiddenException", "not authorised", http_status_code=403)
        fake = FakeTime()
        code = sim.main(
            ["--count", "5", "--seed", "1", "--no-progress"],
            client_factory=lambda service, **kw: {"iot": iot, "iot-data": data}[service],
            clock=fake.clock,
            sleep=fake.sleep,
            now=fixed_now,
        )
        data_stub.assert_no_pending_responses()
    assert code == 1
    captured = capsys.readouterr()
    assert "not delivered: device sim-0002 event_time 2026-11-23T08:15:02.125Z -- ForbiddenException" in captured.err
    assert "sent 1, failed 1 of 2 readings generated (5 planned)" in captured.out
    assert "stopped: IoT publish failed" in captured.out


def test_an_unreachable_endpoint_gives_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    iot = client("iot")
    with Stubber(iot) as stub:
        stub.add_client_error("describe_endpoint", "UnauthorizedException", "no", http_status_code=401)
        code = sim.main(["--count", "1", "--no-progress"], client_factory=lambda service, **kw: iot)
    assert code == 1
    assert "error: cannot set up the iot target: " in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# Kinesis
# ---------------------------------------------------------------------------------------------


def test_batcher_respects_the_record_and_byte_limits() -> None:
    batcher: sim.RecordBatcher[int] = sim.RecordBatcher()
    ready = [batch for i in range(1001) for batch in batcher.add(i, 100)]
    assert [len(b) for b in ready] == [500, 500]
    assert ready[0][0] == 0 and ready[1][0] == 500
    assert batcher.take() == [1000]

    mib = 1024 * 1024
    ready = [batch for i in range(7) for batch in batcher.add(i, mib)]
    assert [len(b) for b in ready] == [5]  # 5 MiB exactly fits, the sixth starts a new batch
    assert len(batcher) == 2 and batcher.pending_bytes == 2 * mib
    with pytest.raises(ValueError, match="exceeds"):
        batcher.add(99, mib + 1)


def test_kinesis_entries_are_the_utf8_reading_keyed_by_device() -> None:
    reading = sim.TelemetrySimulator(1, seed=2, now=fixed_now).next_reading()
    entry = sim.KinesisEntry.from_reading(reading).request_entry
    assert entry["PartitionKey"] == reading["device_id"] == "sim-0001"
    assert json.loads(entry["Data"].decode("utf-8")) == reading
    telemetry_contract.parse_reading(json.loads(entry["Data"]), arrival_time=NOW)


def test_kinesis_publisher_batches_at_500_records(kinesis: tuple[Any, Stubber]) -> None:
    kinesis_client, stub = kinesis
    readings = sim.TelemetrySimulator(7, seed=4, now=fixed_now).readings(1201)
    for chunk in (readings[:500], readings[500:1000], readings[1000:]):
        expect_put(stub, "analytics-dev-telemetry", chunk)
    fake = FakeTime()
    publisher = sim.KinesisPublisher(kinesis_client, "analytics-dev-telemetry", clock=fake.clock, sleep=fake.sleep)
    sent = [publisher.add(r).sent for r in readings]
    assert sent[499] == 500 and sent[999] == 500 and sum(sent) == 1000
    assert publisher.pending == 201
    assert publisher.flush().sent == 201
    assert publisher.calls == 3 and fake.sleeps == []


def test_kinesis_stream_arn_is_passed_as_stream_arn(kinesis: tuple[Any, Stubber]) -> None:
    kinesis_client, stub = kinesis
    arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/analytics-dev-telemetry"
    reading = sim.TelemetrySimulator(1, seed=4, now=fixed_now).next_reading()
    stub.add_response("put_records", {"Records": ok_results(1)}, {"StreamARN": arn, "Records": entries([reading])})
    publisher = sim.KinesisPublisher(kinesis_client, arn)
    publisher.add(reading)
    assert publisher.flush().sent == 1


def test_kinesis_retries_exactly_the_failed_entry_with_backoff(kinesis: tuple[Any, Stubber]) -> None:
    kinesis_client, stub = kinesis
    readings = sim.TelemetrySimulator(3, seed=8, now=fixed_now).readings(3)
    expect_put(stub, "s", readings, [ok(), throttled(), ok()])
    expect_put(stub, "s", [readings[1]])  # exactly the failed record, nothing else
    fake = FakeTime()
    publisher = sim.KinesisPublisher(kinesis_client, "s", clock=fake.clock, sleep=fake.sleep)
    for reading in readings:
        assert publisher.add(reading).sent == 0
    report = publisher.flush()
    assert report.sent == 3 and report.failed == []
    assert fake.sleeps == [0.1]


def test_kinesis_reports_entries_that_still_fail_after_the_retries(kinesis: tuple[Any, Stubber]) -> None:
    kinesis_client, stub = kinesis
    readings = sim.TelemetrySimulator(2, seed=8, now=fixed_now).readings(2)
    expect_put(stub, "s", readings, [throttled(), ok()])
    for _ in range(3):
        expect_put(stub, "s", readings[:1], [throttled()])
    fake = FakeTime()
    publisher = sim.KinesisPublisher(
        kinesis_client, "s", max_retries=3, backoff_base=0.1, backoff_max=0.25, clock=fake.clock, sleep=fake.sleep
    )
    publisher.add(readings[0])
    publisher.add(readings[1])
    report = publisher.flush()
    assert report.sent == 1
    assert report.failed == [
        sim.Failure(
            device_id="sim-0001",
            event_time="2026-11-23T08:15:02.125Z",
            error_code="ProvisionedThroughputExceededException",
            error_message=throttled()["ErrorMessage"],
        )
    ]
    assert fake.sleeps == [0.1, 0.2, 0.25]  # exponential, capped


def test_kinesis_flushes_a_batch_that_would_linger(kinesis: tuple[Any, Stubber]) -> None:
    kinesis_client, stub = kinesis
    readings = sim.TelemetrySimulator(2, seed=8, now=fixed_now).readings(3)
    expect_put(stub, "s", readings[:2])
    fake = FakeTime()
    publisher = sim.KinesisPublisher(kinesis_client, "s", linger_seconds=1.0, clock=fake.clock, sleep=fake.sleep)
    publisher.add(readings[0])
    fake.now += 0.6
    publisher.add(readings[1])
    assert publisher.tick().sent == 0
    assert publisher.tick(upcoming_idle=0.3).sent == 0
    assert publisher.tick(upcoming_idle=0.4).sent == 2  # the oldest would wait 1.0 s
    publisher.add(readings[2])
    assert publisher.pending == 1
    assert publisher.discard()[0].error_code == "NotSent"


def test_main_exits_non_zero_and_prints_a_permanently_failed_record(
    capsys: pytest.CaptureFixture[str], kinesis: tuple[Any, Stubber]
) -> None:
    kinesis_client, stub = kinesis
    readings = sim.TelemetrySimulator(3, seed=21, now=fixed_now).readings(3)
    expect_put(stub, "analytics-dev-telemetry", readings, [ok(), ok(), internal_failure()])
    for _ in range(2):
        expect_put(stub, "analytics-dev-telemetry", readings[2:], [internal_failure()])
    fake = FakeTime()
    code = sim.main(
        ["--target", "kinesis", "--stream-name", "analytics-dev-telemetry", "--devices", "3", "--count", "3",
         "--rate", "100", "--seed", "21", "--max-retries", "2", "--no-progress"],
        client_factory=lambda service, **kw: {"kinesis": kinesis_client}[service],
        clock=fake.clock,
        sleep=fake.sleep,
        now=fixed_now,
    )
    assert code == 1
    captured = capsys.readouterr()
    failure = (
        "not delivered: device sim-0003 event_time 2026-11-23T08:15:02.125Z -- "
        "InternalFailure: Internal service failure."
    )
    assert captured.err.splitlines() == [failure]
    assert "sent 2, failed 1 of 3 readings generated" in captured.out


def test_main_with_kinesis_delivers_everything_and_exits_zero(
    capsys: pytest.CaptureFixture[str], kinesis: tuple[Any, Stubber]
) -> None:
    kinesis_client, stub = kinesis
    readings = sim.TelemetrySimulator(4, seed=5, now=fixed_now).readings(30)
    # 10 readings a second, lingering at most 1 s: one PutRecords per second of readings.
    for chunk in (readings[:10], readings[10:20], readings[20:]):
        expect_put(stub, "s", chunk)
    fake = FakeTime()
    code = sim.main(
        ["--target", "kinesis", "--stream-name", "s", "--devices", "4", "--duration", "3", "--seed", "5",
         "--no-progress"],
        client_factory=lambda service, **kw: kinesis_client,
        clock=fake.clock,
        sleep=fake.sleep,
        now=fixed_now,
    )
    assert code == 0
    assert "sent 30, failed 0 of 30 readings generated (30 planned)" in capsys.readouterr().out


def test_a_rejected_put_records_call_stops_the_run_and_counts_every_record(kinesis: tuple[Any, Stubber]) -> None:
    kinesis_client, stub = kinesis
    stub.add_client_error("put_records", "ResourceNotFoundException", "Stream s not found", http_status_code=400)
    fake = FakeTime()
    simulator = sim.TelemetrySimulator(2, seed=1, now=fixed_now)
    publisher = sim.KinesisPublisher(kinesis_client, "s", clock=fake.clock, sleep=fake.sleep)
    summary = sim.run(simulator, publisher, rate=1, count=5, clock=fake.clock, sleep=fake.sleep)
    # The first reading would have lingered 1 s while waiting for the second, so it was sent
    # before the wait; the call failed and the run stopped there.
    assert summary.sent == 0 and summary.generated == 1
    assert [f.error_code for f in summary.failures] == ["ResourceNotFoundException"]
    assert fake.sleeps == []
    assert summary.error and "ResourceNotFoundException" in summary.error
    assert summary.exit_code == 1


# ---------------------------------------------------------------------------------------------
# Pacing
# ---------------------------------------------------------------------------------------------


class RecordingPublisher:
    def __init__(self, fake: FakeTime, seconds_per_publish: float = 0.0) -> None:
        self.fake = fake
        self.seconds_per_publish = seconds_per_publish
        self.published_at: list[float] = []

    def add(self, reading: dict[str, Any]) -> sim.DeliveryReport:
        self.published_at.append(self.fake.now)
        self.fake.now += self.seconds_per_publish
        return sim.DeliveryReport(sent=1)

    def tick(self, upcoming_idle: float = 0.0) -> sim.DeliveryReport:
        return sim.DeliveryReport()

    def flush(self) -> sim.DeliveryReport:
        return sim.DeliveryReport()

    def discard(self) -> list[sim.Failure]:
        return []


@pytest.mark.parametrize(("count", "rate"), [(1, 10.0), (50, 10.0), (200, 40.0), (7, 0.5)])
def test_n_readings_at_rate_r_sleep_n_minus_1_over_r(count: int, rate: float) -> None:
    fake = FakeTime()
    publisher = RecordingPublisher(fake)
    simulator = sim.TelemetrySimulator(3, seed=1, now=fixed_now)
    summary = sim.run(simulator, publisher, rate=rate, count=count, clock=fake.clock, sleep=fake.sleep)
    assert sum(fake.sleeps) == pytest.approx((count - 1) / rate)
    assert summary.sent == count and summary.exit_code == 0
    assert summary.elapsed == pytest.approx((count - 1) / rate)


def test_publishing_time_counts_against_the_schedule() -> None:
    fake = FakeTime()
    publisher = RecordingPublisher(fake, seconds_per_publish=0.04)
    simulator = sim.TelemetrySimulator(1, seed=1, now=fixed_now)
    sim.run(simulator, publisher, rate=10, count=11, clock=fake.clock, sleep=fake.sleep)
    assert sum(fake.sleeps) == pytest.approx(10 * 0.06)
    assert publisher.published_at == pytest.approx([1000.0 + i / 10 for i in range(11)])


def test_a_duration_stops_at_the_deadline_when_publishing_falls_behind() -> None:
    fake = FakeTime()
    publisher = RecordingPublisher(fake, seconds_per_publish=0.5)  # slower than the 10/s asked for
    simulator = sim.TelemetrySimulator(1, seed=1, now=fixed_now)
    summary = sim.run(simulator, publisher, rate=10, duration=2, clock=fake.clock, sleep=fake.sleep)
    assert summary.planned == 20
    assert summary.generated == summary.sent == 4
    assert fake.sleeps == []
    assert summary.exit_code == 0


def test_rate_limiter_and_planned_readings() -> None:
    assert sim.planned_readings(10, duration=1) == 10
    assert sim.planned_readings(10, duration=0.3) == 3  # no float rounding up to 4
    assert sim.planned_readings(0.1, duration=1) == 1
    assert sim.planned_readings(3, count=7) == 7
    with pytest.raises(ValueError):
        sim.RateLimiter(0)
    assert sim.backoff_delays(5, 0.1, 1.0) == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0])


def test_interrupt_flushes_and_exits_130(kinesis: tuple[Any, Stubber]) -> None:
    kinesis_client, stub = kinesis
    readings = sim.TelemetrySimulator(2, seed=1, now=fixed_now).readings(2)
    expect_put(stub, "s", readings)
    fake = FakeTime()

    def sleep(seconds: float) -> None:
        if fake.now >= 1000.1:
            raise KeyboardInterrupt
        fake.sleep(seconds)

    publisher = sim.KinesisPublisher(kinesis_client, "s", clock=fake.clock, sleep=fake.sleep)
    simulator = sim.TelemetrySimulator(2, seed=1, now=fixed_now)
    summary = sim.run(simulator, publisher, rate=10, count=100, clock=fake.clock, sleep=sleep)
    assert summary.interrupted and summary.sent == 2 and summary.exit_code == 130


def test_progress_bar_writes_to_the_given_file(kinesis: tuple[Any, Stubber]) -> None:
    kinesis_client, stub = kinesis
    stub.add_response("put_records", {"Records": ok_results(2)})
    fake, err, out = FakeTime(), io.StringIO(), io.StringIO()
    code = sim.main(
        ["--target", "kinesis", "--stream-name", "s", "--count", "2", "--rate", "1000"],
        client_factory=lambda service, **kw: kinesis_client,
        clock=fake.clock,
        sleep=fake.sleep,
        now=fixed_now,
        stdout=out,
        stderr=err,
    )
    assert code == 0
    assert "2/2" in err.getvalue()
    assert "sent 2, failed 0" in out.getvalue()


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--count", "5", "--target", "kinesis"], "--target kinesis needs --stream-name"),
        (["--count", "5", "--stream-name", "s"], "--stream-name applies to --target kinesis only"),
        (["--count", "5", "--target", "kinesis", "--stream-name", "s", "--topic-prefix", "t"],
         "--topic-prefix applies to --target iot only"),
        (["--count", "5", "--rate", "0"], "argument --rate: must be greater than 0"),
        (["--count", "5", "--rate", "-2"], "argument --rate: must be greater than 0"),
        (["--count", "5", "--rate", "nan"], "argument --rate: expected a finite number"),
        (["--count", "0"], "argument --count: must be at least 1"),
        (["--count", "5", "--devices", "many"], "argument --devices: expected a whole number"),
        (["--duration", "0"], "argument --duration: must be greater than 0"),
        (["--count", "5", "--duration", "10"], "not allowed with argument"),
        ([], "one of the arguments --duration --count is required"),
        (["--count", "5", "--topic-prefix", "telemetry/+"], "argument --topic-prefix: topic prefix"),
        (["--count", "5", "--device-prefix", "a b"], "argument --device-prefix: device prefix"),
        (["--count", "5", "--late-probability", "1.5"], "must be between 0 and 1"),
        (["--count", "5", "--late-max-seconds", "30"], "--late-max-seconds must be at least 60"),
        (["--count", "5", "--target", "sqs"], "argument --target: invalid choice"),
        (["--count", "5", "--target", "kinesis", "--stream-name", "bad name"],
         "neither a Kinesis stream name nor a stream ARN"),
    ],
)
def test_bad_arguments_are_clear_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        sim.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_defaults() -> None:
    args = sim.parse_args(["--count", "1"])
    assert (args.devices, args.rate, args.target) == (10, 10.0, "iot")
    assert (args.topic_prefix, args.device_prefix, args.stream_name) == ("telemetry", "sim", None)
    assert (args.late_probability, args.jitter_ms, args.seed, args.no_progress) == (0.0, 0.0, None, False)


def test_runs_as_a_module_from_the_repository_root() -> None:
    """`python -m scripts.simulate_devices` finds the contract without lambda_src on the path."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-m", "scripts.simulate_devices", "--count", "1", "--target", "kinesis"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "--target kinesis needs --stream-name" in result.stderr
