"""Account-level singletons, deployed once per account and region.

Environment stacks assume this stack exists and never set these settings themselves: two
stacks that set an account-level singleton overwrite each other. Its template depends on no
environment, so deploying it from any environment's app yields the same stack.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from config.model import ProjectConfig
from constructs_lib import DataCatalogEncryption, DataLakeSettings
from stacks.tagging import apply_tags


class AccountBaselineStack(cdk.Stack):
    """Glue Data Catalog encryption and the Lake Formation data lake settings.

    Attributes: ``catalog_encryption`` (DataCatalogEncryption), ``lake_settings`` (DataLakeSettings:
    the CDK bootstrap's CloudFormation execution role and ``config.baseline.lake_formation_admin_roles``
    are the data lake administrators; new databases and tables get no IAMAllowedPrincipals permissions).
    Tagged with the project's baseline tags, never an environment's.
    """

    DESCRIPTION = (
        "Account-level singletons (Glue Data Catalog encryption, Lake Formation data lake settings); "
        "one per account and region"
    )

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ProjectConfig,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("description", self.DESCRIPTION)
        super().__init__(scope, construct_id, **kwargs)
        apply_tags(self, config.baseline_tags())
        # Always retained: deleting the catalog key would make every catalog entry unreadable.
        self.catalog_encryption = DataCatalogEncryption(
            self, "CatalogEncryption", key_removal_policy=cdk.RemovalPolicy.RETAIN
        )
        # Role names, not ARNs: the same template serves every account it is deployed to.
        self.lake_settings = DataLakeSettings(
            self,
            "LakeFormation",
            admin_arns=[
                self.format_arn(service="iam", region="", resource="role", resource_name=name)
                for name in config.baseline.lake_formation_admin_roles
            ],
        )
        cdk.CfnOutput(
            self,
            "CatalogKeyArn",
            value=self.catalog_encryption.key.key_arn,
            description="KMS key that encrypts the Glue Data Catalog; principals that read the "
            "catalog need kms:Decrypt on it",
        )
