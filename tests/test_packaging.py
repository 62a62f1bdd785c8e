"""The wheel other teams install: what it contains, what it declares, and that it works alone.

The wheel is built from a clean copy of the repository, not in place: setuptools never empties
``build/lib``, so an in-place build ships every module that was ever built there, including ones
deleted since.

The ``packaging`` test installs the wheel with its dependencies into a fresh virtual environment
(no system site packages, nothing from this checkout) and synthesises a copy of
``examples/two_pipelines_one_lake`` and a ``RedshiftSql`` with it. It resolves aws-cdk-lib and the
rest from the package index or pip's cache, which takes about a minute, so that part runs in the
background from the start of the session (tests/packaging_check.py, started by tests/conftest.py)
and the test checks its results.
"""

from __future__ import annotations

import email.parser
import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import constructs_lib
from tests.packaging_check import NOT_SOURCE, pinned
from tests.synth import ROOT

PACKAGE = ROOT / "constructs_lib"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built as ``pip wheel`` builds it from a fresh clone (offline: no build isolation)."""
    source = tmp_path_factory.mktemp("source") / "repo"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def names(wheel: Path) -> list[str]:
    return zipfile.ZipFile(wheel).namelist()


@pytest.fixture(scope="module")
def metadata(wheel: Path, names: list[str]):
    (path,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    return email.parser.Parser().parsestr(zipfile.ZipFile(wheel).read(path).decode("utf-8"))


def test_the_wheel_is_named_after_the_package_and_its_version(wheel: Path) -> None:
    assert wheel.name == f"analytics_platform_constructs-{constructs_lib.__version__}-py3-none-any.whl"


def library_modules() -> set[str]:
    """Every module of the package and its domain subpackages (the function folders are data)."""
    return {
        str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
        if "functions" not in p.relative_to(PACKAGE).parts and "__pycache__" not in p.parts
    }


def test_the_wheel_holds_every_library_module_and_its_readme_and_type_marker(names: list[str]) -> None:
    modules = library_modules()
    assert {"constructs_lib/__init__.py", "constructs_lib/common/__init__.py", "constructs_lib/warehouse/redshift_sql.py"} <= modules
    assert modules <= set(names)
    assert {"constructs_lib/README.md", "constructs_lib/py.typed"} <= set(names)


def test_the_wheel_holds_the_code_of_every_library_function_and_nothing_else_there(names: list[str]) -> None:
    """Each folder under constructs_lib/<domain>/functions/ but common/functions/shared/ is a construct's
    function, whose Lambda asset is the folder and the modules of shared/: all their .py files ship, and
    nothing else (no __init__.py: the folders are data, not packages)."""
    functions = {str(p.relative_to(ROOT)) for p in PACKAGE.glob("*/functions/*/*.py")}
    assert {
        "constructs_lib/warehouse/functions/redshift_sql/handler.py",
        "constructs_lib/common/functions/shared/cfn_response.py",
    } <= functions
    folders = [
        f for f in PACKAGE.glob("*/functions/*")
        if f.is_dir() and f != PACKAGE / "common" / "functions" / "shared" and f.name != "__pycache__"
    ]
    assert len(folders) >= 3
    assert {f"{folder.relative_to(ROOT)}/handler.py" for folder in folders} <= functions
    assert {n for n in names if "/functions/" in n} == functions
    assert not [n for n in functions if n.endswith("__init__.py")]


def test_the_wheel_holds_nothing_of_the_app_tests_or_caches(names: list[str]) -> None:
    outside = [n for n in names if not n.startswith(("constructs_lib/", "analytics_platform_constructs-"))]
    assert outside == []  # no stacks/, config/, tests/, app.py, lambda_src/, glue_scripts/, examples/
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_the_metadata_declares_the_version_python_and_dependencies_of_pyproject(metadata, names: list[str]) -> None:
    project = PYPROJECT["project"]
    assert (metadata["Name"], metadata["Version"]) == (project["name"], constructs_lib.__version__)
    assert metadata["Requires-Python"] == project["requires-python"] == ">=3.11"
    declared = {str(Requirement(d)) for d in metadata.get_all("Requires-Dist")}
    assert declared == {str(Requirement(d)) for d in project["dependencies"]}
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_payload().strip() == (PACKAGE / "README.md").read_text(encoding="utf-8").strip()


def test_the_library_accepts_the_cdk_the_app_is_pinned_to_and_pins_its_alpha_modules_to_it() -> None:
    """The app's requirements.txt is what the tests run against: the library must allow exactly
    that aws-cdk-lib and pin each alpha module to the release built with it."""
    app_requirements = ROOT / "requirements.txt"
    cdk_version = pinned(app_requirements, "aws-cdk-lib")
    dependencies = {Requirement(d).name: Requirement(d) for d in PYPROJECT["project"]["dependencies"]}
    assert dependencies["aws-cdk-lib"].specifier.contains(cdk_version)
    alphas = [name for name in dependencies if name.endswith("-alpha")]
    assert alphas
    for name in alphas:
        assert str(dependencies[name].specifier) == f"=={cdk_version}a0" == f"=={pinned(app_requirements, name)}"


# --- Acceptance: a fresh virtual environment installs the wheel and synthesises an app ------------

@pytest.mark.packaging
def test_a_fresh_virtual_environment_installs_the_wheel_and_synthesises_the_example(packaging_check) -> None:
    """The fresh-venv install and the syntheses ran in the background since collection
    (tests/packaging_check.py, on the machine's other core); here their results are checked."""
    from constructs_lib.common.deploy_time_function import SHARED_DIR
    from constructs_lib.warehouse.redshift_sql import HANDLER_DIR
    from tests.examples.test_example_app import load_example

    result = packaging_check.result()
    workdir = Path(result["workdir"])
    compiled = {Path(p).parts[2] + "/" + Path(p).name.split(".")[0] for p in result["compiled_handlers"]}
    assert {"redshift_sql/handler", "shared/cfn_response"} <= compiled, "pip's bytecode missing from the installed functions"

    # The example, copied out of the repository and run as a user runs it: no finding, and exactly
    # what the checkout builds.
    out = workdir / "example.out"
    template = json.loads((out / "FleetTelemetry.template.json").read_text())
    report = json.loads((out / "validation-report.json").read_text())
    assert [v for plugin in report["pluginReports"] for v in plugin["violations"]] == []
    in_process = workdir / "in-process.out"
    load_example().build_app(outdir=str(in_process)).synth()
    assert template == json.loads((in_process / "FleetTelemetry.template.json").read_text())

    # Another team's app, from the wheel, through the CLI: no lookup, no context file, no finding.
    consumer = result["consumer_app"]
    assert (consumer["missing_context"], consumer["context_file"]) == ([], False)
    consumer_report = json.loads((Path(consumer["outdir"]) / "validation-report.json").read_text())
    assert [v for plugin in consumer_report["pluginReports"] for v in plugin["violations"]] == []

    # RedshiftSql finds its handler and the shared modules inside the installed package, and stages
    # the same code as the checkout does (the same asset hash), without the installed bytecode.
    installed, checkout = result["redshift_sql"], result["redshift_sql_checkout"]
    site_packages = str(workdir / "venv" / "lib")
    assert installed["library"].startswith(site_packages) and installed["handler_dir"].startswith(site_packages)
    assert checkout["handler_dir"] == str(HANDLER_DIR)
    assert installed["functions"] == checkout["functions"] == sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.glob("*/functions/*/*.py"))
    (key,), (checkout_key,) = (
        [r["Properties"]["Code"]["S3Key"] for r in json.loads((workdir / out / "Sql.template.json").read_text())["Resources"].values()
         if r["Type"] == "AWS::Lambda::Function"]
        for out in ("sql.out", "sql-checkout.out")
    )
    assert key == checkout_key
    staged = workdir / "sql.out" / f"asset.{key.removesuffix('.zip')}"
    assert sorted(p.name for p in staged.iterdir()) == ["cfn_response.py", "handler.py"]
    assert (staged / "handler.py").read_text() == (HANDLER_DIR / "handler.py").read_text()
    assert (staged / "cfn_response.py").read_text() == (SHARED_DIR / "cfn_response.py").read_text()
