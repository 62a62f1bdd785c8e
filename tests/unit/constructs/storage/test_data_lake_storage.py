"""DataLakeStorage: fixed security settings, configurable lifecycle and removal, existing resources."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from constructs_lib import DATA_DESTROYED_WARNING_ID, DataLakeStorage, LakeLifecyclePolicy

DATA_BUCKETS = ("RawBucket", "CuratedBucket", "AnalyticsBucket", "QueryResultsBucket")


def make(**kwargs) -> tuple[cdk.Stack, DataLakeStorage]:
    stack = cdk.Stack(cdk.App(), "Test")
    return stack, DataLakeStorage(stack, "Lake", **kwargs)


def buckets_by_id(template: Template) -> dict[str, dict]:
    """Bucket resources keyed by their construct id (RawBucket, AccessLogsBucket, ...)."""
    found = template.find_resources("AWS::S3::Bucket")
    return {
        construct_id: props
        for construct_id in (*DATA_BUCKETS, "AccessLogsBucket")
        for logical_id, props in found.items()
        if logical_id.startswith(f"Lake{construct_id}")
    }


def rules(bucket: dict) -> dict[str, dict]:
    return {r["Id"]: r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}


@pytest.fixture(scope="module")
def default() -> tuple[DataLakeStorage, Template]:
    stack, storage = make()
    return storage, Template.from_stack(stack)


def test_creates_five_buckets_and_one_rotating_key(default) -> None:
    _, template = default
    template.resource_count_is("AWS::S3::Bucket", 5)
    template.resource_count_is("AWS::KMS::Key", 1)
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True, "PendingWindowInDays": 30})


def test_every_bucket_and_the_key_is_a_public_attribute(default) -> None:
    storage, _ = default
    assert isinstance(storage.key, kms.Key)
    for bucket in (
        storage.raw_bucket,
        storage.curated_bucket,
        storage.analytics_bucket,
        storage.query_results_bucket,
        storage.access_logs_bucket,
    ):
        assert isinstance(bucket, s3.Bucket)
    assert len(storage.created_buckets) == 5


def test_data_buckets_use_the_customer_managed_key_with_bucket_keys(default) -> None:
    _, template = default
    key_id = next(iter(template.find_resources("AWS::KMS::Key")))
    buckets = buckets_by_id(template)
    for name in DATA_BUCKETS:
        encryption = buckets[name]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert encryption == {
            "BucketKeyEnabled": True,
            "ServerSideEncryptionByDefault": {
                "SSEAlgorithm": "aws:kms",
                "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
            },
        }, name


def test_access_log_bucket_uses_sse_s3_because_log_delivery_requires_it(default) -> None:
    _, template = default
    encryption = buckets_by_id(template)["AccessLogsBucket"]["Properties"]["BucketEncryption"]
    assert encryption["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }


def test_every_bucket_blocks_public_access_disables_acls_and_is_versioned(default) -> None:
    _, template = default
    for name, bucket in buckets_by_id(template).items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, name
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}, name
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, name


def test_every_bucket_denies_plain_http_and_old_tls(default) -> None:
    _, template = default
    policies = template.find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == 5
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        conditions = [s["Condition"] for s in statements if s["Effect"] == "Deny"]
        assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
        assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions


def test_data_buckets_log_to_the_access_log_bucket_under_their_own_prefix(default) -> None:
    _, template = default
    buckets = buckets_by_id(template)
    log_bucket_id = next(k for k in template.find_resources("AWS::S3::Bucket") if k.startswith("LakeAccessLogsBucket"))
    prefixes = {}
    for name in DATA_BUCKETS:
        logging = buckets[name]["Properties"]["LoggingConfiguration"]
        assert logging["DestinationBucketName"] == {"Ref": log_bucket_id}
        prefixes[name] = logging["LogFilePrefix"]
    assert prefixes == {
        "RawBucket": "raw/",
        "CuratedBucket": "curated/",
        "AnalyticsBucket": "analytics/",
        "QueryResultsBucket": "query-results/",
    }
    assert "LoggingConfiguration" not in buckets["AccessLogsBucket"]["Properties"]


def test_log_delivery_is_granted_by_bucket_policy_not_acl(default) -> None:
    _, template = default
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject"})]
                )
            }
        },
    )


def test_default_lifecycle(default) -> None:
    _, template = default
    buckets = buckets_by_id(template)
    raw = rules(buckets["RawBucket"])
    assert raw["TierRawObjects"]["Transitions"] == [
        {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
        {"StorageClass": "GLACIER_IR", "TransitionInDays": 180},
    ]
    for name, bucket in buckets.items():
        bucket_rules = rules(bucket)
        assert bucket_rules["ExpireNoncurrentVersions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}, name
        assert bucket_rules["AbortIncompleteMultipartUploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert rules(buckets["QueryResultsBucket"])["ExpireQueryResults"]["ExpirationInDays"] == 30
    assert rules(buckets["AccessLogsBucket"])["ExpireAccessLogs"]["ExpirationInDays"] == 365
    for name in ("CuratedBucket", "AnalyticsBucket"):
        assert set(rules(buckets[name])) == {"ExpireNoncurrentVersions", "AbortIncompleteMultipartUploads"}


def test_lifecycle_overrides_are_applied() -> None:
    stack, _ = make(
        lifecycle=LakeLifecyclePolicy(
            raw_infrequent_access_after_days=45,
            raw_glacier_after_days=None,
            noncurrent_version_expiration_days=3,
            query_results_expiration_days=2,
            access_log_expiration_days=14,
        )
    )
    buckets = buckets_by_id(Template.from_stack(stack))
    assert rules(buckets["RawBucket"])["TierRawObjects"]["Transitions"] == [
        {"StorageClass": "STANDARD_IA", "TransitionInDays": 45}
    ]
    assert rules(buckets["CuratedBucket"])["ExpireNoncurrentVersions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 3}
    assert rules(buckets["QueryResultsBucket"])["ExpireQueryResults"]["ExpirationInDays"] == 2
    assert rules(buckets["AccessLogsBucket"])["ExpireAccessLogs"]["ExpirationInDays"] == 14


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"raw_infrequent_access_after_days": 29}, "raw_infrequent_access_after_days must be >= 30"),
        ({"raw_infrequent_access_after_days": 30, "raw_glacier_after_days": 59}, "raw_glacier_after_days must be >= raw_infrequent_access_after_days + 30 = 60"),
        ({"noncurrent_version_expiration_days": 0}, "noncurrent_version_expiration_days must be >= 1"),
        ({"query_results_expiration_days": 0}, "query_results_expiration_days must be >= 1"),
        ({"access_log_expiration_days": -1}, "access_log_expiration_days must be >= 1"),
    ],
)
def test_lifecycle_rejects_what_s3_would_reject(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message.replace("+", r"\+")):
        LakeLifecyclePolicy(**kwargs)


def test_data_is_retained_by_default_without_a_warning(default) -> None:
    storage, template = default
    for bucket in template.find_resources("AWS::S3::Bucket").values():
        assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    for key in template.find_resources("AWS::KMS::Key").values():
        assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Retain", "Retain")
    template.resource_count_is("Custom::S3AutoDeleteObjects", 0)
    Annotations.from_stack(cdk.Stack.of(storage)).has_no_warning("*", Match.string_like_regexp(".*DESTROY.*"))


def test_destroy_deletes_buckets_with_their_objects_and_warns() -> None:
    stack, _ = make(removal_policy=cdk.RemovalPolicy.DESTROY)
    template = Template.from_stack(stack)
    for bucket in template.find_resources("AWS::S3::Bucket").values():
        assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Delete", "Delete")
    template.resource_count_is("Custom::S3AutoDeleteObjects", 5)
    template.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Delete"})
    warnings = Annotations.from_stack(stack).find_warning("/Test/Lake", Match.string_like_regexp(".*DESTROY.*"))
    assert len(warnings) == 1
    assert DATA_DESTROYED_WARNING_ID in str(warnings[0].entry.data)


def test_snapshot_is_not_a_removal_policy_for_buckets() -> None:
    with pytest.raises(ValueError, match="removal_policy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY"):
        make(removal_policy=cdk.RemovalPolicy.SNAPSHOT)


def test_existing_key_is_used_instead_of_a_new_one() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    key = kms.Key(stack, "TeamKey")
    storage = DataLakeStorage(stack, "Lake", existing_key=key)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::KMS::Key", 1)
    assert storage.key is key
    key_id = stack.get_logical_id(key.node.default_child)
    raw = buckets_by_id(template)["RawBucket"]["Properties"]["BucketEncryption"]
    assert raw["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {
        "Fn::GetAtt": [key_id, "Arn"]
    }


def test_existing_buckets_are_exposed_and_not_created() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    raw = s3.Bucket.from_bucket_name(stack, "TeamRaw", "team-raw-bucket")
    logs = s3.Bucket.from_bucket_name(stack, "TeamLogs", "team-log-bucket")
    storage = DataLakeStorage(stack, "Lake", existing_raw_bucket=raw, existing_access_logs_bucket=logs)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::S3::Bucket", 3)
    assert storage.raw_bucket is raw
    assert storage.access_logs_bucket is logs
    assert len(storage.created_buckets) == 3
    template.has_resource_properties(
        "AWS::S3::Bucket", {"LoggingConfiguration": {"DestinationBucketName": "team-log-bucket", "LogFilePrefix": "curated/"}}
    )


def test_no_key_is_created_when_every_data_bucket_is_given() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    existing = {
        f"existing_{name}_bucket": s3.Bucket.from_bucket_name(stack, name, f"team-{name.replace('_', '-')}")
        for name in ("raw", "curated", "analytics", "query_results")
    }
    storage = DataLakeStorage(stack, "Lake", **existing)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::KMS::Key", 0)
    template.resource_count_is("AWS::S3::Bucket", 1)
    assert storage.key is None
