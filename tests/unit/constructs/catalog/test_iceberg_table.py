"""IcebergTable: the one AWS::Glue::Table shape that survives an update, its layout in the template,
RETAIN by default, grants scoped to the table and its prefix, and a column added as an in-place
update that the pinned CDK CLI (what `make diff` runs) does not flag, while a rename is a replacement."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib import IcebergColumn, IcebergTable
from tests.synth import ROOT
from tests.unit.constructs.catalog.iceberg_helpers import table
from tests.unit.constructs.stack_helpers import only
from tests.unit.constructs.template_helpers import arn_of, ref, role_statements, via_service, with_prefix
from tools.template_diff_parse import MODIFIED, REQUIRES_REPLACEMENT, parse_cdk_diff

GLUE = "arn:aws:glue:eu-west-1:111122223333"
@pytest.fixture(scope="module")
def built():
    subject = table()
    return subject, Template.from_stack(cdk.Stack.of(subject))


def props(built_) -> dict:
    return only(built_[1], "AWS::Glue::Table")["Properties"]


def iceberg(built_) -> dict:
    return props(built_)["OpenTableFormatInput"]["IcebergInput"]


def test_the_table_is_declared_through_open_table_format_input_only(built) -> None:
    """TableInput beside OpenTableFormatInput is refused by Glue, and the old TableInput shape loses
    table_type=ICEBERG on its first update (the module docstring has the sources)."""
    assert set(props(built)) == {"CatalogId", "DatabaseName", "Name", "OpenTableFormatInput"}
    assert (props(built)["CatalogId"], props(built)["DatabaseName"], props(built)["Name"]) == (
        "111122223333", "team_dev_curated", "telemetry"
    )
    assert (iceberg(built)["MetadataOperation"], iceberg(built)["Version"]) == ("CREATE", "2")


def test_location_is_the_prefix_without_its_trailing_slash(built) -> None:
    subject, _ = built
    assert iceberg(built)["IcebergTableInput"]["Location"] == {"Fn::Join": ["", ["s3://", ref(subject.bucket), "/curated/telemetry"]]}


def test_the_schema_carries_ids_types_and_docs(built) -> None:
    schema = iceberg(built)["IcebergTableInput"]["Schema"]
    assert (schema["Type"], schema["SchemaId"]) == ("struct", 0)
    assert schema["Fields"] == [
        {"Id": 1, "Name": "device_id", "Required": False, "Type": "string", "Doc": "Device id"},
        {"Id": 2, "Name": "event_time", "Required": False, "Type": "timestamptz"},
        {"Id": 3, "Name": "metrics", "Required": False,
         "Type": '{"type":"map","key-id":4,"key":"string","value-id":5,"value":"double","value-required":false}'},
    ]


def test_partition_spec_write_order_and_properties(built) -> None:
    table_input = iceberg(built)["IcebergTableInput"]
    assert table_input["PartitionSpec"] == {
        "SpecId": 0, "Fields": [{"Name": "event_time_day", "SourceId": 2, "Transform": "day", "FieldId": 1000}],
    }
    assert table_input["WriteOrder"] == {"OrderId": 1, "Fields": [
        {"SourceId": 1, "Transform": "identity", "Direction": "asc", "NullOrder": "nulls-first"},
        {"SourceId": 2, "Transform": "identity", "Direction": "asc", "NullOrder": "nulls-first"},
    ]}
    assert table_input["Properties"] == {
        "comment": "Device readings", "write.format.default": "parquet", "write.parquet.compression-codec": "snappy",
    }


def test_an_unpartitioned_unsorted_table_declares_neither() -> None:
    subject = table(partition_by=[], sort_by=[], properties=None, description=None)
    table_input = only(Template.from_stack(cdk.Stack.of(subject)), "AWS::Glue::Table")["Properties"]["OpenTableFormatInput"][
        "IcebergInput"]["IcebergTableInput"]
    assert set(table_input) == {"Location", "Schema"}


def test_format_version_3_is_the_version_sent() -> None:
    subject = table(format_version=3)
    assert only(Template.from_stack(cdk.Stack.of(subject)), "AWS::Glue::Table")["Properties"]["OpenTableFormatInput"][
        "IcebergInput"]["Version"] == "3"


def test_the_table_is_retained_by_default(built) -> None:
    resource = only(built[1], "AWS::Glue::Table")
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_attributes(built) -> None:
    subject, _ = built
    resolved = cdk.Stack.of(subject).resolve
    assert (subject.table_name, subject.database_name, subject.prefix) == ("telemetry", "team_dev_curated", "curated/telemetry/")
    assert resolved(subject.table_arn) == f"{GLUE}:table/team_dev_curated/telemetry"
    assert resolved(subject.location) == {"Fn::Join": ["", ["s3://", ref(subject.bucket), "/curated/telemetry"]]}
    assert subject.schema.field_ids == {"device_id": 1, "event_time": 2, "metrics": 3}
    assert subject.node.find_child("Table") is subject.table


def _grantee_statements(write: bool, catalog_key: bool) -> tuple[IcebergTable, list[dict]]:
    subject = table()
    scope = cdk.Stack.of(subject)
    role = iam.Role(scope, "Job", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
    key = kms.Key(scope, "CatalogKey") if catalog_key else None
    (subject.grant_write if write else subject.grant_read)(role, catalog_key=key)
    return subject, role_statements(Template.from_stack(scope), role)


def test_grant_write_is_a_commit_to_this_table_only() -> None:
    subject, statements = _grantee_statements(write=True, catalog_key=True)
    glue = with_prefix(statements, "glue")
    assert glue == [{
        "Action": ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"], "Effect": "Allow",
        "Resource": [f"{GLUE}:catalog", f"{GLUE}:database/team_dev_curated", f"{GLUE}:table/team_dev_curated/telemetry"],
    }]
    objects = [s for s in with_prefix(statements, "s3") if "s3:GetObject" in s["Action"]]
    assert objects == [{
        "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"], "Effect": "Allow",
        "Resource": {"Fn::Join": ["", [arn_of(subject.bucket), "/curated/telemetry/*"]]},
    }]
    keys = {json.dumps(s["Condition"]["StringEquals"]["kms:ViaService"]): s["Action"] for s in with_prefix(statements, "kms")}
    assert keys == {json.dumps(via_service("s3")): ["kms:Decrypt", "kms:GenerateDataKey"],
                    json.dumps(via_service("glue")): ["kms:Decrypt", "kms:GenerateDataKey"]}


def test_grant_read_writes_nothing() -> None:
    _, statements = _grantee_statements(write=False, catalog_key=False)
    actions = {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert actions == {"s3:ListBucket", "s3:GetObject", "kms:Decrypt", "glue:GetDatabase", "glue:GetTable"}


@pytest.mark.parametrize(("overrides", "error", "says"), [
    ({"properties": {"format-version": "2"}}, ValueError, "properties must not set 'format-version'"),
    ({"properties": {"comment": "x"}}, ValueError, "properties must not set 'comment'"),
    ({"properties": {"write.target-file-size-bytes": 134217728}}, TypeError, "properties must map strings to strings"),
    ({"table_name": "Telemetry"}, ValueError, "table_name must be lower-case"),
    ({"database_name": "team-dev"}, ValueError, "database_name must be lower-case"),
    ({"prefix": "telemetry"}, ValueError, "S3 prefix"),
    ({"bucket": "team-lake"}, TypeError, "bucket must be a IBucket"),
    ({"removal_policy": cdk.RemovalPolicy.SNAPSHOT}, ValueError, "removal_policy must be"),
])
def test_bad_props_are_refused(overrides: dict, error: type[Exception], says: str) -> None:
    with pytest.raises(error, match=f"^IcebergTable: .*{says}"):
        table(**overrides)


# --- Schema evolution as CloudFormation will see it ---------------------------------------------------

CLI = ROOT / "node_modules" / ".bin" / "cdk"


def _synthesise(outdir: Path, **variants: dict) -> None:
    """One stack, one table per variant (construct id = the variant's name), so that one CLI diff
    (about five seconds) covers every change."""
    app = cdk.App(outdir=str(outdir), context={"@aws-cdk/core:enablePartitionLiterals": True})
    scope = cdk.Stack(app, "Lake", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    bucket = s3.Bucket.from_bucket_name(scope, "Existing", "team-lake")
    for name, overrides in variants.items():
        settings = {"table_name": name.lower(), "prefix": f"{name.lower()}/", **overrides}
        table(scope, name, bucket=bucket, bucket_key=None, **settings)
    app.synth()


def _cli_diff(tmp: Path, base: Path, head: Path) -> str:
    if not CLI.exists():
        pytest.fail("node_modules/.bin/cdk is missing: run `npm ci`")
    done = subprocess.run(
        [str(CLI), "diff", "--app", str(head), "--template", str(base / "Lake.template.json"), "--method", "template",
         "--exclusively", "--no-color", "--no-notices", "--no-lookups", "Lake"],
        cwd=tmp, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two tables, Added and Renamed, before and after: Added gains a column, Renamed a new name."""
    root = tmp_path_factory.mktemp("iceberg-evolution")
    _synthesise(root / "before", Added={}, Renamed={})
    _synthesise(
        root / "after",
        Added={"added_columns": [IcebergColumn("firmware", "string", doc="Firmware version")]},
        Renamed={"table_name": "readings"},
    )
    return root / "before", root / "after"


def _tables(directory: Path) -> dict[str, tuple[str, dict]]:
    """Construct id -> (logical id, resource) of every Glue table (CDK's logical ids start with the path)."""
    resources = json.loads((directory / "Lake.template.json").read_text())["Resources"]
    return {
        name: (logical, resource)
        for logical, resource in resources.items() if resource["Type"] == "AWS::Glue::Table"
        for name in ("Added", "Renamed") if logical.startswith(f"{name}Table")
    }


def _schema(resource: dict) -> dict:
    return resource["Properties"]["OpenTableFormatInput"]["IcebergInput"]["IcebergTableInput"]["Schema"]


def test_adding_a_column_changes_only_the_schema_and_appends_one_field(versions) -> None:
    before_dir, after_dir = versions
    (before_id, before), (after_id, after) = _tables(before_dir)["Added"], _tables(after_dir)["Added"]
    assert before_id == after_id
    assert _schema(after)["Fields"][:3] == _schema(before)["Fields"]
    assert _schema(after)["Fields"][3] == {"Id": 6, "Name": "firmware", "Required": False, "Type": "string", "Doc": "Firmware version"}
    for resource in (before, after):
        del _schema(resource)["Fields"]
    assert before == after


def test_the_cli_diff_sees_an_added_column_as_an_update_and_a_rename_as_a_replacement(versions, tmp_path: Path) -> None:
    before_dir, after_dir = versions
    diff = parse_cdk_diff(_cli_diff(tmp_path, before_dir, after_dir), "Lake")
    changes = {change.logical_id: change for change in diff.resources}
    added, renamed = changes[_tables(after_dir)["Added"][0]], changes[_tables(after_dir)["Renamed"][0]]
    assert set(changes) == {added.logical_id, renamed.logical_id}
    assert (added.resource_type, added.category) == ("AWS::Glue::Table", MODIFIED)
    assert [p.name for p in added.properties] == ["OpenTableFormatInput"] and added.replacing_properties() == ()
    assert renamed.category == REQUIRES_REPLACEMENT and renamed.replacing_properties() == ("Name",)


def test_retain_is_honoured_and_destroy_deletes_only_the_catalog_entry() -> None:
    retained = only(Template.from_stack(cdk.Stack.of(table(removal_policy=cdk.RemovalPolicy.RETAIN))), "AWS::Glue::Table")
    destroyed = only(Template.from_stack(cdk.Stack.of(table(removal_policy=cdk.RemovalPolicy.DESTROY))), "AWS::Glue::Table")
    assert (retained["DeletionPolicy"], retained["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert (destroyed["DeletionPolicy"], destroyed["UpdateReplacePolicy"]) == ("Delete", "Delete")
