"""Which CloudFormation resources hold data: the one list the retention gate
(tests/compliance/retention.py), the logical-id contract (tests/unit/stacks/test_logical_ids.py) and
``make diff`` (tools/template_diff.py) share.

Deleting or replacing one of these loses its data or makes data unreadable (a KMS key), so a
template must retain them in prod and a change that removes or replaces one must be acknowledged.
No CDK import: ``make diff`` reads templates only.

``AWS::Glue::Table`` covers the Iceberg tables too: deleting the catalog entry leaves the files but
loses the pointer to the table's current ``metadata.json`` (which snapshot is the table). Not listed,
on purpose: ``AWS::Glue::TableOptimizer`` (settings and run history, no data: replacing one loses
neither the table nor a file, and a new one resumes the maintenance) and the crawlers, jobs and
workflows (definitions; the job's bookmark state is not a CloudFormation resource).
"""

from __future__ import annotations

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
#: DeletionPolicy / UpdateReplacePolicy values that keep the data.
KEEPING_POLICIES = frozenset({"Retain", "Snapshot", "RetainExceptOnCreate"})
