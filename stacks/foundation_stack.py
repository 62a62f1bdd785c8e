"""Per-environment foundation: the data lake storage and the alarm topic.

Every later stack of the environment builds on these two, so they are kept in one small,
fast stack at the root of the environment's stack graph.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from config.model import AlarmsConfig, StorageConfig
from constructs_lib import AlarmTopic, DataLakeStorage, LakeLifecyclePolicy
from constructs_lib.nag import acknowledge
from stacks.environment import EnvironmentSettings, EnvironmentStack, LakeResources

REPLICATION_RULES = (
    "HIPAA.Security-S3BucketReplicationEnabled",
    "NIST.800.53.R5-S3BucketReplicationEnabled",
    "PCI.DSS.321-S3BucketReplicationEnabled",
)
NO_CROSS_REGION_REPLICATION = (
    "Cross-region replication is not part of this platform's recovery design: buckets are "
    "single-region by decision (data residency in the configured region). Objects are stored "
    "across at least three AZs by S3; versioning, noncurrent-version retention and the Retain "
    "removal policy (enforced in prod) protect against overwrite and deletion. Revisit if a "
    "regional-outage RPO is ever required."
)


class FoundationStack(EnvironmentStack):
    """Attributes: ``storage`` (DataLakeStorage), ``alarms`` (AlarmTopic), and ``lake``
    (LakeResources: what the later stacks consume)."""

    DESCRIPTION = "Data lake storage and alarm topic of the {env} environment"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        storage: StorageConfig,
        alarms: AlarmsConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, settings=settings, **kwargs)
        self.storage = DataLakeStorage(
            self, "DataLake", removal_policy=settings.removal_policy, lifecycle=_lifecycle(storage, settings)
        )
        self.alarms = AlarmTopic(
            self,
            "Alarms",
            email_subscribers=alarms.email_subscribers,
            removal_policy=settings.removal_policy,
        )
        if self.storage.key is None:  # only when every bucket is passed in, which this stack never does
            raise AssertionError("DataLakeStorage created buckets without a key")
        self.lake = LakeResources(
            raw_bucket=self.storage.raw_bucket,
            curated_bucket=self.storage.curated_bucket,
            analytics_bucket=self.storage.analytics_bucket,
            query_results_bucket=self.storage.query_results_bucket,
            access_logs_bucket=self.storage.access_logs_bucket,
            key=self.storage.key,
            alarm_topic=self.alarms.topic,
        )
        # The data lake buckets are deliberately not replicated to another region.
        acknowledge(self.storage, NO_CROSS_REGION_REPLICATION, *REPLICATION_RULES)

        cdk.CfnOutput(self, "RawBucketName", value=self.storage.raw_bucket.bucket_name)
        cdk.CfnOutput(self, "CuratedBucketName", value=self.storage.curated_bucket.bucket_name)
        cdk.CfnOutput(self, "AnalyticsBucketName", value=self.storage.analytics_bucket.bucket_name)
        cdk.CfnOutput(
            self, "QueryResultsBucketName", value=self.storage.query_results_bucket.bucket_name
        )
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.alarms.topic.topic_arn)


def _lifecycle(storage: StorageConfig, settings: EnvironmentSettings) -> LakeLifecyclePolicy:
    """The buckets' lifecycle; access logs are kept as long as the environment's other logs."""
    return LakeLifecyclePolicy(
        raw_infrequent_access_after_days=storage.raw_infrequent_access_after_days,
        raw_glacier_after_days=storage.raw_glacier_after_days,
        noncurrent_version_expiration_days=storage.noncurrent_version_expiration_days,
        query_results_expiration_days=storage.query_results_expiration_days,
        access_log_expiration_days=settings.log_retention_days,
    )
