"""Reusable CDK constructs for an AWS analytics platform.

The library knows nothing of the app that uses it: no environment names, no config files.
Every construct exposes the resources it creates as public attributes, accepts existing
resources where a team may already own one, and keeps its security settings fixed.
"""

from constructs_lib.alarm_topic import AlarmTopic
from constructs_lib.catalog_encryption import DataCatalogEncryption
from constructs_lib.data_lake_storage import DataLakeStorage, LakeLifecyclePolicy
from constructs_lib.encryption import rotating_key
from constructs_lib.naming import ResourceNamer
from constructs_lib.removal import DATA_DESTROYED_WARNING_ID, apply_data_removal_policy

__version__ = "0.1.0"

__all__ = [
    "DATA_DESTROYED_WARNING_ID",
    "AlarmTopic",
    "DataCatalogEncryption",
    "DataLakeStorage",
    "LakeLifecyclePolicy",
    "ResourceNamer",
    "__version__",
    "apply_data_removal_policy",
    "rotating_key",
]
