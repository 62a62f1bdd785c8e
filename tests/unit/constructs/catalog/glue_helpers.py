"""Shared builders for the Glue, workflow and Athena construct tests: an encrypted lake bucket
with a GlueSecurity next to it, crawler and job factories."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from constructs_lib import GlueSecurity, LakeCrawler, LakeEtlJob
from tests.unit.constructs.stack_helpers import stack
from tests.unit.constructs.template_helpers import ACCOUNT, REGION, arn_of

CONFIGURATION_NAME = "analytics-test-glue"
DATABASE = "raw"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms"


@dataclass
class Lake:
    """A stack with a KMS-encrypted lake bucket and a GlueSecurity using the bucket's key."""

    scope: cdk.Stack
    key: kms.Key
    bucket: s3.Bucket
    security: GlueSecurity

    def objects(self, prefix: str) -> dict:
        """How ``bucket.arn_for_objects(f"{prefix}*")`` renders."""
        return {"Fn::Join": ["", [arn_of(self.bucket), f"/{prefix}*"]]}

    def script(self) -> glue.Code:
        """A job script in an existing bucket (no asset to stage)."""
        scripts = self.scope.node.try_find_child("Scripts") or s3.Bucket.from_bucket_name(
            self.scope, "Scripts", "scripts-bucket"
        )
        return glue.Code.from_bucket(scripts, "jobs/etl.py")

    def crawler(self, construct_id: str, **kwargs) -> LakeCrawler:
        settings = {
            "crawler_name": f"{construct_id.lower()}-crawler",
            "database_name": DATABASE,
            "bucket": self.bucket,
            "prefix": "telemetry/",
            "bucket_key": self.key,
            "security": self.security,
        }
        return LakeCrawler(self.scope, construct_id, **{**settings, **kwargs})

    def job(self, construct_id: str, **kwargs) -> LakeEtlJob:
        settings = {
            "job_name": f"{construct_id.lower()}-job",
            "script": self.script(),
            "source_bucket": self.bucket,
            "source_prefix": "telemetry/",
            "target_bucket": self.bucket,
            "target_prefixes": ["curated/"],
            "data_key": self.key,
            "security": self.security,
        }
        return LakeEtlJob(self.scope, construct_id, **{**settings, **kwargs})


def lake(scope: cdk.Stack | None = None, **security_kwargs) -> Lake:
    scope = scope or stack()
    key = kms.Key(scope, "LakeKey")
    bucket = s3.Bucket(scope, "Lake", encryption_key=key)
    settings = {"configuration_name": CONFIGURATION_NAME, "data_key": key, **security_kwargs}
    return Lake(scope, key, bucket, GlueSecurity(scope, "GlueSecurity", **settings))
