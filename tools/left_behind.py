"""What ``cdk destroy`` leaves behind: every resource a template keeps when its stack is deleted.

CloudFormation skips a resource whose ``DeletionPolicy`` is ``Retain`` (or ``RetainExceptOnCreate``)
and deletes a resource with ``Snapshot`` only after taking a final snapshot. Those resources (and such
snapshots) outlive the stack, keep costing money and keep their names taken. The README's
generated table (``make docs``) lists them per environment from the synthesised templates, with how
to remove each kind deliberately. No CDK import: it reads templates only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

#: DeletionPolicy values under which something outlives the stack.
OUTLIVES_THE_STACK = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})

#: How to remove each kind on purpose, once nothing needs its data (AWS CLI).
REMOVAL = {
    "AWS::S3::Bucket": "empty every object version and delete marker, then `aws s3api delete-bucket` (the access-log bucket last: the others log to it)",
    "AWS::KMS::Key": "last, once nothing it encrypted is kept: `aws kms schedule-key-deletion --pending-window-in-days 30` (cancellable until then; data encrypted with it is unreadable afterwards)",
    "AWS::Logs::LogGroup": "`aws logs delete-log-group`",
    "AWS::Logs::LogStream": "with its log group, or `aws logs delete-log-stream`",
    "AWS::Kinesis::Stream": "`aws kinesis delete-stream --enforce-consumer-deletion`",
    "AWS::SecretsManager::Secret": "`aws secretsmanager delete-secret` (7-30 day recovery window)",
    "AWS::SQS::Queue": "`aws sqs delete-queue` after reading what it holds",
    "AWS::Redshift::Cluster": "it keeps running (and billing): `aws redshift delete-cluster --final-cluster-snapshot-identifier <name>` (or `--skip-final-cluster-snapshot`), then its snapshots when no longer needed",
    "AWS::Redshift::ClusterSubnetGroup": "after the cluster: `aws redshift delete-cluster-subnet-group`",
    "AWS::OpenSearchService::Domain": "take a manual snapshot if needed, then `aws opensearch delete-domain`",
    "AWS::EMR::Cluster": "it keeps running (and billing) until its idle timeout: `aws emr modify-cluster-attributes --no-termination-protected`, then `aws emr terminate-clusters` (HDFS data is lost; S3 data is not)",
    "AWS::Glue::Database": "`aws glue delete-database` (its tables go with it; their S3 data does not)",
    "AWS::Glue::Table": "`aws glue delete-table`",
    "AWS::Glue::SecurityConfiguration": "`aws glue delete-security-configuration` (its name is otherwise taken on redeploy)",
    "AWS::KinesisAnalyticsV2::Application": "it keeps running (and billing KPUs): `aws kinesisanalyticsv2 stop-application`, then `delete-application` (its snapshots, and so its state, go with it)",
    "AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption": "with its application",
    "AWS::IAM::Role": "after what uses it (the retained Flink application runs as it): `aws iam delete-role` once its policies are removed",
    "AWS::IAM::Policy": "with its role: `aws iam delete-role-policy`",
}
UNKNOWN_REMOVAL = "delete it with its service's API"
#: A ``Snapshot`` policy deletes the resource and keeps its final snapshot.
SNAPSHOT_SUFFIX = " (final snapshot)"


def left_behind(templates: Mapping[str, Mapping[str, Any]]) -> dict[str, Counter[str]]:
    """Per stack, how many resources of each type outlive ``cdk destroy``."""
    kept: dict[str, Counter[str]] = {}
    for stack_name, template in sorted(templates.items()):
        types = Counter(
            resource["Type"] + (SNAPSHOT_SUFFIX if resource["DeletionPolicy"] == "Snapshot" else "")
            for resource in template.get("Resources", {}).values()
            if resource.get("DeletionPolicy") in OUTLIVES_THE_STACK
        )
        if types:
            kept[stack_name] = types
    return kept


def render_left_behind(environments: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """Markdown: per environment (name -> its templates), what each stack leaves behind; then how
    to remove each kind that appears."""
    lines: list[str] = []
    seen: set[str] = set()
    for env_name, templates in environments.items():
        kept = left_behind(templates)
        lines += [f"#### {env_name}", ""]
        if not kept:
            lines += ["Nothing: every resource is deleted with its stack.", ""]
            continue
        lines += ["| stack | left behind by `cdk destroy` |", "|---|---|"]
        for stack_name, types in kept.items():
            seen.update(types)
            what = ", ".join(f"{count} × {_label(kind)}" for kind, count in sorted(types.items()))
            lines.append(f"| `{stack_name}` | {what} |")
        lines.append("")
    lines += ["| kind | how to remove it deliberately |", "|---|---|"]
    lines += [f"| {_label(kind)} | {_removal(kind)} |" for kind in sorted(seen)]
    return "\n".join([*lines, ""])


def _removal(kind: str) -> str:
    if kind.endswith(SNAPSHOT_SUFFIX):
        return "the resource is deleted; delete its final snapshot with the service's API when no longer needed"
    return REMOVAL.get(kind, UNKNOWN_REMOVAL)


def _label(resource_type: str) -> str:
    """``AWS::S3::Bucket`` -> ``S3 Bucket``."""
    return resource_type.split("::", 1)[1].replace("::", " ")
