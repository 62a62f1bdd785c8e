"""Encrypted S3 storage of a data lake: raw, curated and analytics zones, query results, logs.

Fixed (security): every data bucket is encrypted with a customer-managed KMS key (S3 bucket
keys on, to cut KMS requests), refuses plain HTTP and TLS below 1.2, blocks all public access,
disables ACLs, is versioned, and writes server access logs to the access-log bucket.

The access-log bucket is the exception to KMS: S3 server access logging can only deliver to a
bucket encrypted with SSE-S3, so that bucket uses SSE-S3 and does not log to itself.

Tunable: the lifecycle (``LakeLifecyclePolicy``) and the removal policy. Any bucket or the key
can be passed in instead of created, for teams that already own one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.common.encryption import rotating_key
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import boolean

#: S3 rejects a STANDARD_IA transition before day 30 and requires 30 days in STANDARD_IA
#: before a Glacier transition.
S3_MIN_DAYS_BEFORE_INFREQUENT_ACCESS = 30
S3_MIN_DAYS_IN_INFREQUENT_ACCESS = 30
_ABORT_INCOMPLETE_UPLOADS_AFTER = cdk.Duration.days(7)

_LOG_DELIVERY_BY_POLICY_FLAG = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"
_KMS_BY_DEFAULT_RULES = (
    "HIPAA.Security-S3DefaultEncryptionKMS",
    "NIST.800.53.R5-S3DefaultEncryptionKMS",
    "PCI.DSS.321-S3DefaultEncryptionKMS",
)
_ACCESS_LOG_SSE_S3_REASON = (
    "S3 server access logging delivers only to target buckets encrypted with SSE-S3 "
    "(SSE-KMS targets are not supported), so the access-log bucket uses SSE-S3 (AES-256) by "
    "design; it holds request logs, not lake data, and is TLS-only with public access blocked."
)


@dataclass(frozen=True)
class LakeLifecyclePolicy:
    """How long objects stay where, in days.

    - raw objects move to STANDARD_IA after ``raw_infrequent_access_after_days`` and, when
      ``raw_glacier_after_days`` is set, to Glacier Instant Retrieval (still readable by
      crawlers and jobs without a restore) after that many days;
    - noncurrent versions of every bucket expire after ``noncurrent_version_expiration_days``;
    - query results expire after ``query_results_expiration_days``;
    - server access logs expire after ``access_log_expiration_days``.
    """

    raw_infrequent_access_after_days: int = 30
    raw_glacier_after_days: int | None = 180
    noncurrent_version_expiration_days: int = 90
    query_results_expiration_days: int = 30
    access_log_expiration_days: int = 365

    def __post_init__(self) -> None:
        if self.raw_infrequent_access_after_days < S3_MIN_DAYS_BEFORE_INFREQUENT_ACCESS:
            raise ValueError(
                "LakeLifecyclePolicy.raw_infrequent_access_after_days must be >= "
                f"{S3_MIN_DAYS_BEFORE_INFREQUENT_ACCESS} (S3 minimum); got {self.raw_infrequent_access_after_days}"
            )
        if self.raw_glacier_after_days is not None:
            earliest = self.raw_infrequent_access_after_days + S3_MIN_DAYS_IN_INFREQUENT_ACCESS
            if self.raw_glacier_after_days < earliest:
                raise ValueError(
                    "LakeLifecyclePolicy.raw_glacier_after_days must be >= "
                    f"raw_infrequent_access_after_days + {S3_MIN_DAYS_IN_INFREQUENT_ACCESS} = {earliest}; "
                    f"got {self.raw_glacier_after_days}"
                )
        for name in (
            "noncurrent_version_expiration_days",
            "query_results_expiration_days",
            "access_log_expiration_days",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"LakeLifecyclePolicy.{name} must be >= 1; got {getattr(self, name)}")


def _existing_or(existing: s3.IBucket | None, create: Callable[[], s3.Bucket]) -> s3.IBucket:
    return create() if existing is None else existing


class DataLakeStorage(Construct):
    """The buckets and key of a data lake.

    Attributes: ``key`` (the data key, ``None`` only if every data bucket was passed in and no
    key was given), ``raw_bucket``, ``curated_bucket``, ``analytics_bucket`` (``None`` with
    ``with_analytics_bucket=False``), ``query_results_bucket``, ``access_logs_bucket`` (``None`` with
    ``with_access_logs_bucket=False``: the data buckets then write no server access logs, which the
    packs' access-logging rules report for the app to decide).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        lifecycle: LakeLifecyclePolicy | None = None,
        existing_key: kms.IKey | None = None,
        existing_raw_bucket: s3.IBucket | None = None,
        existing_curated_bucket: s3.IBucket | None = None,
        existing_analytics_bucket: s3.IBucket | None = None,
        existing_query_results_bucket: s3.IBucket | None = None,
        existing_access_logs_bucket: s3.IBucket | None = None,
        with_analytics_bucket: bool = True,
        with_access_logs_bucket: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        for prop, value, existing in (
            ("with_analytics_bucket", with_analytics_bucket, existing_analytics_bucket),
            ("with_access_logs_bucket", with_access_logs_bucket, existing_access_logs_bucket),
        ):
            if not boolean("DataLakeStorage", prop, value) and existing is not None:
                name = prop.removeprefix("with_")
                raise ValueError(
                    f"DataLakeStorage: pass existing_{name} or {prop}=False, not both (False means the lake has no {name.replace('_', ' ')})"
                )
        # Grant S3 log delivery through the log bucket's policy, not an ACL (ACLs are disabled
        # by BucketOwnerEnforced), whatever feature flags the consuming app has set.
        self.node.set_context(_LOG_DELIVERY_BY_POLICY_FLAG, True)
        self.removal_policy: cdk.RemovalPolicy = check_data_removal_policy(removal_policy, owner="DataLakeStorage")
        self.lifecycle: LakeLifecyclePolicy = LakeLifecyclePolicy() if lifecycle is None else lifecycle
        self._destroy = removal_policy == cdk.RemovalPolicy.DESTROY

        all_data_buckets_given = None not in (
            existing_raw_bucket,
            existing_curated_bucket,
            existing_analytics_bucket if with_analytics_bucket else False,
            existing_query_results_bucket,
        )
        if existing_key is not None:
            self.key: kms.IKey | None = existing_key
        elif all_data_buckets_given:
            self.key = None
        else:
            self.key = rotating_key(
                self,
                "DataKey",
                description="Encrypts the data lake zones and query results",
                removal_policy=self.removal_policy,
            )

        self.access_logs_bucket: s3.IBucket | None = (
            _existing_or(existing_access_logs_bucket, self._access_logs_bucket) if with_access_logs_bucket else None
        )
        self.raw_bucket: s3.IBucket = _existing_or(
            existing_raw_bucket, lambda: self._data_bucket("RawBucket", "raw/", self._raw_lifecycle_rules())
        )
        self.curated_bucket: s3.IBucket = _existing_or(
            existing_curated_bucket, lambda: self._data_bucket("CuratedBucket", "curated/", [])
        )
        self.analytics_bucket: s3.IBucket | None = (
            _existing_or(existing_analytics_bucket, lambda: self._data_bucket("AnalyticsBucket", "analytics/", []))
            if with_analytics_bucket else None
        )
        self.query_results_bucket: s3.IBucket = _existing_or(
            existing_query_results_bucket,
            lambda: self._data_bucket(
                "QueryResultsBucket", "query-results/", self._query_results_lifecycle_rules()
            ),
        )
        buckets = [name for name, given in (
            ("raw", existing_raw_bucket), ("curated", existing_curated_bucket),
            ("analytics", existing_analytics_bucket if with_analytics_bucket else False),
            ("query results", existing_query_results_bucket),
            ("access logs", existing_access_logs_bucket if with_access_logs_bucket else False),
        ) if given is None]
        created = ([", ".join(buckets) + (" bucket" if len(buckets) == 1 else " buckets")] if buckets else []) + (
            ["the data key"] if existing_key is None and self.key is not None else []
        )
        apply_data_removal_policy(
            self, self.removal_policy,
            what="the data lake's " + (" and ".join(created) if created else "nothing (every resource was passed in)"),
        )

    @property
    def created_buckets(self) -> list[s3.Bucket]:
        """The buckets this construct created (not those passed in)."""
        candidates = (
            self.raw_bucket,
            self.curated_bucket,
            self.analytics_bucket,
            self.query_results_bucket,
            self.access_logs_bucket,
        )
        return [b for b in candidates if isinstance(b, s3.Bucket) and b.node.scope is self]

    def _common_rules(self) -> list[s3.LifecycleRule]:
        return [
            s3.LifecycleRule(
                id="ExpireNoncurrentVersions",
                noncurrent_version_expiration=cdk.Duration.days(
                    self.lifecycle.noncurrent_version_expiration_days
                ),
            ),
            s3.LifecycleRule(
                id="AbortIncompleteMultipartUploads",
                abort_incomplete_multipart_upload_after=_ABORT_INCOMPLETE_UPLOADS_AFTER,
            ),
        ]

    def _query_results_lifecycle_rules(self) -> list[s3.LifecycleRule]:
        return [
            s3.LifecycleRule(
                id="ExpireQueryResults",
                expiration=cdk.Duration.days(self.lifecycle.query_results_expiration_days),
            )
        ]

    def _raw_lifecycle_rules(self) -> list[s3.LifecycleRule]:
        transitions = [
            s3.Transition(
                storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                transition_after=cdk.Duration.days(self.lifecycle.raw_infrequent_access_after_days),
            )
        ]
        if self.lifecycle.raw_glacier_after_days is not None:
            transitions.append(
                s3.Transition(
                    storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                    transition_after=cdk.Duration.days(self.lifecycle.raw_glacier_after_days),
                )
            )
        return [s3.LifecycleRule(id="TierRawObjects", transitions=transitions)]

    def _access_logs_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogsBucket",
            # S3 server access logging delivers only to SSE-S3 buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireAccessLogs",
                    expiration=cdk.Duration.days(self.lifecycle.access_log_expiration_days),
                ),
                *self._common_rules(),
            ],
            removal_policy=self.removal_policy,
            auto_delete_objects=self._destroy,
        )
        cdk.Validations.of(bucket).acknowledge(
            *(
                cdk.Acknowledgment(id=rule_id, reason=_ACCESS_LOG_SSE_S3_REASON)
                for rule_id in _KMS_BY_DEFAULT_RULES
            )
        )
        return bucket

    def _data_bucket(
        self, construct_id: str, log_prefix: str, rules: list[s3.LifecycleRule]
    ) -> s3.Bucket:
        return s3.Bucket(
            self,
            construct_id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=self.access_logs_bucket,
            # Without a log bucket, no logs: a prefix alone would make the bucket log to itself.
            server_access_logs_prefix=log_prefix if self.access_logs_bucket is not None else None,
            lifecycle_rules=[*rules, *self._common_rules()],
            removal_policy=self.removal_policy,
            auto_delete_objects=self._destroy,
        )
