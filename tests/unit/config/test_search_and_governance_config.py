"""OpenSearch and Lake Formation config: every bad value fails with the environment and key named,
prod search is highly available, and the copies of rules the config cannot import agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import load_config
from tests.unit.config.editing import edit, error_of

ROLE_ARN = "arn:aws:iam::111122223333:role/team-analyst"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("data_node_instance_type", "r7g.large", "must be an OpenSearch instance type"),
        ("data_node_instance_type", "r7g.large.elasticsearch", "must be an OpenSearch instance type"),
        ("data_nodes", 0, "greater than or equal to 1"),
        ("volume_size_gib", 9, "greater than or equal to 10"),
        ("master_nodes", 2, "Input should be 0, 3 or 5"),
        ("master_node_instance_type", "m7g.large", "must be an OpenSearch instance type"),
    ],
)
def test_search_values_are_checked_and_named(config_dir: Path, key: str, value: object, expected: str) -> None:
    edit(config_dir, "staging", lambda d: d["search"].update({key: value}))
    message = error_of(config_dir, "staging")
    assert "environment 'staging'" in message
    assert f"key 'search.{key}'" in message
    assert expected in message


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("buffer_size_mib", 101, "less than or equal to 100"),
        ("buffer_interval_seconds", 901, "less than or equal to 900"),
        ("retry_duration_seconds", 7201, "less than or equal to 7200"),
        ("retry_duration_seconds", -1, "greater than or equal to 0"),
        ("max_data_freshness_seconds", 59, "greater than or equal to 60"),
    ],
)
def test_search_delivery_values_are_checked_and_named(config_dir: Path, key: str, value: int, expected: str) -> None:
    edit(config_dir, "dev", lambda d: d["search"]["delivery"].update({key: value}))
    message = error_of(config_dir, "dev")
    assert f"key 'search.delivery.{key}'" in message
    assert expected in message


def test_master_nodes_and_their_type_go_together(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d["search"].update(master_nodes=3))
    assert "master_node_instance_type must be given exactly when master_nodes is 3 or 5" in error_of(config_dir, "dev")
    edit(config_dir, "staging", lambda d: d["search"].update(master_nodes=0))
    assert "got master_nodes=0, master_node_instance_type='m7g.large.search'" in error_of(config_dir, "staging")


def test_data_nodes_spread_evenly_over_the_zones(config_dir: Path) -> None:
    edit(config_dir, "staging", lambda d: d["search"].update(data_nodes=3))
    message = error_of(config_dir, "staging")
    assert "environment 'staging'" in message
    assert "search.data_nodes (3) must be a multiple of network.availability_zones (2)" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"master_nodes": 0, "master_node_instance_type": None}, "dedicated master nodes"),
        ({"data_node_instance_type": "t3.medium.search"}, "no burstable (t2/t3) instance types (got t3.medium.search)"),
        ({"data_nodes": 6, "master_node_instance_type": "t3.small.search"}, "(got t3.small.search)"),
    ],
)
def test_standby_needs_masters_and_no_burstable_types(config_dir: Path, change: dict, expected: str) -> None:
    edit(config_dir, "prod", lambda d: d["search"].update(change))
    message = error_of(config_dir, "prod")
    assert "key 'search'" in message and "multi_az_with_standby needs" in message
    assert expected in message


def test_standby_needs_a_multiple_of_three_data_nodes(config_dir: Path) -> None:
    def change(d: dict) -> None:
        d["network"]["availability_zones"] = 2
        d["search"].update(data_nodes=4, multi_az_with_standby=True, master_nodes=3, master_node_instance_type="m7g.large.search")

    edit(config_dir, "staging", change)
    assert "a multiple of 3 data_nodes (got 4)" in error_of(config_dir, "staging")


def test_standby_needs_three_zones(config_dir: Path) -> None:
    edit(config_dir, "staging", lambda d: d["search"].update(data_nodes=6, multi_az_with_standby=True))
    assert "search.multi_az_with_standby needs network.availability_zones 3; got 2" in error_of(config_dir, "staging")


@pytest.mark.parametrize(
    "change",
    [{"multi_az_with_standby": False}, {"master_nodes": 0, "master_node_instance_type": None, "multi_az_with_standby": False}],
)
def test_prod_search_must_be_highly_available(config_dir: Path, change: dict) -> None:
    edit(config_dir, "prod", lambda d: d["search"].update(change))
    assert "search must be highly available in prod" in error_of(config_dir, "prod")


def test_the_same_rule_does_not_bind_dev() -> None:
    dev = load_config("dev").environment.search
    assert dev.master_nodes == 0 and not dev.multi_az_with_standby


@pytest.mark.parametrize(
    ("row_filter", "expected"),
    [
        ("event_time > '2026-01-01'", "may compare only the curated columns device_id, schema_version"),
        ("attributes.site = 'lyon'", "got attributes.site"),
        ("device_id = 'eu-1", "unterminated string literal"),
        ("", "at least 1 character"),
        ("device_id = '" + "x" * 2050 + "'", "at most 2047 characters"),
    ],
)
def test_row_filter_is_checked(config_dir: Path, row_filter: str, expected: str) -> None:
    edit(config_dir, "staging", lambda d: d["governance"]["restricted_analyst"].update(row_filter=row_filter))
    message = error_of(config_dir, "staging")
    assert "key 'governance.restricted_analyst.row_filter'" in message
    assert expected in message


@pytest.mark.parametrize(
    "row_filter",
    ["device_id LIKE 'eu-%'", "(schema_version >= 2) AND NOT (device_id IN ('a', 'it''s and or'))", "device_id IS NOT NULL"],
)
def test_valid_row_filters_load(config_dir: Path, row_filter: str) -> None:
    edit(config_dir, "staging", lambda d: d["governance"]["restricted_analyst"].update(row_filter=row_filter))
    assert load_config("staging", config_dir).environment.governance.restricted_analyst.row_filter == row_filter


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["location"], "Input should be 'device_id', 'event_time'"),
        (["attributes", "attributes"], "lists a column twice"),
        (["device_id", "event_time", "ingested_at", "schema_version", "metrics", "attributes"], "would hide every column"),
    ],
)
def test_sensitive_columns_are_curated_columns(config_dir: Path, columns: list, expected: str) -> None:
    edit(config_dir, "dev", lambda d: d["governance"].update(sensitive_columns=columns))
    message = error_of(config_dir, "dev")
    assert "key 'governance.sensitive_columns" in message
    assert expected in message


def test_persona_role_arn_is_an_iam_role_arn(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d["governance"]["analyst"].update(role_arn="arn:aws:iam::111122223333:user/bob"))
    message = error_of(config_dir, "dev")
    assert "key 'governance.analyst.role_arn'" in message and "String should match pattern" in message


def test_persona_role_must_live_in_the_environments_account(config_dir: Path) -> None:
    def change(d: dict) -> None:
        d.update(account="444455556666", region="eu-west-1")
        d["governance"]["restricted_analyst"]["role_arn"] = ROLE_ARN

    edit(config_dir, "staging", change)
    assert (
        "governance.restricted_analyst.role_arn must be a role of the environment's account 444455556666"
        in error_of(config_dir, "staging")
    )


def test_an_imported_persona_role_loads(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d["governance"]["analyst"].update(role_arn=ROLE_ARN))
    assert load_config("dev", config_dir).environment.governance.analyst.role_arn == ROLE_ARN


def test_lake_formation_admin_roles_are_role_names(config_dir: Path) -> None:
    project = config_dir / "project.yaml"
    project.write_text(project.read_text().replace("- data-platform-admin", "- arn:aws:iam::111122223333:role/admin"))
    message = error_of(config_dir, "dev")
    assert "project.yaml: key 'baseline.lake_formation_admin_roles.0'" in message


def test_config_states_the_curated_columns_the_table_declares() -> None:
    """config imports nothing of the app: its copy of the data column names must be the table's
    (glue_scripts/curated_table.py, less the lineage columns the job adds: source_file, record_id,
    run_id), and the row-filter columns those of a type Lake Formation row filters compare."""
    from config.model import CURATED_COLUMN_NAMES, ROW_FILTER_COLUMNS
    from glue_scripts.curated_table import CURATED

    data_columns = [column for column in CURATED.columns if column.name not in ("source_file", "record_id", "run_id")]
    assert CURATED_COLUMN_NAMES == tuple(column.name for column in data_columns)
    filterable = {column.name for column in data_columns if column.type in ("string", "int", "long", "double", "boolean")}
    assert set(ROW_FILTER_COLUMNS) == filterable
