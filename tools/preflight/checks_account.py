"""Who is deploying where: the credentials' account against the config, and the CDK bootstrap."""

from __future__ import annotations

from botocore.exceptions import ClientError

from tools.preflight.bootstrap import AssemblyError
from tools.preflight.context import PreflightContext
from tools.preflight.results import CheckResult, failed, passed


def check_account(ctx: PreflightContext) -> CheckResult:
    """The credentials must belong to the account the config names: deploying dev's templates
    into prod's account is the mistake a multi-account layout makes easy."""
    plan, caller = ctx.plan, ctx.caller
    if plan.config_account is not None and plan.config_account != caller.account:
        return failed(
            "account",
            f"the credentials are for account {caller.account} ({caller.arn}) but environment {plan.env_name!r} "
            f"deploys to {plan.config_account} (`account` in {plan.env_file})",
            f"use credentials of account {plan.config_account} (AWS_PROFILE=<its profile>), "
            f"or change `account` in {plan.env_file}",
        )
    where = "as configured" if plan.config_account else f"`account` not set in {plan.env_file}: the credentials' account"
    return passed("account", f"{caller.arn} in account {caller.account} ({where}), region {plan.region}")


def check_bootstrap(ctx: PreflightContext) -> CheckResult:
    """The bootstrap stack must exist and be at least the version the templates' rule asks for;
    the deploy reads the version from the SSM parameter, so that is what is compared."""
    name = "bootstrap"
    target = f"aws://{ctx.caller.account}/{ctx.plan.region}"
    fix = f"npx cdk bootstrap {target} (with the pinned CLI: source .venv/bin/activate first)"
    try:
        requirement = ctx.bootstrap_requirement()
    except AssemblyError as error:
        return failed(name, f"cannot tell which bootstrap version the templates need: {error}",
                      f"make synth ENV={ctx.plan.env_name} and fix what it reports, or pass --assembly <cdk.out dir>")
    stack = ctx.stack(ctx.toolkit_stack)
    if stack is None or stack["StackStatus"].startswith("DELETE"):
        return failed(name, f"no bootstrap stack {ctx.toolkit_stack} in {target}", fix)
    try:
        value = ctx.client("ssm").get_parameter(Name=requirement.ssm_parameter)["Parameter"]["Value"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ParameterNotFound":
            raise
        return failed(name, f"{ctx.toolkit_stack} exists but {requirement.ssm_parameter} does not "
                            f"(bootstrapped with another qualifier than {requirement.qualifier}?)", fix)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    try:
        version = int(value)
    except ValueError:
        return failed(name, f"{requirement.ssm_parameter} holds {value!r}, not a version number", fix)
    if version < requirement.version:
        return failed(
            name,
            f"{ctx.toolkit_stack} is bootstrap version {version}; the templates require {requirement.version} or newer",
            fix,
        )
    if outputs.get("BootstrapVersion") not in (None, value):
        return failed(name, f"{ctx.toolkit_stack} output BootstrapVersion {outputs['BootstrapVersion']} differs from "
                            f"{requirement.ssm_parameter} ({value}): a half-finished bootstrap?", fix)
    return passed(name, f"{ctx.toolkit_stack} version {version} (templates require >= {requirement.version}, "
                        f"qualifier {requirement.qualifier})")
