"""lake_access: every grant is scoped to one prefix of one bucket, and its key is usable only through S3."""

from __future__ import annotations

import re

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib.governance.lake_access import check_prefix, glue_catalog_arns, grant_prefix_read, grant_prefix_write
from tests.unit.constructs.stack_helpers import stack
from tests.unit.constructs.template_helpers import actions, role_statements, via_service, with_prefix

BUCKET_ARN = "arn:aws:s3:::lake-bucket"
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/abcd"


@pytest.fixture(scope="module")
def grants() -> dict[str, list[dict]]:
    """One role per kind of grant, all in one stack; the statements of each role by name."""
    scope = stack()
    bucket = s3.Bucket.from_bucket_name(scope, "Lake", "lake-bucket")
    key = kms.Key.from_key_arn(scope, "Key", KEY_ARN)
    roles = {name: iam.Role(scope, name, assumed_by=iam.ServicePrincipal("glue.amazonaws.com")) for name in (
        "Reader", "NestedReader", "Writer", "Deleter", "KeylessReader", "KeylessWriter",
    )}
    grant_prefix_read(roles["Reader"], bucket, "telemetry/", key)
    grant_prefix_read(roles["NestedReader"], bucket, "zone/telemetry/", key)
    grant_prefix_write(roles["Writer"], bucket, "curated/", key)
    grant_prefix_write(roles["Deleter"], bucket, "curated/", key, delete=True)
    grant_prefix_read(roles["KeylessReader"], bucket, "telemetry/", None)
    grant_prefix_write(roles["KeylessWriter"], bucket, "curated/", None, delete=True)
    template = Template.from_stack(scope)
    return {name: role_statements(template, role) for name, role in roles.items()}


def listing(prefix: str) -> dict:
    return {
        "Action": "s3:ListBucket",
        "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}},
        "Effect": "Allow",
        "Resource": BUCKET_ARN,
    }


def test_read_lists_the_bucket_only_under_the_prefix(grants) -> None:
    assert listing("telemetry/") in grants["Reader"]
    assert listing("zone/telemetry/") in grants["NestedReader"]


def test_read_gets_objects_under_the_prefix_and_nothing_else(grants) -> None:
    s3_statements = with_prefix(grants["Reader"], "s3")
    assert s3_statements == [
        listing("telemetry/"),
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": f"{BUCKET_ARN}/telemetry/*"},
    ]


def test_read_decrypts_with_the_key_only_through_s3_in_this_region(grants) -> None:
    (key_statement,) = with_prefix(grants["Reader"], "kms")
    assert key_statement == {
        "Action": "kms:Decrypt",
        "Condition": {"StringEquals": {"kms:ViaService": via_service("s3")}},
        "Effect": "Allow",
        "Resource": KEY_ARN,
    }


def test_write_reads_puts_and_aborts_uploads_but_does_not_delete_by_default(grants) -> None:
    assert with_prefix(grants["Writer"], "s3") == [
        listing("curated/"),
        {
            "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            "Effect": "Allow",
            "Resource": f"{BUCKET_ARN}/curated/*",
        },
    ]


def test_write_with_delete_may_also_delete_under_the_prefix(grants) -> None:
    (objects,) = [s for s in with_prefix(grants["Deleter"], "s3") if "s3:PutObject" in actions(s)]
    assert actions(objects) == ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"]
    assert objects["Resource"] == f"{BUCKET_ARN}/curated/*"


@pytest.mark.parametrize("role", ["Writer", "Deleter"])
def test_write_uses_the_key_to_decrypt_and_generate_data_keys_through_s3_without_wildcards(grants, role) -> None:
    (key_statement,) = with_prefix(grants[role], "kms")
    assert key_statement == {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Condition": {"StringEquals": {"kms:ViaService": via_service("s3")}},
        "Effect": "Allow",
        "Resource": KEY_ARN,
    }
    assert not [a for s in grants[role] for a in actions(s) if "*" in a]


@pytest.mark.parametrize("role", ["KeylessReader", "KeylessWriter"])
def test_without_a_key_no_kms_statement_is_added(grants, role) -> None:
    assert with_prefix(grants[role], "kms") == []
    assert with_prefix(grants[role], "s3")  # the S3 part is still granted


@pytest.mark.parametrize("prefix", ["telemetry/", "zone/telemetry/", "event_date=2026-11-23/"])
def test_check_prefix_returns_a_folder_prefix_unchanged(prefix) -> None:
    assert check_prefix(prefix, owner="Test") == prefix


@pytest.mark.parametrize("prefix", ["", "/x/", "x", "x*/"])
def test_check_prefix_rejects_a_prefix_that_is_not_a_plain_folder_naming_it_and_the_owner(prefix) -> None:
    with pytest.raises(ValueError, match=rf"^Owner: .*got {re.escape(repr(prefix))}$"):
        check_prefix(prefix, owner="Owner")


def test_glue_catalog_arns_name_the_catalog_the_database_and_its_tables() -> None:
    scope = stack()
    base = "arn:aws:glue:eu-west-1:111122223333"
    assert glue_catalog_arns(scope, "raw", "telemetry") == [
        f"{base}:catalog",
        f"{base}:database/raw",
        f"{base}:table/raw/telemetry",
    ]
    assert glue_catalog_arns(scope, "raw")[2] == f"{base}:table/raw/*"
