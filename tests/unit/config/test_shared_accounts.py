"""Environments in separate accounts (the layout most teams run), and the one collision two
environments sharing an account and region could configure: the MQTT topic space."""

from __future__ import annotations

from pathlib import Path

from config import load_config
from tests.synth import DEPLOYED, write_deployed_config
from tests.unit.config.editing import edit, error_of


def _deploy(config_dir: Path, env_name: str, account: str, region: str) -> None:
    def place(data: dict) -> None:
        data["account"], data["region"] = account, region

    edit(config_dir, env_name, place)


def test_the_multi_account_layout_loads(tmp_path: Path) -> None:
    config_dir = write_deployed_config(tmp_path)
    for target in DEPLOYED:
        environment = load_config(target.env_name, config_dir).environment
        assert (environment.account, environment.region) == (target.account, target.region)


def test_two_environments_in_one_account_and_region_with_one_topic_prefix_are_refused(config_dir: Path) -> None:
    _deploy(config_dir, "dev", "111111111111", "eu-west-1")
    _deploy(config_dir, "staging", "111111111111", "eu-west-1")
    message = error_of(config_dir, "staging")
    assert "environments 'staging' and 'dev' share account 111111111111 in eu-west-1" in message
    assert "ingestion.topic_prefix 'telemetry'" in message
    assert "environments/staging.yaml" in message and "environments/dev.yaml" in message
    # Either environment's synth says so.
    assert "environments 'dev' and 'staging' share account" in error_of(config_dir, "dev")


def test_a_topic_prefix_of_their_own_lets_them_share(config_dir: Path) -> None:
    _deploy(config_dir, "dev", "111111111111", "eu-west-1")
    _deploy(config_dir, "staging", "111111111111", "eu-west-1")
    edit(config_dir, "staging", lambda data: data["ingestion"].update(topic_prefix="telemetry-staging"))
    assert load_config("staging", config_dir).environment.ingestion.topic_prefix == "telemetry-staging"
    assert load_config("dev", config_dir).environment.account == "111111111111"


def test_one_account_in_two_regions_shares_no_topic_space(config_dir: Path) -> None:
    _deploy(config_dir, "dev", "111111111111", "eu-west-1")
    _deploy(config_dir, "staging", "111111111111", "us-east-1")
    assert load_config("staging", config_dir).environment.region == "us-east-1"
