"""The command line: ``python -m scripts.simulate_devices`` (see ``scripts/README.md``).

Everything that touches the process is here and nowhere else: parsing and checking arguments,
the boto3 session (region, profile, retries), the random seed when none is given, the progress
bar, stdout/stderr and the exit code. :func:`main` takes the clients, clock, sleep, ``now`` and
streams as keyword arguments, so tests run it end to end against botocore Stubbers without AWS,
real time or a terminal; the model (:mod:`.fleet`) and the delivery (:mod:`.senders`) stay plain
library code that ``tools/smoke`` and ``tools/pipeline`` call directly.

Exit codes: 0 every reading was delivered; 1 some were not (each one is printed) or AWS refused
the run; 2 bad arguments; 130 interrupted (after flushing what was buffered).
"""

from __future__ import annotations

import argparse
import math
import re
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import boto3
import botocore.config
from botocore.exceptions import BotoCoreError, ClientError
from tqdm import tqdm

from .encoding import DEFAULT_TOPIC_PREFIX, TOPIC_PREFIX, topic_for
from .fleet import DEFAULT_DEVICE_PREFIX, DEVICE_PREFIX, Now, TelemetrySimulator, utc_now
from .senders import (
    Clock,
    IotPublisher,
    KinesisPublisher,
    Publisher,
    Sleep,
    iot_data_endpoint,
    planned_readings,
    run,
)

#: What ``--stream-name`` accepts: a stream's name or its ARN (the publisher tells them apart).
STREAM_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")
STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/[a-zA-Z0-9_.-]{1,128}$")

ClientFactory = Callable[..., Any]


def _int_at_least(minimum: int):
    """An argparse type: a whole number >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    value = _float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = _float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _probability(text: str) -> float:
    value = _float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        if not pattern.fullmatch(text):
            raise argparse.ArgumentTypeError(f"{what} {text!r} must match {pattern.pattern}")
        return text

    return check


def _stream(text: str) -> str:
    if STREAM_NAME.fullmatch(text) or STREAM_ARN.fullmatch(text):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is neither a Kinesis stream name nor a stream ARN")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.simulate_devices",
        description="Publish simulated device telemetry to a deployed environment "
        "(IoT Core topic or the Kinesis stream). Exit code 0 only when every reading was delivered.",
    )
    amount = parser.add_mutually_exclusive_group(required=True)
    amount.add_argument("--duration", type=_positive_float, metavar="SECONDS", help="publish for this many seconds")
    amount.add_argument("--count", type=_positive_int, metavar="READINGS", help="publish this many readings in total")
    parser.add_argument("--devices", type=_positive_int, default=10, metavar="N", help="simulated devices (default 10)")
    parser.add_argument(
        "--rate",
        type=_positive_float,
        default=10.0,
        metavar="R",
        help="readings per second, all devices together (default 10)",
    )
    parser.add_argument("--target", choices=("iot", "kinesis"), default="iot", help="where to publish (default iot)")
    parser.add_argument(
        "--topic-prefix",
        type=_matching(TOPIC_PREFIX, "topic prefix"),
        metavar="PREFIX",
        help=f"iot: topics are PREFIX/<device_id>/telemetry (default {DEFAULT_TOPIC_PREFIX}; "
        "the environment's ingestion.topic_prefix)",
    )
    parser.add_argument(
        "--stream-name", type=_stream, metavar="NAME_OR_ARN", help="kinesis: the stream (required for kinesis)"
    )
    parser.add_argument("--region", help="AWS region (default: the profile's or the environment's)")
    parser.add_argument("--profile", help="AWS named profile (default: the default credential chain)")
    parser.add_argument("--seed", type=int, help="random seed for reproducible readings (default: random, printed)")
    parser.add_argument(
        "--device-prefix",
        type=_matching(DEVICE_PREFIX, "device prefix"),
        default=DEFAULT_DEVICE_PREFIX,
        help=f"device ids are PREFIX-0001, PREFIX-0002, ... (default {DEFAULT_DEVICE_PREFIX})",
    )
    parser.add_argument(
        "--jitter-ms",
        type=_non_negative_float,
        default=0.0,
        metavar="MS",
        help="event_time up to MS milliseconds before now (default 0)",
    )
    parser.add_argument(
        "--late-probability",
        type=_probability,
        default=0.0,
        metavar="P",
        help="share of readings sent late, to exercise event-time partitioning (default 0)",
    )
    parser.add_argument(
        "--late-max-seconds",
        type=_positive_float,
        default=3 * 3600.0,
        metavar="SECONDS",
        help="a late reading's event_time is 60 s to SECONDS in the past (default 10800)",
    )
    parser.add_argument(
        "--max-retries",
        type=_non_negative_int,
        default=5,
        help="kinesis: retries of the entries a PutRecords call rejected (default 5, exponential backoff from 0.1 s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.target == "kinesis":
        if args.stream_name is None:
            parser.error("--target kinesis needs --stream-name")
        if args.topic_prefix is not None:
            parser.error("--topic-prefix applies to --target iot only (Kinesis records carry no topic)")
    else:
        if args.stream_name is not None:
            parser.error("--stream-name applies to --target kinesis only")
    if args.topic_prefix is None:
        args.topic_prefix = DEFAULT_TOPIC_PREFIX
    if args.late_max_seconds < TelemetrySimulator.LATE_MIN_SECONDS:
        parser.error(f"--late-max-seconds must be at least {TelemetrySimulator.LATE_MIN_SECONDS:g}")
    return args


def boto3_client_factory(region: str | None, profile: str | None) -> ClientFactory:
    """``factory(service_name, **kwargs)`` creating clients of one session (standard retries)."""
    session = boto3.session.Session(profile_name=profile, region_name=region)
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 5})

    def client(service_name: str, **kwargs: Any) -> Any:
        return session.client(service_name, config=config, **kwargs)

    return client


def make_publisher(
    args: argparse.Namespace, client_factory: ClientFactory, *, clock: Clock, sleep: Sleep
) -> Publisher:
    if args.target == "kinesis":
        return KinesisPublisher(
            client_factory("kinesis"), args.stream_name, max_retries=args.max_retries, clock=clock, sleep=sleep
        )
    endpoint = iot_data_endpoint(client_factory("iot"))
    return IotPublisher(client_factory("iot-data", endpoint_url=endpoint), args.topic_prefix)


def main(
    argv: Sequence[str] | None = None,
    *,
    client_factory: ClientFactory | None = None,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
    now: Now | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """The command line; the keyword arguments let tests inject clients, time and streams."""
    args = parse_args(argv)
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    simulator = TelemetrySimulator(
        args.devices,
        seed=seed,
        device_prefix=args.device_prefix,
        now=now or utc_now,
        jitter_seconds=args.jitter_ms / 1000.0,
        late_probability=args.late_probability,
        late_max_seconds=args.late_max_seconds,
    )
    if args.target == "kinesis":
        destination = f"stream {args.stream_name}"
    else:
        destination = f"topics {topic_for(args.topic_prefix, '<device_id>')}"
    try:
        factory = client_factory or boto3_client_factory(args.region, args.profile)
        publisher = make_publisher(args, factory, clock=clock, sleep=sleep)
    except (ClientError, BotoCoreError) as error:
        print(f"error: cannot set up the {args.target} target: {error}", file=err)
        return 1

    planned = planned_readings(args.rate, count=args.count, duration=args.duration)
    print(
        f"publishing {planned} readings from {args.devices} devices at {args.rate:g}/s to {destination} (seed {seed})",
        file=out,
    )
    progress = tqdm(total=planned, unit="reading", file=err, disable=args.no_progress, dynamic_ncols=True)
    summary = run(
        simulator,
        publisher,
        rate=args.rate,
        count=args.count,
        duration=args.duration,
        clock=clock,
        sleep=sleep,
        progress=progress,
    )
    for failure in summary.failures:
        print(failure.describe(), file=err)
    for line in summary.lines():
        print(line, file=out)
    return summary.exit_code
