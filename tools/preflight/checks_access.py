"""What must exist before the first deploy, made outside this app: roles the config names, the
OpenSearch service-linked role, the EMR certificates (README "Network, warehouse and EMR")."""

from __future__ import annotations

from botocore.exceptions import ClientError

from tools.preflight.context import PreflightContext
from tools.preflight.results import CheckResult, failed, passed, skipped

OPENSEARCH_SERVICE_LINKED_ROLE = "AWSServiceRoleForAmazonOpenSearchService"


def _role_exists(ctx: PreflightContext, name: str) -> bool:
    try:
        ctx.client("iam").get_role(RoleName=name)
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchEntity":
            return False
        raise
    return True


def check_opensearch_service_linked_role(ctx: PreflightContext) -> CheckResult:
    """A VPC domain needs it; the stacks do not create it (a second environment would fail)."""
    if _role_exists(ctx, OPENSEARCH_SERVICE_LINKED_ROLE):
        return passed("opensearch-service-linked-role", f"{OPENSEARCH_SERVICE_LINKED_ROLE} exists")
    return failed("opensearch-service-linked-role", f"{OPENSEARCH_SERVICE_LINKED_ROLE} does not exist in account {ctx.caller.account}",
                  "aws iam create-service-linked-role --aws-service-name opensearchservice.amazonaws.com")


def check_lake_formation_admins(ctx: PreflightContext) -> CheckResult:
    """Lake Formation refuses data lake settings naming a role that does not exist."""
    roles = ctx.plan.lake_formation_admin_roles
    if not roles:
        return skipped("lake-formation-admins", "baseline.lake_formation_admin_roles is empty in config/project.yaml")
    missing = [name for name in roles if not _role_exists(ctx, name)]
    if missing:
        return failed("lake-formation-admins", f"role(s) {', '.join(missing)} do not exist in account {ctx.caller.account}",
                      "create them (aws iam create-role --role-name <name> ...) or remove them from "
                      "baseline.lake_formation_admin_roles in config/project.yaml")
    return passed("lake-formation-admins", f"{', '.join(roles)} exist")


def check_persona_roles(ctx: PreflightContext) -> CheckResult:
    """Imported persona roles (governance.<persona>.role_arn) must exist in the deploying account:
    the grants name them, and Lake Formation rejects grants to unknown principals."""
    arns = ctx.plan.persona_role_arns
    if not arns:
        return skipped("persona-roles", "no governance.*.role_arn set: the catalog stack creates the persona roles")
    problems = []
    for persona, arn in arns.items():
        account, role_path = arn.split(":")[4], arn.split(":", 5)[5].removeprefix("role/")
        if account != ctx.caller.account:
            problems.append(f"governance.{persona}.role_arn is in account {account}, not {ctx.caller.account}")
        elif not _role_exists(ctx, role_path.rsplit("/", 1)[-1]):
            problems.append(f"governance.{persona}.role_arn {arn} does not exist")
    if problems:
        return failed("persona-roles", "; ".join(problems),
                      f"create the role(s), or fix or remove governance.<persona>.role_arn in {ctx.plan.env_file}")
    return passed("persona-roles", ", ".join(f"{p} {a}" for p, a in arns.items()) + " exist")


def check_emr_certificates(ctx: PreflightContext) -> CheckResult:
    """The cluster fails to start (after ~10 minutes) without its in-transit certificates."""
    uri = ctx.plan.emr_tls_certificates_s3_uri
    if uri is None:
        return skipped("emr-certificates", f"emr.tls_certificates_s3_uri is not set in {ctx.plan.env_file}")
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    try:
        ctx.client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in ("404", "NoSuchKey", "NoSuchBucket"):
            return failed("emr-certificates", f"{uri} does not exist",
                          f"aws s3 cp <your PEM zip> {uri} (see README \"EMR certificates\"), "
                          f"or change emr.tls_certificates_s3_uri in {ctx.plan.env_file}")
        if code in ("403", "AccessDenied"):
            return failed("emr-certificates", f"{uri} is not readable with these credentials (403)",
                          f"check the bucket policy and key of {uri}; the EMR instance role must read it too")
        raise
    return passed("emr-certificates", f"{uri} exists")
