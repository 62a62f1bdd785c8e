"""``python -m tools.smoke --env <env>``: the command line around the stages.

Exit codes: 0 every stage passed; 1 a stage failed (the last line names it), or the smoke test
could not start (no credentials, no region, a config error); 2 bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from tools.aws_env import SetupError, boto3_session, client_factory, require_credentials, resolve_region

DESCRIPTION = """After a deploy: publish a small simulated fleet's readings (devices smoke-<run id>-NNNN), wait until
they are in the raw zone, check the OpenSearch delivery, run the Glue workflow, run the saved
hourly-aggregates query in the analysts workgroup (as the analyst persona) and a Redshift Spectrum
query, and print a table of stages with timings. Creates and deletes nothing. Every wait is bounded
by its timeout; exit 1 names the first stage that failed."""


def _positive(kind: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.smoke", description=DESCRIPTION)
    parser.add_argument("--env", default="dev", help="environment (config/environments/<env>.yaml; default dev)")
    parser.add_argument("--profile", help="AWS named profile (default: the usual credential chain)")
    parser.add_argument("--target", choices=("iot", "kinesis"), default="iot",
                        help="publish through IoT Core as devices do (default) or straight onto the stream")
    parser.add_argument("--devices", type=_positive(int), default=3, help="smoke devices (default 3)")
    parser.add_argument("--readings", type=_positive(int), default=30, help="readings in total (default 30)")
    parser.add_argument("--rate", type=_positive(float), default=10.0, help="readings per second (default 10)")
    parser.add_argument("--seed", type=int, help="random seed of the readings")
    parser.add_argument("--poll-seconds", type=_positive(float), default=15.0, help="seconds between polls (default 15)")
    parser.add_argument("--raw-timeout", type=_positive(float), metavar="SECONDS",
                        help="wait for the raw zone (default: the delivery's buffer and processor intervals + 600)")
    parser.add_argument("--search-timeout", type=_positive(float), default=900.0, metavar="SECONDS",
                        help="wait for the OpenSearch delivery (default 900)")
    parser.add_argument("--workflow-timeout", type=_positive(float), metavar="SECONDS",
                        help="wait for the Glue workflow (default: the job's timeout + 1800 for the crawler and queueing)")
    parser.add_argument("--query-timeout", type=_positive(float), default=600.0, metavar="SECONDS",
                        help="wait for each Athena query and the Spectrum statement (default 600)")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--athena-role-arn", help="run the Athena query as this role (default: the analyst persona)")
    who.add_argument("--athena-as-caller", action="store_true",
                     help="run the Athena query with your own credentials (needs a Lake Formation grant)")
    return parser


def options_from(args: argparse.Namespace, config: Any) -> Any:
    """Timeouts not given on the command line follow the environment's own settings."""
    from tools.smoke.context import SmokeOptions

    env = config.environment
    delivery = env.ingestion.delivery
    raw = args.raw_timeout or delivery.buffer_interval_seconds + delivery.processor_buffer_interval_seconds + 600
    workflow = args.workflow_timeout or env.catalog.job.timeout_minutes * 60 + 1800
    return SmokeOptions(
        devices=args.devices, readings=args.readings, rate=args.rate, target=args.target, raw_timeout=raw,
        search_timeout=args.search_timeout, workflow_timeout=workflow, query_timeout=args.query_timeout,
        poll_seconds=args.poll_seconds, athena_role_arn=args.athena_role_arn, athena_as_caller=args.athena_as_caller,
        seed=args.seed,
    )


class ProgressLine:
    """One status line per poll on stderr (rewritten in place on a terminal)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = stream.isatty()

    def __call__(self, text: str) -> None:
        if self._tty:
            self._stream.write("\r\033[K" + text)
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def end(self) -> None:
        if self._tty:
            self._stream.write("\r\033[K")
            self._stream.flush()


def main(
    argv: Sequence[str] | None = None,
    *,
    session: Any = None,
    clients: Callable[..., Any] | None = None,
    role_clients: Callable[[dict], Any] | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    **time_and_clock: Any,
) -> int:
    """The keyword arguments let tests give stubbed clients, a fake clock and sleep."""
    args = build_parser().parse_args(argv)
    out, err = stdout or sys.stdout, stderr or sys.stderr
    from config import ConfigError, load_config

    try:
        try:
            config = load_config(args.env)
        except ConfigError as error:
            raise SetupError(f"FAIL config: {' '.join(str(error).split())}") from None
        if session is None:
            session = boto3_session(args.profile)
        if clients is None:
            require_credentials(session)
        region = resolve_region(config.environment.region, args.env, environ, session.region_name).name
    except SetupError as error:
        print(str(error), file=out)
        return 1
    from tools.smoke.context import SmokeContext
    from tools.smoke.runner import run_stages, table, verdict

    progress = ProgressLine(err)
    ctx = SmokeContext(
        config=config, options=options_from(args, config),
        clients=clients or client_factory(session, region),
        role_clients=role_clients or (lambda credentials: client_factory(session, region, credentials)),
        progress=progress, **time_and_clock,
    )
    print(f"smoke {args.env} in {region}: devices {ctx.device_prefix}-*; creates and deletes nothing "
          "(one Glue workflow run, Athena and Redshift queries)", file=out)
    results = run_stages(ctx)
    progress.end()
    for line in table(results):
        print(line, file=out)
    code, last = verdict(args.env, results)
    print(last, file=out)
    return code
