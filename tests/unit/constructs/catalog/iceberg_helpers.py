"""The Iceberg table the catalog construct tests share: three columns (one a map), a day partition,
a sort order, properties and a description, over an encrypted bucket of its stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from constructs_lib import IcebergColumn, IcebergPartitionField, IcebergSortField, IcebergTable
from tests.unit.constructs.stack_helpers import stack

COLUMNS = [
    IcebergColumn("device_id", "string", doc="Device id"),
    IcebergColumn("event_time", "timestamptz"),
    IcebergColumn("metrics", "map<string,double>"),
]


def table(scope: cdk.Stack | None = None, construct_id: str = "Telemetry", **overrides) -> IcebergTable:
    scope = scope or stack()
    key = scope.node.try_find_child("LakeKey") or kms.Key(scope, "LakeKey")
    bucket = scope.node.try_find_child("Lake") or s3.Bucket(scope, "Lake", encryption_key=key)
    props = {
        "database_name": "team_dev_curated", "table_name": "telemetry", "bucket": bucket, "prefix": "curated/telemetry/",
        "bucket_key": key, "columns": COLUMNS,
        "partition_by": [IcebergPartitionField("event_time", "day")],
        "sort_by": [IcebergSortField("device_id"), IcebergSortField("event_time")],
        "properties": {"write.parquet.compression-codec": "snappy", "write.format.default": "parquet"},
        "description": "Device readings",
        **overrides,
    }
    return IcebergTable(scope, construct_id, **props)
