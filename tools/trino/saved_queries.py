"""The saved Athena queries, run on Trino the way an analyst runs them.

An analyst gets the text of an ``AWS::Athena::NamedQuery`` (its ``QueryString``, run in its
``Database``) and fills its ``?`` parameters as Athena parameterised queries are filled: in
order, each value written as a SQL literal (``'2026-11-23'``, ``6``), through the console's
parameter boxes, ``--execution-parameters`` of ``aws athena start-query-execution``, or by hand
with ``PREPARE`` and ``EXECUTE ... USING``. Here it is done by hand, on Trino (Athena engine v3
is built on Trino)::

    PREPARE saved_query FROM <QueryString>
    EXECUTE saved_query USING '2026-11-23'
    DEALLOCATE PREPARE saved_query

with the session in catalog ``awsdatacatalog``, schema ``Database`` and time zone UTC.
A query without ``?`` runs as it is. The number of parameters must equal the number of ``?``.

Interface:

- ``saved_query_names() -> list[str]``: the saved queries' keys in
  glue_scripts/curated_table.py ``SAVED_QUERIES``, e.g. ``["hourly_aggregates_per_device", ...]``.
- ``saved_query(name, template=None) -> NamedQuery``: the query as an analyst gets it. With
  ``template`` (a synthesised CloudFormation template, as a dict, or a cdk.out folder), read
  from its ``AWS::Athena::NamedQuery`` resources; without, from
  ``glue_scripts.curated_table.SAVED_QUERIES`` for the dev curated database: the Iceberg
  table's queries (issue 19), which the catalog stack builds those resources from
  (tests/trino/ checks the two are equal).
- ``run_saved_query(server, name, parameters=(), *, template=None) -> list[tuple]``: points the
  tables at their newest commit (as the Glue Data Catalog always is), then runs the query on
  ``server`` (a running :class:`tools.trino.server.TrinoServer`) and returns its rows.
- ``sql_literal(value) -> str``: a Python value as the SQL literal an analyst would type.

``name`` is a stem (``silent_devices``) or the saved name (``silent-devices``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dataclasses import dataclass

from glue_scripts.curated_table import SAVED_QUERIES

_statement_ids = itertools.count(1)


class SavedQueryError(ValueError):
    """An unknown saved query, or parameters that do not fit it."""


@dataclass(frozen=True)
class NamedQuery:
    """What an ``AWS::Athena::NamedQuery`` holds."""

    name: str
    description: str
    database: str
    sql: str


def saved_query_names() -> list[str]:
    return sorted(SAVED_QUERIES)


def _stem(name: str) -> str:
    for stem, query in SAVED_QUERIES.items():
        if name in (stem, query.name):
            return stem
    raise SavedQueryError(f"no saved query {name!r}; saved queries: {saved_query_names()}")


def _template_queries(template: Mapping[str, Any] | Path | str) -> list[NamedQuery]:
    if isinstance(template, (str, Path)):
        templates = [json.loads(p.read_text()) for p in sorted(Path(template).glob("*.template.json"))]
    else:
        templates = [template]
    found = []
    for body in templates:
        for resource in body.get("Resources", {}).values():
            if resource.get("Type") == "AWS::Athena::NamedQuery":
                props = resource["Properties"]
                found.append(
                    NamedQuery(
                        name=props["Name"],
                        description=props.get("Description", ""),
                        database=props["Database"],
                        sql=props["QueryString"],
                    )
                )
    if not found:
        raise SavedQueryError(f"no AWS::Athena::NamedQuery in {template if isinstance(template, (str, Path)) else 'the template'}")
    return found


def saved_query(name: str, template: Mapping[str, Any] | Path | str | None = None) -> NamedQuery:
    """The saved query ``name`` as Athena stores it (see the module docstring)."""
    saved_name = SAVED_QUERIES[_stem(name)].name
    if template is None:
        from tools.trino.server import default_database

        database = default_database()
        queries = [NamedQuery(q.name, q.description, database, q.render(database)) for q in SAVED_QUERIES.values()]
    else:
        queries = _template_queries(template)
    for query in queries:
        if query.name == saved_name:
            return query
    raise SavedQueryError(f"the template has no saved query named {saved_name!r}")


def sql_literal(value: Any) -> str:
    """``value`` as a SQL literal, as an analyst types an Athena execution parameter."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SavedQueryError(f"a parameter must be a finite number; got {value!r}")
        return f"DOUBLE '{value!r}'"
    if isinstance(value, decimal.Decimal):
        return f"DECIMAL '{value}'"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return f"TIMESTAMP '{value.isoformat(sep=' ', timespec='milliseconds')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise SavedQueryError(f"no SQL literal for a parameter of type {type(value).__name__}: {value!r}")


def placeholder_count(sql: str) -> int:
    """The ``?`` parameters of ``sql`` (outside strings, identifiers and comments)."""
    import sqlglot
    from sqlglot import exp

    return sum(1 for _ in sqlglot.parse_one(sql, read="athena").find_all(exp.Placeholder))


def run_sql(server, sql: str, database: str, parameters: Sequence[Any] = ()) -> list[tuple]:
    """Run a saved query's text in ``database`` with ``parameters`` (PREPARE + EXECUTE USING)."""
    expected = placeholder_count(sql)
    if expected != len(parameters):
        raise SavedQueryError(f"the query has {expected} parameter(s) (?); got {len(parameters)}: {list(parameters)!r}")
    server.ensure_database(database)
    server.refresh_tables(database)
    body = sql.strip().rstrip(";")
    if not parameters:
        return server.query(body)
    statement = f"saved_query_{next(_statement_ids)}"
    server.execute(f"PREPARE {statement} FROM\n{body}")
    try:
        return server.query(f"EXECUTE {statement} USING {', '.join(sql_literal(p) for p in parameters)}")
    finally:
        server.execute(f"DEALLOCATE PREPARE {statement}")


def run_saved_query(
    server,
    name: str,
    parameters: Sequence[Any] = (),
    *,
    template: Mapping[str, Any] | Path | str | None = None,
) -> list[tuple]:
    """The rows of the saved query ``name`` with ``parameters``, run on ``server``."""
    query = saved_query(name, template)
    return run_sql(server, query.sql, query.database, parameters)
