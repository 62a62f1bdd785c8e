"""The typed model of an Iceberg table's layout (columns, partition spec, sort order) and the one
place where its field ids are decided.

Why the ids are computed, and how:

- Iceberg identifies a column by its **field id**, not its name: data files store ids, a rename
  keeps the id, and a reader projects old files by id. A table whose declared ids differ from the
  live ones would, on the next CloudFormation update, look like a different schema.
- When a table is created, Iceberg reassigns every id itself (``TableMetadata.newTableMetadata``
  "reassigns all column ids to ensure consistency", ``TypeUtil.assignFreshIds``): at each struct
  level all fields first (1..N for the top level), then, field by field, the ids inside each
  field's type (a map's key id, then its value id, then what nests in them). :func:`resolve`
  assigns ids the same way to ``columns``, so whatever Glue does with the ids it is sent (keep or
  reassign), the table ends up with the ids declared here, and Spark's ``CREATE TABLE`` of the same
  columns gives the same ids too.
- A column added later takes the next id after the highest ever assigned, then its nested ids
  (``SchemaUpdate.addColumn``: ``ALTER TABLE ... ADD COLUMN`` does exactly this). So columns added
  after creation are declared apart, in ``added_columns``, in the order they were added: appending
  a column to ``columns`` instead would shift the nested ids of every map, list or struct column
  (fresh assignment numbers all top-level fields first) and present an incompatible schema.

Type strings are Iceberg's (the specification's "Schemas and Data Types"): the primitives
``boolean int long float double date time timestamp timestamptz string uuid binary``,
``decimal(P,S)``, ``fixed[L]``; format version 3 adds ``timestamp_ns`` and ``timestamptz_ns``; and
the nested ``list<T>``, ``map<K,V>``, ``struct<name:T,...>``. Nested values, elements and struct
fields are optional (map keys are always required, as the specification says): a required nested
field could not be added to a table that holds data. Nested types are sent to CloudFormation as
Iceberg's own JSON for the type, in the key order Iceberg writes, so the template, the table's
``metadata.json`` and the job's view of the schema read the same.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from constructs_lib.common.validation import boolean, integer, sequence, text

#: Iceberg format versions the construct accepts; 2 is what every AWS reader of the lake reads.
FORMAT_VERSIONS = (2, 3)
PRIMITIVES = frozenset({"boolean", "int", "long", "float", "double", "date", "time", "timestamp", "timestamptz",
                        "string", "uuid", "binary"})
V3_PRIMITIVES = frozenset({"timestamp_ns", "timestamptz_ns"})
#: Iceberg's first partition field id (ids below 1000 are columns'), the first spec's id, and the
#: id Iceberg gives the first sort order it assigns (0 is "unsorted").
FIRST_PARTITION_FIELD_ID = 1000
SPEC_ID = 0
SORT_ORDER_ID = 1
#: Lower-case names only: Athena and the Glue Data Catalog fold names to lower case, so a mixed-case
#: Iceberg column would read differently in Spark and in Athena.
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,254}$")
_TRANSFORM = re.compile(r"^(identity|year|month|day|hour|void|bucket\[(\d+)]|truncate\[(\d+)])$")
_DECIMAL = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
_FIXED = re.compile(r"^fixed\[\s*(\d+)\s*]$")
#: Which source types each transform accepts (Iceberg specification, "Partition Transforms").
_TEMPORAL = {"date", "timestamp", "timestamptz", "timestamp_ns", "timestamptz_ns"}
_TIMESTAMPS = _TEMPORAL - {"date"}
_BUCKETABLE = {"int", "long", "decimal", "date", "time", "string", "uuid", "fixed", "binary", *_TIMESTAMPS}
_TRUNCATABLE = {"int", "long", "decimal", "string", "binary"}
#: Iceberg's default partition field names (PartitionSpec.Builder): ``day(event_time)`` is
#: ``event_time_day``, as Spark's ``days(event_time)`` names it too.
_SUFFIX = {"year": "_year", "month": "_month", "day": "_day", "hour": "_hour", "bucket": "_bucket",
           "truncate": "_trunc", "void": "_null"}

Direction = Literal["asc", "desc"]
NullOrder = Literal["nulls-first", "nulls-last"]


# --- Types ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Primitive:
    name: str  # canonical: "decimal(10, 2)", "fixed[16]", "string"

    @property
    def family(self) -> str:
        return self.name.split("(")[0].split("[")[0]


@dataclass(frozen=True)
class _List:
    element: _Type


@dataclass(frozen=True)
class _Map:
    key: _Type
    value: _Type


@dataclass(frozen=True)
class _Struct:
    fields: tuple[tuple[str, _Type], ...]


_Type = _Primitive | _List | _Map | _Struct


def parse_type(owner: str, prop: str, value: str) -> _Type:
    """The type a type string names, or ``ValueError`` naming ``owner`` and ``prop``."""
    parser = _Parser(value)
    try:
        parsed = parser.type()
        parser.end()
    except ValueError as error:
        raise ValueError(f"{owner}: {prop} {value!r} is not an Iceberg type: {error}") from None
    return parsed


class _Parser:
    """A recursive-descent reader of Iceberg type strings (whitespace between tokens is ignored)."""

    def __init__(self, text_: str) -> None:
        self.text = text_
        self.at = 0

    def _skip(self) -> None:
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1

    def _word(self) -> str:
        self._skip()
        match = re.compile(r"[a-z_][a-z0-9_]*").match(self.text, self.at)
        if match is None:
            raise ValueError(f"expected a name at position {self.at}")
        self.at = match.end()
        return match.group()

    def _expect(self, char: str) -> None:
        self._skip()
        if not self.text.startswith(char, self.at):
            raise ValueError(f"expected {char!r} at position {self.at}")
        self.at += 1

    def _peek(self, char: str) -> bool:
        self._skip()
        return self.text.startswith(char, self.at)

    def end(self) -> None:
        self._skip()
        if self.at != len(self.text):
            raise ValueError(f"unexpected {self.text[self.at:]!r} at position {self.at}")

    def type(self) -> _Type:
        word = self._word()
        if word == "list":
            self._expect("<")
            element = self.type()
            self._expect(">")
            return _List(element)
        if word == "map":
            self._expect("<")
            key = self.type()
            self._expect(",")
            value = self.type()
            self._expect(">")
            return _Map(key, value)
        if word == "struct":
            self._expect("<")
            fields: list[tuple[str, _Type]] = []
            while True:
                name = self._word()
                self._expect(":")
                fields.append((name, self.type()))
                if not self._peek(","):
                    break
                self._expect(",")
            self._expect(">")
            names = [name for name, _ in fields]
            if len(set(names)) != len(names):
                raise ValueError(f"a struct names a field twice: {names}")
            return _Struct(tuple(fields))
        if word in ("decimal", "fixed"):
            return self._sized(word)
        if word not in PRIMITIVES | V3_PRIMITIVES:
            raise ValueError(f"unknown type {word!r}")
        return _Primitive(word)

    def _sized(self, word: str) -> _Primitive:
        start = self.at - len(word)
        close = ")" if word == "decimal" else "]"
        end = self.text.find(close, start)
        if end < 0:
            raise ValueError(f"{word} needs its {'(precision, scale)' if word == 'decimal' else '[length]'}")
        self.at = end + 1
        spelled = self.text[start:self.at]
        if word == "decimal":
            match = _DECIMAL.match(spelled)
            if match is None:
                raise ValueError(f"write decimal(P,S), not {spelled!r}")
            precision, scale = int(match.group(1)), int(match.group(2))
            if not 1 <= precision <= 38 or scale > precision:
                raise ValueError(f"decimal precision must be 1..38 and scale at most the precision; got {spelled!r}")
            # Iceberg writes "decimal(P, S)" (with the space) in its metadata: sent in that form, an
            # unchanged column compares equal to the live one on every update.
            return _Primitive(f"decimal({precision}, {scale})")
        match = _FIXED.match(spelled)
        if match is None or int(match.group(1)) < 1:
            raise ValueError(f"write fixed[L] with L >= 1, not {spelled!r}")
        return _Primitive(f"fixed[{int(match.group(1))}]")


def _primitives_in(kind: _Type) -> list[_Primitive]:
    if isinstance(kind, _Primitive):
        return [kind]
    if isinstance(kind, _List):
        return _primitives_in(kind.element)
    if isinstance(kind, _Map):
        return [*_primitives_in(kind.key), *_primitives_in(kind.value)]
    return [p for _, field_type in kind.fields for p in _primitives_in(field_type)]


# --- The public model -------------------------------------------------------------------------------


def _check_name(owner: str, prop: str, value: object) -> str:
    text(owner, prop, value)
    assert isinstance(value, str)
    if not _NAME.match(value):
        raise ValueError(
            f"{owner}: {prop} must be lower-case letters, digits and underscores, not starting with a digit "
            f"(Athena and the Glue Data Catalog fold names to lower case); got {value!r}"
        )
    return value


@dataclass(frozen=True)
class IcebergColumn:
    """A top-level column: its name, its Iceberg type string (``"timestamptz"``,
    ``"map<string,double>"``, ``"decimal(10,2)"``), whether it is required (only for columns the table
    is created with), and its documentation."""

    name: str
    type: str
    required: bool = False
    doc: str | None = None

    def __post_init__(self) -> None:
        _check_name("IcebergColumn", "name", self.name)
        text("IcebergColumn", "type", self.type)
        parse_type("IcebergColumn", "type", self.type)
        boolean("IcebergColumn", "required", self.required)
        if self.doc is not None:
            text("IcebergColumn", "doc", self.doc)

    @property
    def parsed_type(self) -> _Type:
        return parse_type("IcebergColumn", "type", self.type)


def _check_transform(owner: str, value: object) -> str:
    text(owner, "transform", value)
    assert isinstance(value, str)
    match = _TRANSFORM.match(value)
    if match is None or (match.group(2) or match.group(3) or "1") == "0":
        raise ValueError(
            f"{owner}: transform must be identity, year, month, day, hour, void, bucket[N] or truncate[W] "
            f"(N, W >= 1); got {value!r}"
        )
    return value


@dataclass(frozen=True)
class IcebergPartitionField:
    """One field of the partition spec: ``IcebergPartitionField("event_time", "day")``. ``name``
    defaults to Iceberg's own (``event_time_day``; the column itself for ``identity``)."""

    source: str
    transform: str
    name: str | None = None

    def __post_init__(self) -> None:
        _check_name("IcebergPartitionField", "source", self.source)
        _check_transform("IcebergPartitionField", self.transform)
        if self.name is not None:
            _check_name("IcebergPartitionField", "name", self.name)

    @property
    def field_name(self) -> str:
        if self.name is not None:
            return self.name
        base = self.transform.split("[")[0]
        return self.source if base == "identity" else self.source + _SUFFIX[base]


@dataclass(frozen=True)
class IcebergSortField:
    """One field of the write order. ``null_order=None`` takes Iceberg's default for the direction
    (nulls first when ascending, last when descending: ``SortOrder.Builder.asc``/``desc``, and what
    Spark's ``WRITE ORDERED BY x ASC`` sets)."""

    source: str
    direction: Direction = "asc"
    null_order: NullOrder | None = None
    transform: str = "identity"

    def __post_init__(self) -> None:
        _check_name("IcebergSortField", "source", self.source)
        if self.direction not in ("asc", "desc"):
            raise ValueError(f"IcebergSortField: direction must be 'asc' or 'desc'; got {self.direction!r}")
        if self.null_order is not None and self.null_order not in ("nulls-first", "nulls-last"):
            raise ValueError(f"IcebergSortField: null_order must be 'nulls-first' or 'nulls-last'; got {self.null_order!r}")
        _check_transform("IcebergSortField", self.transform)

    @property
    def effective_null_order(self) -> NullOrder:
        if self.null_order is not None:
            return self.null_order
        return "nulls-first" if self.direction == "asc" else "nulls-last"


# --- Resolution: ids, cross-checks, rendering --------------------------------------------------------


@dataclass(frozen=True)
class ResolvedSchema:
    """A validated layout with its field ids, rendered as Iceberg's ``metadata.json`` writes it
    (``schema``, ``partition_spec``, ``sort_order``: plain dicts to compare with a live table) and as
    the CloudFormation properties of ``IcebergTableInput`` (:meth:`cfn_schema` ...)."""

    schema: dict[str, Any]
    partition_spec: dict[str, Any]
    sort_order: dict[str, Any]
    field_ids: Mapping[str, int]
    last_column_id: int

    def cfn_fields(self) -> list[dict[str, Any]]:
        """``IcebergStructField``s: nested types as Iceberg's JSON in one string."""
        fields = []
        for field in self.schema["fields"]:
            kind = field["type"]
            fields.append({
                "id": field["id"],
                "name": field["name"],
                "required": field["required"],
                "type": kind if isinstance(kind, str) else json.dumps(kind, separators=(",", ":")),
                **({"doc": field["doc"]} if "doc" in field else {}),
            })
        return fields


class _Ids:
    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        self.last += 1
        return self.last


def _render_type(kind: _Type, ids: _Ids) -> str | dict[str, Any]:
    """Iceberg's JSON for ``kind``, nested ids assigned as ``TypeUtil.assignFreshIds`` does."""
    if isinstance(kind, _Primitive):
        return kind.name
    if isinstance(kind, _List):
        element_id = ids.next()
        return {"type": "list", "element-id": element_id, "element": _render_type(kind.element, ids),
                "element-required": False}
    if isinstance(kind, _Map):
        key_id, value_id = ids.next(), ids.next()
        key = _render_type(kind.key, ids)
        value = _render_type(kind.value, ids)
        return {"type": "map", "key-id": key_id, "key": key, "value-id": value_id, "value": value,
                "value-required": False}
    field_ids = [ids.next() for _ in kind.fields]
    return {"type": "struct", "fields": [
        {"id": field_id, "name": name, "required": False, "type": _render_type(field_type, ids)}
        for field_id, (name, field_type) in zip(field_ids, kind.fields, strict=True)
    ]}


def _field(column: IcebergColumn, field_id: int, kind: str | dict[str, Any]) -> dict[str, Any]:
    rendered: dict[str, Any] = {"id": field_id, "name": column.name, "required": column.required, "type": kind}
    if column.doc is not None:
        rendered["doc"] = column.doc
    return rendered


def _accepts(transform: str, column: IcebergColumn) -> bool:
    kind = column.parsed_type
    if not isinstance(kind, _Primitive):
        return False  # only top-level primitive columns are sources here
    base, family = transform.split("[")[0], kind.family
    return {
        "identity": True,
        "void": True,
        "bucket": family in _BUCKETABLE,
        "truncate": family in _TRUNCATABLE,
        "year": family in _TEMPORAL,
        "month": family in _TEMPORAL,
        "day": family in _TEMPORAL,
        "hour": family in _TIMESTAMPS,
    }[base]


def resolve(
    owner: str,
    *,
    columns: Sequence[IcebergColumn],
    added_columns: Sequence[IcebergColumn] = (),
    partition_by: Sequence[IcebergPartitionField] = (),
    sort_by: Sequence[IcebergSortField] = (),
    format_version: int = 2,
) -> ResolvedSchema:
    """Check the layout as a whole (names once, sources that exist and suit their transform,
    types the format version has) and assign its ids; errors start with ``"<owner>: <prop>"``."""
    columns = _instances(owner, "columns", columns, IcebergColumn, allow_empty=False)
    added_columns = _instances(owner, "added_columns", added_columns, IcebergColumn)
    partition_by = _instances(owner, "partition_by", partition_by, IcebergPartitionField)
    sort_by = _instances(owner, "sort_by", sort_by, IcebergSortField)
    integer(owner, "format_version", format_version)
    if format_version not in FORMAT_VERSIONS:
        raise ValueError(f"{owner}: format_version must be one of {FORMAT_VERSIONS}; got {format_version!r}")
    everything = [*columns, *added_columns]
    names = [c.name for c in everything]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"{owner}: columns and added_columns name {', '.join(map(repr, twice))} more than once")
    required_added = [c.name for c in added_columns if c.required]
    if required_added:
        raise ValueError(
            f"{owner}: added_columns must be optional (required=False): Iceberg refuses to add a required "
            f"column to a table that may hold rows; got {required_added}"
        )
    if format_version < 3:
        for column in everything:
            newer = sorted({p.name for p in _primitives_in(column.parsed_type)} & V3_PRIMITIVES)
            if newer:
                raise ValueError(f"{owner}: column {column.name!r} uses {newer}, which needs format_version 3")

    ids = _Ids()
    top = [ids.next() for _ in columns]
    fields = [_field(c, i, _render_type(c.parsed_type, ids)) for c, i in zip(columns, top, strict=True)]
    for column in added_columns:
        field_id = ids.next()
        fields.append(_field(column, field_id, _render_type(column.parsed_type, ids)))
    by_name = {c.name: c for c in everything}
    field_ids = {f["name"]: f["id"] for f in fields}

    spec_fields = []
    for position, part in enumerate(partition_by):
        column = _source(owner, "partition_by", part.source, part.transform, by_name)
        name = part.field_name
        if name in by_name and not (part.transform == "identity" and name == part.source):
            raise ValueError(f"{owner}: partition_by field name {name!r} is a column's name; name it otherwise")
        spec_fields.append({"name": name, "transform": part.transform, "source-id": field_ids[column.name],
                            "field-id": FIRST_PARTITION_FIELD_ID + position})
    _once(owner, "partition_by", [f["name"] for f in spec_fields], "field name")
    _once(owner, "partition_by", [(p.source, p.transform.split("[")[0]) for p in partition_by], "source and transform")

    order_fields = []
    for sort in sort_by:
        column = _source(owner, "sort_by", sort.source, sort.transform, by_name)
        order_fields.append({"transform": sort.transform, "source-id": field_ids[column.name],
                             "direction": sort.direction, "null-order": sort.effective_null_order})
    _once(owner, "sort_by", [(s.source, s.transform) for s in sort_by], "source and transform")

    return ResolvedSchema(
        schema={"type": "struct", "fields": fields},
        partition_spec={"spec-id": SPEC_ID, "fields": spec_fields},
        sort_order={"order-id": SORT_ORDER_ID if order_fields else 0, "fields": order_fields},
        field_ids=field_ids,
        last_column_id=ids.last,
    )


def _instances(owner: str, prop: str, value: object, kind: type, *, allow_empty: bool = True) -> list[Any]:
    items = sequence(owner, prop, value, allow_empty=allow_empty)
    for item in items:
        if not isinstance(item, kind):
            raise TypeError(f"{owner}: {prop} must hold {kind.__name__} objects only; got {type(item).__name__} {item!r}")
    return items


def _source(owner: str, prop: str, source: str, transform: str, by_name: Mapping[str, IcebergColumn]) -> IcebergColumn:
    column = by_name.get(source)
    if column is None:
        raise ValueError(f"{owner}: {prop} names {source!r}, which is not a column (columns: {sorted(by_name)})")
    if not _accepts(transform, column):
        raise ValueError(
            f"{owner}: {prop} cannot apply {transform!r} to {source!r} of type {column.type!r} "
            "(Iceberg specification, Partition Transforms; only top-level primitive columns are sources)"
        )
    return column


def _once(owner: str, prop: str, keys: Sequence[object], what: str) -> None:
    twice = [k for i, k in enumerate(keys) if k in keys[:i]]
    if twice:
        raise ValueError(f"{owner}: {prop} repeats the {what} {twice[0]!r}")
