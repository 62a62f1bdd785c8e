"""Lake Formation as the app deploys it: the settings in the baseline, the zones registered before the
databases, and every grant in every template exactly a row of stacks/lake_permissions.py -- no
persona holds anything its rows do not list, and none misses one."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from config import load_config
from constructs_lib import ResourceNamer
from stacks.lake_permissions import PERSONAS, GrantRow, names_for
from tests.synth import ENVIRONMENTS
from stacks.lake_governance import environment_lake_grants
from tests.unit.stacks.governance_helpers import IMPORTED_ANALYST_ARN, QA_MAINTENANCE, qa_catalog_stack
from tests.unit.stacks.templates import only, resources

GRANT = "AWS::LakeFormation::PrincipalPermissions"
#: Logical-id prefix of each persona's role, in the stack that owns it.
PERSONA_ROLES = {
    "raw-crawler": ("catalog", "RawCrawlerRole"),
    "raw-to-curated-job": ("catalog", "RawToCuratedRole"),
    "migration-job": ("catalog", "MigrateToIcebergRole"),
    "telemetry-optimizers": ("catalog", "TelemetryMaintenanceRole"),
    "quarantine-optimizers": ("catalog", "TelemetryQuarantineMaintenanceRole"),
    "analyst": ("catalog", "AnalystRole"),
    "restricted-analyst": ("catalog", "RestrictedAnalystRole"),
    "redshift-spectrum": ("warehouse", "WarehouseSpectrumRole"),
    "emr": ("emr", "EmrInstanceRole"),
    "governance-automation": ("catalog", "RevocationRole"),
}


def expected_rows(env_name: str) -> list[GrantRow]:
    env = load_config(env_name).environment
    return environment_lake_grants(ResourceNamer(env.project, env.name), env.governance, migration_job=env.catalog.migrate_from_parquet)


def _value(value: Any, template: dict) -> str:
    """A database name as the grant states it: a literal, or a Ref to a database of the template."""
    if isinstance(value, dict) and "Ref" in value:
        return template["Resources"][value["Ref"]]["Properties"]["DatabaseInput"]["Name"]
    return value


def _zone(resource_arn: dict) -> str:
    (output, suffix) = resource_arn["Fn::Join"][1]
    assert suffix == "/telemetry"
    name = output["Fn::GetStackOutput"]["OutputName"]
    return "raw" if "DataLakeRawBucket" in name else "curated" if "DataLakeCuratedBucket" in name else name


def normalised(grant: dict, template: dict, filters: dict[str, dict]) -> tuple:
    """(kind, database, target, permissions, excluded columns, row filter, grantable) of a template grant."""
    props = grant["Properties"]
    resource = props["Resource"]
    permissions = tuple(sorted(props["Permissions"]))
    grantable = bool(props["PermissionsWithGrantOption"])
    if grantable:
        assert sorted(props["PermissionsWithGrantOption"]) == list(permissions)
    if "Database" in resource:
        name = _value(resource["Database"]["Name"], template)
        return ("database", name, name, permissions, (), None, grantable)
    if "Table" in resource:
        table = resource["Table"]
        database = _value(table["DatabaseName"], template)
        if "TableWildcard" in table:
            return ("all-tables", database, "*", permissions, (), None, grantable)
        return ("table", database, table["Name"], permissions, (), None, grantable)
    if "TableWithColumns" in resource:
        table = resource["TableWithColumns"]
        excluded = tuple(table["ColumnWildcard"]["ExcludedColumnNames"])
        return ("columns", table["DatabaseName"], table["Name"], permissions, excluded, None, grantable)
    if "DataLocation" in resource:
        return ("location", None, _zone(resource["DataLocation"]["ResourceArn"]), permissions, (), None, grantable)
    cells = resource["DataCellsFilter"]
    definition = filters[cells["Name"]]
    assert (definition["DatabaseName"], definition["TableName"]) == (cells["DatabaseName"], cells["TableName"])
    return (
        "filter", cells["DatabaseName"], cells["Name"], permissions,
        tuple(definition["ColumnWildcard"]["ExcludedColumnNames"]), definition["RowFilter"]["FilterExpression"], grantable,
    )


def row_key(row: GrantRow) -> tuple:
    return (row.kind, row.database, row.target, tuple(sorted(row.permissions)), row.excluded_columns, row.row_filter, row.grantable)


def persona_of(principal: Any) -> str:
    role = principal["DataLakePrincipalIdentifier"]["Fn::GetAtt"][0]
    (persona,) = [persona for persona, (_, prefix) in PERSONA_ROLES.items() if role.startswith(prefix)]
    return persona


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def deployed(request, synthesised) -> tuple[str, dict[str, list[tuple]]]:
    """Every grant of the environment's templates, by persona."""
    env_name = request.param
    app = synthesised(env_name)
    catalog = app.template(f"analytics-{env_name}-catalog")
    filters = {f["Properties"]["Name"]: f["Properties"] for f in resources(catalog, "AWS::LakeFormation::DataCellsFilter").values()}
    by_persona: dict[str, list[tuple]] = {}
    for stack_name in app.stack_names():
        template = app.template(stack_name)
        for grant in resources(template, GRANT).values():
            by_persona.setdefault(persona_of(grant["Properties"]["Principal"]), []).append(normalised(grant, template, filters))
    return env_name, by_persona


def test_every_persona_holds_exactly_its_rows(deployed) -> None:
    env_name, by_persona = deployed
    rows = expected_rows(env_name)
    for persona in PERSONAS:
        expected = Counter(row_key(row) for row in rows if row.persona == persona)
        assert Counter(by_persona.get(persona, [])) == expected, persona
    assert set(by_persona) <= set(PERSONAS)


def test_every_persona_holds_grants(deployed) -> None:
    """The job too, since issue 19: it commits to the Iceberg tables through the catalog. The one-time
    migration job exists (and holds grants) only while catalog.migrate_from_parquet is on: in no
    shipped environment."""
    env_name, by_persona = deployed
    assert load_config(env_name).environment.catalog.migrate_from_parquet is False
    assert set(PERSONAS) - {"migration-job"} == set(by_persona)


def test_the_writers_hold_only_their_tables_and_no_location(deployed) -> None:
    """The job commits to the two curated tables, each optimizer role maintains its one table; none may
    point a table at a location (no DATA_LOCATION_ACCESS) or read another table."""
    env_name, by_persona = deployed
    curated = f"analytics_{env_name}_curated"
    job_tables = sorted(g[2] for g in by_persona["raw-to-curated-job"] if g[0] == "table")
    assert job_tables == ["telemetry", "telemetry_quarantine"]
    assert {g[0] for g in by_persona["raw-to-curated-job"]} == {"database", "table"}
    assert all(g[1] == curated for g in by_persona["raw-to-curated-job"])
    for persona, table in (("telemetry-optimizers", "telemetry"), ("quarantine-optimizers", "telemetry_quarantine")):
        assert [(g[0], g[1], g[2]) for g in by_persona[persona]] == [("table", curated, table)]
        assert "DELETE" in by_persona[persona][0][3] and "DELETE" not in by_persona["raw-to-curated-job"][1][3]


def test_no_analyst_sees_the_quarantine(deployed) -> None:
    """Rejected raw lines hold every field of a reading, sensitive columns included."""
    _, by_persona = deployed
    for persona in ("analyst", "restricted-analyst"):
        assert all(g[0] in ("database", "table", "columns", "filter") and g[2] != "telemetry_quarantine" for g in by_persona[persona])
        assert not [g for g in by_persona[persona] if g[0] == "all-tables"]


def test_each_grant_lives_with_its_principal(synthesised) -> None:
    app = synthesised("prod")
    for persona, (stack, prefix) in PERSONA_ROLES.items():
        if not [row for row in expected_rows("prod") if row.persona == persona]:
            continue  # the migration job: only while catalog.migrate_from_parquet is on (test_catalog_stack.py)
        template = app.template(f"analytics-prod-{stack}")
        roles = [k for k in resources(template, "AWS::IAM::Role") if k.startswith(prefix)]
        assert roles, f"{persona}: no role {prefix} in {stack}"


def test_the_baseline_makes_the_deployment_role_and_the_configured_roles_admins(synthesised) -> None:
    template = synthesised("dev").template("analytics-account-baseline")
    props = only(template, "AWS::LakeFormation::DataLakeSettings")["Properties"]
    admins = [a["DataLakePrincipalIdentifier"] for a in props["Admins"]]
    assert admins[0] == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}"
    }
    configured = load_config("dev").project.baseline.lake_formation_admin_roles
    assert [a["Fn::Join"][1][-1] for a in admins[1:]] == [f":role/{name}" for name in configured]
    assert props["CreateDatabaseDefaultPermissions"] == [] and props["CreateTableDefaultPermissions"] == []
    for env_name in ENVIRONMENTS:
        stacks = [n for n in synthesised(env_name).stack_names() if n != "analytics-account-baseline"]
        for name in stacks:
            assert not resources(synthesised(env_name).template(name), "AWS::LakeFormation::DataLakeSettings"), name


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def catalog(request, synthesised) -> tuple[str, dict]:
    return request.param, synthesised(request.param).template(f"analytics-{request.param}-catalog")


def test_both_zones_are_registered_with_the_dedicated_role(catalog) -> None:
    env_name, template = catalog
    registrations = resources(template, "AWS::LakeFormation::Resource")
    assert sorted(_zone(r["Properties"]["ResourceArn"]) for r in registrations.values()) == ["curated", "raw"]
    hybrid = load_config(env_name).environment.governance.hybrid_access
    (role,) = [k for k in resources(template, "AWS::IAM::Role") if k.startswith("LakeLocationsRegistrationRole")]
    for registration in registrations.values():
        assert registration["Properties"]["UseServiceLinkedRole"] is False
        assert registration["Properties"]["RoleArn"] == {"Fn::GetAtt": [role, "Arn"]}
        assert registration["Properties"]["HybridAccessEnabled"] is hybrid


def test_the_order_is_registration_then_databases_then_grants(catalog) -> None:
    _, template = catalog
    registrations = set(resources(template, "AWS::LakeFormation::Resource"))
    databases = set(resources(template, "AWS::Glue::Database"))
    tables = set(resources(template, "AWS::Glue::Table"))
    assert len(tables) == 2
    for database in databases:
        assert registrations <= set(template["Resources"][database]["DependsOn"]), database
    for table in tables:
        assert set(template["Resources"][table]["DependsOn"]) & databases, table
    for logical_id, grant in resources(template, GRANT).items():
        if logical_id.startswith("Revocation"):
            continue  # the revocation's own grants: checked below
        assert registrations | databases | tables <= set(grant["DependsOn"]), logical_id
    (crawler,) = resources(template, "AWS::Glue::Crawler").values()
    assert any(d.startswith("RawCrawlerLakePermissions") for d in crawler["DependsOn"])
    for logical_id, optimizer in resources(template, "AWS::Glue::TableOptimizer").items():
        own = "TelemetryOptimizersLakePermissions" if logical_id.startswith("TelemetryMaintenance") else "QuarantineOptimizersLakePermissions"
        assert any(d.startswith(own) for d in optimizer["DependsOn"]), logical_id


def test_governed_databases_lose_iam_allowed_principals(catalog) -> None:
    env_name, template = catalog
    assert load_config(env_name).environment.governance.hybrid_access is False
    revocations = resources(template, "Custom::IamAllowedPrincipalsRevocation")
    names = {_value(r["Properties"]["DatabaseName"], template) for r in revocations.values()}
    assert names == {f"analytics_{env_name}_raw", f"analytics_{env_name}_curated"}
    for revocation in revocations.values():
        grants = [d for d in revocation["DependsOn"] if template["Resources"][d]["Type"] == GRANT]
        assert len(grants) == 2  # ALL with grant option on the database and on its tables
    for database in resources(template, "AWS::Glue::Database").values():
        assert database["Properties"]["DatabaseInput"]["CreateTableDefaultPermissions"] == []


def test_the_restricted_rows_come_from_the_config(catalog) -> None:
    env_name, template = catalog
    governance = load_config(env_name).environment.governance
    props = only(template, "AWS::LakeFormation::DataCellsFilter")["Properties"]
    assert props["RowFilter"] == {"FilterExpression": governance.restricted_analyst.row_filter}
    assert props["ColumnWildcard"] == {"ExcludedColumnNames": list(governance.sensitive_columns)}
    assert (props["DatabaseName"], props["TableName"]) == (f"analytics_{env_name}_curated", "telemetry")


def test_created_personas_may_query_only_through_the_analysts_workgroup(catalog) -> None:
    env_name, template = catalog
    roles = {k: r for k, r in resources(template, "AWS::IAM::Role").items() if k.startswith(("AnalystRole", "RestrictedAnalystRole"))}
    assert sorted(r["Properties"]["RoleName"] for r in roles.values()) == [
        f"analytics-{env_name}-analyst", f"analytics-{env_name}-restricted-analyst"
    ]
    for logical_id in roles:
        (policy,) = [p for k, p in resources(template, "AWS::IAM::Policy").items() if p["Properties"]["Roles"] == [{"Ref": logical_id}]]
        actions = {a for s in policy["Properties"]["PolicyDocument"]["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
        assert "lakeformation:GetDataAccess" in actions
        assert not {a for a in actions if a.startswith(("glue:Create", "glue:Update", "glue:Delete", "s3:Delete", "lakeformation:Grant"))}
        athena = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "athena:StartQueryExecution" in s["Action"]]
        assert len(athena) == 1 and "workgroup/analytics-" + env_name + "-analysts" in str(athena[0]["Resource"])


def test_the_readers_grants_come_after_the_catalog(synthesised) -> None:
    """Spectrum's and EMR's grants name the curated database: their stacks deploy after the catalog's."""
    import json

    for env_name in ENVIRONMENTS:
        manifest = json.loads((synthesised(env_name).outdir / "manifest.json").read_text())
        for stack in ("warehouse", "emr"):
            dependencies = manifest["artifacts"][f"analytics-{env_name}-{stack}"]["dependencies"]
            assert f"analytics-{env_name}-catalog" in dependencies
        warehouse = synthesised(env_name).template(f"analytics-{env_name}-warehouse")
        grants = resources(warehouse, GRANT)
        assert set(grants) <= set(only(warehouse, "Custom::RedshiftSql")["DependsOn"])


def test_the_table_names_what_the_names_helper_names() -> None:
    names = names_for(ResourceNamer("analytics", "staging"))
    assert (names.raw_database, names.curated_database) == ("analytics_staging_raw", "analytics_staging_curated")


@pytest.fixture(scope="module")
def hybrid() -> dict:
    """The catalog stack with settings no shipped environment uses: hybrid access, an imported
    analyst role, other hidden columns and another row filter."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from config.model import AthenaConfig, CatalogConfig, CrawlerConfig, EtlJobConfig, WorkgroupConfig

    stack = qa_catalog_stack(
        cdk.App(),
        catalog=CatalogConfig(
            schedule="cron(0 3 * * ? *)",
            crawler=CrawlerConfig(recrawl_behavior="crawl_everything", update_behavior="log", delete_behavior="log"),
            job=EtlJobConfig(worker_type="G.1X", number_of_workers=2, timeout_minutes=60, max_retries=0),
            maintenance=QA_MAINTENANCE,
            migrate_from_parquet=False,
        ),
        athena=AthenaConfig(analysts=WorkgroupConfig(bytes_scanned_cutoff_mb=10), reports=WorkgroupConfig(bytes_scanned_cutoff_mb=10)),
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    return Template.from_stack(stack).to_json()


def test_hybrid_access_registers_in_hybrid_mode_and_revokes_nothing(hybrid) -> None:
    registrations = resources(hybrid, "AWS::LakeFormation::Resource").values()
    assert [r["Properties"]["HybridAccessEnabled"] for r in registrations] == [True, True]
    assert resources(hybrid, "Custom::IamAllowedPrincipalsRevocation") == {}
    assert not [k for k in resources(hybrid, GRANT) if k.startswith("Revocation")]
    for database in resources(hybrid, "AWS::Glue::Database").values():
        assert "CreateTableDefaultPermissions" not in database["Properties"]["DatabaseInput"]


def test_an_imported_persona_role_is_granted_by_its_arn_and_not_created(hybrid) -> None:
    analyst = [g["Properties"] for g in resources(hybrid, GRANT).values()
               if g["Properties"]["Principal"]["DataLakePrincipalIdentifier"] == IMPORTED_ANALYST_ARN]
    assert len(analyst) == 3  # DESCRIBE on the database and the table, SELECT minus hidden columns
    (columns,) = [g for g in analyst if "TableWithColumns" in g["Resource"]]
    assert columns["Resource"]["TableWithColumns"]["ColumnWildcard"] == {"ExcludedColumnNames": ["attributes", "ingested_at"]}
    role_names = [r["Properties"].get("RoleName") for r in resources(hybrid, "AWS::IAM::Role").values()]
    assert "team-qa-analyst" not in role_names and "team-qa-restricted-analyst" in role_names


def test_the_filter_takes_the_configured_rows_and_columns(hybrid) -> None:
    props = only(hybrid, "AWS::LakeFormation::DataCellsFilter")["Properties"]
    assert props["RowFilter"] == {"FilterExpression": "schema_version >= 2"}
    assert props["ColumnWildcard"] == {"ExcludedColumnNames": ["attributes", "ingested_at"]}
    assert props["Name"] == "team_qa_restricted_analyst_rows"


def test_grants_are_created_one_after_another(each_environment) -> None:
    """Lake Formation refuses concurrent grants (ConcurrentModificationException): each grant of a
    stack waits for the one before it."""
    for stack_name in each_environment.stack_names():
        template = each_environment.template(stack_name)
        grants = list(resources(template, GRANT))
        for previous, grant in zip(grants, grants[1:]):
            assert previous in template["Resources"][grant]["DependsOn"], (stack_name, grant)
