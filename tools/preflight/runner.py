"""Runs the checks in order, one line each; an AWS error inside a check becomes that check's FAIL
(usually a missing read permission), never a traceback that hides the other checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from botocore.exceptions import BotoCoreError, ClientError

from tools.aws_env import error_code
from tools.preflight import checks_access, checks_account, checks_quotas, checks_services
from tools.preflight.context import PreflightContext
from tools.preflight.results import CheckResult, Status, failed, skipped

Check = Callable[[PreflightContext], CheckResult]

#: name -> check, in the order they print. The account comes first: checks in the wrong account mean nothing.
CHECKS: Mapping[str, Check] = {
    "account": checks_account.check_account,
    "bootstrap": checks_account.check_bootstrap,
    "powertools-layer": checks_services.check_powertools_layer,
    "lambda-runtime": checks_services.check_lambda_runtime,
    "opensearch-engine": checks_services.check_opensearch_engine,
    "opensearch-instance-types": checks_services.check_opensearch_instance_types,
    "redshift-node-type": checks_services.check_redshift_node_type,
    "emr-release": checks_services.check_emr_release,
    "emr-instance-types": checks_services.check_emr_instance_types,
    "opensearch-service-linked-role": checks_access.check_opensearch_service_linked_role,
    "lake-formation-admins": checks_access.check_lake_formation_admins,
    "persona-roles": checks_access.check_persona_roles,
    "emr-certificates": checks_access.check_emr_certificates,
    "kinesis-shards": checks_quotas.check_kinesis_shards,
    "vpcs-per-region": checks_quotas.check_vpcs,
    "interface-endpoints-per-vpc": checks_quotas.check_interface_endpoints,
    "nat-elastic-ips": checks_quotas.check_nat_and_elastic_ips,
}


def run_check(name: str, check: Check, ctx: PreflightContext) -> CheckResult:
    try:
        return check(ctx)
    except ClientError as error:
        operation = getattr(error, "operation_name", "a call")
        return failed(name, f"AWS refused {operation}: {error_code(error)}: {error.response['Error'].get('Message', '')}".rstrip(": "),
                      "run with credentials allowed to read it (for example the ReadOnlyAccess managed policy)")
    except BotoCoreError as error:
        return failed(name, f"could not reach AWS: {error}", "check the network and the region")


def run_checks(ctx: PreflightContext, checks: Mapping[str, Check] = CHECKS) -> list[CheckResult]:
    results: list[CheckResult] = []
    for name, check in checks.items():
        if results and results[0].name == "account" and results[0].status is Status.FAIL:
            results.append(skipped(name, "not checked: the credentials are for another account"))
            continue
        results.append(run_check(name, check, ctx))
    return results


def summary(env_name: str, results: list[CheckResult]) -> str:
    counts = {status: sum(r.status is status for r in results) for status in Status}
    verdict = "FAILED" if counts[Status.FAIL] else "ok"
    parts = ", ".join(f"{counts[s]} {s.value.lower()}" for s in Status if counts[s])
    return f"preflight {env_name}: {verdict} ({parts})"
