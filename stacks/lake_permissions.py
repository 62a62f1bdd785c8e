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
- ``raw-to-curated-job`` commits to the two curated Iceberg tables through the Glue Data Catalog
  (Iceberg's Glue catalog): DESCRIBE on the curated database (GetDatabase), and on each table
  DESCRIBE (GetTable: the current ``metadata_location``), SELECT (its MERGE reads the table), INSERT
  (it adds rows) and ALTER (``glue:UpdateTable``, which swaps ``metadata_location`` on every commit and
  adds a column the definition gained). No DELETE: its MERGEs only insert, and the files of a failed
  task are removed through its IAM S3 grant, not through Lake Formation. No location grant: the tables
  exist (CloudFormation creates them) and a commit does not change their location;
- ``migration-job``, the one-time job that copies an environment's Parquet table of before issue 19
  into the Iceberg tables, exists only while ``catalog.migrate_from_parquet`` is on, and then holds
  what ``raw-to-curated-job`` holds, for the same reasons (it commits the same way);
- ``telemetry-optimizers`` and ``quarantine-optimizers``, the Glue table optimizers' roles, one per
  table, hold ALTER, DELETE, DESCRIBE, INSERT and SELECT on their one table: compaction reads and
  rewrites data files and commits (ALTER), retention and orphan deletion remove files (DELETE);
- ``analyst`` reads the curated table minus the sensitive columns (column-level);
- ``restricted-analyst`` reads only the rows of the data cells filter, minus the sensitive columns
  (row- and column-level);
- neither analyst persona sees ``telemetry_quarantine``: it holds rejected raw lines whole, the
  sensitive columns' values included;
- ``redshift-spectrum`` and ``emr`` read every curated table (SELECT), the quarantine included: they
  are the engineers' engines, which already read every column;
- ``governance-automation`` is the function that revokes IAMAllowedPrincipals; Lake Formation lets
  only administrators or holders of a permission *with grant option* revoke it, so it holds ALL
  with grant option on the databases it revokes on (only where Lake Formation governs alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from constructs_lib import ResourceNamer
from glue_scripts.curated_table import QUARANTINE_TABLE_NAME, TABLE_NAME

ZONE_PREFIX = "telemetry/"
#: What an Iceberg commit through the Glue catalog needs on a table (see the module docstring).
JOB_TABLE_PERMISSIONS = ("ALTER", "DESCRIBE", "INSERT", "SELECT")
#: What the Glue table optimizers need on their table: the job's, and DELETE.
OPTIMIZER_TABLE_PERMISSIONS = ("ALTER", "DELETE", "DESCRIBE", "INSERT", "SELECT")
#: The optimizer persona of each curated table.
OPTIMIZER_PERSONAS = {TABLE_NAME: "telemetry-optimizers", QUARANTINE_TABLE_NAME: "quarantine-optimizers"}

#: Personas in the order the README lists them, with who they are.
PERSONAS: dict[str, str] = {
    "raw-crawler": "the raw crawler's role (catalog stack)",
    "raw-to-curated-job": "the Glue job's role (catalog stack)",
    "migration-job": "the one-time migration job's role, only while `catalog.migrate_from_parquet` is on (catalog stack)",
    "telemetry-optimizers": f"the Glue table optimizers' role of `{TABLE_NAME}` (catalog stack)",
    "quarantine-optimizers": f"the Glue table optimizers' role of `{QUARANTINE_TABLE_NAME}` (catalog stack)",
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
    migration_job: bool = False,
) -> list[GrantRow]:
    """Every grant of the environment, persona by persona, in README order."""
    raw, curated = names.raw_database, names.curated_database
    hidden = tuple(sensitive_columns)

    def reader(persona: str) -> list[GrantRow]:
        return [
            GrantRow(persona, "database", curated, curated, ("DESCRIBE",)),
            GrantRow(persona, "all-tables", curated, "*", ("DESCRIBE", "SELECT")),
        ]

    def committer(persona: str) -> list[GrantRow]:
        return [
            GrantRow(persona, "database", curated, curated, ("DESCRIBE",)),
            *(GrantRow(persona, "table", curated, table, JOB_TABLE_PERMISSIONS) for table in (TABLE_NAME, QUARANTINE_TABLE_NAME)),
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
        *committer("raw-to-curated-job"),
        *(committer("migration-job") if migration_job else []),
        *(GrantRow(persona, "table", curated, table, OPTIMIZER_TABLE_PERMISSIONS) for table, persona in OPTIMIZER_PERSONAS.items()),
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
