"""DataCatalogEncryption: SSE-KMS metadata and encrypted connection passwords with one key."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from constructs_lib import DataCatalogEncryption


def test_catalog_and_connection_passwords_use_the_retained_rotating_key() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    encryption = DataCatalogEncryption(stack, "Catalog")
    template = Template.from_stack(stack)
    key_arn = {"Fn::GetAtt": [stack.get_logical_id(encryption.key.node.default_child), "Arn"]}
    template.has_resource_properties(
        "AWS::Glue::DataCatalogEncryptionSettings",
        {
            "CatalogId": {"Ref": "AWS::AccountId"},
            "DataCatalogEncryptionSettings": {
                "EncryptionAtRest": {"CatalogEncryptionMode": "SSE-KMS", "SseAwsKmsKeyId": key_arn},
                "ConnectionPasswordEncryption": {"ReturnConnectionPasswordEncrypted": True, "KmsKeyId": key_arn},
            },
        },
    )
    template.has_resource(
        "AWS::KMS::Key",
        {"Properties": {"EnableKeyRotation": True}, "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"},
    )


def test_existing_key_is_used() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    key = kms.Key.from_key_arn(stack, "Team", "arn:aws:kms:eu-west-1:111122223333:key/abcd")
    encryption = DataCatalogEncryption(stack, "Catalog", existing_key=key)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::KMS::Key", 0)
    template.has_resource_properties(
        "AWS::Glue::DataCatalogEncryptionSettings",
        {"DataCatalogEncryptionSettings": {"EncryptionAtRest": {"SseAwsKmsKeyId": "arn:aws:kms:eu-west-1:111122223333:key/abcd"}}},
    )
    assert encryption.key is key
