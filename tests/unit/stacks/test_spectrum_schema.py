"""The Spectrum schema SQL: its form, its identifiers, and that deleting it keeps the data."""

from __future__ import annotations

import re

import pytest

from stacks.spectrum_schema import create_statements, drop_statements

ROLE = "arn:aws:iam::111122223333:role/spectrum"


def test_create_is_one_idempotent_external_schema_statement_over_the_glue_database() -> None:
    (statement,) = create_statements(schema="curated", database="analytics_dev_curated", role_arn=ROLE)
    assert statement == (
        "CREATE EXTERNAL SCHEMA IF NOT EXISTS curated FROM DATA CATALOG "
        f"DATABASE 'analytics_dev_curated' IAM_ROLE '{ROLE}'"
    )


def test_drop_removes_the_pointer_never_the_glue_database() -> None:
    (statement,) = drop_statements(schema="curated")
    assert statement == "DROP SCHEMA IF EXISTS curated"
    assert "EXTERNAL DATABASE" not in statement.upper() and "CASCADE" not in statement.upper()


def test_statements_carry_no_comments_or_placeholders() -> None:
    for statement in [*create_statements(schema="s", database="d", role_arn=ROLE), *drop_statements(schema="s")]:
        assert "--" not in statement and "${" not in statement and ";" not in statement
        assert re.fullmatch(r"[A-Z]+ .+", statement)


@pytest.mark.parametrize("bad", ["Curated", "cur-ated", "x; DROP TABLE y", "", "1abc", "a" * 128])
def test_identifiers_that_are_not_plain_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a plain lowercase identifier"):
        create_statements(schema=bad, database="d", role_arn=ROLE)
    with pytest.raises(ValueError, match="not a plain lowercase identifier"):
        create_statements(schema="s", database=bad, role_arn=ROLE)
