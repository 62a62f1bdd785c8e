"""The wheel other teams install: what it contains, what it declares, and that it works alone.

The wheel is built from a clean copy of the repository, not in place: setuptools never empties
``build/lib``, so an in-place build ships every module that was ever built there, including ones
deleted since.

The ``packaging`` test installs the wheel with its dependencies into a fresh virtual environment
(no system site packages, nothing from this checkout) and synthesises a copy of
``examples/two_pipelines_one_lake`` and a ``RedshiftSql`` with it. It resolves aws-cdk-lib and the
rest from the package index or pip's cache, so it is slow (see the marker in pyproject.toml).
"""

from __future__ import annotations

import email.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import constructs_lib
from tests.synth import ROOT

PACKAGE = ROOT / "constructs_lib"
EXAMPLE = ROOT / "examples" / "two_pipelines_one_lake"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
#: What a checkout holds that is not source: environments, caches, build output.
NOT_SOURCE = (
    ".git", ".venv", "node_modules", "cdk.out", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
    ".pytest_cache", ".hypothesis",
)


def pinned(requirements_file: Path, name: str) -> str:
    """The version ``requirements_file`` pins ``name`` to (``name==<version>``)."""
    (version,) = re.findall(rf"^{re.escape(name)}==(\S+)$", requirements_file.read_text(encoding="utf-8"), flags=re.M)
    return version


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


def test_the_wheel_holds_every_library_module_and_its_readme_and_type_marker(names: list[str]) -> None:
    modules = {f"constructs_lib/{p.name}" for p in PACKAGE.glob("*.py")}
    assert "constructs_lib/__init__.py" in modules
    assert modules <= set(names)
    assert {"constructs_lib/README.md", "constructs_lib/py.typed"} <= set(names)


def test_the_wheel_holds_the_code_of_every_library_function_and_nothing_else_there(names: list[str]) -> None:
    """Each folder under constructs_lib/functions/ is a construct's Lambda asset: all its .py files
    ship, and nothing else (no __init__.py: the folders are data, not packages)."""
    functions = {str(p.relative_to(ROOT)) for p in (PACKAGE / "functions").glob("*/*.py")}
    assert "constructs_lib/functions/redshift_sql/handler.py" in functions
    assert {f"{folder.relative_to(ROOT)}/handler.py" for folder in (PACKAGE / "functions").iterdir() if folder.is_dir()} <= functions
    assert {n for n in names if n.startswith("constructs_lib/functions/")} == functions
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

REDSHIFT_SQL_APP = '''
import json, sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_secretsmanager as secretsmanager

import constructs_lib
from constructs_lib.redshift_sql import ASSET_EXCLUDES, HANDLER_DIR, RedshiftSql

app = cdk.App(outdir=sys.argv[1])
stack = cdk.Stack(app, "Sql", env=cdk.Environment(account="111122223333", region="eu-west-1"))
vpc = ec2.Vpc.from_vpc_attributes(
    stack, "Vpc", vpc_id="vpc-1", availability_zones=["eu-west-1a"], isolated_subnet_ids=["subnet-1"]
)
secret = secretsmanager.Secret.from_secret_complete_arn(
    stack, "Secret", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:admin-AbCdEf"
)
RedshiftSql(
    stack, "Sql", cluster_identifier="warehouse", database="analytics", secret=secret,
    create_statements=["SELECT 1"], vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnets=vpc.isolated_subnets),
)
app.synth()
print(json.dumps({
    "library": constructs_lib.__file__,
    "handler_dir": str(HANDLER_DIR),
    "fingerprint": cdk.FileSystem.fingerprint(str(HANDLER_DIR), exclude=ASSET_EXCLUDES),
    "functions": sorted(str(p.relative_to(HANDLER_DIR.parent)) for p in HANDLER_DIR.parent.glob("*/*.py")),
}))
'''


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.packaging
def test_a_fresh_virtual_environment_installs_the_wheel_and_synthesises_the_example(wheel: Path, tmp_path: Path) -> None:
    from aws_cdk import FileSystem

    from constructs_lib.redshift_sql import ASSET_EXCLUDES, HANDLER_DIR
    from tests.examples.test_example_app import load_example

    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(environment)
    python = str(environment / "bin" / "python")
    # Nothing of the checkout or of the test's own environment may leak in. Bytecode is written
    # (whatever PYTHONDONTWRITEBYTECODE says), so the second synth reuses what the first compiled.
    leaks = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in leaks}
    env["PATH"] = f"{environment / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    nag = f"cdk-nag=={pinned(ROOT / 'requirements.txt', 'cdk-nag')}"
    # --no-compile: byte-compiling all of aws-cdk-lib costs about a minute here, and a synth needs a
    # fraction of it. Our own package is then compiled as pip would, so that the installed function
    # folders hold __pycache__ as they do for every user (the assets must leave it out).
    _run([python, "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check", str(wheel), nag],
         tmp_path, env)
    _run([python, "-m", "pip", "check"], tmp_path, env)
    installed_package = _run([python, "-c", "import constructs_lib, os; print(os.path.dirname(constructs_lib.__file__))"],
                             tmp_path, env).strip()
    _run([python, "-m", "compileall", "-q", installed_package], tmp_path, env)
    assert list(Path(installed_package).glob("functions/*/__pycache__/handler.*.pyc"))

    # The example, copied out of the repository and run as a user runs it.
    example = tmp_path / "example"
    shutil.copytree(EXAMPLE, example, ignore=shutil.ignore_patterns("__pycache__", "cdk.out"))
    out = tmp_path / "example.out"
    _run([python, "app.py"], example, {**env, "CDK_OUTDIR": str(out)})
    template = json.loads((out / "FleetTelemetry.template.json").read_text())
    report = json.loads((out / "validation-report.json").read_text())
    assert [v for plugin in report["pluginReports"] for v in plugin["violations"]] == []
    # The installed library builds exactly what the checkout builds.
    in_process = tmp_path / "in-process.out"
    load_example().build_app(outdir=str(in_process)).synth()
    assert template == json.loads((in_process / "FleetTelemetry.template.json").read_text())

    # RedshiftSql finds its handler inside the installed package, and stages the same code.
    script = tmp_path / "redshift_sql_app.py"
    script.write_text(REDSHIFT_SQL_APP)
    installed = json.loads(_run([python, str(script), str(tmp_path / "sql.out")], tmp_path, env).splitlines()[-1])
    site_packages = str(environment / "lib")
    assert installed["library"].startswith(site_packages) and installed["handler_dir"].startswith(site_packages)
    (function,) = [
        r for r in json.loads((tmp_path / "sql.out" / "Sql.template.json").read_text())["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    ]
    assert function["Properties"]["Code"]["S3Key"] == f"{installed['fingerprint']}.zip"
    assert installed["fingerprint"] == FileSystem.fingerprint(str(HANDLER_DIR), exclude=ASSET_EXCLUDES)
    assert installed["functions"] == sorted(str(p.relative_to(HANDLER_DIR.parent)) for p in HANDLER_DIR.parent.glob("*/*.py"))
    staged = tmp_path / "sql.out" / f"asset.{installed['fingerprint']}"
    assert sorted(p.name for p in staged.iterdir()) == ["handler.py"]
