"""Least-privilege Lake Formation grants: a small typed model, data cells filters, and the
construct that turns (principal, grants) into ``AWS::LakeFormation::PrincipalPermissions``.

A grant names one Data Catalog resource and the Lake Formation permissions on it:

- ``DatabaseGrant(database, permissions)``: ALL, ALTER, CREATE_TABLE, DESCRIBE, DROP;
- ``TableGrant(database, table, permissions)``: ALL, ALTER, DELETE, DESCRIBE, DROP, INSERT, SELECT
  on one table, or on every table of the database (``table=None``, Lake Formation's table wildcard);
  with ``excluded_columns`` it is a column-level grant (TableWithColumns + ColumnWildcard), which
  Lake Formation allows for SELECT only;
- ``LocationGrant(location)``: DATA_LOCATION_ACCESS on a registered S3 location (needed to create or
  alter tables that point there);
- ``DataCellsFilterGrant(filter)``: SELECT (or DESCRIBE, DROP) on a data cells filter: row- and
  cell-level security.

These are the permissions per resource type of the Lake Formation permissions reference. No grant
option unless ``with_grant_option=True``: a grantee can then pass the permission on.

``LakePermissions(scope, id, principal_arn=..., grants=[...])`` creates one
``CfnPrincipalPermissions`` per grant, with ``Catalog`` = the stack's account. Construct ids are
derived from the grant (``Database:curated``, ``Table:curated.telemetry``, ``AllTables:curated``,
``Columns:curated.telemetry``, ``Location:<bucket path>/<prefix>``, ``DataCellsFilter:<filter path>``)
and not from a position, so adding or removing a grant never renames (replaces) the others. One
principal may hold one grant per resource (CloudFormation identifies a PrincipalPermissions by
principal and resource): two grants with the same key raise.

Ordering (Lake Formation): the deployment role must be a data lake admin (``DataLakeSettings``,
deployed before), a location must be registered before DATA_LOCATION_ACCESS is granted on it, and a
database, table or filter must exist before a grant on it: make the ``LakePermissions`` depend on
them (``grants.node.add_dependency(registered_locations, database)``). Filter grants depend on their
filter automatically.

Caution: every property of ``AWS::LakeFormation::PrincipalPermissions`` requires replacement, and
deleting one revokes its permissions. Changing the permissions of an existing grant therefore grants
the new set and then revokes the old one on the same principal and resource, which can take away a
permission that is in both sets. Change a grant's permissions in two deployments (remove, then add)
or check the result with ``aws lakeformation list-permissions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Union

import aws_cdk as cdk
from aws_cdk import aws_lakeformation as lakeformation
from constructs import Construct, IConstruct

from constructs_lib.common.validation import boolean, sequence
from constructs_lib.governance.lake_access import LakeLocation
from constructs_lib.governance.lake_formation_common import (
    check_name,
    check_names,
    check_principal_arn,
    construct_id_of,
    location_arn,
    location_label,
)

#: Lake Formation permissions per resource type (Lake Formation permissions reference).
DATABASE_PERMISSIONS = frozenset({"ALL", "ALTER", "CREATE_TABLE", "DESCRIBE", "DROP"})
TABLE_PERMISSIONS = frozenset({"ALL", "ALTER", "DELETE", "DESCRIBE", "DROP", "INSERT", "SELECT"})
COLUMN_FILTER_PERMISSIONS = frozenset({"SELECT"})
LOCATION_PERMISSIONS = frozenset({"DATA_LOCATION_ACCESS"})
DATA_CELLS_FILTER_PERMISSIONS = frozenset({"DESCRIBE", "DROP", "SELECT"})
#: A row filter expression must be shorter than this (PartiQL support in row filter expressions).
MAX_ROW_FILTER_CHARS = 2048
_ROW_FILTER_FORBIDDEN = {chr(c) for c in range(0x20)} - {"\t", "\n", "\r"}

_Cfn = lakeformation.CfnPrincipalPermissions


def _check_permissions(permissions: Sequence[str], allowed: frozenset[str], *, owner: str, what: str) -> tuple[str, ...]:
    if isinstance(permissions, str):
        raise ValueError(f"{owner}: permissions must be a sequence of permission names, not one string; got {permissions!r}")
    checked = tuple(sequence(owner, "permissions", permissions))
    for permission in checked:
        if not isinstance(permission, str):
            raise TypeError(f"{owner}: permissions must hold permission names (strings) only; got {permission!r} in {list(checked)!r}")
    if not checked:
        raise ValueError(f"{owner}: permissions must name at least one permission; got {checked!r}")
    unknown = sorted(p for p in set(checked) if p not in allowed)
    if unknown:
        raise ValueError(
            f"{owner}: Lake Formation allows {sorted(allowed)} on {what}; got {unknown!r}"
        )
    if len(set(checked)) != len(checked):
        raise ValueError(f"{owner}: permissions names each permission once; got {checked!r}")
    if "ALL" in checked and len(checked) > 1:
        raise ValueError(f"{owner}: ALL already includes every other permission; pass ALL alone; got {checked!r}")
    # Sorted, so that reordering the same permissions never changes (and replaces) the resource.
    return tuple(sorted(checked))


def _literal(value: str, *, owner: str, prop: str) -> str:
    return check_name(value, owner=owner, prop=prop, allow_token=False)


@dataclass(frozen=True)
class DatabaseGrant:
    """Permissions on one Glue database."""

    database: str
    permissions: Sequence[str]
    with_grant_option: bool = False

    def __post_init__(self) -> None:
        check_name(self.database, owner="DatabaseGrant", prop="database")
        boolean("DatabaseGrant", "with_grant_option", self.with_grant_option)
        object.__setattr__(
            self,
            "permissions",
            _check_permissions(self.permissions, DATABASE_PERMISSIONS, owner="DatabaseGrant", what="a database"),
        )

    @property
    def key(self) -> str:
        return f"Database:{_literal(self.database, owner='DatabaseGrant', prop='database')}"

    def resource(self, catalog_id: str) -> _Cfn.ResourceProperty:
        return _Cfn.ResourceProperty(database=_Cfn.DatabaseResourceProperty(catalog_id=catalog_id, name=self.database))

    def dependencies(self) -> list[IConstruct]:
        return []


@dataclass(frozen=True)
class TableGrant:
    """Permissions on one table (``table``) or on all tables of ``database`` (``table=None``).
    ``excluded_columns`` makes it a column-level grant: SELECT on every column but those."""

    database: str
    table: str | None
    permissions: Sequence[str]
    excluded_columns: Sequence[str] = ()
    with_grant_option: bool = False

    def __post_init__(self) -> None:
        owner = "TableGrant"
        check_name(self.database, owner=owner, prop="database")
        if self.table is not None:
            check_name(self.table, owner=owner, prop="table")
        columns = check_names(self.excluded_columns, owner=owner, prop="excluded_columns")
        object.__setattr__(self, "excluded_columns", columns)
        boolean(owner, "with_grant_option", self.with_grant_option)
        if columns and self.table is None:
            raise ValueError(
                f"{owner}: excluded_columns needs a named table (Lake Formation has no column filter on "
                f"all tables of a database); got table=None with excluded_columns={columns!r}"
            )
        allowed, what = (
            (COLUMN_FILTER_PERMISSIONS, "a table with a column filter") if columns else (TABLE_PERMISSIONS, "a table")
        )
        object.__setattr__(self, "permissions", _check_permissions(self.permissions, allowed, owner=owner, what=what))

    @property
    def key(self) -> str:
        database = _literal(self.database, owner="TableGrant", prop="database")
        if self.table is None:
            return f"AllTables:{database}"
        table = _literal(self.table, owner="TableGrant", prop="table")
        return f"{'Columns' if self.excluded_columns else 'Table'}:{database}.{table}"

    def resource(self, catalog_id: str) -> _Cfn.ResourceProperty:
        if self.excluded_columns:
            return _Cfn.ResourceProperty(
                table_with_columns=_Cfn.TableWithColumnsResourceProperty(
                    catalog_id=catalog_id,
                    database_name=self.database,
                    name=self.table,
                    column_wildcard=_Cfn.ColumnWildcardProperty(excluded_column_names=list(self.excluded_columns)),
                )
            )
        if self.table is None:
            table = _Cfn.TableResourceProperty(catalog_id=catalog_id, database_name=self.database, table_wildcard={})
        else:
            table = _Cfn.TableResourceProperty(catalog_id=catalog_id, database_name=self.database, name=self.table)
        return _Cfn.ResourceProperty(table=table)

    def dependencies(self) -> list[IConstruct]:
        return []


@dataclass(frozen=True)
class LocationGrant:
    """DATA_LOCATION_ACCESS on a registered location (``RegisteredLocations``): lets the grantee
    create or alter Data Catalog tables whose data lives under it."""

    location: LakeLocation
    with_grant_option: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.location, LakeLocation):
            raise ValueError(f"LocationGrant: location must be a LakeLocation; got {self.location!r}")
        boolean("LocationGrant", "with_grant_option", self.with_grant_option)

    @property
    def permissions(self) -> tuple[str, ...]:
        return ("DATA_LOCATION_ACCESS",)

    @property
    def key(self) -> str:
        return f"Location:{location_label(self.location)}"

    def resource(self, catalog_id: str) -> _Cfn.ResourceProperty:
        return _Cfn.ResourceProperty(
            data_location=_Cfn.DataLocationResourceProperty(catalog_id=catalog_id, resource_arn=location_arn(self.location))
        )

    def dependencies(self) -> list[IConstruct]:
        return []


def _check_row_filter(expression: str | None) -> str | None:
    if expression is None:
        return None
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError(
            "LakeDataCellsFilter: row_filter must be a non-empty PartiQL expression, or None for all rows; "
            f"got {expression!r}"
        )
    if len(expression) >= MAX_ROW_FILTER_CHARS:
        raise ValueError(
            f"LakeDataCellsFilter: row_filter must be shorter than {MAX_ROW_FILTER_CHARS} characters; "
            f"got {len(expression)} characters"
        )
    if _ROW_FILTER_FORBIDDEN & set(expression):
        raise ValueError(
            "LakeDataCellsFilter: row_filter must not contain control characters other than tab and line "
            f"breaks; got {expression!r}"
        )
    return expression


class LakeDataCellsFilter(Construct):
    """``AWS::LakeFormation::DataCellsFilter`` on one table: rows that match ``row_filter`` (a
    PartiQL predicate such as ``country = 'DE'``; ``None``: all rows) and every column except
    ``excluded_columns``. Grant it with ``DataCellsFilterGrant``.

    Checked offline: the filter name (1 to 255 bytes, one line), the expression (not empty, shorter
    than 2048 characters, no control characters), excluded columns (named once each). Whether the
    expression's columns and types fit the table is checked by Lake Formation at deploy time.

    Attributes: ``filter`` (``CfnDataCellsFilter``), ``name``, ``database_name``, ``table_name``,
    ``row_filter``, ``excluded_columns``. Every property change replaces the filter.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        database_name: str,
        table_name: str,
        name: str,
        row_filter: str | None = None,
        excluded_columns: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        owner = "LakeDataCellsFilter"
        self.database_name: str = check_name(database_name, owner=owner, prop="database_name")
        self.table_name: str = check_name(table_name, owner=owner, prop="table_name")
        self.name: str = check_name(name, owner=owner, prop="name", allow_token=False)
        self.row_filter: str | None = _check_row_filter(row_filter)
        self.excluded_columns: tuple[str, ...] = check_names(excluded_columns, owner=owner, prop="excluded_columns")
        rows = (
            lakeformation.CfnDataCellsFilter.RowFilterProperty(all_rows_wildcard={})
            if self.row_filter is None
            else lakeformation.CfnDataCellsFilter.RowFilterProperty(filter_expression=self.row_filter)
        )
        self.filter: lakeformation.CfnDataCellsFilter = lakeformation.CfnDataCellsFilter(
            self,
            "Resource",
            table_catalog_id=cdk.Stack.of(self).account,
            database_name=self.database_name,
            table_name=self.table_name,
            name=self.name,
            row_filter=rows,
            column_wildcard=lakeformation.CfnDataCellsFilter.ColumnWildcardProperty(
                excluded_column_names=list(self.excluded_columns)
            ),
        )


@dataclass(frozen=True)
class DataCellsFilterGrant:
    """Permissions (default SELECT) on a data cells filter: the grantee reads only the filter's rows
    and columns of its table."""

    filter: LakeDataCellsFilter
    permissions: Sequence[str] = ("SELECT",)
    with_grant_option: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.filter, LakeDataCellsFilter):
            raise ValueError(f"DataCellsFilterGrant: filter must be a LakeDataCellsFilter; got {self.filter!r}")
        boolean("DataCellsFilterGrant", "with_grant_option", self.with_grant_option)
        object.__setattr__(
            self,
            "permissions",
            _check_permissions(
                self.permissions, DATA_CELLS_FILTER_PERMISSIONS, owner="DataCellsFilterGrant", what="a data cells filter"
            ),
        )

    @property
    def key(self) -> str:
        return f"DataCellsFilter:{self.filter.node.path}"

    def resource(self, catalog_id: str) -> _Cfn.ResourceProperty:
        return _Cfn.ResourceProperty(
            data_cells_filter=_Cfn.DataCellsFilterResourceProperty(
                table_catalog_id=catalog_id,
                database_name=self.filter.database_name,
                table_name=self.filter.table_name,
                name=self.filter.name,
            )
        )

    def dependencies(self) -> list[IConstruct]:
        return [self.filter]


LakeGrant = Union[DatabaseGrant, TableGrant, LocationGrant, DataCellsFilterGrant]
_GRANT_TYPES = (DatabaseGrant, TableGrant, LocationGrant, DataCellsFilterGrant)


def principal_permissions(scope: Construct, construct_id: str, principal_arn: str, grant: LakeGrant) -> _Cfn:
    """One ``CfnPrincipalPermissions``: ``grant`` to ``principal_arn`` in the stack's account catalog."""
    account = cdk.Stack.of(scope).account
    permissions = list(grant.permissions)
    resource = _Cfn(
        scope,
        construct_id,
        catalog=account,
        principal=_Cfn.DataLakePrincipalProperty(data_lake_principal_identifier=principal_arn),
        resource=grant.resource(account),
        permissions=permissions,
        permissions_with_grant_option=permissions if grant.with_grant_option else [],
    )
    for dependency in grant.dependencies():
        resource.node.add_dependency(dependency)
    return resource


class LakePermissions(Construct):
    """The Lake Formation grants of one principal (an IAM role or user ARN): one
    ``CfnPrincipalPermissions`` per grant, with construct ids derived from the grants.

    Attributes: ``permissions`` (``dict``: grant key -> ``CfnPrincipalPermissions``), ``principal_arn``,
    ``grants``. Make other resources wait for all grants with ``x.node.add_dependency(this)``, and
    the grants wait for the settings, registrations, databases and tables with
    ``this.node.add_dependency(...)``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        principal_arn: str,
        grants: Sequence[LakeGrant],
    ) -> None:
        super().__init__(scope, construct_id)
        owner = "LakePermissions"
        self.principal_arn: str = check_principal_arn(principal_arn, owner=owner, prop="principal_arn")
        if isinstance(grants, (str, bytes)) or not grants:
            raise ValueError(f"{owner}: grants must hold at least one grant; got {grants!r}")
        self.grants: tuple[LakeGrant, ...] = tuple(sequence(owner, "grants", grants))
        for grant in self.grants:
            if not isinstance(grant, _GRANT_TYPES):
                raise ValueError(
                    f"{owner}: every grant must be a DatabaseGrant, TableGrant, LocationGrant or DataCellsFilterGrant; "
                    f"got {grant!r}"
                )
        keys = [grant.key for grant in self.grants]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(
                f"{owner}: one principal holds one grant per resource; merge the permissions of {duplicates!r}"
            )
        self.permissions: dict[str, _Cfn] = {
            key: principal_permissions(self, construct_id_of(key), self.principal_arn, grant)
            for key, grant in zip(keys, self.grants)
        }

    @property
    def resources(self) -> list[_Cfn]:
        return list(self.permissions.values())
