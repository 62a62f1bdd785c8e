"""A Glue crawler over one prefix of a data lake bucket, with a role that can reach nothing else.

Two modes:

- **S3 target** (default): the crawler infers the schema of the files under
  ``s3://<bucket>/<prefix>`` and creates or updates one table named after the prefix's last
  folder (``telemetry/`` -> ``telemetry``), with a partition per Hive-style folder (``event_date=2026-11-23/``). The table level
  is pinned to the prefix (``TableLevelConfiguration``) and compatible schemas are combined, so
  folders whose files differ in a few fields never split into several tables.
- **Catalog target** (``catalog_table_name``): the table already exists (defined in CDK, with an
  explicit schema); the crawler only adds the partitions it finds under the table's location and
  never changes the table's schema (update and delete behaviour ``LOG``).

Fixed (security): a security configuration is required (encrypted logs); the role can list and
read only ``<prefix>``, use the bucket key only through S3, and create or update only its one
table and that table's partitions in ``database_name``.
Tunable: recrawl policy (default: incremental for S3 targets, full for catalog targets, which
Glue crawls only in full) and schema-change policy (incremental crawls force both behaviours to
``LOG``, as Glue requires; ``DELETE_FROM_DATABASE`` adds the delete permissions it needs),
description.
"""

from __future__ import annotations

import json
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.catalog.glue_security import GlueSecurity
from constructs_lib.common.validation import text
from constructs_lib.governance.lake_access import KMS_WRITE_ACTIONS, check_prefix, glue_catalog_arns, grant_prefix_read, key_statement

RecrawlBehavior = Literal["CRAWL_EVERYTHING", "CRAWL_NEW_FOLDERS_ONLY"]
UpdateBehavior = Literal["LOG", "UPDATE_IN_DATABASE"]
DeleteBehavior = Literal["LOG", "DEPRECATE_IN_DATABASE", "DELETE_FROM_DATABASE"]

#: What the crawler does in the catalog: read and write tables and partitions of its database.
CATALOG_ACTIONS = (
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTables",
    "glue:CreateTable",
    "glue:UpdateTable",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
    "glue:CreatePartition",
    "glue:BatchCreatePartition",
    "glue:UpdatePartition",
    "glue:BatchUpdatePartition",
)
#: Only with ``delete_behavior="DELETE_FROM_DATABASE"``: removing tables and partitions whose
#: folders are gone.
DELETE_ACTIONS = ("glue:DeleteTable", "glue:DeletePartition", "glue:BatchDeletePartition")


class LakeCrawler(Construct):
    """Attributes: ``crawler`` (``AWS::Glue::Crawler``), ``role``, ``crawler_name``, ``table_name``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        crawler_name: str,
        database_name: str,
        bucket: s3.IBucket,
        prefix: str,
        bucket_key: kms.IKey | None,
        security: GlueSecurity,
        catalog_key: kms.IKey | None = None,
        catalog_table_name: str | None = None,
        recrawl_behavior: RecrawlBehavior | None = None,
        update_behavior: UpdateBehavior = "LOG",
        delete_behavior: DeleteBehavior = "LOG",
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        for prop, value in (("crawler_name", crawler_name), ("database_name", database_name), ("prefix", prefix)):
            text("LakeCrawler", prop, value)
        check_prefix(prefix, owner="LakeCrawler")
        if catalog_table_name is not None:
            text("LakeCrawler", "catalog_table_name", catalog_table_name)
        if recrawl_behavior is None:
            # Catalog targets are always crawled in full; S3 targets default to incremental.
            recrawl_behavior = "CRAWL_EVERYTHING" if catalog_table_name is not None else "CRAWL_NEW_FOLDERS_ONLY"
        if recrawl_behavior == "CRAWL_NEW_FOLDERS_ONLY" and (update_behavior, delete_behavior) != ("LOG", "LOG"):
            raise ValueError(
                "LakeCrawler: recrawl_behavior CRAWL_NEW_FOLDERS_ONLY requires update_behavior and "
                f"delete_behavior LOG; got {update_behavior}, {delete_behavior}"
            )
        if catalog_table_name is not None and (update_behavior, delete_behavior) != ("LOG", "LOG"):
            raise ValueError(
                "LakeCrawler: a catalog target keeps the table's schema as defined, so update_behavior "
                f"and delete_behavior must be LOG; got {update_behavior}, {delete_behavior}"
            )
        if catalog_table_name is not None and recrawl_behavior != "CRAWL_EVERYTHING":
            raise ValueError(
                "LakeCrawler: Glue crawls catalog targets in full only; set recrawl_behavior "
                f"CRAWL_EVERYTHING; got {recrawl_behavior}"
            )
        self.crawler_name = crawler_name
        #: The table the crawler writes: the catalog target, or the prefix's last folder (the
        #: table level is pinned to it, so the crawler never creates another).
        # Glue stores table names in lower case.
        self.table_name: str = (catalog_table_name if catalog_table_name is not None else prefix.rstrip("/").split("/")[-1]).lower()
        stack = cdk.Stack.of(self)

        self.role: iam.Role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description=f"Glue crawler {crawler_name}: reads {prefix} and writes {database_name} only",
        )
        grant_prefix_read(self.role, bucket, prefix, bucket_key)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[*CATALOG_ACTIONS, *(DELETE_ACTIONS if delete_behavior == "DELETE_FROM_DATABASE" else ())],
                resources=glue_catalog_arns(stack, database_name, self.table_name),
            )
        )
        if catalog_key is not None:
            # The catalog's metadata is encrypted (DataCatalogEncryption): reading and writing
            # table definitions needs the catalog key, through Glue only.
            self.role.add_to_principal_policy(key_statement(catalog_key, KMS_WRITE_ACTIONS, via="glue"))
        security.grant_use(self.role, runs="crawler")

        if catalog_table_name is None:
            targets = glue.CfnCrawler.TargetsProperty(
                s3_targets=[glue.CfnCrawler.S3TargetProperty(path=f"s3://{bucket.bucket_name}/{prefix}")]
            )
            # The prefix's last folder is the table: bucket = level 1, each folder one more.
            grouping = {"TableGroupingPolicy": "CombineCompatibleSchemas", "TableLevelConfiguration": prefix.count("/") + 1}
        else:
            targets = glue.CfnCrawler.TargetsProperty(
                catalog_targets=[
                    glue.CfnCrawler.CatalogTargetProperty(database_name=database_name, tables=[catalog_table_name])
                ]
            )
            grouping = None
        configuration: dict[str, object] = {
            "Version": 1.0,
            "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}},
        }
        if grouping is not None:
            configuration["Grouping"] = grouping

        self.crawler: glue.CfnCrawler = glue.CfnCrawler(
            self,
            "Crawler",
            name=crawler_name,
            role=self.role.role_arn,
            database_name=database_name,
            description=description,
            targets=targets,
            crawler_security_configuration=security.configuration.security_configuration_name,
            recrawl_policy=glue.CfnCrawler.RecrawlPolicyProperty(recrawl_behavior=recrawl_behavior),
            schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                update_behavior=update_behavior, delete_behavior=delete_behavior
            ),
            configuration=json.dumps(configuration, sort_keys=True),
        )
        # The role's policy (not referenced by the crawler) must exist before the crawler can
        # first run with it; the role itself is referenced already.
        policy = self.role.node.try_find_child("DefaultPolicy")
        if policy is not None:
            self.crawler.node.add_dependency(policy)
