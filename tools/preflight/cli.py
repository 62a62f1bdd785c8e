"""``python -m tools.preflight --env <env>``: the command line around the runner.

Exit codes: 0 no check failed; 1 a check failed, or the preflight could not start (no
credentials, no region, a config error: one line says which); 2 bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from tools.aws_env import NO_CREDENTIALS, SetupError, boto3_session, client_factory, error_code, require_credentials, resolve_region

DESCRIPTION = """Read-only AWS checks of ENV's target account and region before a deploy: credentials and account,
the CDK bootstrap version, the Powertools layer and Lambda runtime, OpenSearch engine and instance types,
the Redshift node type, the EMR release and instance types, the OpenSearch service-linked role, the Lake
Formation admin and persona roles, the EMR certificates, and the Kinesis, VPC, endpoint and Elastic IP
quotas. One line per check (PASS, SKIP, WARN, or FAIL with the fix); exit 1 on any FAIL."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.preflight", description=DESCRIPTION)
    parser.add_argument("--env", default="dev", help="environment (config/environments/<env>.yaml; default dev)")
    parser.add_argument("--profile", help="AWS named profile (default: the usual credential chain)")
    parser.add_argument("--assembly", type=Path, metavar="DIR",
                        help="read the required bootstrap version from this synthesised assembly (e.g. cdk.out) "
                             "instead of synthesising ENV")
    parser.add_argument("--toolkit-stack-name", help="the CDK bootstrap stack (default: cdk.json's toolkitStackName, else CDKToolkit)")
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    session: Any = None,
    clients: Callable[[str], Any] | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
) -> int:
    """The keyword arguments let tests give a session, stubbed clients and an environment."""
    args = build_parser().parse_args(argv)
    out = stdout or sys.stdout
    try:
        results = _run(args, session=session, clients=clients, environ=environ)
    except SetupError as error:
        print(str(error), file=out)
        return 1
    for result in results:
        print(result.line(), file=out)
    from tools.preflight.results import Status
    from tools.preflight.runner import summary

    print(summary(args.env, results), file=out)
    return 1 if any(r.status is Status.FAIL for r in results) else 0


def _run(args: argparse.Namespace, *, session: Any, clients: Any, environ: Mapping[str, str] | None) -> list:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from config import ConfigError, load_config
    try:
        config = load_config(args.env)
    except ConfigError as error:
        raise SetupError(f"FAIL config: {' '.join(str(error).split())}") from None
    session = session if session is not None else boto3_session(args.profile)
    if clients is None:
        require_credentials(session)
    region = resolve_region(config.environment.region, args.env, environ, session.region_name)
    if clients is None:
        clients = client_factory(session, region.name)
    try:
        identity = clients("sts").get_caller_identity()
    except NoCredentialsError:
        raise SetupError(NO_CREDENTIALS) from None
    except ClientError as error:
        raise SetupError(
            f"FAIL credentials: AWS refused them ({error_code(error)}): refresh them (aws sso login, or new keys)"
        ) from None
    except BotoCoreError as error:
        raise SetupError(f"FAIL credentials: could not reach STS in {region.name}: {error}") from None
    # Only now the CDK-backed modules (the naming helper, the constructs' constants): without
    # credentials the preflight answers in one line, before any jsii start-up.
    from tools.preflight import bootstrap
    from tools.preflight.context import Caller, PreflightContext
    from tools.preflight.plan import DeployPlan, ProjectConstants
    from tools.preflight.runner import run_checks

    plan = DeployPlan.from_config(config, region.name, ProjectConstants.from_code())
    cache: list = []

    def requirement() -> bootstrap.BootstrapRequirement:
        if not cache:
            cache.append(bootstrap.requirement_of(args.env, args.assembly))
        return cache[0]

    ctx = PreflightContext(
        plan=plan,
        clients=clients,
        caller=Caller(account=identity["Account"], arn=identity["Arn"]),
        bootstrap_requirement=requirement,
        toolkit_stack=args.toolkit_stack_name or bootstrap.toolkit_stack_name(),
    )
    return run_checks(ctx)
