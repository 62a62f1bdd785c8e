"""Dependencies point one way: app.py -> config + stacks -> constructs_lib -> aws_cdk.

constructs_lib is installed by other teams without this repository's app, so it must not
import stacks, config or app; lambda functions and Glue transforms must not import the CDK.
The library's own functions (constructs_lib/functions/<name>/) each become a Lambda asset of their
folder and the modules of constructs_lib/functions/shared/ (copied next to handler.py at synthesis),
so they may import only the standard library, the runtime's boto3, their own folder and the shared
modules; the shared modules, only the standard library and each other.
The examples stand for another team's app: they may use only the installed library.
(The wheel itself is checked in tests/test_packaging.py.)
"""

from __future__ import annotations

import ast
import sys
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
    # A directory (every module below it), or a file pattern such as tools/template_diff*.py.
    paths = sorted(package.parent.glob(package.name)) if "*" in package.name else package.rglob("*.py")
    for path in paths:
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
        ("constructs_lib", {"stacks", "config", "app", "cdk_nag", "tests", "tools"}),
        ("constructs_lib/functions", {"aws_cdk", "constructs", "stacks", "config", "constructs_lib"}),
        ("config", {"stacks", "constructs_lib", "aws_cdk", "app"}),
        ("stacks", {"config", "app", "tools", "tests"}),
        ("lambda_src", {"aws_cdk", "constructs", "stacks", "config", "constructs_lib"}),
        ("glue_scripts", {"aws_cdk", "stacks", "config", "constructs_lib"}),
        ("scripts", {"aws_cdk", "constructs", "stacks", "config", "constructs_lib", "app", "tools"}),
        # make diff reads templates with the CDK CLI only: no CDK import in the tool itself.
        ("tools/template_diff*.py", {"aws_cdk", "constructs", "stacks", "constructs_lib", "tests"}),
    ],
)
def test_dependencies_point_one_way(package: str, forbidden: set[str]) -> None:
    assert imported_top_level_modules(ROOT / package), f"{package} matches no module: the check would pass vacuously"
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


#: What the Lambda Python runtime provides besides the standard library.
LAMBDA_RUNTIME_MODULES = {"boto3", "botocore"}
FUNCTIONS = ROOT / "constructs_lib" / "functions"
#: Modules every function's asset holds next to its handler (constructs_lib/deploy_time_function.py).
SHARED = FUNCTIONS / "shared"
SHARED_MODULES = {p.stem for p in SHARED.glob("*.py")}
LIBRARY_FUNCTIONS = sorted(
    p.name for p in FUNCTIONS.iterdir() if p.is_dir() and p != SHARED and p.name != "__pycache__"
)


def test_the_library_has_functions_and_shared_modules_to_check() -> None:
    assert "redshift_sql" in LIBRARY_FUNCTIONS
    assert "cfn_response" in SHARED_MODULES


@pytest.mark.parametrize("function", LIBRARY_FUNCTIONS)
def test_each_library_function_is_a_self_contained_folder(function: str) -> None:
    """Its asset is the folder and the shared modules: a handler.py, no __init__.py (the folder ships
    as package data, not as a package), no module named like a shared one, and imports of the
    standard library, boto3, its own modules and the shared ones only."""
    folder = FUNCTIONS / function
    assert (folder / "handler.py").is_file()
    assert not (folder / "__init__.py").exists()
    own = {p.stem for p in folder.glob("*.py")}
    assert own & SHARED_MODULES == set()
    allowed = set(sys.stdlib_module_names) | LAMBDA_RUNTIME_MODULES | own | SHARED_MODULES
    outside = {path: sorted(modules - allowed) for path, modules in imported_top_level_modules(folder).items() if modules - allowed}
    assert outside == {}


def test_the_shared_modules_are_standard_library_only_and_no_function() -> None:
    """What every function's asset holds must import nothing a function would not have: the standard
    library, and each other."""
    assert not (SHARED / "__init__.py").exists() and not (SHARED / "handler.py").exists()
    allowed = set(sys.stdlib_module_names) | SHARED_MODULES
    outside = {path: sorted(modules - allowed) for path, modules in imported_top_level_modules(SHARED).items() if modules - allowed}
    assert outside == {}


def test_the_examples_use_the_installed_library_only() -> None:
    allowed = set(sys.stdlib_module_names) | {"aws_cdk", "constructs", "constructs_lib", "cdk_nag"}
    imports = imported_top_level_modules(ROOT / "examples")
    assert any(path.endswith("app.py") for path in imports)
    assert {path: sorted(modules - allowed) for path, modules in imports.items() if modules - allowed} == {}


def test_the_copies_of_the_topic_prefix_rule_agree() -> None:
    """config and scripts may not import constructs_lib, so each states the rule; it must be one rule."""
    from config.model import IngestionConfig
    from constructs_lib.iot_ingestion import TOPIC_PREFIX
    from scripts.simulate_devices import TOPIC_PREFIX as SIMULATOR_TOPIC_PREFIX

    config_pattern = next(m.pattern for m in IngestionConfig.model_fields["topic_prefix"].metadata if hasattr(m, "pattern"))
    assert config_pattern == TOPIC_PREFIX.pattern == SIMULATOR_TOPIC_PREFIX.pattern
