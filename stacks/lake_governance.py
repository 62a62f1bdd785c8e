"""Turning the grant rows of ``stacks.lake_permissions`` into Lake Formation resources.

The rows say who may do what; this module knows which construct each row becomes and which
resources a grant must wait for (settings in the baseline -> registered locations -> databases and
tables -> grants). Stacks call ``grant_persona`` for the principals they own, so each grant lives
next to its principal, and the catalog stack calls ``persona_role`` for the analyst personas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lakeformation as lakeformation
from constructs import Construct, IConstruct

from config.model import GovernanceConfig
from constructs_lib import (
    AthenaWorkgroup,
    DataCellsFilterGrant,
    DatabaseGrant,
    LakeDataCellsFilter,
    LakeLocation,
    LakePermissions,
    LocationGrant,
    ResourceNamer,
    TableGrant,
    grant_catalog_read,
)
from constructs_lib.lake_formation import LakeGrant
from stacks.lake_permissions import GrantRow, lake_grants, names_for, persona_rows

#: What an analyst's own IAM policy needs to read Lake Formation governed tables through Athena:
#: Lake Formation vends the S3 credentials (the data key is used by the registration role).
GET_DATA_ACCESS = "lakeformation:GetDataAccess"


def environment_lake_grants(
    namer: ResourceNamer, governance: GovernanceConfig, *, migration_job: bool = False
) -> list[GrantRow]:
    """Every Lake Formation grant of an environment (the README's table of it is made from the same call);
    ``migration_job``: the catalog's ``migrate_from_parquet``, which adds the one-time job's grants."""
    return lake_grants(
        names_for(namer),
        sensitive_columns=governance.sensitive_columns,
        row_filter=governance.restricted_analyst.row_filter,
        hybrid_access=governance.hybrid_access,
        migration_job=migration_job,
    )


def lake_grant(
    row: GrantRow,
    *,
    locations: Mapping[str, LakeLocation] | None = None,
    filters: Mapping[str, LakeDataCellsFilter] | None = None,
) -> LakeGrant:
    """The library grant for ``row``; location rows need the zone's ``LakeLocation``, filter rows
    the ``LakeDataCellsFilter`` they name."""
    if row.kind == "database":
        return DatabaseGrant(row.database, row.permissions, with_grant_option=row.grantable)
    if row.kind == "all-tables":
        return TableGrant(row.database, None, row.permissions, with_grant_option=row.grantable)
    if row.kind == "table":
        return TableGrant(row.database, row.target, row.permissions, with_grant_option=row.grantable)
    if row.kind == "columns":
        return TableGrant(row.database, row.target, row.permissions, excluded_columns=row.excluded_columns)
    if row.kind == "location":
        return LocationGrant((locations or {})[row.target])
    if row.kind == "filter":
        return DataCellsFilterGrant((filters or {})[row.target], row.permissions)
    raise ValueError(f"unknown grant kind {row.kind!r} in {row!r}")


def grant_persona(
    scope: Construct,
    construct_id: str,
    *,
    persona: str,
    principal_arn: str,
    grants: Sequence[GrantRow],
    after: Sequence[IConstruct] = (),
    locations: Mapping[str, LakeLocation] | None = None,
    filters: Mapping[str, LakeDataCellsFilter] | None = None,
) -> LakePermissions | None:
    """The Lake Formation grants of ``persona`` (its rows in ``grants``), created after ``after``
    (the registrations, databases and tables they name). ``None`` when the persona has no rows."""
    rows = persona_rows(grants, persona)
    if not rows:
        return None
    permissions = LakePermissions(
        scope,
        construct_id,
        principal_arn=principal_arn,
        grants=[lake_grant(row, locations=locations, filters=filters) for row in rows],
    )
    if after:
        permissions.node.add_dependency(*after)
    return permissions


def persona_role(
    scope: Construct,
    construct_id: str,
    *,
    role_name: str,
    imported_arn: str | None,
    description: str,
    workgroup: AthenaWorkgroup,
    database_names: Sequence[str],
    catalog_key: kms.IKey | None,
) -> iam.IRole:
    """An analyst persona's role: imported by ARN (used as it is: its IAM policies are its owner's),
    or created as ``role_name``, assumable by the account's administrators (who hand it out through
    their identity provider), with what querying governed tables in ``workgroup`` needs on the IAM
    side: the workgroup and its results, read-only catalog entries of ``database_names`` and Lake
    Formation's credential vending. Which rows and columns it reads is Lake Formation's decision."""
    if imported_arn is not None:
        return iam.Role.from_role_arn(scope, construct_id, imported_arn, mutable=False)
    role = iam.Role(
        scope,
        construct_id,
        role_name=role_name,
        assumed_by=iam.AccountRootPrincipal(),
        description=description,
    )
    workgroup.grant_query(role)
    grant_catalog_read(role, database_names, catalog_key)
    role.add_to_principal_policy(iam.PolicyStatement(actions=[GET_DATA_ACCESS], resources=["*"]))
    return role


def serialize_lake_grants(scope: Construct) -> list[lakeformation.CfnPrincipalPermissions]:
    """Make CloudFormation create (and delete) the grants under ``scope`` one after another, in
    construct order. Lake Formation answers concurrent grant requests on one catalog with
    ConcurrentModificationException, which fails a deployment that creates many grants in parallel."""
    grants = [c for c in scope.node.find_all() if isinstance(c, lakeformation.CfnPrincipalPermissions)]
    for previous, grant in zip(grants, grants[1:]):
        grant.node.add_dependency(previous)
    return grants

