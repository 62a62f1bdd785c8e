"""An Apache Iceberg table in the Glue Data Catalog, declared in CloudFormation, so that a reviewer
sees its schema, field ids, partition spec, sort order and table properties in the template.

The shape of the ``AWS::Glue::Table`` is fixed, because only one shape survives an update:

- ``Name``, ``DatabaseName``, ``CatalogId`` and ``OpenTableFormatInput.IcebergInput`` with
  ``MetadataOperation: CREATE``, ``Version`` and ``IcebergTableInput`` (location, schema, partition
  spec, write order, properties), and **no** ``TableInput``. With a ``TableInput`` beside it Glue
  refuses the table ("Table metadata is expected only via TableInput or via
  IcebergTableInputProperties inside OpenTableFormatInput"), and the older shape (columns in
  ``TableInput.StorageDescriptor``, ``table_type=ICEBERG`` in its parameters) deploys once and is
  broken by its first update: Glue's ``UpdateTable`` replaces ``TableInput`` wholesale and drops
  ``table_type`` and ``metadata_location``, so Athena no longer sees an Iceberg table
  (cloudformation-coverage-roadmap issues 1919 and 2495; terraform-provider-aws 33370).
- What CloudFormation does on update: ``OpenTableFormatInput`` is neither create-only nor read back
  (the resource schema lists it under ``writeOnlyProperties``; only ``CatalogId``,
  ``DatabaseName`` and ``Name`` are ``createOnlyProperties``), the template reference says "Update
  requires: No interruption", and the update handler holds ``glue:UpdateTable``, ``s3:GetObject``
  and ``s3:PutObject``: it updates the table in place and writes a new ``metadata.json`` with the
  new schema (Glue's ``UpdateTable`` with ``UpdateOpenTableFormatInput``: ``add-schema``,
  ``set-current-schema``, ``add-spec``, ``set-properties``...). Adding a column is therefore an
  in-place update of the same logical id: no data file is rewritten. Because the property is
  write-only, drift detection cannot see a schema changed outside CloudFormation, and an update
  that sends the live schema unchanged must send it in Iceberg's canonical spelling (which
  ``iceberg_schema`` does) or Glue may read a phantom change.
- Evolution has a second path that needs no deployment order: the job evolves the table from the
  same definition (``ALTER TABLE ... ADD COLUMN``), and Iceberg gives an added column the id
  :mod:`~constructs_lib.catalog.iceberg_schema` computes for ``added_columns``. Whichever runs first
  adds the column; the other finds it there with the same id and changes nothing.

Renaming the table or moving it to another database replaces the resource (``make diff`` shows the
replacement); the removal policy then decides what happens to the old catalog entry. Deleting the
catalog entry never deletes the table's files (Glue's ``DeleteTable`` leaves S3 alone), but it loses
the pointer to the current ``metadata.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.catalog.iceberg_schema import (
    IcebergColumn,
    IcebergPartitionField,
    IcebergSortField,
    ResolvedSchema,
    _check_name,
    resolve,
)
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import instance, string_map, text
from constructs_lib.governance.lake_access import (
    KMS_READ_ACTIONS,
    KMS_WRITE_ACTIONS,
    check_prefix,
    glue_catalog_arns,
    grant_prefix_read,
    grant_prefix_write,
    key_statement,
)

OWNER = "IcebergTable"
#: What a reader needs in the catalog: the table (Iceberg's catalog reads its ``metadata_location``)
#: and its database.
GLUE_READ_ACTIONS = ("glue:GetDatabase", "glue:GetTable")
#: What a writer needs on top: an Iceberg commit on the Glue catalog is an ``UpdateTable`` that
#: swaps ``metadata_location``, conditioned on the version it read (optimistic concurrency).
GLUE_COMMIT_ACTIONS = ("glue:UpdateTable",)
#: Iceberg properties the construct sets itself or that Iceberg reserves.
_RESERVED_PROPERTIES = {
    "format-version": "set format_version instead (Iceberg keeps it out of the table's properties)",
    "comment": "set description instead",
}


class IcebergTable(Construct):
    """Attributes: ``table`` (``AWS::Glue::Table``), ``table_name``, ``database_name``, ``table_arn``,
    ``location`` (``s3://<bucket>/<prefix without the trailing slash>``), ``bucket``, ``prefix``,
    ``bucket_key``, ``format_version``, ``properties`` and ``schema`` (the resolved layout: field ids,
    and the schema, partition spec and sort order as Iceberg's metadata writes them)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        database_name: str,
        table_name: str,
        bucket: s3.IBucket,
        prefix: str,
        bucket_key: kms.IKey | None,
        columns: Sequence[IcebergColumn],
        added_columns: Sequence[IcebergColumn] = (),
        partition_by: Sequence[IcebergPartitionField] = (),
        sort_by: Sequence[IcebergSortField] = (),
        properties: Mapping[str, str] | None = None,
        description: str | None = None,
        format_version: int = 2,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        _check_name(OWNER, "database_name", database_name)
        _check_name(OWNER, "table_name", table_name)
        instance(OWNER, "bucket", bucket, s3.IBucket)
        check_prefix(text(OWNER, "prefix", prefix), owner=OWNER)
        if bucket_key is not None:
            instance(OWNER, "bucket_key", bucket_key, kms.IKey)
        declared = {} if properties is None else string_map(OWNER, "properties", properties)
        for key, why in _RESERVED_PROPERTIES.items():
            if key in declared:
                raise ValueError(f"{OWNER}: properties must not set {key!r}: {why}")
        if description is not None:
            text(OWNER, "description", description)
            declared["comment"] = description
        check_data_removal_policy(removal_policy, owner=OWNER)
        #: The layout, checked as a whole, with the field ids Iceberg will hold.
        self.schema: ResolvedSchema = resolve(
            OWNER, columns=columns, added_columns=added_columns, partition_by=partition_by, sort_by=sort_by,
            format_version=format_version,
        )
        self.database_name: str = database_name
        self.table_name: str = table_name
        self.bucket: s3.IBucket = bucket
        self.prefix: str = prefix
        self.bucket_key: kms.IKey | None = bucket_key
        self.format_version: int = format_version
        self.properties: dict[str, str] = declared
        # Iceberg appends /metadata and /data to the location: the table's files are all under
        # ``prefix``, and no other table's location may start with it (the optimizers of one table
        # would delete another's files: see IcebergTableMaintenance).
        self.location: str = f"s3://{bucket.bucket_name}/{prefix.rstrip('/')}"
        stack = cdk.Stack.of(self)
        self.table_arn: str = stack.format_arn(service="glue", resource="table", resource_name=f"{database_name}/{table_name}")

        self.table: glue.CfnTable = glue.CfnTable(
            self,
            "Table",
            catalog_id=stack.account,
            database_name=database_name,
            name=table_name,
            open_table_format_input=glue.CfnTable.OpenTableFormatInputProperty(
                iceberg_input=glue.CfnTable.IcebergInputProperty(
                    metadata_operation="CREATE",
                    version=str(format_version),
                    iceberg_table_input=glue.CfnTable.IcebergTableInputProperty(
                        location=self.location,
                        schema=glue.CfnTable.IcebergSchemaProperty(
                            type="struct",
                            # The id of the schema the table is created with; the update handler
                            # adds a schema with the next id when the fields change.
                            schema_id=0,
                            fields=[glue.CfnTable.IcebergStructFieldProperty(**f) for f in self.schema.cfn_fields()],
                        ),
                        partition_spec=self._partition_spec(),
                        write_order=self._write_order(),
                        properties=dict(sorted(declared.items())) or None,
                    ),
                )
            ),
        )
        self.table.apply_removal_policy(removal_policy)
        apply_data_removal_policy(
            self, removal_policy,
            what="the Glue catalog entry of the Iceberg table (its files stay in S3, without the catalog's pointer to "
            "the current metadata.json)",
        )

    def _partition_spec(self) -> glue.CfnTable.IcebergPartitionSpecProperty | None:
        spec = self.schema.partition_spec
        if not spec["fields"]:
            return None
        return glue.CfnTable.IcebergPartitionSpecProperty(
            spec_id=spec["spec-id"],
            fields=[
                glue.CfnTable.IcebergPartitionFieldProperty(
                    name=f["name"], source_id=f["source-id"], transform=f["transform"], field_id=f["field-id"]
                )
                for f in spec["fields"]
            ],
        )

    def _write_order(self) -> glue.CfnTable.IcebergSortOrderProperty | None:
        order = self.schema.sort_order
        if not order["fields"]:
            return None
        return glue.CfnTable.IcebergSortOrderProperty(
            order_id=order["order-id"],
            fields=[
                glue.CfnTable.IcebergSortFieldProperty(
                    source_id=f["source-id"], transform=f["transform"], direction=f["direction"], null_order=f["null-order"]
                )
                for f in order["fields"]
            ],
        )

    def _catalog_statement(self, actions: Sequence[str]) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            actions=list(actions),
            resources=glue_catalog_arns(cdk.Stack.of(self), self.database_name, self.table_name),
        )

    def grant_read(self, grantee: iam.IGrantable, *, catalog_key: kms.IKey | None = None) -> None:
        """Read the table: the table and its database in the catalog, the objects under ``prefix``
        (the bucket key through S3 only), and the catalog key through Glue when the catalog is
        encrypted. Lake Formation permissions, where Lake Formation governs, are granted apart."""
        self._grant(grantee, catalog_key, GLUE_READ_ACTIONS, write=False)

    def grant_write(self, grantee: iam.IGrantable, *, catalog_key: kms.IKey | None = None) -> None:
        """Commit to the table, as a Spark job with Iceberg's Glue catalog does: read as above, and
        ``glue:UpdateTable`` on the table (the commit), write and delete objects under ``prefix``
        (new data and metadata files; Spark removes what a failed task left), the key to encrypt."""
        self._grant(grantee, catalog_key, (*GLUE_READ_ACTIONS, *GLUE_COMMIT_ACTIONS), write=True)

    def _grant(self, grantee: iam.IGrantable, catalog_key: kms.IKey | None, actions: Sequence[str], *, write: bool) -> None:
        owner = f"{OWNER}.grant_{'write' if write else 'read'}"
        instance(owner, "grantee", grantee, iam.IGrantable)
        if catalog_key is not None:
            instance(owner, "catalog_key", catalog_key, kms.IKey)
        if write:
            grant_prefix_write(grantee, self.bucket, self.prefix, self.bucket_key, delete=True)
        else:
            grant_prefix_read(grantee, self.bucket, self.prefix, self.bucket_key)
        grantee.grant_principal.add_to_principal_policy(self._catalog_statement(actions))
        if catalog_key is not None:
            grantee.grant_principal.add_to_principal_policy(
                key_statement(catalog_key, KMS_WRITE_ACTIONS if write else KMS_READ_ACTIONS, via="glue")
            )
