"""Lake Formation grants (database, table, all tables, columns, location, data cells filter) as
CfnPrincipalPermissions with ids derived from the grants, and LakeDataCellsFilter."""

from __future__ import annotations

import re
from dataclasses import dataclass

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib.governance.lake_access import LakeLocation
from constructs_lib.governance.lake_formation import (
    DatabaseGrant,
    DataCellsFilterGrant,
    LakeDataCellsFilter,
    LakePermissions,
    LocationGrant,
    TableGrant,
)
from tests.unit.constructs.stack_helpers import stack
from tests.unit.constructs.template_helpers import arn_of, logical_id

ACCOUNT = "111122223333"
ANALYST = "arn:aws:iam::111122223333:role/analyst"
DB = "team_dev_curated"


@dataclass
class Built:
    scope: cdk.Stack
    bucket: s3.Bucket
    eu_only: LakeDataCellsFilter
    all_rows: LakeDataCellsFilter
    analyst: LakePermissions
    engineer: LakePermissions
    engineer_role: iam.Role
    resources: dict

    def props(self, construct) -> dict:
        return self.resources[logical_id(construct)]["Properties"]

    def resource(self, construct) -> dict:
        return self.resources[logical_id(construct)]


@pytest.fixture(scope="module")
def built() -> Built:
    scope = stack()
    bucket = s3.Bucket(scope, "Curated")
    eu_only = LakeDataCellsFilter(
        scope, "EuOnly", database_name=DB, table_name="telemetry", name="eu_only",
        row_filter="region = 'eu' AND (year > 2024)", excluded_columns=["device_owner", "ip_address"],
    )
    all_rows = LakeDataCellsFilter(scope, "AllRows", database_name=DB, table_name="telemetry", name="all_rows")
    analyst = LakePermissions(
        scope,
        "Analyst",
        principal_arn=ANALYST,
        grants=[
            DatabaseGrant(DB, ["DESCRIBE"]),
            TableGrant(DB, None, ["SELECT", "DESCRIBE"]),
            TableGrant(DB, "devices", ["SELECT"], excluded_columns=["serial_number"]),
            DataCellsFilterGrant(eu_only),
        ],
    )
    engineer_role = iam.Role(scope, "EngineerRole", assumed_by=iam.AccountRootPrincipal())
    engineer = LakePermissions(
        scope,
        "Engineer",
        principal_arn=engineer_role.role_arn,
        grants=[
            DatabaseGrant(DB, ["CREATE_TABLE", "DESCRIBE", "ALTER"], with_grant_option=True),
            TableGrant(DB, "telemetry", ["ALL"]),
            LocationGrant(LakeLocation(bucket, "telemetry/")),
            DataCellsFilterGrant(all_rows, ["DESCRIBE", "DROP"]),
        ],
    )
    return Built(scope, bucket, eu_only, all_rows, analyst, engineer, engineer_role, Template.from_stack(scope).to_json()["Resources"])


def principal(identifier) -> dict:
    return {"DataLakePrincipalIdentifier": identifier}


# --- the grants ---------------------------------------------------------------------------------


def test_every_grant_is_one_principal_permissions_in_the_accounts_catalog(built) -> None:
    assert list(built.analyst.permissions) == [
        f"Database:{DB}", f"AllTables:{DB}", f"Columns:{DB}.devices", "DataCellsFilter:Test/EuOnly",
    ]
    assert list(built.engineer.permissions) == [
        f"Database:{DB}", f"Table:{DB}.telemetry", "Location:Test/Curated/telemetry/", "DataCellsFilter:Test/AllRows",
    ]
    found = [r for r in built.resources.values() if r["Type"] == "AWS::LakeFormation::PrincipalPermissions"]
    assert len(found) == 8
    assert {r["Properties"]["Catalog"] for r in found} == {ACCOUNT}
    assert built.analyst.resources == list(built.analyst.permissions.values())


def test_database_grant(built) -> None:
    assert built.props(built.analyst.permissions[f"Database:{DB}"]) == {
        "Catalog": ACCOUNT,
        "Principal": principal(ANALYST),
        "Resource": {"Database": {"CatalogId": ACCOUNT, "Name": DB}},
        "Permissions": ["DESCRIBE"],
        "PermissionsWithGrantOption": [],
    }


def test_a_grant_option_is_given_only_when_asked_for_and_permissions_are_sorted(built) -> None:
    props = built.props(built.engineer.permissions[f"Database:{DB}"])
    assert props["Principal"] == principal(arn_of(built.engineer_role))
    assert props["Permissions"] == props["PermissionsWithGrantOption"] == ["ALTER", "CREATE_TABLE", "DESCRIBE"]


def test_all_tables_grant_uses_the_table_wildcard(built) -> None:
    props = built.props(built.analyst.permissions[f"AllTables:{DB}"])
    assert props["Resource"] == {"Table": {"CatalogId": ACCOUNT, "DatabaseName": DB, "TableWildcard": {}}}
    assert (props["Permissions"], props["PermissionsWithGrantOption"]) == (["DESCRIBE", "SELECT"], [])


def test_named_table_grant(built) -> None:
    props = built.props(built.engineer.permissions[f"Table:{DB}.telemetry"])
    assert props["Resource"] == {"Table": {"CatalogId": ACCOUNT, "DatabaseName": DB, "Name": "telemetry"}}
    assert (props["Permissions"], props["PermissionsWithGrantOption"]) == (["ALL"], [])


def test_excluded_columns_make_a_column_level_select_grant(built) -> None:
    props = built.props(built.analyst.permissions[f"Columns:{DB}.devices"])
    assert props["Resource"] == {
        "TableWithColumns": {
            "CatalogId": ACCOUNT,
            "DatabaseName": DB,
            "Name": "devices",
            "ColumnWildcard": {"ExcludedColumnNames": ["serial_number"]},
        }
    }
    assert props["Permissions"] == ["SELECT"]


def test_location_grant_names_the_registered_arn(built) -> None:
    props = built.props(built.engineer.permissions["Location:Test/Curated/telemetry/"])
    assert props["Resource"] == {
        "DataLocation": {
            "CatalogId": ACCOUNT,
            "ResourceArn": {"Fn::Join": ["", [arn_of(built.bucket), "/telemetry"]]},
        }
    }
    assert (props["Permissions"], props["PermissionsWithGrantOption"]) == (["DATA_LOCATION_ACCESS"], [])


def test_data_cells_filter_grant_waits_for_its_filter(built) -> None:
    grant = built.resource(built.analyst.permissions["DataCellsFilter:Test/EuOnly"])
    assert grant["Properties"]["Resource"] == {
        "DataCellsFilter": {"TableCatalogId": ACCOUNT, "DatabaseName": DB, "TableName": "telemetry", "Name": "eu_only"}
    }
    assert grant["Properties"]["Permissions"] == ["SELECT"]
    assert grant["DependsOn"] == [logical_id(built.eu_only.filter)]
    other = built.props(built.engineer.permissions["DataCellsFilter:Test/AllRows"])
    assert (other["Resource"]["DataCellsFilter"]["Name"], other["Permissions"]) == ("all_rows", ["DESCRIBE", "DROP"])


def test_construct_ids_are_derived_from_the_grants(built) -> None:
    assert [c.node.id for c in built.analyst.resources] == [
        f"Database:{DB}", f"AllTables:{DB}", f"Columns:{DB}.devices", "DataCellsFilter:Test.EuOnly",
    ]


def test_inserting_a_grant_does_not_rename_the_others() -> None:
    def logical_ids(grants) -> dict[str, str]:
        scope = stack()
        permissions = LakePermissions(scope, "Analyst", principal_arn=ANALYST, grants=grants)
        return {key: logical_id(resource) for key, resource in permissions.permissions.items()}

    before = logical_ids([DatabaseGrant(DB, ["DESCRIBE"]), TableGrant(DB, "telemetry", ["SELECT"])])
    after = logical_ids([
        TableGrant(DB, "devices", ["SELECT"]),
        DatabaseGrant(DB, ["DESCRIBE"]),
        TableGrant("team_dev_raw", None, ["DESCRIBE"]),
        TableGrant(DB, "telemetry", ["SELECT"]),
    ])
    assert {key: after[key] for key in before} == before
    assert len(set(after.values())) == 4


def test_the_grants_can_wait_for_other_resources_and_others_for_them(built) -> None:
    scope = stack()
    database = cdk.CfnResource(scope, "Database", type="AWS::Glue::Database")
    permissions = LakePermissions(scope, "Analyst", principal_arn=ANALYST, grants=[DatabaseGrant(DB, ["DESCRIBE"]), TableGrant(DB, None, ["SELECT"])])
    permissions.node.add_dependency(database)
    later = cdk.CfnResource(scope, "Later", type="AWS::SQS::Queue")
    later.node.add_dependency(permissions)
    resources = Template.from_stack(scope).to_json()["Resources"]
    assert all(resources[logical_id(r)]["DependsOn"] == ["Database"] for r in permissions.resources)
    assert set(resources["Later"]["DependsOn"]) == {logical_id(r) for r in permissions.resources}


# --- data cells filters -------------------------------------------------------------------------


def test_a_filter_keeps_the_rows_of_its_expression_and_all_columns_but_the_excluded(built) -> None:
    assert built.props(built.eu_only.filter) == {
        "TableCatalogId": ACCOUNT,
        "DatabaseName": DB,
        "TableName": "telemetry",
        "Name": "eu_only",
        "RowFilter": {"FilterExpression": "region = 'eu' AND (year > 2024)"},
        "ColumnWildcard": {"ExcludedColumnNames": ["device_owner", "ip_address"]},
    }
    assert (built.eu_only.name, built.eu_only.database_name, built.eu_only.table_name) == ("eu_only", DB, "telemetry")
    assert built.eu_only.excluded_columns == ("device_owner", "ip_address")


def test_a_filter_without_expression_keeps_all_rows_and_all_columns(built) -> None:
    props = built.props(built.all_rows.filter)
    assert (props["RowFilter"], props["ColumnWildcard"]) == ({"AllRowsWildcard": {}}, {"ExcludedColumnNames": []})
    assert built.all_rows.row_filter is None


def test_a_filter_expression_just_under_the_limit_is_accepted() -> None:
    expression = "region = '" + "e" * (2047 - len("region = ''")) + "'"
    assert len(expression) == 2047
    assert LakeDataCellsFilter(stack(), "Long", database_name=DB, table_name="t", name="long", row_filter=expression).row_filter == expression


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"row_filter": ""}, r"row_filter must be a non-empty PartiQL expression, or None for all rows; got ''"),
        ({"row_filter": "   "}, r"row_filter must be a non-empty PartiQL expression, or None for all rows; got '   '"),
        ({"row_filter": "x" * 2048}, r"row_filter must be shorter than 2048 characters; got 2048 characters"),
        ({"row_filter": "region = 'eu'\x00"}, r"row_filter must not contain control characters other than tab and line breaks"),
        ({"name": ""}, r"name must be 1 to 255 bytes of UTF-8 on one line, without control characters; got ''"),
        ({"name": "eu\nonly"}, r"name must be 1 to 255 bytes .*; got 'eu\\nonly'"),
        ({"name": "é" * 128}, r"name must be 1 to 255 bytes"),
        ({"table_name": ""}, r"table_name must be 1 to 255 bytes"),
        ({"database_name": "x" * 256}, r"database_name must be 1 to 255 bytes"),
        ({"excluded_columns": "ssn"}, r"excluded_columns must be a sequence of names, not one string; got 'ssn'"),
        ({"excluded_columns": ["ssn", "ssn"]}, r"excluded_columns names each column once; got \['ssn'\] more than once"),
        ({"excluded_columns": [""]}, r"excluded_columns must be 1 to 255 bytes"),
    ],
)
def test_a_bad_filter_is_refused_naming_the_prop(kwargs: dict, message: str) -> None:
    props = {"database_name": DB, "table_name": "telemetry", "name": "eu_only", **kwargs}
    with pytest.raises(ValueError, match=f"^LakeDataCellsFilter: {message}"):
        LakeDataCellsFilter(stack(), "Filter", **props)


def test_a_filter_name_must_be_literal_but_its_table_may_be_a_reference() -> None:
    scope = stack()
    table = cdk.CfnResource(scope, "Table", type="AWS::Glue::Table")
    table_name = cdk.Token.as_string(table.ref)
    made = LakeDataCellsFilter(scope, "Filter", database_name=DB, table_name=table_name, name="f")
    assert scope.resolve(made.table_name) == {"Ref": "Table"}
    with pytest.raises(ValueError, match=r"^LakeDataCellsFilter: name must be a literal name, not a token"):
        LakeDataCellsFilter(scope, "Other", database_name=DB, table_name="t", name=table_name)


# --- validation of the grant model ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: DatabaseGrant(DB, ["SELECT"]), r"^DatabaseGrant: Lake Formation allows \['ALL', 'ALTER', 'CREATE_TABLE', 'DESCRIBE', 'DROP'\] on a database; got \['SELECT'\]$"),
        (lambda: DatabaseGrant(DB, []), r"^DatabaseGrant: permissions must name at least one permission; got \(\)$"),
        (lambda: DatabaseGrant(DB, "DESCRIBE"), r"^DatabaseGrant: permissions must be a sequence of permission names, not one string; got 'DESCRIBE'$"),
        (lambda: DatabaseGrant(DB, ["DESCRIBE", "DESCRIBE"]), r"^DatabaseGrant: permissions names each permission once"),
        (lambda: DatabaseGrant(DB, ["ALL", "DESCRIBE"]), r"^DatabaseGrant: ALL already includes every other permission; pass ALL alone"),
        (lambda: DatabaseGrant("", ["DESCRIBE"]), r"^DatabaseGrant: database must be 1 to 255 bytes"),
        (lambda: TableGrant(DB, "t", ["CREATE_TABLE"]), r"^TableGrant: Lake Formation allows \['ALL', 'ALTER', 'DELETE', 'DESCRIBE', 'DROP', 'INSERT', 'SELECT'\] on a table; got \['CREATE_TABLE'\]$"),
        (lambda: TableGrant(DB, None, ["DATA_LOCATION_ACCESS"]), r"^TableGrant: Lake Formation allows .* on a table; got \['DATA_LOCATION_ACCESS'\]$"),
        (lambda: TableGrant(DB, "t", ["SELECT", "DESCRIBE"], excluded_columns=["ssn"]), r"^TableGrant: Lake Formation allows \['SELECT'\] on a table with a column filter; got \['DESCRIBE'\]$"),
        (lambda: TableGrant(DB, None, ["SELECT"], excluded_columns=["ssn"]), r"^TableGrant: excluded_columns needs a named table .*; got table=None with excluded_columns=\('ssn',\)$"),
        (lambda: TableGrant(DB, "t", ["SELECT"], excluded_columns=["ssn", "ssn"]), r"^TableGrant: excluded_columns names each column once"),
        (lambda: TableGrant(DB, "", ["SELECT"]), r"^TableGrant: table must be 1 to 255 bytes"),
        (lambda: LocationGrant("s3://bucket/raw/"), r"^LocationGrant: location must be a LakeLocation; got 's3://bucket/raw/'$"),
        (lambda: DataCellsFilterGrant("eu_only"), r"^DataCellsFilterGrant: filter must be a LakeDataCellsFilter; got 'eu_only'$"),
    ],
)
def test_a_grant_lake_formation_would_refuse_is_refused_at_construction(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_a_data_cells_filter_grant_allows_select_describe_and_drop_only() -> None:
    made = LakeDataCellsFilter(stack(), "Filter", database_name=DB, table_name="t", name="f")
    with pytest.raises(ValueError, match=r"^DataCellsFilterGrant: Lake Formation allows \['DESCRIBE', 'DROP', 'SELECT'\] on a data cells filter; got \['INSERT'\]$"):
        DataCellsFilterGrant(made, ["INSERT"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"principal_arn": "analyst"}, r"principal_arn must be an IAM role or user ARN .*; got 'analyst'$"),
        ({"principal_arn": "IAM_ALLOWED_PRINCIPALS"}, r"principal_arn must be an IAM role or user ARN"),
        ({"grants": []}, r"grants must hold at least one grant; got \[\]$"),
        ({"grants": ["DESCRIBE"]}, r"every grant must be a DatabaseGrant, TableGrant, LocationGrant or DataCellsFilterGrant; got 'DESCRIBE'$"),
        (
            {"grants": [DatabaseGrant(DB, ["DESCRIBE"]), TableGrant(DB, None, ["SELECT"]), DatabaseGrant(DB, ["ALTER"])]},
            rf"one principal holds one grant per resource; merge the permissions of \['Database:{DB}'\]$",
        ),
    ],
)
def test_bad_lake_permissions_are_refused_naming_the_prop(kwargs: dict, message: str) -> None:
    props = {"principal_arn": ANALYST, "grants": [DatabaseGrant(DB, ["DESCRIBE"])], **kwargs}
    with pytest.raises(ValueError, match=f"^LakePermissions: {message}"):
        LakePermissions(stack(), "Grants", **props)


def test_grants_derive_their_ids_from_literal_names_only() -> None:
    scope = stack()
    database_name = cdk.Token.as_string(cdk.CfnResource(scope, "Db", type="AWS::Glue::Database").ref)
    grant = DatabaseGrant(database_name, ["DESCRIBE"])  # a reference is a valid grant...
    with pytest.raises(ValueError, match=re.escape("DatabaseGrant: database must be a literal name, not a token")):
        LakePermissions(scope, "Grants", principal_arn=ANALYST, grants=[grant])  # ...but cannot name a construct
