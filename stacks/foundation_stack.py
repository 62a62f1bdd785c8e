"""Per-environment foundation: the data lake storage and the alarm topic.

Every later stack of the environment builds on these two, so they are kept in one small,
fast stack at the root of the environment's stack graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from constructs_lib import AlarmTopic, DataLakeStorage, LakeLifecyclePolicy
from stacks.acknowledgments import acknowledge_storage_findings


class FoundationStack(cdk.Stack):
    """Attributes: ``storage`` (DataLakeStorage), ``alarms`` (AlarmTopic)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data_removal_policy: cdk.RemovalPolicy,
        lifecycle: LakeLifecyclePolicy,
        alarm_email_subscribers: Sequence[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.storage = DataLakeStorage(
            self, "DataLake", removal_policy=data_removal_policy, lifecycle=lifecycle
        )
        self.alarms = AlarmTopic(
            self,
            "Alarms",
            email_subscribers=alarm_email_subscribers,
            removal_policy=data_removal_policy,
        )
        acknowledge_storage_findings(self.storage)

        cdk.CfnOutput(self, "RawBucketName", value=self.storage.raw_bucket.bucket_name)
        cdk.CfnOutput(self, "CuratedBucketName", value=self.storage.curated_bucket.bucket_name)
        cdk.CfnOutput(self, "AnalyticsBucketName", value=self.storage.analytics_bucket.bucket_name)
        cdk.CfnOutput(
            self, "QueryResultsBucketName", value=self.storage.query_results_bucket.bucket_name
        )
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.alarms.topic.topic_arn)
