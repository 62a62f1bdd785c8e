"""Publish realistic device telemetry to a deployed environment, through IoT Core or straight
onto the Kinesis stream.

Run from the repository root (see ``scripts/README.md``)::

    python -m scripts.simulate_devices --devices 20 --rate 50 --duration 60
    python -m scripts.simulate_devices --target kinesis --stream-name <stream> --count 10000 --rate 500

Every reading is built with :func:`telemetry_contract.build_reading`, so the simulator cannot
publish anything the Firehose transform would reject. The pieces are plain classes that tests
drive with botocore's Stubber, a fake clock and a fake sleep, one module for each concern (each
imports only the ones before it):

* :mod:`.encoding` -- the wire format: the shared contract, the JSON bytes and the MQTT topic;
* :mod:`.fleet` -- :class:`TelemetrySimulator`: per-device state evolving as a random walk, with
  spikes, battery swaps, jitter and late readings, deterministic given a seed and a clock;
* :mod:`.senders` -- :class:`IotPublisher` / :class:`KinesisPublisher` deliver readings through
  a boto3 client (:class:`RecordBatcher` groups ``PutRecords`` calls; Kinesis retries only the
  entries that failed, with bounded exponential backoff); :class:`RateLimiter` and :func:`run`
  pace the readings and collect a :class:`RunSummary`;
* :mod:`.cli` -- :func:`main`, the thin command line around them (``__main__`` runs it).

This package re-exports their public names, so ``from scripts.simulate_devices import X`` and
``sim.X`` keep working for the code that uses them (``tools/pipeline``, ``tools/smoke``, the
tests) whichever module ``X`` lives in. To replace a name for a test, patch the module that
uses it (e.g. ``scripts.simulate_devices.cli.boto3_client_factory``): rebinding the name here
changes what this package exports, not what the other modules call.
"""

from __future__ import annotations

from .cli import (
    STREAM_ARN,
    STREAM_NAME,
    ClientFactory,
    boto3_client_factory,
    build_parser,
    main,
    make_publisher,
    parse_args,
)
from .encoding import DEFAULT_TOPIC_PREFIX, TOPIC_PREFIX, encode_reading, telemetry_contract, topic_for
from .fleet import (
    DEFAULT_DEVICE_PREFIX,
    DEVICE_PREFIX,
    FIRMWARE,
    FIRMWARE_WEIGHTS,
    MODELS,
    SITES,
    DeviceState,
    Now,
    TelemetrySimulator,
    device_ids,
    utc_now,
)
from .senders import (
    KINESIS_MAX_RECORD_BYTES,
    KINESIS_MAX_RECORDS,
    KINESIS_MAX_REQUEST_BYTES,
    Clock,
    DeliveryReport,
    Failure,
    IotPublisher,
    KinesisEntry,
    KinesisPublisher,
    PublishError,
    Publisher,
    RateLimiter,
    RecordBatcher,
    RunSummary,
    Sleep,
    backoff_delays,
    iot_data_endpoint,
    planned_readings,
    run,
)

__all__ = [
    # encoding
    "DEFAULT_TOPIC_PREFIX",
    "TOPIC_PREFIX",
    "encode_reading",
    "telemetry_contract",  # the contract module itself, as imported with lambda_src on sys.path
    "topic_for",
    # fleet
    "DEFAULT_DEVICE_PREFIX",
    "DEVICE_PREFIX",
    "FIRMWARE",
    "FIRMWARE_WEIGHTS",
    "MODELS",
    "SITES",
    "DeviceState",
    "Now",
    "TelemetrySimulator",
    "device_ids",
    "utc_now",
    # senders
    "KINESIS_MAX_RECORD_BYTES",
    "KINESIS_MAX_RECORDS",
    "KINESIS_MAX_REQUEST_BYTES",
    "Clock",
    "DeliveryReport",
    "Failure",
    "IotPublisher",
    "KinesisEntry",
    "KinesisPublisher",
    "PublishError",
    "Publisher",
    "RateLimiter",
    "RecordBatcher",
    "RunSummary",
    "Sleep",
    "backoff_delays",
    "iot_data_endpoint",
    "planned_readings",
    "run",
    # cli
    "STREAM_ARN",
    "STREAM_NAME",
    "ClientFactory",
    "boto3_client_factory",
    "build_parser",
    "main",
    "make_publisher",
    "parse_args",
]
