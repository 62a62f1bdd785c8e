"""Least-privilege access to one prefix of a data lake bucket, and to Glue catalog entries.

CDK's ``bucket.grant_read`` covers the whole bucket. A crawler or job of a data lake should
reach only its zone's prefix, so these helpers scope every statement to ``<bucket>/<prefix>*``
(listing is limited with the ``s3:prefix`` condition) and let the bucket's KMS key be used only
through S3 in this region (``kms:ViaService``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from constructs_lib.common.validation import boolean, instance, string_list, text

#: What a reader of encrypted objects needs on the key, and what a writer needs on top.
KMS_READ_ACTIONS = ("kms:Decrypt",)
KMS_WRITE_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
#: What a query engine (Spectrum, the Hive metastore client) needs to read a database's tables
#: and partitions from the Glue Data Catalog, and nothing that writes.
GLUE_TABLE_READ_ACTIONS = (
    "glue:GetDatabase",
    "glue:GetDatabases",
    "glue:GetTable",
    "glue:GetTables",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
)


def check_prefix(prefix: str, *, owner: str) -> str:
    """A key prefix like ``telemetry/``: no leading slash, ends with one, no wildcards."""
    if not prefix or prefix.startswith("/") or not prefix.endswith("/") or "*" in prefix:
        raise ValueError(
            f"{owner}: an S3 prefix must be non-empty, must not start with '/', must end with '/' "
            f"and must not contain '*'; got {prefix!r}"
        )
    return prefix


@dataclass(frozen=True)
class LakeLocation:
    """One prefix of a lake bucket, and the key its objects are encrypted with (``None``: SSE-S3):
    what a reader or writer is granted (EmrCluster, RedshiftWarehouse), and what Lake Formation
    registers and grants access to (RegisteredLocations, LocationGrant)."""

    bucket: s3.IBucket
    prefix: str
    key: kms.IKey | None = None

    def __post_init__(self) -> None:
        instance("LakeLocation", "bucket", self.bucket, s3.IBucket)
        text("LakeLocation", "prefix", self.prefix, allow_empty=True)
        if self.key is not None:
            instance("LakeLocation", "key", self.key, kms.IKey)
        check_prefix(self.prefix, owner="LakeLocation")


def _check_grant(owner: str, grantee: object, bucket: object, prefix: object, key: object) -> None:
    instance(owner, "grantee", grantee, iam.IGrantable)
    instance(owner, "bucket", bucket, s3.IBucket)
    check_prefix(text(owner, "prefix", prefix, allow_empty=True), owner=owner)
    if key is not None:
        instance(owner, "key", key, kms.IKey)


def _list_statement(bucket: s3.IBucket, prefix: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=["s3:ListBucket"],
        resources=[bucket.bucket_arn],
        # The folder itself and below it; not the bare name without "/", which would also
        # list sibling prefixes such as "telemetry-archive/".
        conditions={"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}},
    )


def key_statement(key: kms.IKey, actions: Sequence[str], *, via: str) -> iam.PolicyStatement:
    """``actions`` on ``key``, usable only through AWS service ``via`` (``s3``, ``glue``) in this region."""
    stack = cdk.Stack.of(key)
    return iam.PolicyStatement(
        actions=list(actions),
        resources=[key.key_arn],
        conditions={"StringEquals": {"kms:ViaService": f"{via}.{stack.region}.{stack.url_suffix}"}},
    )


def grant_prefix_read(grantee: iam.IGrantable, bucket: s3.IBucket, prefix: str, key: kms.IKey | None) -> None:
    """List and read objects under ``prefix`` (and decrypt them with ``key``)."""
    _check_grant("grant_prefix_read", grantee, bucket, prefix, key)
    statements = [
        _list_statement(bucket, prefix),
        iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects(f"{prefix}*")]),
    ]
    if key is not None:
        statements.append(key_statement(key, KMS_READ_ACTIONS, via="s3"))
    for statement in statements:
        grantee.grant_principal.add_to_principal_policy(statement)


def grant_prefix_write(
    grantee: iam.IGrantable,
    bucket: s3.IBucket,
    prefix: str,
    key: kms.IKey | None,
    *,
    delete: bool = False,
) -> None:
    """List, read and write objects under ``prefix``; with ``delete`` also delete them (Spark's
    output committer removes its ``_temporary`` objects after a commit)."""
    _check_grant("grant_prefix_write", grantee, bucket, prefix, key)
    boolean("grant_prefix_write", "delete", delete)
    actions = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    if delete:
        actions.append("s3:DeleteObject")
    statements = [
        _list_statement(bucket, prefix),
        iam.PolicyStatement(actions=actions, resources=[bucket.arn_for_objects(f"{prefix}*")]),
    ]
    if key is not None:
        statements.append(key_statement(key, KMS_WRITE_ACTIONS, via="s3"))
    for statement in statements:
        grantee.grant_principal.add_to_principal_policy(statement)


def glue_catalog_arns(scope: cdk.Stack, database_name: str, table_name: str = "*") -> list[str]:
    """The catalog, the database and its table(s): what a Glue catalog statement must name."""
    return [
        scope.format_arn(service="glue", resource="catalog"),
        scope.format_arn(service="glue", resource="database", resource_name=database_name),
        scope.format_arn(service="glue", resource="table", resource_name=f"{database_name}/{table_name}"),
    ]


def grant_catalog_read(
    role: iam.IRole,
    database_names: Sequence[str],
    catalog_key: kms.IKey | None,
    *,
    actions: Sequence[str] = GLUE_TABLE_READ_ACTIONS,
) -> None:
    """Read-only catalog ``actions`` on the databases and all their tables, and decryption of
    the catalog's metadata (Glue Data Catalog encryption) through Glue only."""
    owner = "grant_catalog_read"
    instance(owner, "role", role, iam.IRole)
    database_names = string_list(owner, "database_names", database_names, unique=True, allow_empty=False)
    actions = string_list(owner, "actions", actions, allow_empty=False)
    if catalog_key is not None:
        instance(owner, "catalog_key", catalog_key, kms.IKey)
    stack = cdk.Stack.of(role)
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=list(actions),
            resources=[arn for database in database_names for arn in glue_catalog_arns(stack, database)],
        )
    )
    if catalog_key is not None:
        role.add_to_principal_policy(key_statement(catalog_key, KMS_READ_ACTIONS, via="glue"))
