"""The Iceberg layout model: field ids as Iceberg assigns them (at creation, then for each added
column), type strings parsed and spelled as Iceberg writes them, and bad layouts refused naming the
prop."""

from __future__ import annotations

import json

import pytest

from constructs_lib.catalog.iceberg_schema import (
    IcebergColumn,
    IcebergPartitionField,
    IcebergSortField,
    resolve,
)

#: The curated telemetry table's columns (glue_scripts/curated_table.py): nine top-level fields, two maps.
TELEMETRY = [
    IcebergColumn("device_id", "string", doc="Device id"),
    IcebergColumn("event_time", "timestamptz"),
    IcebergColumn("ingested_at", "timestamptz"),
    IcebergColumn("schema_version", "int"),
    IcebergColumn("metrics", "map<string,double>"),
    IcebergColumn("attributes", "map<string, string>"),
    IcebergColumn("source_file", "string"),
    IcebergColumn("record_id", "string"),
    IcebergColumn("run_id", "string"),
]


def layout(**overrides):
    return resolve("IcebergTable", **{"columns": TELEMETRY, **overrides})


def test_ids_at_creation_are_the_top_level_fields_first_then_each_maps_key_and_value() -> None:
    resolved = layout()
    assert [f["id"] for f in resolved.schema["fields"]] == list(range(1, 10))
    metrics, attributes = resolved.schema["fields"][4]["type"], resolved.schema["fields"][5]["type"]
    assert (metrics["key-id"], metrics["value-id"], attributes["key-id"], attributes["value-id"]) == (10, 11, 12, 13)
    assert resolved.last_column_id == 13


def test_an_added_column_takes_the_next_id_and_changes_no_earlier_one() -> None:
    before = layout()
    after = layout(added_columns=[IcebergColumn("firmware", "string"), IcebergColumn("tags", "list<string>")])
    assert after.schema["fields"][:9] == before.schema["fields"]
    assert after.field_ids["firmware"] == 14
    assert after.schema["fields"][10]["id"] == 15 and after.schema["fields"][10]["type"]["element-id"] == 16


def test_appending_to_columns_instead_would_renumber_the_maps() -> None:
    """Why added_columns exists: at creation every top-level field is numbered before any nested one."""
    appended = resolve("IcebergTable", columns=[*TELEMETRY, IcebergColumn("firmware", "string")])
    assert appended.field_ids["firmware"] == 10
    assert appended.schema["fields"][4]["type"]["key-id"] == 11  # was 10: an incompatible schema


def test_nested_ids_follow_iceberg_fresh_assignment() -> None:
    resolved = resolve("T", columns=[
        IcebergColumn("a", "int"),
        IcebergColumn("m", "map<string, struct<x:int, y:list<long>>>"),
        IcebergColumn("b", "string"),
    ])
    assert resolved.schema["fields"][1]["type"] == {
        "type": "map", "key-id": 4, "key": "string", "value-id": 5,
        "value": {"type": "struct", "fields": [
            {"id": 6, "name": "x", "required": False, "type": "int"},
            {"id": 7, "name": "y", "required": False,
             "type": {"type": "list", "element-id": 8, "element": "long", "element-required": False}},
        ]},
        "value-required": False,
    }
    assert resolved.field_ids == {"a": 1, "m": 2, "b": 3}


def test_cloudformation_gets_nested_types_as_iceberg_json_and_primitives_in_iceberg_spelling() -> None:
    resolved = resolve("T", columns=[IcebergColumn("m", "map<string,double>"), IcebergColumn("price", "decimal(10,2)", doc="EUR")])
    fields = resolved.cfn_fields()
    assert json.loads(fields[0]["type"]) == resolved.schema["fields"][0]["type"]
    assert fields[0]["type"] == '{"type":"map","key-id":3,"key":"string","value-id":4,"value":"double","value-required":false}'
    assert fields[1] == {"id": 2, "name": "price", "required": False, "type": "decimal(10, 2)", "doc": "EUR"}
    assert "doc" not in fields[0]


def test_partition_spec_and_sort_order_as_iceberg_writes_them() -> None:
    resolved = layout(
        partition_by=[IcebergPartitionField("event_time", "day"), IcebergPartitionField("device_id", "bucket[16]")],
        sort_by=[IcebergSortField("device_id"), IcebergSortField("event_time", direction="desc")],
    )
    assert resolved.partition_spec == {"spec-id": 0, "fields": [
        {"name": "event_time_day", "transform": "day", "source-id": 2, "field-id": 1000},
        {"name": "device_id_bucket", "transform": "bucket[16]", "source-id": 1, "field-id": 1001},
    ]}
    assert resolved.sort_order == {"order-id": 1, "fields": [
        {"transform": "identity", "source-id": 1, "direction": "asc", "null-order": "nulls-first"},
        {"transform": "identity", "source-id": 2, "direction": "desc", "null-order": "nulls-last"},
    ]}
    assert layout().sort_order == {"order-id": 0, "fields": []}


@pytest.mark.parametrize(("transform", "name"), [
    ("identity", "device_id"), ("bucket[4]", "device_id_bucket"), ("truncate[2]", "device_id_trunc"), ("void", "device_id_null"),
])
def test_default_partition_field_names_are_icebergs(transform: str, name: str) -> None:
    assert IcebergPartitionField("device_id", transform).field_name == name


def test_an_explicit_null_order_wins() -> None:
    assert IcebergSortField("a", null_order="nulls-last").effective_null_order == "nulls-last"


@pytest.mark.parametrize("spelled", [
    "string", "timestamptz", "decimal( 38 , 0 )", "fixed[16]", "list<map<string,list<int>>>", "struct<a:int>", "uuid",
])
def test_valid_type_strings(spelled: str) -> None:
    IcebergColumn("c", spelled)


@pytest.mark.parametrize(("spelled", "says"), [
    ("strng", "unknown type 'strng'"),
    ("String", "expected a name"),
    ("map<string>", "expected ','"),
    ("list<int", "expected '>'"),
    ("decimal(39,2)", "precision must be 1..38"),
    ("decimal(5,6)", "scale at most the precision"),
    ("fixed[0]", "L >= 1"),
    ("struct<a:int,a:long>", "names a field twice"),
    ("int int", "unexpected 'int'"),
    ("array<int>", "unknown type 'array'"),
])
def test_bad_type_strings_are_refused_naming_the_prop(spelled: str, says: str) -> None:
    with pytest.raises(ValueError, match=r"^IcebergColumn: type ") as raised:
        IcebergColumn("c", spelled)
    assert says in str(raised.value)


@pytest.mark.parametrize(("overrides", "says"), [
    ({"partition_by": [IcebergPartitionField("event_tme", "day")]}, "partition_by names 'event_tme', which is not a column"),
    ({"sort_by": [IcebergSortField("nope")]}, "sort_by names 'nope', which is not a column"),
    ({"partition_by": [IcebergPartitionField("device_id", "day")]}, "cannot apply 'day' to 'device_id'"),
    ({"partition_by": [IcebergPartitionField("schema_version", "hour")]}, "cannot apply 'hour'"),
    ({"partition_by": [IcebergPartitionField("metrics", "identity")]}, "only top-level primitive columns"),
    ({"partition_by": [IcebergPartitionField("event_time", "day"), IcebergPartitionField("event_time", "day", name="d2")]},
     "repeats the source and transform"),
    ({"partition_by": [IcebergPartitionField("event_time", "day", name="day"), IcebergPartitionField("device_id", "identity", name="day")]},
     "repeats the field name 'day'"),
    ({"partition_by": [IcebergPartitionField("event_time", "day", name="run_id")]}, "is a column's name"),
    ({"sort_by": [IcebergSortField("device_id"), IcebergSortField("device_id")]}, "repeats the source and transform"),
    ({"added_columns": [IcebergColumn("device_id", "string")]}, "name 'device_id' more than once"),
    ({"added_columns": [IcebergColumn("firmware", "string", required=True)]}, "added_columns must be optional"),
    ({"added_columns": [IcebergColumn("at", "timestamp_ns")]}, "needs format_version 3"),
    ({"format_version": 1}, "format_version must be one of (2, 3)"),
    ({"columns": []}, "columns must not be empty"),
])
def test_bad_layouts_are_refused_naming_the_construct_and_the_prop(overrides: dict, says: str) -> None:
    with pytest.raises(ValueError) as raised:
        layout(**overrides)
    assert str(raised.value).startswith("IcebergTable: ") and says in str(raised.value), str(raised.value)


def test_a_bool_or_str_format_version_is_a_type_error() -> None:
    for value in (True, "2"):
        with pytest.raises(TypeError, match="^IcebergTable: format_version must be an int"):
            layout(format_version=value)


def test_format_version_3_takes_nanosecond_timestamps() -> None:
    assert layout(added_columns=[IcebergColumn("at", "timestamp_ns")], format_version=3).field_ids["at"] == 14


@pytest.mark.parametrize(("make", "error", "says"), [
    (lambda: IcebergColumn("Device", "string"), ValueError, "IcebergColumn: name must be lower-case"),
    (lambda: IcebergColumn("d", "string", required="no"), TypeError, "IcebergColumn: required must be True or False"),
    (lambda: IcebergColumn("d", 7), TypeError, "IcebergColumn: type must be a string"),
    (lambda: IcebergPartitionField("event_time", "days"), ValueError, "IcebergPartitionField: transform must be"),
    (lambda: IcebergPartitionField("event_time", "bucket[0]"), ValueError, "IcebergPartitionField: transform must be"),
    (lambda: IcebergSortField("a", direction="up"), ValueError, "IcebergSortField: direction must be"),
    (lambda: IcebergSortField("a", null_order="first"), ValueError, "IcebergSortField: null_order must be"),
])
def test_the_dataclasses_refuse_bad_fields_naming_themselves(make, error: type[Exception], says: str) -> None:
    with pytest.raises(error, match=f"^{says}"):
        make()


def test_a_str_where_a_list_of_columns_is_expected_is_refused() -> None:
    with pytest.raises(TypeError, match="IcebergTable: columns must be a list, not a single string"):
        resolve("IcebergTable", columns="device_id string")
    with pytest.raises(TypeError, match="IcebergTable: partition_by must hold IcebergPartitionField objects only"):
        layout(partition_by=["event_time"])
