"""The SQL that gives Redshift its Spectrum schema over the curated Glue database.

The statements live in stacks/redshift_sql/*.sql, where a reviewer reads them as SQL; this
module fills in the identifiers and splits each file into the statements the Redshift Data API
runs (one per list entry). Identifiers are checked here because they are spliced into SQL.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "redshift_sql"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,126}$")


def create_statements(*, schema: str, database: str, role_arn: str) -> list[str]:
    """``CREATE EXTERNAL SCHEMA`` over Glue database ``database`` using ``role_arn``.

    ``role_arn`` may be a CDK token (the role is created in the same stack)."""
    return _statements("create_spectrum_schema.sql", schema=_identifier(schema), database=_identifier(database), role_arn=role_arn)


def drop_statements(*, schema: str) -> list[str]:
    """Drop the schema, never the Glue database behind it."""
    return _statements("drop_spectrum_schema.sql", schema=_identifier(schema))


def _identifier(value: str) -> str:
    if not _IDENTIFIER.match(value):
        raise ValueError(
            f"Spectrum schema SQL: {value!r} is not a plain lowercase identifier "
            "(letters, digits, underscores; at most 127 characters)"
        )
    return value


def _statements(file_name: str, **values: str) -> list[str]:
    text = string.Template((SQL_DIR / file_name).read_text(encoding="utf-8")).substitute(values)
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [" ".join(statement.split()) for statement in code.split(";") if statement.strip()]
