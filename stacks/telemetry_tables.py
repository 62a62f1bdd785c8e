"""The curated zone's Iceberg tables and saved queries, as the CDK side declares them.

The tables themselves (columns with their Iceberg field ids, partition spec, sort order, table
properties), the saved queries' SQL and the Glue job's Iceberg settings are defined once, as plain
data, in glue_scripts/curated_table.py: the Glue job creates, checks and evolves the tables from the
same definitions, and Glue ships that file beside the job. The stacks import it here and turn it into
the library's types. Why import and not copy: a copy held equal by a test is two places to edit and
a test to keep; the module is plain data without pyspark or aws_cdk (tests/test_architecture.py
holds stacks to importing that one module of glue_scripts, and glue_scripts to importing no part of
the app), so the dependency still points one way.

Where the tables live: each under its own prefix of the curated zone's ``telemetry/`` (the Lake
Formation registered location, and what Spectrum and EMR may read), in ``telemetry/iceberg/``:

- not ``telemetry/`` itself, where an environment created before issue 19 keeps its Parquet files
  (``telemetry/event_date=.../``) until the one-time migration has copied them: orphan file deletion
  would remove every file under a table's location that no snapshot references, those included, and
  a Spark read of the old folder would pick up the tables' files;
- one folder per table, neither folder's location a string prefix of the other's (``readings`` and
  ``quarantine``, not ``telemetry`` and ``telemetry_quarantine``): Glue's optimizers must not run on
  tables that share a location, and a listing by prefix would otherwise see the other table's files.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import IcebergColumn, IcebergPartitionField, IcebergSortField, IcebergTable, NamedQuery
from glue_scripts.curated_table import QUARANTINE_TABLE_NAME, SAVED_QUERIES, TABLE_NAME, MapType, TableDefinition

#: What the job reads (raw bucket), and the curated zone's prefix: the registered Lake Formation
#: location, what Spectrum and EMR may read, and where an environment's old Parquet table lies.
RAW_PREFIX = "telemetry/"
CURATED_PREFIX = "telemetry/"
#: The Iceberg tables' parent folder in the curated bucket: the Spark catalogs' warehouse.
WAREHOUSE_PREFIX = f"{CURATED_PREFIX}iceberg/"
#: Each table's own folder (its location; Iceberg writes data/ and metadata/ under it).
TABLE_PREFIXES = {
    TABLE_NAME: f"{WAREHOUSE_PREFIX}readings/",
    QUARANTINE_TABLE_NAME: f"{WAREHOUSE_PREFIX}quarantine/",
}


def _type(column_type: str | MapType) -> str:
    """curated_table's type -> the Iceberg type string IcebergColumn parses."""
    if isinstance(column_type, MapType):
        return f"map<{column_type.key},{column_type.value}>"
    return column_type


def iceberg_columns(definition: TableDefinition) -> tuple[list[IcebergColumn], list[IcebergColumn]]:
    """(columns the table was created with, columns added since, in the order they were added).

    A table is created with top-level field ids 1..N; a column added later takes an id above every id
    assigned before it, nested ones included (14 onwards for the curated table). So the creation
    columns are the leading run whose ids are 1, 2, ..., and the rest are additions; IcebergTable
    assigns the ids again the way Iceberg does, and tests/unit/stacks/test_catalog_stack.py holds
    them equal to the definition's."""
    created = 0
    while created < len(definition.columns) and definition.columns[created].field_id == created + 1:
        created += 1
    columns = [IcebergColumn(c.name, _type(c.type), doc=c.doc) for c in definition.columns]
    return columns[:created], columns[created:]


def iceberg_table(
    scope: Construct,
    construct_id: str,
    definition: TableDefinition,
    *,
    database_name: str,
    bucket: s3.IBucket,
    bucket_key: kms.IKey,
    removal_policy: cdk.RemovalPolicy,
) -> IcebergTable:
    """``definition`` as an ``AWS::Glue::Table`` in ``database_name``, under its own prefix."""
    columns, added = iceberg_columns(definition)
    return IcebergTable(
        scope, construct_id,
        database_name=database_name,
        table_name=definition.name,
        bucket=bucket,
        prefix=TABLE_PREFIXES[definition.name],
        bucket_key=bucket_key,
        columns=columns,
        added_columns=added,
        partition_by=[IcebergPartitionField(definition.partition_source, "day")],
        sort_by=[IcebergSortField(name) for name in definition.sort_columns],
        # Not table_properties(): that adds format-version, which Iceberg keeps out of the properties
        # (IcebergTable sets it as the format version instead).
        properties=dict(definition.properties),
        description=definition.description,
        removal_policy=removal_policy,
    )


def named_queries(database: str) -> list[NamedQuery]:
    """The saved queries of curated_table.SAVED_QUERIES over ``database``'s curated table, as Athena
    keeps them (tests/trino/ runs the synthesised ones on Trino against a ground truth)."""
    return [
        NamedQuery(name=query.name, description=query.description, database=database, sql=query.render(database))
        for query in SAVED_QUERIES.values()
    ]
