"""Kept for compatibility: ``constructs_lib.lake_formation``, documented before 0.7.0, moved to
``constructs_lib.governance.lake_formation`` (see CHANGELOG.md). The names it offered are importable from
here as before: the same objects.
"""

from constructs_lib.governance.lake_formation import (
    COLUMN_FILTER_PERMISSIONS as COLUMN_FILTER_PERMISSIONS,
    DATABASE_PERMISSIONS as DATABASE_PERMISSIONS,
    DATA_CELLS_FILTER_PERMISSIONS as DATA_CELLS_FILTER_PERMISSIONS,
    DataCellsFilterGrant as DataCellsFilterGrant,
    DataLakeSettings as DataLakeSettings,
    DatabaseGrant as DatabaseGrant,
    IAM_ALLOWED_PRINCIPALS as IAM_ALLOWED_PRINCIPALS,
    IamAllowedPrincipalsRevocation as IamAllowedPrincipalsRevocation,
    LOCATION_PERMISSIONS as LOCATION_PERMISSIONS,
    LakeDataCellsFilter as LakeDataCellsFilter,
    LakeGrant as LakeGrant,
    LakePermissions as LakePermissions,
    LocationGrant as LocationGrant,
    MAX_ROW_FILTER_CHARS as MAX_ROW_FILTER_CHARS,
    REGISTRATION_SERVICE_PRINCIPALS as REGISTRATION_SERVICE_PRINCIPALS,
    RegisteredLocations as RegisteredLocations,
    TABLE_PERMISSIONS as TABLE_PERMISSIONS,
    TableGrant as TableGrant,
    disable_iam_allowed_principals_for_new_tables as disable_iam_allowed_principals_for_new_tables,
    location_arn as location_arn,
    principal_permissions as principal_permissions,
)
