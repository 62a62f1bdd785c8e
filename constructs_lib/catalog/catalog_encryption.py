"""Encryption of the Glue Data Catalog: an account-level singleton.

The catalog's encryption settings exist once per account and region. Two stacks that both set
them overwrite each other, so this construct belongs in a stack deployed once per account
(an account baseline), never in a per-environment stack.

Fixed: metadata at rest is encrypted with SSE-KMS and connection passwords are returned
encrypted, both with a customer-managed key with rotation.
Tunable: the key's removal policy (default RETAIN: deleting the key makes the catalog
unreadable), or an existing key.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.common.encryption import rotating_key
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import instance


class DataCatalogEncryption(Construct):
    """Attributes: ``key``, ``settings`` (the ``AWS::Glue::DataCatalogEncryptionSettings``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        existing_key: kms.IKey | None = None,
        key_removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        if existing_key is not None:
            instance("DataCatalogEncryption", "existing_key", existing_key, kms.IKey)
        check_data_removal_policy(key_removal_policy, owner="DataCatalogEncryption")
        if existing_key is not None and key_removal_policy == cdk.RemovalPolicy.DESTROY:
            raise ValueError(
                "DataCatalogEncryption: key_removal_policy=DESTROY has no effect with existing_key (the construct "
                "creates no key, and never deletes an existing one); leave it out"
            )
        apply_data_removal_policy(self, key_removal_policy, what="the Data Catalog key (without it no catalog entry can be read)")
        if existing_key is None:
            self.key: kms.IKey = rotating_key(
                self,
                "Key",
                description="Encrypts the Glue Data Catalog of this account and region",
                removal_policy=key_removal_policy,
            )
        else:
            self.key = existing_key
        self.settings: glue.CfnDataCatalogEncryptionSettings = glue.CfnDataCatalogEncryptionSettings(
            self,
            "Settings",
            catalog_id=cdk.Stack.of(self).account,
            data_catalog_encryption_settings=glue.CfnDataCatalogEncryptionSettings.DataCatalogEncryptionSettingsProperty(
                encryption_at_rest=glue.CfnDataCatalogEncryptionSettings.EncryptionAtRestProperty(
                    catalog_encryption_mode="SSE-KMS",
                    sse_aws_kms_key_id=self.key.key_arn,
                ),
                connection_password_encryption=glue.CfnDataCatalogEncryptionSettings.ConnectionPasswordEncryptionProperty(
                    return_connection_password_encrypted=True,
                    kms_key_id=self.key.key_arn,
                ),
            ),
        )
