"""The saved Athena queries parse as Athena (Trino) SQL and read only what they promise."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from stacks.telemetry_tables import NAMED_QUERIES, QUERIES_DIR, query_sql

DATABASE = "analytics_dev_curated"


@pytest.mark.parametrize("stem", sorted(NAMED_QUERIES))
def test_query_parses_as_athena_sql_with_every_placeholder_filled(stem: str) -> None:
    sql = query_sql(stem, database=DATABASE)
    assert "${" not in sql
    statement = sqlglot.parse_one(sql, read="athena")
    assert isinstance(statement, exp.Select)
    tables = {(t.db, t.name) for t in statement.find_all(exp.Table)}
    assert tables == {(DATABASE, "telemetry")}


@pytest.mark.parametrize("stem", sorted(NAMED_QUERIES))
def test_query_prunes_partitions(stem: str) -> None:
    """Every saved query filters on event_date, so Athena reads only some partitions."""
    statement = sqlglot.parse_one(query_sql(stem, database=DATABASE), read="athena")
    where = statement.args.get("where")
    assert where is not None and "event_date" in {c.name for c in where.find_all(exp.Column)}


def test_every_sql_file_is_a_named_query() -> None:
    assert sorted(p.stem for p in QUERIES_DIR.glob("*.sql")) == sorted(NAMED_QUERIES)


def test_hourly_aggregates_read_only_three_columns() -> None:
    """The benchmark's query ratio assumes device_id, event_time and metrics (plus the partition)."""
    statement = sqlglot.parse_one(query_sql("hourly_aggregates_per_device", database=DATABASE), read="athena")
    table_columns = {c.name for c in statement.find_all(exp.Column)} - {"metric", "value", "hour"}
    assert table_columns == {"device_id", "event_time", "metrics", "event_date"}


def test_the_parse_check_rejects_broken_sql() -> None:
    """The check above can fail: a query missing its FROM target does not parse."""
    broken = query_sql("silent_devices", database=DATABASE).replace(f'FROM "{DATABASE}"."telemetry"', "FROM WHERE")
    with pytest.raises(ParseError):
        sqlglot.parse_one(broken, read="athena")


def test_an_unknown_placeholder_fails_loudly(tmp_path, monkeypatch) -> None:
    import stacks.telemetry_tables as tables

    (tmp_path / "typo.sql").write_text('SELECT 1 FROM "${databse}"."t"')
    monkeypatch.setattr(tables, "QUERIES_DIR", tmp_path)
    with pytest.raises(KeyError, match="databse"):
        tables.query_sql("typo", database=DATABASE)
