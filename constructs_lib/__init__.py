"""Reusable CDK constructs for an AWS analytics platform.

The library knows nothing of the app that uses it: no environment names, no config files.
Every construct exposes the resources it creates as public attributes, accepts existing
resources where a team may already own one, and keeps its security settings fixed.
"""

from constructs_lib.alarm_topic import AlarmTopic
from constructs_lib.catalog_encryption import DataCatalogEncryption
from constructs_lib.data_lake_storage import DataLakeStorage, LakeLifecyclePolicy
from constructs_lib.encryption import rotating_key
from constructs_lib.iot_ingestion import IotTelemetryRule
from constructs_lib.monitoring import allow_cloudwatch_logs, encrypted_log_group, notify
from constructs_lib.naming import ResourceNamer
from constructs_lib.raw_zone_delivery import RawZoneDelivery
from constructs_lib.removal import DATA_DESTROYED_WARNING_ID, apply_data_removal_policy
from constructs_lib.telemetry_stream import TelemetryStream

__version__ = "0.2.0"

__all__ = [
    "DATA_DESTROYED_WARNING_ID",
    "AlarmTopic",
    "DataCatalogEncryption",
    "DataLakeStorage",
    "IotTelemetryRule",
    "LakeLifecyclePolicy",
    "RawZoneDelivery",
    "ResourceNamer",
    "TelemetryStream",
    "__version__",
    "allow_cloudwatch_logs",
    "encrypted_log_group",
    "notify",
    "apply_data_removal_policy",
    "rotating_key",
]
