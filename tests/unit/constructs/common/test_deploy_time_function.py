"""constructs_lib.common.deploy_time_function on its own: the asset (the handler's folder and the shared
modules, hashed by what is staged), and the helper's own checks. What the function, its key, log
group, queue, role and acknowledgments look like is tested through the three constructs that use it
(warehouse/test_redshift_sql.py, governance/test_lake_formation_revocation.py,
search/test_search_security.py)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs

from constructs_lib.common import deploy_time_function as dtf
from tests.unit.constructs.deploy_time_function_helpers import Synthesised
from tests.unit.constructs.stack_helpers import stack


@dataclass
class Built(Synthesised):
    parts: dtf.DeployTimeFunction


def build(handler_dir: Path, **overrides) -> Built:
    scope = stack()
    props = {
        "owner": "Thing",
        "handler_dir": handler_dir,
        "description": "Does a thing at deploy time",
        "role_description": "Thing: do the thing",
        "statements": [],
        "policy_scope": "thing",
        "star_resource_reason": "X-Ray's PutTraceSegments/PutTelemetryRecords have no resource-level permissions. " * 2,
        "timeout": cdk.Duration.minutes(1),
        "reserved_concurrency": 1,
        "key": None,
        "log_retention": logs.RetentionDays.ONE_WEEK,
        "removal_policy": cdk.RemovalPolicy.RETAIN,
    }
    parts = dtf.deploy_time_function(scope, **{**props, **overrides})
    return Built(scope, *Synthesised.template_of(scope), parts)


def staged(built: Built) -> Path:
    asset_hash = built.props(built.parts.function)["Code"]["S3Key"].removesuffix(".zip")
    return Path(cdk.Stage.of(built.scope).outdir) / f"asset.{asset_hash}"


@pytest.fixture
def functions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A functions/ folder as the library has: a copy of the shared modules, and one function, ``thing``."""
    root = tmp_path / "functions"
    shutil.copytree(dtf.SHARED_DIR, root / "shared", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "thing").mkdir()
    (root / "thing" / "handler.py").write_text("import cfn_response\n")
    (root / "thing" / "logic.py").write_text("VALUE = 1\n")
    (root / "thing" / "README.md").write_text("not code\n")
    (root / "thing" / "__pycache__").mkdir()
    (root / "thing" / "__pycache__" / "handler.cpython-314.pyc").write_bytes(b"\0")
    monkeypatch.setattr(dtf, "SHARED_DIR", root / "shared")
    return root


def test_the_asset_is_the_functions_modules_and_the_shared_ones_flat_and_nothing_else(functions: Path) -> None:
    built = build(functions / "thing")

    assert sorted(p.name for p in staged(built).iterdir()) == ["cfn_response.py", "handler.py", "logic.py"]
    assert (staged(built) / "cfn_response.py").read_text() == (functions / "shared" / "cfn_response.py").read_text()
    assert built.props(built.parts.function)["Handler"] == dtf.HANDLER == "handler.lambda_handler"


def test_a_change_to_a_shared_module_changes_the_asset_hash_so_every_function_redeploys(functions: Path) -> None:
    before = staged(build(functions / "thing")).name
    with (functions / "shared" / "cfn_response.py").open("a") as shared:
        shared.write("# changed\n")

    after = staged(build(functions / "thing")).name

    assert before != after
    assert staged(build(functions / "thing")).name == after  # and the same code, the same hash


def test_the_handler_folder_must_hold_a_handler_and_no_module_named_like_a_shared_one(functions: Path) -> None:
    (functions / "thing" / "handler.py").rename(functions / "thing" / "main.py")
    with pytest.raises(ValueError, match=r"^deploy_time_function: handler_dir must hold a handler.py .*clashing: \[\]"):
        dtf.function_code(functions / "thing")

    (functions / "thing" / "main.py").rename(functions / "thing" / "handler.py")
    (functions / "thing" / "cfn_response.py").write_text("shadows the shared one\n")
    with pytest.raises(ValueError, match=r"clashing: \['cfn_response.py'\]\)$"):
        dtf.function_code(functions / "thing")


def test_outside_a_vpc_there_is_no_security_group_and_no_network_interface_statement(functions: Path) -> None:
    built = build(functions / "thing")

    assert built.parts.security_group is None and built.scope.node.try_find_child("SecurityGroup") is None
    assert "VpcConfig" not in built.props(built.parts.function)
    statements = built.parts.role.node.find_child("DefaultPolicy").document.to_json()["Statement"]
    assert [s.get("Sid") for s in statements if "Sid" in s] == ["UseKeyForDeadLetters"]


def test_the_service_timeout_is_the_timeout_plus_five_minutes(functions: Path) -> None:
    built = build(functions / "thing", timeout=cdk.Duration.minutes(7))

    assert built.parts.service_timeout.to_seconds() == 7 * 60 + dtf.SERVICE_TIMEOUT_MARGIN.to_seconds() == 720


def test_a_vpc_without_a_security_group_needs_the_descriptions_of_its_own() -> None:
    vpc = ec2.Vpc.from_vpc_attributes(stack(), "Vpc", vpc_id="vpc-1", availability_zones=["eu-west-1a"], isolated_subnet_ids=["subnet-1"])
    subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
    with pytest.raises(ValueError, match=r"^FunctionVpc: group_description and egress_description describe the group made when no security_group is given; got '' and ''$"):
        dtf.FunctionVpc(vpc, subnets)
    with pytest.raises(ValueError, match="^FunctionVpc: "):
        dtf.FunctionVpc(vpc, subnets, group_description="Thing function: HTTPS only, no inbound")
    assert dtf.FunctionVpc(vpc, subnets, group_description="g", egress_description="e").security_group is None


@pytest.mark.parametrize("timeout", [cdk.Duration.seconds(59), cdk.Duration.minutes(16)])
def test_a_timeout_outside_one_to_fifteen_minutes_is_refused_naming_the_owner(timeout: cdk.Duration) -> None:
    with pytest.raises(ValueError, match=rf"^Thing: timeout must be between 1 and 15 minutes \(Lambda's limit\); got {timeout.to_human_string()}$"):
        dtf.check_timeout(timeout, owner="Thing")
    with pytest.raises(ValueError, match=r"^Thing: timeout must be between 1 and 15 minutes \(a note\); got "):
        dtf.check_timeout(timeout, owner="Thing", note="a note")


@pytest.mark.parametrize("timeout", [cdk.Duration.minutes(1), cdk.Duration.minutes(15)])
def test_timeouts_at_the_limits_are_accepted(timeout: cdk.Duration) -> None:
    dtf.check_timeout(timeout, owner="Thing")
