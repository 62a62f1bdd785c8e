"""The saved Athena queries (glue_scripts/curated_table.py SAVED_QUERIES, as the catalog stack saves
them) parse as Athena (Trino) SQL and read only what they promise."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from glue_scripts.curated_table import CURATED, TABLE_NAME, SavedQuery
from stacks.telemetry_tables import SAVED_QUERIES, named_queries

DATABASE = "analytics_dev_curated"
QUERIES = {query.name: query for query in named_queries(DATABASE)}


def parsed(name: str) -> exp.Expression:
    return sqlglot.parse_one(QUERIES[name].sql, read="athena")


def test_every_saved_query_of_the_definitions_is_saved_once() -> None:
    assert sorted(QUERIES) == sorted(query.name for query in SAVED_QUERIES.values())
    assert len(QUERIES) == len(SAVED_QUERIES) == 3
    assert {query.database for query in QUERIES.values()} == {DATABASE}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_parses_as_athena_sql_with_every_placeholder_filled(name: str) -> None:
    sql = QUERIES[name].sql
    assert "${" not in sql
    statement = parsed(name)
    assert isinstance(statement, exp.Select)
    tables = {(t.db, t.name) for t in statement.find_all(exp.Table)}
    assert tables == {(DATABASE, TABLE_NAME)}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_prunes_day_partitions(name: str) -> None:
    """The table is partitioned by day(event_time) (hidden partitioning: no event_date column any
    more); every saved query filters on event_time, so Athena reads only some day partitions."""
    assert CURATED.partition_source == "event_time"
    where = parsed(name).args.get("where")
    assert where is not None and "event_time" in {c.name for c in where.find_all(exp.Column)}
    assert "event_date" not in QUERIES[name].sql


def test_hourly_aggregates_read_only_three_columns() -> None:
    """The benchmark's query ratio assumes device_id, event_time and metrics."""
    table_columns = {c.name for c in parsed("hourly-aggregates-per-device").find_all(exp.Column)} - {"metric", "value", "hour"}
    assert table_columns == {"device_id", "event_time", "metrics"}


def test_the_parse_check_rejects_broken_sql() -> None:
    """The check above can fail: a query missing its FROM target does not parse."""
    broken = QUERIES["silent-devices"].sql.replace(f'FROM "{DATABASE}"."{TABLE_NAME}"', "FROM WHERE")
    with pytest.raises(ParseError):
        sqlglot.parse_one(broken, read="athena")


def test_an_unknown_placeholder_fails_loudly() -> None:
    with pytest.raises(KeyError, match="databse"):
        SavedQuery("typo", "d", 'SELECT 1 FROM "${databse}"."t"').render(DATABASE)
