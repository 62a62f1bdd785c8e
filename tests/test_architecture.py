"""Dependencies point one way: app.py -> stacks -> config models and constructs_lib -> aws_cdk.

constructs_lib is installed by other teams without this repository's app, so it must not
import stacks, config or app; lambda functions and Glue transforms must not import the CDK.
The library is grouped by domain (constructs_lib/<domain>/): common/ imports no domain, and the
domains import each other without a cycle.
The library's own functions (constructs_lib/<domain>/functions/<name>/, beside the construct that
deploys them) each become a Lambda asset of their folder and the modules of
constructs_lib/common/functions/shared/ (copied next to handler.py at synthesis), so they may import
only the standard library, the runtime's boto3, their own folder and the shared modules; the shared
modules, only the standard library and each other.
The examples stand for another team's app: they may use only the installed library.
(The wheel itself is checked in tests/test_packaging.py.)
"""

from __future__ import annotations

import ast
import graphlib
import re
import sys
from pathlib import Path

import pytest

from tests.synth import ROOT


#: The folders of the library's deploy-time functions, one per domain that deploys one.
FUNCTION_ROOTS = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("constructs_lib/*/functions"))
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
        *[(root, {"aws_cdk", "constructs", "stacks", "config", "constructs_lib"}) for root in FUNCTION_ROOTS],
        ("config", {"stacks", "constructs_lib", "aws_cdk", "app"}),
        ("stacks", {"app", "tools", "tests"}),
        ("lambda_src", {"aws_cdk", "constructs", "stacks", "config", "constructs_lib"}),
        ("glue_scripts", {"aws_cdk", "stacks", "config", "constructs_lib"}),
        # The Flink application runs on Managed Flink from its zip: nothing of the app or the CDK.
        ("flink_apps", {"aws_cdk", "constructs", "stacks", "config", "constructs_lib", "app", "tools", "tests"}),
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


#: The one module of glue_scripts the app may import: the curated tables, their maintenance settings,
#: the job's arguments and the saved queries as plain data (the stacks declare what the job writes).
SHARED_GLUE_MODULE = "glue_scripts.curated_table"


def glue_script_imports(package: Path) -> dict[str, set[str]]:
    """The glue_scripts modules each file imports (``from glue_scripts import x`` names ``glue_scripts.x``)."""
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        modules: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules.update(a.name for a in node.names if a.name.split(".")[0] == "glue_scripts")
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "glue_scripts":
                modules.update([node.module] if node.module != "glue_scripts" else [f"glue_scripts.{a.name}" for a in node.names])
        if modules:
            found[str(path.relative_to(ROOT))] = modules
    return found


def test_the_app_imports_only_the_plain_data_module_of_glue_scripts() -> None:
    """Not the PySpark modules (the app would need Spark to synthesise), and config nothing of it."""
    stacks = glue_script_imports(ROOT / "stacks")
    assert stacks, "no stack imports glue_scripts: the check would pass vacuously"
    assert {path: modules - {SHARED_GLUE_MODULE} for path, modules in stacks.items() if modules - {SHARED_GLUE_MODULE}} == {}
    assert glue_script_imports(ROOT / "config") == {} and glue_script_imports(ROOT / "constructs_lib") == {}


def test_the_shared_glue_module_imports_the_standard_library_only() -> None:
    """The CDK app imports it without Spark, and Glue ships it beside the job."""
    (modules,) = imported_top_level_modules(ROOT / "glue_scripts" / "curated_table*.py").values()
    assert modules - set(sys.stdlib_module_names) - {"__future__"} == set()


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
LIBRARY = ROOT / "constructs_lib"
#: Modules every function's asset holds next to its handler (constructs_lib/common/deploy_time_function.py).
SHARED = LIBRARY / "common" / "functions" / "shared"
SHARED_MODULES = {p.stem for p in SHARED.glob("*.py")}
#: Each construct's function, as "<domain>/functions/<name>".
LIBRARY_FUNCTIONS = sorted(
    str(p.relative_to(LIBRARY)) for p in LIBRARY.glob("*/functions/*")
    if p.is_dir() and p != SHARED and p.name != "__pycache__"
)


def test_the_library_has_functions_and_shared_modules_to_check() -> None:
    assert "warehouse/functions/redshift_sql" in LIBRARY_FUNCTIONS
    assert "cfn_response" in SHARED_MODULES
    assert len(FUNCTION_ROOTS) >= 4  # common/ and the three domains that deploy a function


@pytest.mark.parametrize("function", LIBRARY_FUNCTIONS)
def test_each_library_function_is_a_self_contained_folder(function: str) -> None:
    """Its asset is the folder and the shared modules: a handler.py, no __init__.py (the folder ships
    as package data, not as a package), no module named like a shared one, and imports of the
    standard library, boto3, its own modules and the shared ones only."""
    folder = LIBRARY / function
    assert (folder / "handler.py").is_file()
    assert not (folder / "__init__.py").exists()
    own = {p.stem for p in folder.glob("*.py")}
    assert own & SHARED_MODULES == set()
    allowed = set(sys.stdlib_module_names) | LAMBDA_RUNTIME_MODULES | own | SHARED_MODULES
    outside = {path: sorted(modules - allowed) for path, modules in imported_top_level_modules(folder).items() if modules - allowed}
    assert outside == {}


@pytest.mark.parametrize("function", LIBRARY_FUNCTIONS)
def test_each_library_function_is_beside_the_construct_that_deploys_it(function: str) -> None:
    """A module of the function's own domain names the folder (``"functions" / "<name>"``, as its
    HANDLER_DIR does, or ``functions/<name>``)."""
    domain, _, name = Path(function).parts
    names_it = re.compile(rf"""functions["']?\s*/\s*["']?{name}\b""")
    deployed_by = [path.name for path in (LIBRARY / domain).glob("*.py") if names_it.search(path.read_text(encoding="utf-8"))]
    assert deployed_by, f"no module of constructs_lib/{domain}/ deploys functions/{name}"


def domain_imports() -> dict[str, set[str]]:
    """Each domain of the library (a subpackage of constructs_lib) -> the other domains its modules
    import. A module importing the package's top level (the public API, which reaches every domain)
    counts as importing every domain."""
    domains = sorted(p.parent.name for p in LIBRARY.glob("*/__init__.py"))
    graph: dict[str, set[str]] = {domain: set() for domain in domains}
    for path in LIBRARY.glob("*/*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                parts = module.split(".")
                if parts[0] == "constructs_lib":
                    graph[path.parent.name] |= {parts[1]} if len(parts) > 1 else set(domains)
    return {domain: targets - {domain} for domain, targets in graph.items()}


def test_the_library_is_grouped_by_domain_and_common_imports_no_domain() -> None:
    graph = domain_imports()
    assert {"common", "ingestion", "storage", "catalog", "warehouse", "search", "governance", "network"} <= set(graph)
    assert graph["common"] == set()


def test_the_library_domains_import_each_other_without_a_cycle() -> None:
    graph = domain_imports()
    assert any(graph.values())  # the check would pass vacuously if no import were found
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"the library's domains import each other in a cycle: {' -> '.join(error.args[1])}")


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
    from constructs_lib.ingestion.iot_ingestion import TOPIC_PREFIX
    from scripts.simulate_devices import TOPIC_PREFIX as SIMULATOR_TOPIC_PREFIX

    config_pattern = next(m.pattern for m in IngestionConfig.model_fields["topic_prefix"].metadata if hasattr(m, "pattern"))
    assert config_pattern == TOPIC_PREFIX.pattern == SIMULATOR_TOPIC_PREFIX.pattern
