"""Who may do what in the lake: the one definition of every Lake Formation grant of an environment.

``lake_grants`` turns an environment's names and governance settings into rows of plain data
(persona, resource, permissions, hidden columns, row filter). The stacks create exactly these
grants (``stacks.lake_governance``), the README's "Who can do what" tables are rendered from them
(``render_permissions_table``, through ``make docs``), and the tests hold the
synthesised templates and the README to them. A grant that is not here does not exist.

Personas and why they hold what they hold:

- ``raw-crawler`` creates and updates ``<raw>.telemetry`` and its partitions (CREATE_TABLE, ALTER
  and DESCRIBE on the raw database; ALTER, DESCRIBE, INSERT on its tables) and may point tables at
  the raw zone's ``telemetry/`` location;
- ``curated-crawler`` only adds partitions to the declared ``<curated>.telemetry`` table;
- ``raw-to-curated-job`` holds nothing: it reads and writes S3 with its prefix-scoped IAM policy and
  never calls the Data Catalog, so any grant would be unused;
- ``analyst`` reads the curated table minus the sensitive columns (column-level);
- ``restricted-analyst`` reads only the rows of the data cells filter, minus the sensitive columns
  (row- and column-level);
- ``redshift-spectrum`` and ``emr`` read every curated table (SELECT);
- ``governance-automation`` is the function that revokes IAMAllowedPrincipals; Lake Formation lets
  only administrators or holders of a permission *with grant option* revoke it, so it holds ALL
  with grant option on the databases it revokes on (only where Lake Formation governs alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from constructs_lib import ResourceNamer

TABLE_NAME = "telemetry"
ZONE_PREFIX = "telemetry/"

#: Personas in the order the README lists them, with who they are.
PERSONAS: dict[str, str] = {
    "raw-crawler": "the raw crawler's role (catalog stack)",
    "curated-crawler": "the curated crawler's role (catalog stack)",
    "raw-to-curated-job": "the Glue job's role (catalog stack)",
    "analyst": "the analyst persona's role: `analytics-<env>-analyst`, or `governance.analyst.role_arn` (catalog stack)",
    "restricted-analyst": "the restricted analyst persona's role: `analytics-<env>-restricted-analyst`, or `governance.restricted_analyst.role_arn` (catalog stack)",
    "redshift-spectrum": "the warehouse's Spectrum role (warehouse stack)",
    "emr": "the EMR instance role (emr stack)",
    "governance-automation": "the IAMAllowedPrincipals revocation function's role (catalog stack)",
}


@dataclass(frozen=True)
class GrantRow:
    """One Lake Formation grant, as plain data.

    ``kind``: ``database``, ``table`` (one table), ``all-tables`` (Lake Formation's table
    wildcard), ``columns`` (one table minus ``excluded_columns``), ``location`` (``zone``'s
    ``telemetry/`` prefix) or ``filter`` (the data cells filter ``target`` of ``database``'s table).
    """

    persona: str
    kind: str
    database: str | None
    target: str
    permissions: tuple[str, ...]
    excluded_columns: tuple[str, ...] = ()
    row_filter: str | None = None
    grantable: bool = False

    def resource_text(self) -> str:
        if self.kind == "database":
            return f"database `{self.database}`"
        if self.kind == "all-tables":
            return f"all tables of `{self.database}`"
        if self.kind in ("table", "columns"):
            return f"table `{self.database}.{self.target}`"
        if self.kind == "location":
            return f"location `s3://<{self.target} bucket>/{ZONE_PREFIX}`"
        return f"data cells filter `{self.target}` on `{self.database}.{TABLE_NAME}`"


@dataclass(frozen=True)
class LakeNames:
    """The names grants refer to."""

    raw_database: str
    curated_database: str
    filter_name: str


def names_for(namer: ResourceNamer) -> LakeNames:
    """The Glue names the catalog stack gives an environment."""
    return LakeNames(
        raw_database=namer.sql_name("raw"),
        curated_database=namer.sql_name("curated"),
        filter_name=namer.sql_name("restricted-analyst-rows"),
    )


def lake_grants(
    names: LakeNames,
    *,
    sensitive_columns: Sequence[str],
    row_filter: str,
    hybrid_access: bool,
) -> list[GrantRow]:
    """Every grant of the environment, persona by persona, in README order."""
    raw, curated = names.raw_database, names.curated_database
    hidden = tuple(sensitive_columns)

    def reader(persona: str) -> list[GrantRow]:
        return [
            GrantRow(persona, "database", curated, curated, ("DESCRIBE",)),
            GrantRow(persona, "all-tables", curated, "*", ("DESCRIBE", "SELECT")),
        ]

    def analyst_table(persona: str) -> list[GrantRow]:
        return [
            GrantRow(persona, "database", curated, curated, ("DESCRIBE",)),
            GrantRow(persona, "table", curated, TABLE_NAME, ("DESCRIBE",)),
        ]

    grants = [
        GrantRow("raw-crawler", "database", raw, raw, ("ALTER", "CREATE_TABLE", "DESCRIBE")),
        GrantRow("raw-crawler", "all-tables", raw, "*", ("ALTER", "DESCRIBE", "INSERT")),
        GrantRow("raw-crawler", "location", None, "raw", ("DATA_LOCATION_ACCESS",)),
        GrantRow("curated-crawler", "database", curated, curated, ("DESCRIBE",)),
        GrantRow("curated-crawler", "table", curated, TABLE_NAME, ("ALTER", "DESCRIBE", "INSERT")),
        GrantRow("curated-crawler", "location", None, "curated", ("DATA_LOCATION_ACCESS",)),
        *analyst_table("analyst"),
        GrantRow("analyst", "columns", curated, TABLE_NAME, ("SELECT",), excluded_columns=hidden),
        *analyst_table("restricted-analyst"),
        GrantRow(
            "restricted-analyst", "filter", curated, names.filter_name, ("SELECT",),
            excluded_columns=hidden, row_filter=row_filter,
        ),
        *reader("redshift-spectrum"),
        *reader("emr"),
    ]
    if not hybrid_access:
        for database in (raw, curated):
            grants += [
                GrantRow("governance-automation", "database", database, database, ("ALL",), grantable=True),
                GrantRow("governance-automation", "all-tables", database, "*", ("ALL",), grantable=True),
            ]
    return grants


def persona_rows(grants: Sequence[GrantRow], persona: str) -> list[GrantRow]:
    return [grant for grant in grants if grant.persona == persona]


def _rows_read(row: GrantRow) -> str:
    """What a SELECT grant lets the grantee read: the filter's rows, or all of them."""
    if row.kind in ("database", "location"):
        return ""
    if row.row_filter is not None:
        return "`" + row.row_filter.replace("|", "\\|") + "`"
    return "all" if "SELECT" in row.permissions or "ALL" in row.permissions else ""


def render_persona_legend() -> str:
    """Who each persona of the tables is."""
    return "".join(f"- `{persona}`: {who}\n" for persona, who in PERSONAS.items())


def render_permissions_table(env_name: str, grants: Sequence[GrantRow]) -> str:
    """The Markdown table of one environment: one line per grant, personas in ``PERSONAS`` order."""
    lines = [
        f"#### {env_name}",
        "",
        "| persona | resource | permissions | columns hidden | rows |",
        "|---|---|---|---|---|",
    ]
    for persona in PERSONAS:
        rows = persona_rows(grants, persona)
        if not rows:
            lines.append(f"| `{persona}` | (none) | | | |")
            continue
        for row in rows:
            permissions = ", ".join(row.permissions) + (" (with grant option)" if row.grantable else "")
            columns = ", ".join(f"`{c}`" for c in row.excluded_columns) if row.excluded_columns else ""
            rows_text = _rows_read(row)
            lines.append(f"| `{persona}` | {row.resource_text()} | {permissions} | {columns} | {rows_text} |")
    return "\n".join(lines) + "\n"
