"""The application's dependencies point one way: its pure modules need no PyFlink (tested on their
own), and nothing in it imports the CDK app, the library, the tools or the tests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "flink_apps" / "anomaly_detection"
PURE = ("properties", "readings", "scoring", "windows", "notifications", "records", "sns")


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("module", PURE)
def test_the_pure_modules_need_no_flink_and_no_aws_sdk(module: str) -> None:
    assert imports(APP / f"{module}.py") & {"pyflink", "boto3", "botocore"} == set()


def test_the_application_imports_no_cdk_library_tools_or_tests() -> None:
    forbidden = {"aws_cdk", "constructs", "stacks", "config", "constructs_lib", "tools", "tests", "app"}
    assert {p.name: sorted(imports(p) & forbidden) for p in APP.glob("*.py") if imports(p) & forbidden} == {}


def test_boto3_is_imported_only_where_it_runs_on_the_service() -> None:
    assert sorted(p.name for p in APP.glob("*.py") if "boto3" in imports(p)) == ["connectors.py"]
