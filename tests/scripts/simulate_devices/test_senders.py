"""scripts/simulate_devices/senders.py: both publishers, batching, retries, pacing and run().

AWS is never called: every client is wrapped in an activated botocore Stubber (see conftest.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

import telemetry_contract
from scripts import simulate_devices as sim
from tests.scripts.simulate_devices.helpers import (
    ENDPOINT,
    NOW,
    FakeTime,
    client,
    entries,
    expect_publish,
    expect_put,
    fixed_now,
    ok,
    ok_results,
    throttled,
)


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
