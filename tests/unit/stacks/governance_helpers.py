"""Settings no shipped environment uses, for stack tests that build the catalog stack directly on
an imported lake (buckets, key and topic of another stack)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from config.model import (
    AthenaConfig,
    CatalogConfig,
    GovernanceConfig,
    PersonaConfig,
    RestrictedAnalystConfig,
    TableMaintenanceConfig,
)
from constructs_lib import ResourceNamer
from stacks import CatalogStack
from stacks.environment import EnvironmentSettings, LakeResources
from stacks.lake_governance import environment_lake_grants
from stacks.lake_permissions import GrantRow

IMPORTED_ANALYST_ARN = "arn:aws:iam::111122223333:role/team-analyst"
#: Hybrid access, imported analyst role, two hidden columns and another row filter.
HYBRID_GOVERNANCE = GovernanceConfig(
    hybrid_access=True,
    sensitive_columns=("attributes", "ingested_at"),
    analyst=PersonaConfig(role_arn=IMPORTED_ANALYST_ARN),
    restricted_analyst=RestrictedAnalystConfig(role_arn=None, row_filter="schema_version >= 2"),
)
ACCOUNT_ENV = cdk.Environment(account="111122223333", region="eu-west-1")
#: The shipped environments' table maintenance (glue_scripts/curated_table.py MAINTENANCE).
QA_MAINTENANCE = TableMaintenanceConfig(
    compaction_strategy="binpack", compaction_min_input_files=2, snapshot_retention_days=5, snapshots_to_keep=1,
    clean_expired_files=True, orphan_file_retention_days=3, check_interval_minutes=60, max_hours_without_run=48,
)
QA = ResourceNamer(project="team", stage="qa")


def hybrid_grants(namer: ResourceNamer) -> list[GrantRow]:
    """The grants the app makes from ``HYBRID_GOVERNANCE``."""
    return environment_lake_grants(namer, HYBRID_GOVERNANCE)


def imported_lake(app: cdk.App) -> LakeResources:
    """A lake of existing buckets, key and topic, in a stack of its own."""
    lake = cdk.Stack(app, "Lake", env=ACCOUNT_ENV)
    key = kms.Key.from_key_arn(lake, "Key", "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555")
    buckets = {name: s3.Bucket.from_bucket_name(lake, name, f"lake-{name}") for name in ("raw", "curated", "analytics", "results", "logs")}
    return LakeResources(
        raw_bucket=buckets["raw"], curated_bucket=buckets["curated"], analytics_bucket=buckets["analytics"],
        query_results_bucket=buckets["results"], access_logs_bucket=buckets["logs"], key=key,
        alarm_topic=sns.Topic.from_topic_arn(lake, "Topic", "arn:aws:sns:eu-west-1:111122223333:alarms"),
    )


def qa_catalog_stack(
    app: cdk.App, *, catalog: CatalogConfig, athena: AthenaConfig, removal_policy: cdk.RemovalPolicy
) -> CatalogStack:
    """The catalog stack of a ``team-qa`` environment with ``HYBRID_GOVERNANCE`` on an imported lake."""
    lake = imported_lake(app)
    settings = EnvironmentSettings(
        project=QA.project, name=QA.stage, env=ACCOUNT_ENV, removal_policy=removal_policy,
        log_retention_days=30, is_production=False,
    )
    return CatalogStack(
        app, "Catalog", settings=settings, config=catalog, athena=athena, governance=HYBRID_GOVERNANCE,
        lake=lake, catalog_key=lake.key, lake_grants=hybrid_grants(QA),
    )
