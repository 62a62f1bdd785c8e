"""Dependencies point one way: app.py -> config + stacks -> constructs_lib -> aws_cdk.

constructs_lib is installed by other teams without this repository's app, so it must not
import stacks, config or app; lambda functions and Glue transforms must not import the CDK.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.synth import ROOT


FIXED_TOP_LEVEL = (
    "app.py", "cdk.json", "stacks", "constructs_lib", "lambda_src", "glue_scripts", "tests",
    "requirements.txt", "README.md",
)


def imported_top_level_modules(package: Path, *, module_level_only: bool = False) -> dict[str, set[str]]:
    """Top-level names each file imports; with ``module_level_only``, ignore imports nested in
    functions (the Glue entry point imports awsglue only inside its Glue code path)."""
    found: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        nodes = tree.body if module_level_only else ast.walk(tree)
        modules: set[str] = set()
        for node in nodes:
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
        found[str(path.relative_to(package.parent))] = modules
    return found


def forbidden_imports(package: Path, forbidden: set[str], *, module_level_only: bool = False) -> list[str]:
    return [
        f"{path} imports {sorted(modules & forbidden)}"
        for path, modules in imported_top_level_modules(package, module_level_only=module_level_only).items()
        if modules & forbidden
    ]


def test_the_fixed_top_level_exists() -> None:
    assert [name for name in FIXED_TOP_LEVEL if not (ROOT / name).exists()] == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("constructs_lib", {"stacks", "config", "app", "cdk_nag", "tests"}),
        ("config", {"stacks", "constructs_lib", "aws_cdk", "app"}),
        ("stacks", {"config", "app"}),
        ("lambda_src", {"aws_cdk", "constructs", "stacks", "config", "constructs_lib"}),
        ("glue_scripts", {"aws_cdk", "stacks", "config", "constructs_lib"}),
        ("scripts", {"aws_cdk", "constructs", "stacks", "config", "constructs_lib", "app"}),
    ],
)
def test_dependencies_point_one_way(package: str, forbidden: set[str]) -> None:
    assert forbidden_imports(ROOT / package, forbidden) == []


def test_glue_transforms_never_import_awsglue_at_module_level() -> None:
    assert forbidden_imports(ROOT / "glue_scripts", {"awsglue"}, module_level_only=True) == []


def test_the_import_check_reports_a_violation(tmp_path: Path) -> None:
    package = tmp_path / "lambda_src"
    (package / "fn").mkdir(parents=True)
    (package / "fn" / "handler.py").write_text("import json\nfrom aws_cdk import aws_s3\n")
    (package / "fn" / "logic.py").write_text("def run():\n    import awsglue.context\n")
    assert forbidden_imports(package, {"aws_cdk"}) == ["lambda_src/fn/handler.py imports ['aws_cdk']"]
    assert forbidden_imports(package, {"awsglue"}) == ["lambda_src/fn/logic.py imports ['awsglue']"]
    assert forbidden_imports(package, {"awsglue"}, module_level_only=True) == []


def test_constructs_lib_builds_as_a_wheel_with_its_own_version(tmp_path: Path) -> None:
    import constructs_lib

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    assert wheel.name.startswith(f"analytics_platform_constructs-{constructs_lib.__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    assert "constructs_lib/data_lake_storage.py" in names
    assert not [n for n in names if n.startswith(("stacks/", "config/", "tests/", "app"))]


def test_the_copies_of_the_topic_prefix_rule_agree() -> None:
    """config and scripts may not import constructs_lib, so each states the rule; it must be one rule."""
    from config.model import IngestionConfig
    from constructs_lib.iot_ingestion import TOPIC_PREFIX
    from scripts.simulate_devices import TOPIC_PREFIX as SIMULATOR_TOPIC_PREFIX

    config_pattern = next(m.pattern for m in IngestionConfig.model_fields["topic_prefix"].metadata if hasattr(m, "pattern"))
    assert config_pattern == TOPIC_PREFIX.pattern == SIMULATOR_TOPIC_PREFIX.pattern
