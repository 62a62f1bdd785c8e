"""Does the region offer what the environment asks for? Engine versions, instance and node types
and release labels differ between regions and change over time; a template cannot know."""

from __future__ import annotations

from botocore.exceptions import ClientError

from tools.preflight.context import PreflightContext
from tools.preflight.results import CheckResult, failed, passed, skipped


def _layer(ctx: PreflightContext) -> dict | None:
    try:
        return ctx.client("lambda").get_layer_version_by_arn(Arn=ctx.plan.powertools_layer_arn(ctx.caller.partition))
    except ClientError as error:
        if error.response["Error"]["Code"] in ("ResourceNotFoundException", "AccessDeniedException"):
            return None
        raise


def check_powertools_layer(ctx: PreflightContext) -> CheckResult:
    """The transform functions name AWS's public Powertools layer by ARN; a version not published
    in this region fails the ingestion and search stacks at deploy time."""
    arn = ctx.plan.powertools_layer_arn(ctx.caller.partition)
    if _layer(ctx) is None:
        return failed("powertools-layer", f"{arn} does not exist in {ctx.plan.region} (or is not readable)",
                      "set powertools_layer_version in config/project.yaml to a version published there "
                      f"(aws lambda get-layer-version-by-arn --region {ctx.plan.region} --arn <arn with another version>)")
    return passed("powertools-layer", f"{arn} exists")


def check_lambda_runtime(ctx: PreflightContext) -> CheckResult:
    """Lambda has no API listing a region's runtimes; the Powertools layer AWS publishes in the
    region lists the runtimes it is built for, which is the closest read-only evidence."""
    runtime = ctx.plan.constants.transform_runtime
    layer = _layer(ctx)
    if layer is None:
        return skipped("lambda-runtime", f"{runtime}: cannot tell without the Powertools layer (see powertools-layer)")
    offered = layer.get("CompatibleRuntimes", [])
    if runtime not in offered:
        return failed("lambda-runtime",
                      f"the Powertools layer in {ctx.plan.region} is built for {', '.join(offered) or 'no runtime'}, "
                      f"not {runtime} (the transform's runtime)",
                      "pick a powertools_layer_version in config/project.yaml built for "
                      f"{runtime}, or deploy to a region that offers {runtime}")
    return passed("lambda-runtime", f"{runtime} (the Powertools layer in {ctx.plan.region} is built for it)")


def check_opensearch_engine(ctx: PreflightContext) -> CheckResult:
    version = ctx.plan.constants.opensearch_engine_version
    client = ctx.client("opensearch")
    versions: list[str] = []
    kwargs: dict = {"MaxResults": 100}
    while True:
        page = client.list_versions(**kwargs)
        versions.extend(page.get("Versions", []))
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    if version not in versions:
        return failed("opensearch-engine", f"{version} is not offered in {ctx.plan.region}",
                      "deploy to a region that offers it, or pass another engine_version to SearchDomain "
                      "(constructs_lib/search/search_domain.py DEFAULT_ENGINE_VERSION)")
    return passed("opensearch-engine", f"{version} is offered")


def check_opensearch_instance_types(ctx: PreflightContext) -> CheckResult:
    version = ctx.plan.constants.opensearch_engine_version
    client = ctx.client("opensearch")
    missing = [
        instance_type for instance_type in ctx.plan.search_instance_types
        if not client.list_instance_type_details(EngineVersion=version, InstanceType=instance_type).get("InstanceTypeDetails")
    ]
    wanted = ", ".join(ctx.plan.search_instance_types)
    if missing:
        return failed("opensearch-instance-types", f"{', '.join(missing)} not offered for {version} in {ctx.plan.region}",
                      f"change search.data_node_instance_type / search.master_node_instance_type in {ctx.plan.env_file}")
    return passed("opensearch-instance-types", f"{wanted} offered for {version}")


def check_redshift_node_type(ctx: PreflightContext) -> CheckResult:
    node_type = ctx.plan.redshift_node_type
    options = ctx.client("redshift").describe_orderable_cluster_options(NodeType=node_type, MaxRecords=20)
    if not options.get("OrderableClusterOptions"):
        return failed("redshift-node-type", f"{node_type} cannot be ordered in {ctx.plan.region}",
                      f"change redshift.node_type in {ctx.plan.env_file}")
    return passed("redshift-node-type", f"{node_type} can be ordered")


def check_emr_release(ctx: PreflightContext) -> CheckResult:
    label = ctx.plan.emr_release_label
    page = ctx.client("emr").list_release_labels(Filters={"Prefix": label}, MaxResults=100)
    if label not in page.get("ReleaseLabels", []):
        return failed("emr-release", f"{label} is not offered in {ctx.plan.region}",
                      f"change emr.release_label in {ctx.plan.env_file} (aws emr list-release-labels --region {ctx.plan.region})")
    return passed("emr-release", f"{label} is offered")


def check_emr_instance_types(ctx: PreflightContext) -> CheckResult:
    label = ctx.plan.emr_release_label
    client = ctx.client("emr")
    supported: set[str] = set()
    kwargs: dict = {"ReleaseLabel": label}
    try:
        while True:
            page = client.list_supported_instance_types(**kwargs)
            supported.update(item["Type"] for item in page.get("SupportedInstanceTypes", []))
            if not page.get("Marker"):
                break
            kwargs["Marker"] = page["Marker"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "InvalidRequestException":
            raise
        return skipped("emr-instance-types", f"cannot list them for {label} (see emr-release)")
    missing = [t for t in ctx.plan.emr_instance_types if t not in supported]
    if missing:
        return failed("emr-instance-types", f"{', '.join(missing)} not supported by {label} in {ctx.plan.region}",
                      f"change emr.primary_instance_type / core_instance_type / task_instance_type in {ctx.plan.env_file}")
    return passed("emr-instance-types", f"{', '.join(ctx.plan.emr_instance_types)} supported by {label}")
