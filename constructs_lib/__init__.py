"""Reusable CDK constructs for an AWS analytics platform.

The library knows nothing of the app that uses it: no environment names, no config files.
Every construct exposes the resources it creates as public attributes, accepts existing
resources where a team may already own one, and keeps its security settings fixed.

The modules are grouped by domain (``storage``, ``ingestion``, ``catalog``, ``network``,
``warehouse``, ``emr``, ``search``, ``governance``, ``streaming``, and ``common`` for what they
all use; README, "Layout"); every public name is importable from here, whichever module defines it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The constructs are imported when first used (PEP 562), so that ``import constructs_lib`` does not
# load every aws-cdk-lib module, nor the IoT and Redshift alpha modules, for a team that uses
# neither. ``from constructs_lib import X`` and ``constructs_lib.X`` work as with eager imports;
# type checkers read the imports below.
if TYPE_CHECKING:
    from constructs_lib.catalog.athena_workgroup import AthenaWorkgroup, NamedQuery
    from constructs_lib.catalog.catalog_encryption import DataCatalogEncryption
    from constructs_lib.catalog.etl_workflow import EtlWorkflow
    from constructs_lib.catalog.glue_security import GlueSecurity
    from constructs_lib.catalog.iceberg_schema import IcebergColumn, IcebergPartitionField, IcebergSortField
    from constructs_lib.catalog.iceberg_table import IcebergTable
    from constructs_lib.catalog.lake_crawler import LakeCrawler
    from constructs_lib.catalog.lake_etl_job import LakeEtlJob
    from constructs_lib.catalog.table_maintenance import (
        ExistingIcebergTable,
        IcebergCompaction,
        IcebergOrphanFileDeletion,
        IcebergSnapshotRetention,
        IcebergTableMaintenance,
    )
    from constructs_lib.common.alarm_topic import AlarmTopic
    from constructs_lib.common.dead_letters import dead_letter_queue
    from constructs_lib.common.encryption import rotating_key
    from constructs_lib.common.monitoring import allow_cloudwatch_logs, encrypted_log_group, notify
    from constructs_lib.common.naming import ResourceNamer
    from constructs_lib.common.removal import DATA_DESTROYED_WARNING_ID, apply_data_removal_policy, check_data_removal_policy
    from constructs_lib.emr.emr_cluster import EMR_MANAGED_POLICY_TAG, EmrCapacity, EmrCluster, EmrIceberg, EmrKerberos
    from constructs_lib.governance.lake_access import LakeLocation, grant_catalog_read, grant_prefix_read, grant_prefix_write
    from constructs_lib.governance.lake_formation import (
        DatabaseGrant,
        DataCellsFilterGrant,
        DataLakeSettings,
        IamAllowedPrincipalsRevocation,
        LakeDataCellsFilter,
        LakePermissions,
        LocationGrant,
        RegisteredLocations,
        TableGrant,
        disable_iam_allowed_principals_for_new_tables,
    )
    from constructs_lib.ingestion.iot_ingestion import IotTelemetryRule
    from constructs_lib.ingestion.raw_zone_delivery import RawZoneDelivery
    from constructs_lib.ingestion.telemetry_stream import TelemetryStream
    from constructs_lib.network.data_network import DataNetwork, DeployTimeAvailabilityZones
    from constructs_lib.search.search_delivery import StreamToSearchDelivery
    from constructs_lib.search.search_domain import DEFAULT_ENGINE_VERSION, SearchCapacity, SearchDomain
    from constructs_lib.search.search_security import SearchRole, SearchSecurityRoles
    from constructs_lib.storage.data_lake_storage import DataLakeStorage, LakeLifecyclePolicy
    from constructs_lib.streaming.flink_application import FLINK_RUNTIMES, PyFlinkApplication
    from constructs_lib.streaming.json_lines_delivery import JsonLinesDelivery
    from constructs_lib.streaming.stream_consumer import EnhancedFanOutConsumer
    from constructs_lib.warehouse.redshift_sql import RedshiftSql
    from constructs_lib.warehouse.redshift_warehouse import PauseResumeSchedule, RedshiftWarehouse, SnapshotCopy

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "AlarmTopic": "constructs_lib.common.alarm_topic",
    "AthenaWorkgroup": "constructs_lib.catalog.athena_workgroup",
    "DATA_DESTROYED_WARNING_ID": "constructs_lib.common.removal",
    "DEFAULT_ENGINE_VERSION": "constructs_lib.search.search_domain",
    "DataCatalogEncryption": "constructs_lib.catalog.catalog_encryption",
    "DataCellsFilterGrant": "constructs_lib.governance.lake_formation",
    "DataLakeSettings": "constructs_lib.governance.lake_formation",
    "DataLakeStorage": "constructs_lib.storage.data_lake_storage",
    "DataNetwork": "constructs_lib.network.data_network",
    "DatabaseGrant": "constructs_lib.governance.lake_formation",
    "DeployTimeAvailabilityZones": "constructs_lib.network.data_network",
    "EMR_MANAGED_POLICY_TAG": "constructs_lib.emr.emr_cluster",
    "EmrCapacity": "constructs_lib.emr.emr_cluster",
    "EmrCluster": "constructs_lib.emr.emr_cluster",
    "EmrIceberg": "constructs_lib.emr.emr_cluster",
    "EmrKerberos": "constructs_lib.emr.emr_cluster",
    "EnhancedFanOutConsumer": "constructs_lib.streaming.stream_consumer",
    "EtlWorkflow": "constructs_lib.catalog.etl_workflow",
    "ExistingIcebergTable": "constructs_lib.catalog.table_maintenance",
    "FLINK_RUNTIMES": "constructs_lib.streaming.flink_application",
    "GlueSecurity": "constructs_lib.catalog.glue_security",
    "IamAllowedPrincipalsRevocation": "constructs_lib.governance.lake_formation",
    "IcebergColumn": "constructs_lib.catalog.iceberg_schema",
    "IcebergCompaction": "constructs_lib.catalog.table_maintenance",
    "IcebergOrphanFileDeletion": "constructs_lib.catalog.table_maintenance",
    "IcebergPartitionField": "constructs_lib.catalog.iceberg_schema",
    "IcebergSnapshotRetention": "constructs_lib.catalog.table_maintenance",
    "IcebergSortField": "constructs_lib.catalog.iceberg_schema",
    "IcebergTable": "constructs_lib.catalog.iceberg_table",
    "IcebergTableMaintenance": "constructs_lib.catalog.table_maintenance",
    "IotTelemetryRule": "constructs_lib.ingestion.iot_ingestion",
    "JsonLinesDelivery": "constructs_lib.streaming.json_lines_delivery",
    "LakeCrawler": "constructs_lib.catalog.lake_crawler",
    "LakeDataCellsFilter": "constructs_lib.governance.lake_formation",
    "LakeEtlJob": "constructs_lib.catalog.lake_etl_job",
    "LakeLifecyclePolicy": "constructs_lib.storage.data_lake_storage",
    "LakeLocation": "constructs_lib.governance.lake_access",
    "LakePermissions": "constructs_lib.governance.lake_formation",
    "LocationGrant": "constructs_lib.governance.lake_formation",
    "NamedQuery": "constructs_lib.catalog.athena_workgroup",
    "PauseResumeSchedule": "constructs_lib.warehouse.redshift_warehouse",
    "PyFlinkApplication": "constructs_lib.streaming.flink_application",
    "RawZoneDelivery": "constructs_lib.ingestion.raw_zone_delivery",
    "RedshiftSql": "constructs_lib.warehouse.redshift_sql",
    "RedshiftWarehouse": "constructs_lib.warehouse.redshift_warehouse",
    "RegisteredLocations": "constructs_lib.governance.lake_formation",
    "ResourceNamer": "constructs_lib.common.naming",
    "SearchCapacity": "constructs_lib.search.search_domain",
    "SearchDomain": "constructs_lib.search.search_domain",
    "SearchRole": "constructs_lib.search.search_security",
    "SearchSecurityRoles": "constructs_lib.search.search_security",
    "SnapshotCopy": "constructs_lib.warehouse.redshift_warehouse",
    "StreamToSearchDelivery": "constructs_lib.search.search_delivery",
    "TableGrant": "constructs_lib.governance.lake_formation",
    "TelemetryStream": "constructs_lib.ingestion.telemetry_stream",
    "allow_cloudwatch_logs": "constructs_lib.common.monitoring",
    "apply_data_removal_policy": "constructs_lib.common.removal",
    "check_data_removal_policy": "constructs_lib.common.removal",
    "dead_letter_queue": "constructs_lib.common.dead_letters",
    "disable_iam_allowed_principals_for_new_tables": "constructs_lib.governance.lake_formation",
    "encrypted_log_group": "constructs_lib.common.monitoring",
    "grant_catalog_read": "constructs_lib.governance.lake_access",
    "grant_prefix_read": "constructs_lib.governance.lake_access",
    "grant_prefix_write": "constructs_lib.governance.lake_access",
    "notify": "constructs_lib.common.monitoring",
    "rotating_key": "constructs_lib.common.encryption",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__version__ = "0.7.0"

__all__ = [
    "AlarmTopic",
    "AthenaWorkgroup",
    "DATA_DESTROYED_WARNING_ID",
    "DEFAULT_ENGINE_VERSION",
    "DataCatalogEncryption",
    "DataCellsFilterGrant",
    "DataLakeSettings",
    "DataLakeStorage",
    "DataNetwork",
    "DatabaseGrant",
    "DeployTimeAvailabilityZones",
    "EMR_MANAGED_POLICY_TAG",
    "EmrCapacity",
    "EmrCluster",
    "EmrIceberg",
    "EmrKerberos",
    "EnhancedFanOutConsumer",
    "EtlWorkflow",
    "ExistingIcebergTable",
    "FLINK_RUNTIMES",
    "GlueSecurity",
    "IamAllowedPrincipalsRevocation",
    "IcebergColumn",
    "IcebergCompaction",
    "IcebergOrphanFileDeletion",
    "IcebergPartitionField",
    "IcebergSnapshotRetention",
    "IcebergSortField",
    "IcebergTable",
    "IcebergTableMaintenance",
    "IotTelemetryRule",
    "JsonLinesDelivery",
    "LakeCrawler",
    "LakeDataCellsFilter",
    "LakeEtlJob",
    "LakeLifecyclePolicy",
    "LakeLocation",
    "LakePermissions",
    "LocationGrant",
    "NamedQuery",
    "PauseResumeSchedule",
    "PyFlinkApplication",
    "RawZoneDelivery",
    "RedshiftSql",
    "RedshiftWarehouse",
    "RegisteredLocations",
    "ResourceNamer",
    "SearchCapacity",
    "SearchDomain",
    "SearchRole",
    "SearchSecurityRoles",
    "SnapshotCopy",
    "StreamToSearchDelivery",
    "TableGrant",
    "TelemetryStream",
    "__version__",
    "allow_cloudwatch_logs",
    "apply_data_removal_policy",
    "check_data_removal_policy",
    "dead_letter_queue",
    "disable_iam_allowed_principals_for_new_tables",
    "encrypted_log_group",
    "grant_catalog_read",
    "grant_prefix_read",
    "grant_prefix_write",
    "notify",
    "rotating_key",
]
