"""Start the anomaly-detection application once it is deployed (``make start-streaming ENV=<env>``).

CloudFormation creates a Managed Service for Apache Flink application READY, not RUNNING, and has no
property that starts it; ``make deploy`` runs this after ``cdk deploy``. It is idempotent: a RUNNING
(or STARTING, UPDATING) application is left alone, and a READY one is started from its latest
snapshot (``RESTORE_FROM_LATEST_SNAPSHOT``; on the first start there is none and it starts fresh),
refusing state it cannot restore (``AllowNonRestoredState`` false) rather than dropping it silently.
Any other status is reported and exits 1: a stopped-by-force or failed application needs a look.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from tools.aws_env import SetupError, boto3_session, client_factory, error_code, require_credentials, resolve_region

#: Statuses in which the application is running or on its way: nothing to do.
UNDERWAY = frozenset({"STARTING", "RUNNING", "UPDATING", "AUTOSCALING", "MAINTENANCE"})
START_CONFIGURATION = {
    "FlinkRunConfiguration": {"AllowNonRestoredState": False},
    "ApplicationRestoreConfiguration": {"ApplicationRestoreType": "RESTORE_FROM_LATEST_SNAPSHOT"},
}


def application_name(project: str, env_name: str) -> str:
    """The name the streaming stack gives the application (``<project>-<env>-anomaly-detection``)."""
    return f"{project}-{env_name}-anomaly-detection"


def start(client: Any, name: str, say: Callable[[str], None] = print) -> int:
    """Start ``name`` if it is READY; 0 when it runs or is starting, 1 otherwise."""
    try:
        detail = client.describe_application(ApplicationName=name)["ApplicationDetail"]
    except Exception as error:  # botocore's ClientError, without importing botocore here
        if error_code(error) == "ResourceNotFoundException":
            say(f"FAIL {name}: no such application in this account and region; deploy the streaming stack first")
            return 1
        raise
    status = detail["ApplicationStatus"]
    if status in UNDERWAY:
        say(f"OK   {name}: {status}, nothing to start")
        return 0
    if status != "READY":
        say(f"FAIL {name}: {status}; start it by hand once you know why (aws kinesisanalyticsv2 start-application)")
        return 1
    client.start_application(ApplicationName=name, RunConfiguration=START_CONFIGURATION)
    say(f"OK   {name}: READY -> starting from its latest snapshot (none on the first start)")
    return 0


def main(argv: Sequence[str] | None = None, make_session: Callable[[str | None], Any] = boto3_session) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.streaming", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True, help="the environment (config/environments/<env>.yaml)")
    parser.add_argument("--profile", help="AWS profile (default: the usual credential chain)")
    args = parser.parse_args(argv)
    from config import ConfigError, load_config

    try:
        config = load_config(args.env)
        session = make_session(args.profile)
        require_credentials(session)
        region = resolve_region(config.environment.region, args.env, profile_region=session.region_name)
    except (ConfigError, SetupError) as error:
        print(error, file=sys.stderr)
        return 1
    client = client_factory(session, region.name)("kinesisanalyticsv2")
    return start(client, application_name(config.project.project, args.env))
