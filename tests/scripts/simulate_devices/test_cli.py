"""scripts/simulate_devices/cli.py: main() end to end against Stubbers, the argument checks, and
`python -m scripts.simulate_devices` itself.

AWS is never called: main() only ever gets clients from the injected factory (see conftest.py).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from scripts import simulate_devices as sim
from tests.scripts.simulate_devices.helpers import (
    ENDPOINT,
    FakeTime,
    client,
    expect_publish,
    expect_put,
    fixed_now,
    internal_failure,
    ok,
    ok_results,
)

ROOT = Path(__file__).resolve().parents[3]


# ---------------------------------------------------------------------------------------------
# IoT
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------------------------


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
