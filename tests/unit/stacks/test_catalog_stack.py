"""The catalog stack as the app builds it: config reaches the template, the job reads raw and
writes curated only, the workflow chains the steps, and Athena encrypts with the lake's key."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from config import load_config
from config.model import AthenaConfig, CatalogConfig, CrawlerConfig, EtlJobConfig, WorkgroupConfig
from constructs_lib import ResourceNamer
from glue_scripts import raw_to_curated
from stacks import CatalogStack
from stacks.telemetry_tables import CURATED_COLUMNS, PARTITION_KEYS
from tests.synth import ENVIRONMENTS
from tests.unit.stacks.governance_helpers import qa_catalog_stack
from tests.unit.stacks.templates import only, resources


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
CURATED_ARN = "PublishOutputFnGetAttDataLakeCuratedBucketFF1C9EA8Arn75DFFC01"
DATA_KEY_ARN = "PublishOutputFnGetAttDataLakeDataKey3C766BA3Arn3962FA2F"
QUERY_RESULTS_NAME = "PublishOutputRefDataLakeQueryResultsBucket10FBD32AF4CCCD96"
ANALYTICS_NAME = "PublishOutputRefDataLakeAnalyticsBucket218960F6EB17F0E1"


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def env(request, synthesised):
    name = request.param
    return name, synthesised(name).template(f"analytics-{name}-catalog"), load_config(name).environment


def role_statements(template: dict, role_prefix: str) -> list[dict]:
    (policy,) = [
        r for k, r in resources(template, "AWS::IAM::Policy").items() if k.startswith(role_prefix)
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


def test_curated_table_schema_is_what_the_job_writes() -> None:
    """The table's columns and the job's output schema are stated twice (the catalog must not
    infer them); they must agree column for column, type for type."""
    table = [(c.name, c.type.input_string) for c in CURATED_COLUMNS]
    job = [(name, spark_type.replace(" ", "")) for name, spark_type in raw_to_curated.CURATED_COLUMNS]
    assert table == job
    assert [(c.name, c.type.input_string) for c in PARTITION_KEYS] == [(raw_to_curated.PARTITION_COLUMN, "date")]


def test_curated_table_is_snappy_parquet_in_the_curated_zone_partitioned_by_event_date(env) -> None:
    name, template, _ = env
    table = only(template, "AWS::Glue::Table")["Properties"]["TableInput"]
    assert table["Name"] == "telemetry"
    assert table["PartitionKeys"] == [{"Name": "event_date", "Type": "date", "Comment": "UTC date of event_time"}]
    storage = table["StorageDescriptor"]
    assert storage["Location"] == {"Fn::Join": ["", ["s3://", foundation_output(name, "PublishOutputRefDataLakeCuratedBucketFF1C9EA8758FBCF9"), "/telemetry/"]]}
    assert storage["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert table["Parameters"]["parquet.compression"] == "SNAPPY"
    assert table["Parameters"]["has_encrypted_data"] is False


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


def test_curated_crawler_only_adds_partitions_to_the_defined_table(env) -> None:
    name, template, _ = env
    crawler = named(template, "AWS::Glue::Crawler", f"analytics-{name}-curated-crawler")["Properties"]
    (target,) = crawler["Targets"]["CatalogTargets"]
    assert target["Tables"] == ["telemetry"]
    assert crawler["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}


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
    assert job["GlueVersion"] == "5.0"
    assert (job["WorkerType"], job["NumberOfWorkers"]) == (settings.worker_type, settings.number_of_workers)
    assert (job["Timeout"], job["MaxRetries"]) == (settings.timeout_minutes, settings.max_retries)
    arguments = job["DefaultArguments"]
    assert arguments["--job-bookmark-option"] == "job-bookmark-enable"
    assert arguments["--enable-continuous-cloudwatch-log"] == "true"
    assert "--enable-metrics" in arguments


def test_job_arguments_point_at_raw_curated_and_quarantine(env) -> None:
    name, template, _ = env
    arguments = only(template, "AWS::Glue::Job")["Properties"]["DefaultArguments"]
    raw = foundation_output(name, "PublishOutputRefDataLakeRawBucket881B694B3DFE0B60")
    curated = foundation_output(name, "PublishOutputRefDataLakeCuratedBucketFF1C9EA8758FBCF9")
    assert arguments["--raw_path"] == {"Fn::Join": ["", ["s3://", raw, "/telemetry/"]]}
    assert arguments["--curated_path"] == {"Fn::Join": ["", ["s3://", curated, "/telemetry/"]]}
    assert arguments["--quarantine_path"] == {"Fn::Join": ["", ["s3://", curated, "/quarantine/telemetry/"]]}


def test_job_role_reads_raw_and_writes_curated_only(env) -> None:
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
    assert object_access == {
        "raw/telemetry/*": {"s3:GetObject"},
        "curated/telemetry/*": {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"},
        "curated/quarantine/telemetry/*": {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"},
    }
    assert not [a for s in statements for a in actions_of(s) if a.startswith("glue:")]


def test_workflow_runs_raw_crawler_then_job_then_curated_crawler_on_the_schedule(env) -> None:
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
    job_done = {"JobName": {"Ref": job_id}, "LogicalOperator": "EQUALS", "State": "SUCCEEDED"}
    assert chain == {
        json.dumps(raw_done, sort_keys=True): [{"JobName": {"Ref": job_id}}],
        json.dumps(job_done, sort_keys=True): [{"CrawlerName": {"Ref": crawlers[f"analytics-{name}-curated-crawler"]}}],
    }


def test_failures_of_every_step_alert_the_alarm_topic(env) -> None:
    name, template, _ = env
    rules = resources(template, "AWS::Events::Rule").values()
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


def test_named_queries_run_in_the_analysts_workgroup_against_the_curated_database(env) -> None:
    name, template, _ = env
    workgroups = {r["Properties"]["Name"]: k for k, r in resources(template, "AWS::Athena::WorkGroup").items()}
    queries = {r["Properties"]["Name"]: r["Properties"] for r in resources(template, "AWS::Athena::NamedQuery").values()}
    assert set(queries) == {"latest-reading-per-device", "hourly-aggregates-per-device", "silent-devices"}
    for query in queries.values():
        assert query["WorkGroup"] == {"Ref": workgroups[f"analytics-{name}-analysts"]}
        assert query["Database"] == f"analytics_{name}_curated"
        assert f'FROM "analytics_{name}_curated"."telemetry"' in query["QueryString"]


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
    assert only(template, "AWS::Logs::LogGroup")["Properties"]["RetentionInDays"] == 30
    cutoffs = sorted(w["Properties"]["WorkGroupConfiguration"]["BytesScannedCutoffPerQuery"] for w in resources(template, "AWS::Athena::WorkGroup").values())
    assert cutoffs == [11_000_000, 12_000_000]
    databases = resources(template, "AWS::Glue::Database").values()
    assert {d["DeletionPolicy"] for d in databases} == {"Delete"}
