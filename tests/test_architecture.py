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


def imported_top_level_modules(package: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        modules: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = modules
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("constructs_lib", {"stacks", "config", "app", "cdk_nag", "tests"}),
        ("config", {"stacks", "constructs_lib", "aws_cdk", "app"}),
        ("stacks", {"config", "app"}),
        ("lambda_src", {"aws_cdk", "constructs", "stacks", "config", "constructs_lib"}),
        ("glue_scripts", {"aws_cdk", "awsglue", "stacks", "config", "constructs_lib"}),
    ],
)
def test_dependencies_point_one_way(package: str, forbidden: set[str]) -> None:
    for path, modules in imported_top_level_modules(ROOT / package).items():
        assert not modules & forbidden, f"{path} imports {sorted(modules & forbidden)}"


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
