"""Which resources hold data, and whether a template keeps them when the stack goes away."""

from __future__ import annotations

from typing import Any

#: Resource types whose deletion or replacement loses data or makes data unreadable.
STATEFUL_TYPES = frozenset(
    {
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::Kinesis::Stream",
        "AWS::Logs::LogGroup",
        "AWS::SecretsManager::Secret",
        "AWS::Redshift::Cluster",
        "AWS::OpenSearchService::Domain",
        "AWS::EMR::Cluster",
        "AWS::DynamoDB::Table",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::SQS::Queue",
        "AWS::Glue::Database",
        "AWS::Glue::Table",
    }
)
KEEPING_POLICIES = frozenset({"Retain", "Snapshot", "RetainExceptOnCreate"})


def unretained_stateful_resources(template: dict[str, Any]) -> list[str]:
    """Logical ids of stateful resources that deletion or replacement would destroy."""
    return sorted(
        logical_id
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] in STATEFUL_TYPES
        and (
            resource.get("DeletionPolicy") not in KEEPING_POLICIES
            or resource.get("UpdateReplacePolicy") not in KEEPING_POLICIES
        )
    )
