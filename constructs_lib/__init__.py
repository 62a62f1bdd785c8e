"""Reusable CDK constructs for an AWS analytics platform.

The library knows nothing of the app that uses it: no environment names, no config files.
Every construct exposes the resources it creates as public attributes, accepts existing
resources where a team may already own one, and keeps its security settings fixed.
"""

from constructs_lib.alarm_topic import AlarmTopic
from constructs_lib.athena_workgroup import AthenaWorkgroup, NamedQuery
from constructs_lib.catalog_encryption import DataCatalogEncryption
from constructs_lib.data_lake_storage import DataLakeStorage, LakeLifecyclePolicy
from constructs_lib.data_network import DataNetwork
from constructs_lib.dead_letters import dead_letter_queue
from constructs_lib.emr_cluster import EMR_MANAGED_POLICY_TAG, EmrCapacity, EmrCluster, EmrKerberos
from constructs_lib.encryption import rotating_key
from constructs_lib.etl_workflow import EtlWorkflow
from constructs_lib.glue_security import GlueSecurity
from constructs_lib.iot_ingestion import IotTelemetryRule
from constructs_lib.lake_access import LakeLocation, grant_catalog_read, grant_prefix_read, grant_prefix_write
from constructs_lib.lake_crawler import LakeCrawler
from constructs_lib.lake_etl_job import LakeEtlJob
from constructs_lib.lake_formation import (
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
from constructs_lib.monitoring import allow_cloudwatch_logs, encrypted_log_group, notify
from constructs_lib.naming import ResourceNamer
from constructs_lib.raw_zone_delivery import RawZoneDelivery
from constructs_lib.redshift_sql import RedshiftSql
from constructs_lib.redshift_warehouse import PauseResumeSchedule, RedshiftWarehouse, SnapshotCopy
from constructs_lib.removal import DATA_DESTROYED_WARNING_ID, apply_data_removal_policy, check_data_removal_policy
from constructs_lib.search_delivery import StreamToSearchDelivery
from constructs_lib.search_domain import DEFAULT_ENGINE_VERSION, SearchCapacity, SearchDomain
from constructs_lib.search_security import SearchRole, SearchSecurityRoles
from constructs_lib.telemetry_stream import TelemetryStream

__version__ = "0.5.0"

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
    "EMR_MANAGED_POLICY_TAG",
    "EmrCapacity",
    "EmrCluster",
    "EmrKerberos",
    "EtlWorkflow",
    "GlueSecurity",
    "IamAllowedPrincipalsRevocation",
    "IotTelemetryRule",
    "LakeCrawler",
    "LakeDataCellsFilter",
    "LakeEtlJob",
    "LakeLifecyclePolicy",
    "LakeLocation",
    "LakePermissions",
    "LocationGrant",
    "NamedQuery",
    "PauseResumeSchedule",
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
