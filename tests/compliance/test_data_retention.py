"""Prod never loses data: every stateful resource is retained on deletion and replacement."""

from __future__ import annotations

import pytest

from tests.compliance.retention import STATEFUL_TYPES, unretained_stateful_resources


@pytest.mark.parametrize("deployed", [False, True], ids=["agnostic", "deployed"])
@pytest.mark.parametrize("env_name", ["prod", "staging"])
def test_prod_and_staging_retain_every_stateful_resource(synthesised, env_name: str, deployed: bool) -> None:
    for stack_name, template in synthesised(env_name, deployed=deployed).templates().items():
        assert unretained_stateful_resources(template) == [], stack_name


def test_prod_has_stateful_resources_to_check(synthesised) -> None:
    """Guards the test above against passing vacuously."""
    templates = synthesised("prod").templates().values()
    stateful = [r for t in templates for r in t["Resources"].values() if r["Type"] in STATEFUL_TYPES]
    assert len(stateful) >= 8


def test_dev_destroys_its_data_because_its_config_says_so(synthesised) -> None:
    template = synthesised("dev").template("analytics-dev-foundation")
    assert unretained_stateful_resources(template) != []
    # The account baseline's catalog key is retained whatever the environment says.
    assert unretained_stateful_resources(synthesised("dev").template("analytics-account-baseline")) == []


def test_the_check_flags_a_deleted_or_replaced_bucket() -> None:
    template = {
        "Resources": {
            "Deleted": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Retain"},
            "Replaced": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
            "Kept": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"},
            "Snapshotted": {"Type": "AWS::Redshift::Cluster", "DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot"},
            "Stateless": {"Type": "AWS::SNS::Topic"},
        }
    }
    assert unretained_stateful_resources(template) == ["Deleted", "Replaced"]
