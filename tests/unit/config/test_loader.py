"""Config loading and validation: every bad value fails with the environment and key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, available_environments, load_config
from tests.unit.config.editing import edit, error_of


def test_the_three_environments_are_defined() -> None:
    assert available_environments() == ("dev", "prod", "staging")


@pytest.mark.parametrize("env_name", ["dev", "staging", "prod"])
def test_shipped_configs_are_valid(env_name: str) -> None:
    config = load_config(env_name)
    assert config.environment.name == env_name
    assert config.environment.project == config.project.project == "analytics"


def test_default_environment_is_dev() -> None:
    assert load_config(None).environment.name == "dev"


def test_prod_retains_data_and_alarms_reach_someone() -> None:
    prod = load_config("prod").environment
    assert prod.data_removal_policy == "retain"
    assert prod.alarms.email_subscribers


def test_tags_cover_project_environment_owner_and_cost_centre() -> None:
    tags = load_config("staging").environment.resource_tags
    assert tags == {
        "project": "analytics",
        "environment": "staging",
        "owner": "data-platform-team",
        "cost-centre": "CC-1000",
    }


@pytest.mark.parametrize("bad_name", ["qa", "", "PROD"])
def test_unknown_environment_lists_allowed_values(bad_name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(bad_name)
    message = str(caught.value)
    assert repr(bad_name) in message
    assert "dev, prod, staging" in message


def test_missing_key_is_named(config_dir: Path) -> None:
    edit(config_dir, "staging", lambda d: d.pop("data_removal_policy"))
    message = error_of(config_dir, "staging")
    assert "environment 'staging'" in message
    assert "key 'data_removal_policy': missing" in message


def test_missing_nested_key_is_named_with_its_path(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d["tags"].pop("cost_centre"))
    assert "key 'tags.cost_centre': missing" in error_of(config_dir, "dev")


def test_misspelt_key_is_rejected_not_ignored(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d["storage"].update(noncurrent_version_expiry_days=3))
    message = error_of(config_dir, "dev")
    assert "key 'storage.noncurrent_version_expiry_days': unknown key" in message


def test_value_outside_the_allowed_set_names_the_allowed_values(config_dir: Path) -> None:
    edit(config_dir, "staging", lambda d: d.update(data_removal_policy="snapshot"))
    message = error_of(config_dir, "staging")
    assert "key 'data_removal_policy'" in message
    assert "'retain' or 'destroy'" in message
    assert "got 'snapshot'" in message


def test_out_of_range_number_names_the_bound(config_dir: Path) -> None:
    edit(config_dir, "prod", lambda d: d["storage"].update(raw_infrequent_access_after_days=10))
    message = error_of(config_dir, "prod")
    assert "environment 'prod'" in message
    assert "key 'storage.raw_infrequent_access_after_days'" in message
    assert "greater than or equal to 30" in message
    assert "got 10" in message


def test_wrong_type_is_rejected(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d["storage"].update(query_results_expiration_days="a week"))
    assert "key 'storage.query_results_expiration_days'" in error_of(config_dir, "dev")


def test_log_retention_must_be_a_cloudwatch_period(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d["logging"].update(retention_days=10))
    message = error_of(config_dir, "dev")
    assert "key 'logging.retention_days'" in message
    assert "1, 3, 5, 7, 14, 30" in message
    assert "got 10" in message


def test_glacier_transition_needs_thirty_days_in_infrequent_access(config_dir: Path) -> None:
    edit(config_dir, "prod", lambda d: d["storage"].update(raw_infrequent_access_after_days=60, raw_glacier_after_days=75))
    message = error_of(config_dir, "prod")
    assert "key 'storage'" in message
    assert "allowed >= 90, got 75" in message


def test_prod_cannot_destroy_data(config_dir: Path) -> None:
    edit(config_dir, "prod", lambda d: d.update(data_removal_policy="destroy"))
    message = error_of(config_dir, "prod")
    assert "environment 'prod'" in message
    assert "data_removal_policy must be 'retain' in prod" in message


def test_other_environments_may_destroy_data_when_they_say_so(config_dir: Path) -> None:
    edit(config_dir, "staging", lambda d: d.update(data_removal_policy="destroy"))
    assert load_config("staging", config_dir).environment.destroys_data_on_delete


def test_prod_needs_an_alarm_subscriber(config_dir: Path) -> None:
    edit(config_dir, "prod", lambda d: d["alarms"].update(email_subscribers=[]))
    assert "alarms.email_subscribers must list at least one address in prod" in error_of(config_dir, "prod")


@pytest.mark.parametrize("address", ["not-an-address", "a@b", "x y@example.com"])
def test_bad_email_address_is_named(config_dir: Path, address: str) -> None:
    edit(config_dir, "staging", lambda d: d["alarms"].update(email_subscribers=[address]))
    message = error_of(config_dir, "staging")
    assert "key 'alarms.email_subscribers'" in message
    assert repr(address) in message


def test_account_without_region_is_rejected(config_dir: Path) -> None:
    edit(config_dir, "staging", lambda d: d.update(account="123456789012"))
    assert "account and region must be given together" in error_of(config_dir, "staging")


@pytest.mark.parametrize(
    ("key", "value"), [("account", "12345"), ("region", "Europe-West")]
)
def test_malformed_account_or_region_is_named(config_dir: Path, key: str, value: str) -> None:
    edit(config_dir, "staging", lambda d: d.update({"account": "123456789012", "region": "eu-west-1", key: value}))
    assert f"key '{key}'" in error_of(config_dir, "staging")


def test_account_and_region_make_the_environment_specific(config_dir: Path) -> None:
    edit(config_dir, "staging", lambda d: d.update(account="123456789012", region="eu-west-1"))
    env = load_config("staging", config_dir).environment
    assert (env.account, env.region, env.is_environment_agnostic) == ("123456789012", "eu-west-1", False)


def test_bad_tag_value_is_named(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d["tags"].update(owner="team<script>"))
    assert "key 'tags.owner'" in error_of(config_dir, "dev")


def test_name_and_project_cannot_be_overridden_per_environment(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d.update(project="other"))
    assert "'name' and 'project' come from the file name" in error_of(config_dir, "dev")


def test_problem_in_project_file_names_that_file(config_dir: Path) -> None:
    (config_dir / "project.yaml").write_text("project: Analytics Platform\nbaseline: {owner: a, cost_centre: b}\n")
    message = error_of(config_dir, "dev")
    assert "project.yaml: key 'project'" in message


def test_invalid_yaml_is_reported_with_the_file(config_dir: Path) -> None:
    (config_dir / "environments" / "dev.yaml").write_text("tags: [unclosed\n")
    assert "dev.yaml is not valid YAML" in error_of(config_dir, "dev")


def test_a_file_that_is_not_a_mapping_is_rejected(config_dir: Path) -> None:
    (config_dir / "environments" / "dev.yaml").write_text("- just\n- a list\n")
    assert "must hold a mapping" in error_of(config_dir, "dev")


def test_config_is_immutable() -> None:
    env = load_config("dev").environment
    with pytest.raises(Exception):
        env.data_removal_policy = "retain"  # type: ignore[misc]


def test_config_and_construct_agree_on_the_s3_lifecycle_minimums() -> None:
    """config may not import constructs_lib (one-way dependencies), so each states the S3 rules;
    this keeps a value the config accepts from being rejected later by the construct."""
    from config import model
    from constructs_lib.storage import data_lake_storage

    assert model.S3_MIN_DAYS_BEFORE_INFREQUENT_ACCESS == data_lake_storage.S3_MIN_DAYS_BEFORE_INFREQUENT_ACCESS
    assert model.S3_MIN_DAYS_IN_INFREQUENT_ACCESS == data_lake_storage.S3_MIN_DAYS_IN_INFREQUENT_ACCESS


def test_provisioned_stream_needs_a_shard_count(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d["ingestion"]["stream"].update(capacity_mode="provisioned"))
    message = error_of(config_dir, "dev")
    assert "key 'ingestion.stream'" in message
    assert "shard_count is required when capacity_mode is 'provisioned'" in message


def test_on_demand_stream_refuses_a_shard_count(config_dir: Path) -> None:
    edit(config_dir, "prod", lambda d: d["ingestion"]["stream"].update(shard_count=4))
    assert "shard_count must be omitted when capacity_mode is 'on_demand'" in error_of(config_dir, "prod")


def test_prod_keeps_a_week_of_stream_data(config_dir: Path) -> None:
    edit(config_dir, "prod", lambda d: d["ingestion"]["stream"].update(retention_hours=72))
    message = error_of(config_dir, "prod")
    assert "ingestion.stream.retention_hours must be at least 168 (7 days) in prod; got 72" in message


@pytest.mark.parametrize(
    ("section", "key", "value", "bound"),
    [
        ("delivery", "buffer_size_mib", 32, "greater than or equal to 64"),
        ("delivery", "processor_buffer_size_mib", 3, "less than or equal to 2"),
        ("transform", "timeout_seconds", 600, "less than or equal to 300"),
        ("stream", "retention_hours", 12, "greater than or equal to 24"),
    ],
)
def test_ingestion_limits_are_named(config_dir: Path, section: str, key: str, value: int, bound: str) -> None:
    edit(config_dir, "staging", lambda d: d["ingestion"][section].update({key: value}))
    message = error_of(config_dir, "staging")
    assert f"key 'ingestion.{section}.{key}'" in message
    assert bound in message


def test_topic_prefix_must_be_one_plain_topic_level(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d["ingestion"].update(topic_prefix="a/+"))
    assert "key 'ingestion.topic_prefix'" in error_of(config_dir, "dev")


def test_incremental_crawls_need_log_only_schema_policies(config_dir: Path) -> None:
    edit(config_dir, "staging", lambda d: d["catalog"]["crawler"].update(update_behavior="update_in_database"))
    message = error_of(config_dir, "staging")
    assert "environment 'staging'" in message
    assert "key 'catalog.crawler'" in message
    assert "recrawl_behavior 'crawl_new_folders_only' requires update_behavior and delete_behavior 'log'" in message
    assert "update_behavior='update_in_database'" in message


def test_full_crawls_may_update_the_schema(config_dir: Path) -> None:
    edit(
        config_dir,
        "dev",
        lambda d: d["catalog"]["crawler"].update(
            recrawl_behavior="crawl_everything", update_behavior="update_in_database", delete_behavior="deprecate_in_database"
        ),
    )
    crawler = load_config("dev", config_dir).environment.catalog.crawler
    assert (crawler.update_behavior, crawler.delete_behavior) == ("update_in_database", "deprecate_in_database")


@pytest.mark.parametrize("schedule", ["rate(1 hour)", "cron(15 * * * ?)", "15 * * * ? *", ""])
def test_schedule_must_be_a_six_field_glue_cron(config_dir: Path, schedule: str) -> None:
    edit(config_dir, "dev", lambda d: d["catalog"].update(schedule=schedule))
    message = error_of(config_dir, "dev")
    assert "key 'catalog.schedule'" in message
    assert "Glue cron expression with six fields" in message


@pytest.mark.parametrize(
    ("path", "key", "value", "expected"),
    [
        (("catalog", "job"), "number_of_workers", 1, "greater than or equal to 2"),
        (("catalog", "job"), "worker_type", "G.025X", "'G.1X', 'G.2X', 'G.4X' or 'G.8X'"),
        (("catalog", "job"), "max_retries", 11, "less than or equal to 10"),
        (("catalog", "job"), "timeout_minutes", 0, "greater than or equal to 1"),
        (("catalog", "maintenance"), "compaction_strategy", "zorder", "'binpack', 'sort' or 'z-order'"),
        (("catalog", "maintenance"), "compaction_min_input_files", 0, "greater than or equal to 1"),
        (("catalog", "maintenance"), "snapshots_to_keep", 0, "greater than or equal to 1"),
        (("catalog", "maintenance"), "check_interval_minutes", 4, "greater than or equal to 5"),
        (("catalog", "maintenance"), "max_hours_without_run", 24, "greater than or equal to 25"),
        (("athena", "analysts"), "bytes_scanned_cutoff_mb", 9, "greater than or equal to 10"),
        (("athena", "reports"), "bytes_scanned_cutoff_mb", 0, "greater than or equal to 10"),
    ],
)
def test_catalog_and_athena_limits_are_named(config_dir: Path, path: tuple[str, str], key: str, value: object, expected: str) -> None:
    edit(config_dir, "prod", lambda d: d[path[0]][path[1]].update({key: value}))
    message = error_of(config_dir, "prod")
    assert f"key '{'.'.join(path)}.{key}'" in message
    assert expected in message


def test_orphan_files_must_outlive_a_job_run(config_dir: Path) -> None:
    """A run's files are orphans until it commits: orphan deletion must not reach them first."""
    edit(config_dir, "prod", lambda d: (d["catalog"]["job"].update(timeout_minutes=2880), d["catalog"]["maintenance"].update(orphan_file_retention_days=2)))
    message = error_of(config_dir, "prod")
    assert "key 'catalog'" in message
    assert "maintenance.orphan_file_retention_days (2) must be longer than job.timeout_minutes (2880 minutes)" in message
    edit(config_dir, "prod", lambda d: d["catalog"]["maintenance"].update(orphan_file_retention_days=3))
    assert load_config("prod", config_dir).environment.catalog.maintenance.orphan_file_retention_days == 3


def test_table_maintenance_is_required_and_takes_no_unknown_key(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d["catalog"]["maintenance"].update(vacuum=True))
    assert "key 'catalog.maintenance.vacuum'" in error_of(config_dir, "dev")
    edit(config_dir, "staging", lambda d: d["catalog"].pop("maintenance"))
    assert "key 'catalog.maintenance'" in error_of(config_dir, "staging")


def test_config_and_construct_agree_on_the_athena_cutoff_minimum() -> None:
    from config import model
    from constructs_lib.catalog import athena_workgroup

    assert model.ATHENA_MIN_BYTES_SCANNED_CUTOFF_MB * 1_000_000 == athena_workgroup.MIN_BYTES_SCANNED_CUTOFF
