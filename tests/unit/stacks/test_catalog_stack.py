"""The catalog stack as the app builds it: config reaches the template, the curated Iceberg tables are
the job's definitions, the job reads raw and commits to those two tables only, the workflow chains the
steps, the optimizers maintain each table with its own role, and Athena encrypts with the lake's key."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from config import load_config
from config.model import AthenaConfig, CatalogConfig, CrawlerConfig, EtlJobConfig, TableMaintenanceConfig, WorkgroupConfig
from constructs_lib import ResourceNamer
from glue_scripts import curated_table
from stacks import CatalogStack
from stacks.telemetry_tables import TABLE_PREFIXES, iceberg_columns
from tests.synth import ENVIRONMENTS
from tests.unit.stacks.governance_helpers import QA_MAINTENANCE, qa_catalog_stack
from tests.unit.stacks.templates import only, resources
from tools.template_diff_parse import MODIFIED, parse_cdk_diff


def named(template: dict, resource_type: str, name: str) -> dict:
    (resource,) = [r for r in resources(template, resource_type).values() if r["Properties"].get("Name") == name]
    return resource


def foundation_output(env_name: str, output_name: str) -> dict:
    """A weak cross-stack reference to the foundation stack's output."""
    return {
        "Fn::GetStackOutput": {
            "StackName": f"analytics-{env_name}-foundation",
            "Region": {"Ref": "AWS::Region"},
            "OutputName": output_name,
        }
    }


RAW_ARN = "PublishOutputFnGetAttDataLakeRawBucket881B694BArnAF96B5B0"
RAW_BUCKET_NAME = "PublishOutputRefDataLakeRawBucket881B694B3DFE0B60"
CURATED_BUCKET_NAME = "PublishOutputRefDataLakeCuratedBucketFF1C9EA8758FBCF9"
CURATED_ARN = "PublishOutputFnGetAttDataLakeCuratedBucketFF1C9EA8Arn75DFFC01"
DATA_KEY_ARN = "PublishOutputFnGetAttDataLakeDataKey3C766BA3Arn3962FA2F"
QUERY_RESULTS_NAME = "PublishOutputRefDataLakeQueryResultsBucket10FBD32AF4CCCD96"
ANALYTICS_NAME = "PublishOutputRefDataLakeAnalyticsBucket218960F6EB17F0E1"


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def env(request, synthesised):
    name = request.param
    return name, synthesised(name).template(f"analytics-{name}-catalog"), load_config(name).environment


def role_statements(template: dict, role: str) -> list[dict]:
    """The statements of the one policy of ``role`` (a logical id, or the prefix of its policy's)."""
    (policy,) = [
        r for k, r in resources(template, "AWS::IAM::Policy").items()
        if k.startswith(role) or r["Properties"]["Roles"] == [{"Ref": role}]
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def actions_of(statement: dict) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def test_databases_are_named_by_the_naming_helper_and_kept_by_the_removal_policy(env) -> None:
    name, template, config = env
    databases = {r["Properties"]["DatabaseInput"]["Name"]: r for r in resources(template, "AWS::Glue::Database").values()}
    assert set(databases) == {f"analytics_{name}_raw", f"analytics_{name}_curated"}
    expected = "Retain" if config.data_removal_policy == "retain" else "Delete"
    for database in databases.values():
        assert (database["DeletionPolicy"], database["UpdateReplacePolicy"]) == (expected, expected)


def iceberg_input(template: dict, table_name: str) -> dict:
    (table,) = [r for r in resources(template, "AWS::Glue::Table").values() if r["Properties"]["Name"] == table_name]
    return table["Properties"]["OpenTableFormatInput"]["IcebergInput"]


def declared_fields(table_input: dict) -> list[dict]:
    """The template's schema as Iceberg's metadata writes it (a nested type is Iceberg's JSON in a string)."""
    fields = []
    for field in table_input["Schema"]["Fields"]:
        kind = field["Type"]
        fields.append({
            "id": field["Id"], "name": field["Name"], "required": field["Required"],
            "type": json.loads(kind) if kind.startswith("{") else kind, "doc": field["Doc"],
        })
    return fields


@pytest.mark.parametrize("definition", curated_table.TABLES, ids=lambda d: d.name)
def test_each_table_is_the_definition_the_job_creates_checks_and_evolves(env, definition) -> None:
    """Schema with its field ids, partition spec, sort order and properties: what
    glue_scripts/curated_table.py defines (tests/glue/ holds the table Spark creates to the same)."""
    _, template, _ = env
    table_input = iceberg_input(template, definition.name)
    assert (table_input["MetadataOperation"], table_input["Version"]) == ("CREATE", str(curated_table.FORMAT_VERSION))
    declared = table_input["IcebergTableInput"]
    assert declared_fields(declared) == definition.iceberg_schema()["fields"]
    spec = definition.iceberg_partition_spec()
    assert declared["PartitionSpec"] == {
        "SpecId": spec["spec-id"],
        "Fields": [{"FieldId": f["field-id"], "Name": f["name"], "SourceId": f["source-id"], "Transform": f["transform"]} for f in spec["fields"]],
    }
    order = definition.iceberg_sort_order()
    assert declared["WriteOrder"] == {
        "OrderId": order["order-id"],
        "Fields": [{"SourceId": f["source-id"], "Transform": f["transform"], "Direction": f["direction"], "NullOrder": f["null-order"]}
                   for f in order["fields"]],
    }
    expected_properties = {**definition.table_properties(), "comment": definition.description}
    del expected_properties["format-version"]  # Iceberg's format version, not a property (Version above)
    assert declared["Properties"] == expected_properties


def test_added_columns_are_told_from_the_creation_columns_by_their_ids() -> None:
    """A column the definition gains later takes the next free id (14 for the curated table): it is
    an added column, which IcebergTable numbers as ALTER TABLE ... ADD COLUMN does."""
    created, added = iceberg_columns(curated_table.CURATED)
    assert ([c.name for c in created], added) == ([c.name for c in curated_table.CURATED.columns], [])
    later = curated_table.Column(14, "firmware", "string", "Firmware version")
    evolved = dataclasses.replace(curated_table.CURATED, columns=(*curated_table.CURATED.columns, later))
    created, added = iceberg_columns(evolved)
    assert [c.name for c in created] == [c.name for c in curated_table.CURATED.columns]
    assert [(c.name, c.type, c.doc) for c in added] == [("firmware", "string", "Firmware version")]


def test_each_table_has_its_own_folder_under_the_registered_curated_prefix(env) -> None:
    """Optimizers must not run on tables that share a location, and the old Parquet files of an
    environment created before issue 19 (telemetry/event_date=...) must be outside both."""
    name, template, _ = env
    locations = {}
    for definition in curated_table.TABLES:
        location = iceberg_input(template, definition.name)["IcebergTableInput"]["Location"]
        assert location == {"Fn::Join": ["", ["s3://", foundation_output(name, CURATED_BUCKET_NAME), f"/{TABLE_PREFIXES[definition.name].rstrip('/')}"]]}
        locations[definition.name] = location["Fn::Join"][1][2]
    for table, path in locations.items():
        assert path.startswith("/telemetry/iceberg/"), table
        others = [other for t, other in locations.items() if t != table]
        assert not [other for other in others if other.startswith(path) or path.startswith(other)], (table, others)


def test_the_tables_are_kept_by_the_removal_policy(env) -> None:
    _, template, config = env
    expected = "Retain" if config.data_removal_policy == "retain" else "Delete"
    for table in resources(template, "AWS::Glue::Table").values():
        assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == (expected, expected)


def test_only_the_raw_zone_is_crawled(env) -> None:
    """An Iceberg commit updates the catalog itself, and Iceberg keeps its partitions in its own
    metadata: the curated crawler is gone, and nothing crawls the curated bucket."""
    name, template, _ = env
    crawlers = resources(template, "AWS::Glue::Crawler")
    assert [c["Properties"]["Name"] for c in crawlers.values()] == [f"analytics-{name}-raw-crawler"]
    assert "CatalogTargets" not in next(iter(crawlers.values()))["Properties"]["Targets"]


def test_raw_crawler_takes_its_policies_from_config_and_crawls_only_telemetry(env) -> None:
    name, template, config = env
    crawler = named(template, "AWS::Glue::Crawler", f"analytics-{name}-raw-crawler")["Properties"]
    assert crawler["Targets"] == {
        "S3Targets": [{"Path": {"Fn::Join": ["", ["s3://", foundation_output(name, "PublishOutputRefDataLakeRawBucket881B694B3DFE0B60"), "/telemetry/"]]}}]
    }
    policy = config.catalog.crawler
    assert crawler["RecrawlPolicy"] == {"RecrawlBehavior": policy.recrawl_behavior.upper()}
    assert crawler["SchemaChangePolicy"] == {
        "UpdateBehavior": policy.update_behavior.upper(),
        "DeleteBehavior": policy.delete_behavior.upper(),
    }
    assert crawler["CrawlerSecurityConfiguration"] == {"Ref": next(iter(resources(template, "AWS::Glue::SecurityConfiguration")))}


def test_security_configuration_encrypts_s3_output_with_the_lake_key(env) -> None:
    name, template, _ = env
    encryption = only(template, "AWS::Glue::SecurityConfiguration")["Properties"]["EncryptionConfiguration"]
    assert encryption["S3Encryptions"] == [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": foundation_output(name, DATA_KEY_ARN)}]
    assert encryption["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert encryption["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"


def test_job_capacity_and_failure_handling_come_from_config(env) -> None:
    name, template, config = env
    job = only(template, "AWS::Glue::Job")["Properties"]
    settings = config.catalog.job
    assert job["Name"] == f"analytics-{name}-raw-to-curated"
    assert job["GlueVersion"] == "5.1"
    assert (job["WorkerType"], job["NumberOfWorkers"]) == (settings.worker_type, settings.number_of_workers)
    assert (job["Timeout"], job["MaxRetries"]) == (settings.timeout_minutes, settings.max_retries)
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
    arguments = job["DefaultArguments"]
    assert arguments["--job-bookmark-option"] == "job-bookmark-enable"
    assert arguments["--enable-continuous-cloudwatch-log"] == "true"
    assert "--enable-metrics" in arguments


def test_job_arguments_are_the_definitions_glue_arguments(env) -> None:
    """curated_table.job_arguments: Iceberg on (--datalake-formats, --conf with the glue_catalog on the
    Glue Data Catalog), the raw path, the catalog, database and table names, rendered with the
    environment's buckets; and the job's two modules beside the script (--extra-py-files)."""
    name, template, _ = env
    arguments = only(template, "AWS::Glue::Job")["Properties"]["DefaultArguments"]
    raw, curated = foundation_output(name, RAW_BUCKET_NAME), foundation_output(name, CURATED_BUCKET_NAME)
    expected = curated_table.job_arguments(raw_path="s3://RAW/telemetry/", warehouse="s3://CURATED/telemetry/iceberg/", database=f"analytics_{name}_curated")
    for key, value in expected.items():
        if "RAW" in value or "CURATED" in value:
            before, after = value.split("RAW" if "RAW" in value else "CURATED")
            assert arguments[key] == {"Fn::Join": ["", [before, raw if "RAW" in value else curated, after]]}, key
        else:
            assert arguments[key] == value, key
    assert (arguments["--curated_table"], arguments["--quarantine_table"]) == ("telemetry", "telemetry_quarantine")
    assert "--curated_path" not in arguments and "--quarantine_path" not in arguments
    modules = arguments["--extra-py-files"]
    assert json.dumps(modules).endswith('.zip"]]}')  # one zip: curated_table.py and lakehouse.py by their own names


def test_the_job_modules_zip_holds_the_two_modules_by_their_names(synthesised) -> None:
    """Glue puts --extra-py-files on the Python path by object name, and the script imports
    curated_table and lakehouse: the staged folder asset must hold exactly those two files."""
    app = synthesised("dev")
    job = only(app.template("analytics-dev-catalog"), "AWS::Glue::Job")["Properties"]
    asset_hash = json.dumps(job["DefaultArguments"]["--extra-py-files"]).split("/")[-1].split(".zip")[0]
    staged = app.outdir / f"asset.{asset_hash}"
    assert sorted(p.name for p in staged.iterdir()) == ["curated_table.py", "lakehouse.py"]


def test_job_role_reads_raw_and_commits_to_the_two_tables_only(env) -> None:
    name, template, _ = env
    statements = role_statements(template, "RawToCuratedRole")
    object_access: dict[str, set[str]] = {}
    for statement in statements:
        for resource in statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]:
            if isinstance(resource, dict) and "Fn::Join" in resource:
                parts = resource["Fn::Join"][1]
                if parts[0] in (foundation_output(name, RAW_ARN), foundation_output(name, CURATED_ARN)):
                    bucket = "raw" if parts[0] == foundation_output(name, RAW_ARN) else "curated"
                    object_access.setdefault(f"{bucket}{parts[1]}", set()).update(actions_of(statement))
    writes = {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"}
    assert object_access == {
        "raw/telemetry/*": {"s3:GetObject"},
        "curated/telemetry/iceberg/readings/*": writes,
        "curated/telemetry/iceberg/quarantine/*": writes,
    }
    catalog = [s for s in statements if any(a.startswith("glue:") for a in actions_of(s))]
    assert {a for s in catalog for a in actions_of(s)} == {"glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"}
    tables = sorted({json.dumps(r).split("table/")[1].rstrip('"]}') for s in catalog for r in s["Resource"] if "table/" in json.dumps(r)})
    assert tables == [f"analytics_{name}_curated/telemetry", f"analytics_{name}_curated/telemetry_quarantine"]


def test_workflow_runs_raw_crawler_then_job_on_the_schedule(env) -> None:
    name, template, config = env
    triggers = resources(template, "AWS::Glue::Trigger")
    crawlers = {r["Properties"]["Name"]: k for k, r in resources(template, "AWS::Glue::Crawler").items()}
    (job_id,) = resources(template, "AWS::Glue::Job")
    start = [t["Properties"] for t in triggers.values() if t["Properties"]["Type"] == "SCHEDULED"]
    assert [(t["Schedule"], t["Actions"], t["StartOnCreation"]) for t in start] == [
        (config.catalog.schedule, [{"CrawlerName": {"Ref": crawlers[f"analytics-{name}-raw-crawler"]}}], True)
    ]
    chain = {
        json.dumps(t["Properties"]["Predicate"]["Conditions"][0], sort_keys=True): t["Properties"]["Actions"]
        for t in triggers.values()
        if t["Properties"]["Type"] == "CONDITIONAL"
    }
    raw_done = {"CrawlState": "SUCCEEDED", "CrawlerName": {"Ref": crawlers[f"analytics-{name}-raw-crawler"]}, "LogicalOperator": "EQUALS"}
    assert chain == {json.dumps(raw_done, sort_keys=True): [{"JobName": {"Ref": job_id}}]}


def test_failures_of_every_step_alert_the_alarm_topic(env) -> None:
    name, template, _ = env
    # The workflow's failure rules (event patterns); the optimizer checks' schedules target their function.
    rules = [r for r in resources(template, "AWS::Events::Rule").values() if "EventPattern" in r["Properties"]]
    watched = []
    for rule in rules:
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == foundation_output(name, "PublishOutputRefAlarmsTopic3A2DFEBA608CB3FF")
        detail = rule["Properties"]["EventPattern"]["detail"]
        watched += detail.get("jobName", []) + detail.get("crawlerName", [])
    assert sorted(w["Ref"] for w in watched) == sorted(
        [*resources(template, "AWS::Glue::Crawler"), *resources(template, "AWS::Glue::Job")]
    )


def test_workgroups_enforce_engine_3_kms_results_and_the_configured_cutoffs(env) -> None:
    name, template, config = env
    expected = {
        f"analytics-{name}-analysts": (QUERY_RESULTS_NAME, "/analysts/", config.athena.analysts.bytes_scanned_cutoff_mb),
        f"analytics-{name}-reports": (ANALYTICS_NAME, "/reports/", config.athena.reports.bytes_scanned_cutoff_mb),
    }
    workgroups = {r["Properties"]["Name"]: r["Properties"] for r in resources(template, "AWS::Athena::WorkGroup").values()}
    assert set(workgroups) == set(expected)
    for workgroup_name, (bucket_output, prefix, cutoff_mb) in expected.items():
        configuration = workgroups[workgroup_name]["WorkGroupConfiguration"]
        assert configuration["EnforceWorkGroupConfiguration"] is True
        assert configuration["EngineVersion"] == {"SelectedEngineVersion": "Athena engine version 3"}
        assert configuration["PublishCloudWatchMetricsEnabled"] is True
        assert configuration["BytesScannedCutoffPerQuery"] == cutoff_mb * 1_000_000
        results = configuration["ResultConfiguration"]
        assert results["OutputLocation"] == {"Fn::Join": ["", ["s3://", foundation_output(name, bucket_output), prefix]]}
        assert results["EncryptionConfiguration"] == {"EncryptionOption": "SSE_KMS", "KmsKey": foundation_output(name, DATA_KEY_ARN)}


def test_named_queries_are_the_definitions_iceberg_sql_in_the_analysts_workgroup(env) -> None:
    name, template, _ = env
    workgroups = {r["Properties"]["Name"]: k for k, r in resources(template, "AWS::Athena::WorkGroup").items()}
    queries = {r["Properties"]["Name"]: r["Properties"] for r in resources(template, "AWS::Athena::NamedQuery").values()}
    database = f"analytics_{name}_curated"
    assert queries == {
        query.name: {
            "Database": database, "Description": query.description, "Name": query.name,
            "QueryString": query.render(database), "WorkGroup": {"Ref": workgroups[f"analytics-{name}-analysts"]},
        }
        for query in curated_table.SAVED_QUERIES.values()
    }


def optimizers(template: dict) -> dict[tuple[str, str], dict]:
    """(table, type) -> the optimizer's properties."""
    return {
        (r["Properties"]["TableName"], r["Properties"]["Type"]): r["Properties"]
        for r in resources(template, "AWS::Glue::TableOptimizer").values()
    }


def test_each_table_has_the_three_optimizers_with_the_configured_settings(env) -> None:
    name, template, config = env
    settings = config.catalog.maintenance
    found = optimizers(template)
    assert set(found) == {(t.name, kind) for t in curated_table.TABLES for kind in ("compaction", "retention", "orphan_file_deletion")}
    for (_, kind), props in found.items():
        assert props["DatabaseName"] == f"analytics_{name}_curated" and props["TableOptimizerConfiguration"]["Enabled"] is True
        configuration = props["TableOptimizerConfiguration"]
        if kind == "compaction":
            assert configuration["CompactionConfiguration"] == {"IcebergConfiguration": {
                "Strategy": settings.compaction_strategy, "MinInputFiles": settings.compaction_min_input_files}}
        elif kind == "retention":
            assert configuration["RetentionConfiguration"] == {"IcebergConfiguration": {
                "SnapshotRetentionPeriodInDays": settings.snapshot_retention_days,
                "NumberOfSnapshotsToRetain": settings.snapshots_to_keep, "CleanExpiredFiles": settings.clean_expired_files}}
        else:
            assert configuration["OrphanFileDeletionConfiguration"] == {"IcebergConfiguration": {
                "OrphanFileRetentionPeriodInDays": settings.orphan_file_retention_days}}


def test_shipped_maintenance_settings_are_the_definitions(env) -> None:
    """What the benchmark and the local maintenance run (curated_table.MAINTENANCE), and what the
    tables' history.expire properties say."""
    _, _, config = env
    settings, expected = config.catalog.maintenance, curated_table.MAINTENANCE
    assert (settings.compaction_strategy, settings.compaction_min_input_files) == (expected["compaction_strategy"], expected["compaction_min_input_files"])
    assert (settings.snapshot_retention_days, settings.snapshots_to_keep, settings.clean_expired_files) == (
        expected["snapshot_retention_days"], expected["snapshots_to_keep"], expected["clean_expired_files"])
    assert settings.orphan_file_retention_days == expected["orphan_file_retention_days"]
    properties = curated_table.COMMON_PROPERTIES
    assert int(properties["history.expire.max-snapshot-age-ms"]) == settings.snapshot_retention_days * 24 * 3600 * 1000
    assert int(properties["history.expire.min-snapshots-to-keep"]) == settings.snapshots_to_keep


def test_each_table_is_maintained_by_a_role_of_its_own_reaching_that_table_only(env) -> None:
    name, template, _ = env
    roles = {}
    for (table, _), props in optimizers(template).items():
        roles.setdefault(table, set()).add(props["TableOptimizerConfiguration"]["RoleArn"]["Fn::GetAtt"][0])
    assert all(len(ids) == 1 for ids in roles.values()) and len({next(iter(ids)) for ids in roles.values()}) == 2
    for table, (role,) in roles.items():
        statements = role_statements(template, role)
        glue_tables = {json.dumps(r) for s in statements for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
                       if "glue" in json.dumps(s["Action"]) and "table/" in json.dumps(r)}
        assert len(glue_tables) == 1 and glue_tables.pop().endswith(f'table/analytics_{name}_curated/{table}"]]}}')
        prefixes = {json.dumps(r) for s in statements for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
                    if "s3:DeleteObject" in actions_of(s)}
        assert prefixes == {json.dumps({"Fn::Join": ["", [foundation_output(name, CURATED_ARN), f"/{TABLE_PREFIXES[table]}*"]]})}


def test_each_optimizer_alarms_on_the_alarm_topic(env) -> None:
    name, template, config = env
    topic = foundation_output(name, "PublishOutputRefAlarmsTopic3A2DFEBA608CB3FF")
    alarms = [a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("MetricName") == "OptimizerUnhealthy"]
    dimensions = [{d["Name"]: d["Value"] for d in a["Dimensions"]} for a in alarms]
    assert sorted((d["Table"], d["Optimizer"]) for d in dimensions) == sorted(
        (t.name, kind) for t in curated_table.TABLES for kind in ("compaction", "retention", "orphan_file_deletion")
    )
    assert all(a["AlarmActions"] == [topic] for a in alarms)
    rules = [r["Properties"] for r in resources(template, "AWS::Events::Rule").values() if "ScheduleExpression" in r["Properties"]]
    every = events.Schedule.rate(cdk.Duration.minutes(config.catalog.maintenance.check_interval_minutes)).expression_string
    assert sorted(r["ScheduleExpression"] for r in rules) == [every] * 2


def test_settings_the_shipped_environments_share_still_reach_the_template() -> None:
    """Worker type and the crawler policies are the same in every shipped environment, so the
    tests above would pass if the stack ignored them: build it once with other values."""
    app = cdk.App()
    stack = qa_catalog_stack(
        app,
        catalog=CatalogConfig(
            schedule="cron(0 3 * * ? *)",
            crawler=CrawlerConfig(
                recrawl_behavior="crawl_everything", update_behavior="update_in_database", delete_behavior="deprecate_in_database"
            ),
            job=EtlJobConfig(worker_type="G.2X", number_of_workers=7, timeout_minutes=33, max_retries=3),
            maintenance=TableMaintenanceConfig(
                compaction_strategy="sort", compaction_min_input_files=9, snapshot_retention_days=7, snapshots_to_keep=4,
                clean_expired_files=False, orphan_file_retention_days=6, check_interval_minutes=30, max_hours_without_run=72,
            ),
            migrate_from_parquet=False,
        ),
        athena=AthenaConfig(analysts=WorkgroupConfig(bytes_scanned_cutoff_mb=11), reports=WorkgroupConfig(bytes_scanned_cutoff_mb=12)),
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    template = Template.from_stack(stack).to_json()
    job = only(template, "AWS::Glue::Job")["Properties"]
    assert (job["WorkerType"], job["NumberOfWorkers"], job["Timeout"], job["MaxRetries"]) == ("G.2X", 7, 33, 3)
    crawler = named(template, "AWS::Glue::Crawler", "team-qa-raw-crawler")["Properties"]
    assert crawler["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_EVERYTHING"}
    assert crawler["SchemaChangePolicy"] == {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "DEPRECATE_IN_DATABASE"}
    log_groups = resources(template, "AWS::Logs::LogGroup").values()  # the job's and the two optimizer checks'
    assert len(log_groups) == 3 and {g["Properties"]["RetentionInDays"] for g in log_groups} == {30}
    cutoffs = sorted(w["Properties"]["WorkGroupConfiguration"]["BytesScannedCutoffPerQuery"] for w in resources(template, "AWS::Athena::WorkGroup").values())
    assert cutoffs == [11_000_000, 12_000_000]
    databases = resources(template, "AWS::Glue::Database").values()
    assert {d["DeletionPolicy"] for d in databases} == {"Delete"}
    found = optimizers(template)
    assert found[("telemetry", "compaction")]["TableOptimizerConfiguration"]["CompactionConfiguration"] == {
        "IcebergConfiguration": {"Strategy": "sort", "MinInputFiles": 9}}
    assert found[("telemetry_quarantine", "retention")]["TableOptimizerConfiguration"]["RetentionConfiguration"] == {
        "IcebergConfiguration": {"SnapshotRetentionPeriodInDays": 7, "NumberOfSnapshotsToRetain": 4, "CleanExpiredFiles": False}}
    assert found[("telemetry", "orphan_file_deletion")]["TableOptimizerConfiguration"]["OrphanFileDeletionConfiguration"] == {
        "IcebergConfiguration": {"OrphanFileRetentionPeriodInDays": 6}}
    rules = [r["Properties"]["ScheduleExpression"] for r in resources(template, "AWS::Events::Rule").values() if "ScheduleExpression" in r["Properties"]]
    assert rules == ["rate(30 minutes)"] * 2
    assert {t["DeletionPolicy"] for t in resources(template, "AWS::Glue::Table").values()} == {"Delete"}


# --- Schema evolution, as make diff sees it in the stack -----------------------------------------------

CLI = Path(__file__).resolve().parents[3] / "node_modules" / ".bin" / "cdk"


def _catalog_template(outdir: Path, curated: curated_table.TableDefinition) -> None:
    """The QA catalog stack with ``curated`` as the curated table's definition (as if
    glue_scripts/curated_table.py said so), synthesised into ``outdir``."""
    import stacks.catalog_stack as catalog_stack

    original = catalog_stack.CURATED
    catalog_stack.CURATED = curated
    try:
        app = cdk.App(outdir=str(outdir), context={"@aws-cdk/core:enablePartitionLiterals": True})
        qa_catalog_stack(
            app,
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
        app.synth()
    finally:
        catalog_stack.CURATED = original


def test_adding_a_column_to_the_definition_is_no_destructive_change_of_the_stack(tmp_path: Path) -> None:
    """A column added to curated_table.CURATED (the next free field id, as the data side's README says)
    changes the one table resource in place, through the pinned CLI's diff that make diff runs: no
    replacement, no removal, nothing else of the stack (optimizers, grants, filter, job) touched."""
    if not CLI.exists():
        pytest.fail("node_modules/.bin/cdk is missing: run `npm ci`")
    base, head = tmp_path / "base", tmp_path / "head"
    firmware = curated_table.Column(14, "firmware", "string", "Firmware version the device reported")
    _catalog_template(base, curated_table.CURATED)
    _catalog_template(head, dataclasses.replace(curated_table.CURATED, columns=(*curated_table.CURATED.columns, firmware)))
    done = subprocess.run(
        [str(CLI), "diff", "--app", str(head), "--template", str(base / "Catalog.template.json"), "--method", "template",
         "--exclusively", "--no-color", "--no-notices", "--no-lookups", "Catalog"],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    diff = parse_cdk_diff(done.stdout + done.stderr, "Catalog")
    (change,) = diff.resources
    assert (change.logical_id.startswith("TelemetryTable"), change.resource_type, change.category) == (True, "AWS::Glue::Table", MODIFIED)
    assert [p.name for p in change.properties] == ["OpenTableFormatInput"] and change.replacing_properties() == ()
    fields = json.loads((head / "Catalog.template.json").read_text())["Resources"][change.logical_id]["Properties"][
        "OpenTableFormatInput"]["IcebergInput"]["IcebergTableInput"]["Schema"]["Fields"]
    assert fields[-1] == {"Id": 14, "Name": "firmware", "Required": False, "Type": "string", "Doc": "Firmware version the device reported"}


# --- The one-time migration job (catalog.migrate_from_parquet) ------------------------------------------


@pytest.fixture(scope="module")
def migrating(tmp_path_factory):
    """prod, deployed (account and region set), with catalog.migrate_from_parquet on: the app as it is
    deployed for the move to Iceberg (README, "Moving an existing environment to Iceberg")."""
    import yaml

    from app import build_app
    from tests.compliance.test_cdk_nag import pack_findings
    from tests.synth import DEPLOYED_BY_ENV, app_context, write_deployed_config

    root = tmp_path_factory.mktemp("migrating")
    config_dir = write_deployed_config(root / "config", targets=(DEPLOYED_BY_ENV["prod"],))
    prod = config_dir / "environments" / "prod.yaml"
    data = yaml.safe_load(prod.read_text())
    data["catalog"]["migrate_from_parquet"] = True
    prod.write_text(yaml.safe_dump(data))
    app = build_app(app_context("prod"), str(root / "cdk.out"), config_dir=config_dir)
    assembly = app.synth()
    template = assembly.get_stack_by_name("analytics-prod-catalog").template
    return app, template, pack_findings(root / "cdk.out")


def test_the_migration_job_exists_only_while_asked_for(env, migrating) -> None:
    _, template, _ = env
    assert [j["Properties"]["Name"] for j in resources(template, "AWS::Glue::Job").values()] == [f"analytics-{env[0]}-raw-to-curated"]
    _, migrating_template, _ = migrating
    names = sorted(j["Properties"]["Name"] for j in resources(migrating_template, "AWS::Glue::Job").values())
    assert names == ["analytics-prod-migrate-to-iceberg", "analytics-prod-raw-to-curated"]


def test_the_migration_reads_the_old_layout_and_commits_like_the_job(migrating) -> None:
    """migrate_to_iceberg.glue_main's arguments: the old readings by a glob of their Hive folders (not
    the Iceberg tables under telemetry/iceberg/), the old quarantine, the catalog and tables; the Iceberg
    settings of the job; run by hand (no trigger), never retried by Glue."""
    _, template, _ = migrating
    (job,) = [j["Properties"] for j in resources(template, "AWS::Glue::Job").values() if j["Properties"]["Name"].endswith("migrate-to-iceberg")]
    arguments = job["DefaultArguments"]
    curated = {"Fn::GetStackOutput": {"StackName": "analytics-prod-foundation", "Region": "eu-west-1",
                                      "OutputName": "PublishOutputRefDataLakeCuratedBucketFF1C9EA8758FBCF9"}}
    assert arguments["--old_curated_path"] == {"Fn::Join": ["", ["s3://", curated, "/telemetry/event_date=*"]]}
    assert arguments["--old_quarantine_path"] == {"Fn::Join": ["", ["s3://", curated, "/quarantine/telemetry/"]]}
    assert (arguments["--iceberg_catalog"], arguments["--curated_database"]) == ("glue_catalog", "analytics_prod_curated")
    assert (arguments["--curated_table"], arguments["--quarantine_table"], arguments["--datalake-formats"]) == (
        "telemetry", "telemetry_quarantine", "iceberg")
    assert "--raw_path" not in arguments
    assert (job["GlueVersion"], job["MaxRetries"]) == ("5.1", 0)
    actions = [a for t in resources(template, "AWS::Glue::Trigger").values() for a in t["Properties"]["Actions"]]
    assert not [a for a in actions if "JobName" in a and "MigrateToIceberg" in json.dumps(a)]


def test_the_migration_role_reads_the_old_prefixes_and_writes_only_the_tables(migrating) -> None:
    _, template, _ = migrating
    statements = role_statements(template, "MigrateToIcebergRole")
    access: dict[str, set[str]] = {}
    for statement in statements:
        for resource in statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]:
            if isinstance(resource, dict) and "Fn::Join" in resource and "DataLakeCuratedBucket" in json.dumps(resource):
                parts = resource["Fn::Join"][1]
                if len(parts) == 2:
                    access.setdefault(parts[1], set()).update(actions_of(statement))
    writes = {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"}
    assert access == {
        "/telemetry/*": {"s3:GetObject"}, "/quarantine/telemetry/*": {"s3:GetObject"},
        "/telemetry/iceberg/readings/*": writes, "/telemetry/iceberg/quarantine/*": writes,
    }


def test_the_migration_job_has_the_jobs_lake_formation_grants_and_synthesises_nag_clean(migrating) -> None:
    """Its rows in stacks/lake_permissions.py (those of raw-to-curated-job), and no finding of the five packs
    left unacknowledged in the deployment that carries it."""
    app, template, findings_ = migrating
    assert findings_ == []
    grants = [g["Properties"] for g in resources(template, "AWS::LakeFormation::PrincipalPermissions").values()
              if "MigrateToIcebergRole" in json.dumps(g["Properties"]["Principal"])]
    job = [g["Properties"] for g in resources(template, "AWS::LakeFormation::PrincipalPermissions").values()
           if "RawToCuratedRole" in json.dumps(g["Properties"]["Principal"])]
    assert len(grants) == 3 and [(g["Resource"], sorted(g["Permissions"])) for g in grants] == [
        (g["Resource"], sorted(g["Permissions"])) for g in job
    ]
    from tests.compliance.nag import acknowledgments

    migration = sorted(a.rule_id.split("[")[0] for a in acknowledgments(app) if "/MigrateToIceberg/" in a.path + "/")
    assert migration == sorted([*["AwsSolutions-IAM5"] * 6, "HIPAA.Security-IAMNoInlinePolicy", "NIST.800.53.R5-IAMNoInlinePolicy",
                                "PCI.DSS.321-IAMNoInlinePolicy"])
