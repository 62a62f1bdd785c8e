"""Kept for compatibility: ``constructs_lib.lake_access``, documented before 0.7.0, moved to
``constructs_lib.governance.lake_access`` (see CHANGELOG.md). The names it offered are importable from
here as before: the same objects.
"""

from constructs_lib.governance.lake_access import (
    GLUE_TABLE_READ_ACTIONS as GLUE_TABLE_READ_ACTIONS,
    KMS_READ_ACTIONS as KMS_READ_ACTIONS,
    KMS_WRITE_ACTIONS as KMS_WRITE_ACTIONS,
    LakeLocation as LakeLocation,
    check_prefix as check_prefix,
    glue_catalog_arns as glue_catalog_arns,
    grant_catalog_read as grant_catalog_read,
    grant_prefix_read as grant_prefix_read,
    grant_prefix_write as grant_prefix_write,
    key_statement as key_statement,
)
