"""The app through the CDK CLI, as the platform team runs it: the pinned CLI reads the cloud
assembly, synth needs no AWS credentials, and a bad environment fails with a clear message.

The in-process fixtures (tests/synth.py) cover every environment's templates; these tests cover
what only a real process shows, so each runs once (prod, the strictest environment).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from app import cli_context
from tests.synth import DEPLOYED_BY_ENV, ROOT, missing_context, write_deployed_config

CLI = ROOT / "node_modules" / ".bin" / "cdk"


def credential_free_environment(home: Path) -> dict[str, str]:
    """The current environment without any AWS variable, with an empty HOME (no ~/.aws), and
    the test interpreter first on PATH (cdk.json runs ``python3 app.py``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env["HOME"] = str(home)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_the_installed_cli_is_the_pinned_one() -> None:
    assert CLI.exists(), "the CDK CLI is not installed: run `make install` (npm ci)"
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    installed = json.loads((ROOT / "node_modules" / "aws-cdk" / "package.json").read_text())["version"]
    assert installed == pinned


def test_cdk_synth_prod_through_the_pinned_cli_needs_no_credentials(tmp_path: Path) -> None:
    outdir = tmp_path / "cdk.out"
    result = subprocess.run(
        [str(CLI), "synth", "--quiet", "-c", "env=prod", "--output", str(outdir)],
        cwd=ROOT,
        env=credential_free_environment(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in outdir.glob("*.template.json")) == [
        "analytics-account-baseline.template.json",
        "analytics-prod-catalog.template.json",
        "analytics-prod-emr.template.json",
        "analytics-prod-foundation.template.json",
        "analytics-prod-ingestion.template.json",
        "analytics-prod-network.template.json",
        "analytics-prod-search.template.json",
        "analytics-prod-streaming.template.json",
        "analytics-prod-warehouse.template.json",
    ]


#: What a user's checkout has besides the project's files, none of which the app reads (the
#: application zip under build/ is linked in: `make synth` builds it before the CLI runs).
_NOT_THE_PROJECT = (
    ".git", ".venv", ".venv-flink", "node_modules", "cdk.out", ".cache", "tests", "__pycache__", "*.egg-info", "build", "dist",
)


def project_copy(destination: Path) -> Path:
    """The project as a platform team checks it out, with ``account`` and ``region`` set in every
    environment's YAML (tests.synth.DEPLOYED: one account per environment, two regions) and the
    pinned CLI linked in."""
    project = destination / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(*_NOT_THE_PROJECT))
    shutil.rmtree(project / "config")
    write_deployed_config(project)
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    (project / "build").mkdir()
    (project / "build" / "flink").symlink_to(ROOT / "build" / "flink")
    return project


def test_cdk_synth_with_account_and_region_needs_no_credentials_and_no_lookup(tmp_path: Path) -> None:
    """The README's first-deploy step, taken literally: account and region set in the YAML, then
    ``cdk synth`` through the pinned CLI with an empty HOME and no AWS variables. It used to fail
    with 21 unmatched acknowledgments and an availability-zones lookup that needed credentials."""
    project = project_copy(tmp_path)
    target = DEPLOYED_BY_ENV["prod"]
    outdir = tmp_path / "cdk.out"
    result = subprocess.run(
        [str(CLI), "synth", "--quiet", "-c", f"env={target.env_name}", "--output", str(outdir)],
        cwd=project, env=credential_free_environment(tmp_path / "home"), capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "credentials" not in result.stderr
    assert missing_context(outdir) == []
    manifest = json.loads((outdir / "manifest.json").read_text())
    environments = {a["environment"] for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"}
    assert environments == {f"aws://{target.account}/{target.region}"}
    assert len(list(outdir.glob("*.template.json"))) == 9
    assert not (project / "cdk.context.json").exists()


def test_an_unknown_environment_fails_synth_and_names_the_allowed_ones(tmp_path: Path) -> None:
    env = credential_free_environment(tmp_path)
    env["CDK_CONTEXT_JSON"] = json.dumps(cli_context("qa"))
    env["CDK_OUTDIR"] = str(tmp_path / "cdk.out")
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "Configuration error: Unknown environment 'qa'" in result.stderr
    assert "Allowed values: dev, prod, staging" in result.stderr
    assert "Traceback" not in result.stderr
