"""Network, Redshift and EMR config: every bad value fails with the environment and key named,
and prod keeps its warehouse safe."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import load_config
from tests.unit.config.editing import edit, error_of


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("network", "cidr", "10.0.0.0/8", "private (RFC 1918) range of /16 to /22"),
        ("network", "cidr", "10.0.0.0/23", "private (RFC 1918) range of /16 to /22"),
        ("network", "cidr", "8.8.0.0/16", "private (RFC 1918) range of /16 to /22"),
        ("network", "cidr", "10.0.0.1/16", "host bits set"),
        ("network", "availability_zones", 1, "greater than or equal to 2"),
        ("network", "availability_zones", 4, "less than or equal to 3"),
        ("redshift", "node_type", "dc2.large", "'ra3.large', 'ra3.xlplus', 'ra3.4xlarge' or 'ra3.16xlarge'"),
        ("redshift", "port", 5439, "must not be Redshift's default port 5439"),
        ("redshift", "port", 6000, "5431-5455 or 8191-8215"),
        ("redshift", "admin_username", "awsuser", "must not be one of"),
        ("redshift", "admin_username", "Admin-User", "String should match pattern"),
        ("redshift", "snapshot_retention_days", 36, "less than or equal to 35"),
        ("redshift", "maintenance_window", "Sun:03:00-Sun:03:30", "must look like 'sun:03:00-sun:03:30'"),
        ("redshift", "maintenance_window", "sun:25:00-sun:03:30", "must look like 'sun:03:00-sun:03:30'"),
        ("redshift", "admin_secret_rotation_days", 0, "greater than or equal to 1"),
        ("emr", "release_label", "emr-6.15.0", "String should match pattern"),
        ("emr", "extra_applications", ["Spark2"], "'Hadoop', 'JupyterEnterpriseGateway'"),
        ("emr", "core_instance_type", "xlarge", "must be an EC2 instance type"),
        ("emr", "idle_timeout_minutes", 0, "greater than or equal to 1"),
        ("emr", "tls_certificates_s3_uri", "https://bucket/certs.zip", "String should match pattern"),
        ("emr", "tls_certificates_s3_uri", "s3://bucket/certs.pem", "String should match pattern"),
    ],
)
def test_compute_values_are_checked_and_named(config_dir: Path, section: str, key: str, value: object, expected: str) -> None:
    edit(config_dir, "staging", lambda d: d[section].update({key: value}))
    message = error_of(config_dir, "staging")
    assert "staging" in message
    assert f"key '{section}.{key}" in message  # a list item adds its index: '...applications.0'
    assert expected in message


def test_more_nat_gateways_than_zones_is_refused(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d["network"].update(nat_gateways=3, availability_zones=2))
    assert "nat_gateways (3) must not exceed availability_zones (2)" in error_of(config_dir, "dev")


@pytest.mark.parametrize("node_type", ["ra3.4xlarge", "ra3.16xlarge"])
def test_single_node_needs_a_type_that_offers_it(config_dir: Path, node_type: str) -> None:
    edit(config_dir, "dev", lambda d: d["redshift"].update(node_type=node_type, number_of_nodes=1))
    assert f"{node_type} needs at least 2 nodes" in error_of(config_dir, "dev")


def test_core_maximum_below_minimum_is_refused(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d["emr"].update(core_instances=3, max_core_instances=2))
    assert "max_core_instances (2) must be at least core_instances (3)" in error_of(config_dir, "dev")


def test_pause_schedule_must_be_a_six_field_cron(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d["redshift"]["pause_resume"].update(pause_schedule="0 19 * * 1-5"))
    message = error_of(config_dir, "dev")
    assert "key 'redshift.pause_resume.pause_schedule'" in message
    assert "cron expression with six fields" in message


def test_kerberos_realm_is_upper_case(config_dir: Path) -> None:
    edit(config_dir, "staging", lambda d: d["emr"]["kerberos"].update(realm="analytics.internal"))
    assert "key 'emr.kerberos.realm'" in error_of(config_dir, "staging")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"snapshot_retention_days": 6}, "redshift.snapshot_retention_days must be at least 7 in prod; got 6"),
        ({"number_of_nodes": 1, "node_type": "ra3.xlplus"}, "redshift.number_of_nodes must be at least 2 in prod"),
        (
            {"pause_resume": {"pause_schedule": "cron(0 19 ? * MON-FRI *)", "resume_schedule": "cron(0 7 ? * MON-FRI *)"}},
            "redshift.pause_resume must be omitted in prod",
        ),
    ],
)
def test_prod_warehouse_is_always_on_and_recoverable(config_dir: Path, change: dict, expected: str) -> None:
    edit(config_dir, "prod", lambda d: d["redshift"].update(change))
    assert expected in error_of(config_dir, "prod")


def test_the_same_rules_do_not_bind_dev(config_dir: Path) -> None:
    edit(config_dir, "dev", lambda d: d["redshift"].update(snapshot_retention_days=1, number_of_nodes=1))
    assert load_config("dev", config_dir).environment.redshift.number_of_nodes == 1


def test_snapshot_copy_must_leave_the_region(config_dir: Path) -> None:
    def change(d: dict) -> None:
        d.update(account="111122223333", region="eu-west-1")
        d["redshift"]["snapshot_copy"] = {"destination_region": "eu-west-1", "retention_days": 7, "grant_name": "copy-grant"}

    edit(config_dir, "staging", change)
    assert "destination_region must differ from the environment's region 'eu-west-1'" in error_of(config_dir, "staging")


def test_shipped_environments_differ_where_they_should() -> None:
    dev, staging, prod = (load_config(name).environment for name in ("dev", "staging", "prod"))
    assert dev.redshift.number_of_nodes == 1 and dev.redshift.pause_resume is not None
    assert prod.redshift.number_of_nodes >= 2 and prod.redshift.pause_resume is None
    assert prod.network.availability_zones == 3
    assert {env.network.nat_gateways for env in (dev, staging, prod)} == {0}
    assert dev.emr.tls_certificates_s3_uri is None and dev.emr.kerberos is None
    assert prod.emr.tls_certificates_s3_uri is not None and prod.emr.kerberos is not None
    assert len({env.network.cidr for env in (dev, staging, prod)}) == 3, "peerable: no overlapping ranges"


def test_config_and_construct_agree_on_the_vpc_prefix_range() -> None:
    from config.model import VPC_PREFIX_RANGE
    from constructs_lib.network import data_network

    assert (data_network.MIN_VPC_PREFIX, data_network.MAX_VPC_PREFIX) == VPC_PREFIX_RANGE


def test_node_count_above_the_type_maximum_is_refused(config_dir: Path) -> None:
    edit(config_dir, "prod", lambda d: d["redshift"].update(node_type="ra3.4xlarge", number_of_nodes=33))
    assert "number_of_nodes must be at most 32 for ra3.4xlarge; got 33" in error_of(config_dir, "prod")


def test_config_and_construct_agree_on_the_node_limits() -> None:
    from config.model import REDSHIFT_MAX_NODES
    from constructs_lib.warehouse.redshift_warehouse import RA3_NODE_COUNTS

    assert REDSHIFT_MAX_NODES == {node_type: high for node_type, (_, high) in RA3_NODE_COUNTS.items()}
