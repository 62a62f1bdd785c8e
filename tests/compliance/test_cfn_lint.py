"""cfn-lint over every synthesised template of every environment: no errors, no warnings
beyond those ignored (with their reasons) in .cfnlintrc.yaml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.synth import DEPLOYED, ROOT, TARGETS

CONFIG = ROOT / ".cfnlintrc.yaml"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
#: The only resources (logical-id prefix) allowed to raise each ignored check; a global ignore
#: must not hide the same warning on our own resources.
IGNORED_ONLY_ON = {
    "W3005": (
        "CustomS3AutoDeleteObjectsCustomResourceProviderHandler",
        "CustomVpcRestrictDefaultSGCustomResourceProviderHandler",
        "DeliveryTransform",
        "ToSearchTransform",
        "SpectrumSchemaFunction",
        "RevocationFunction",
        "SearchRolesFunction",
        "DetectorApplication",
        # The curated Iceberg tables' optimizer health checks (IcebergTableMaintenance), one per table.
        "TelemetryMaintenanceHealthCheckFunction",
        "TelemetryQuarantineMaintenanceHealthCheckFunction",
    ),
    "W7001": ("awscdkawskinesisfirehoseCidrBlocks",),
}


def run_cfn_lint(templates: list[Path], *, config: Path | None = CONFIG) -> list[dict]:
    """cfn-lint's findings; with ``config=None``, without our ignore list.

    Runs in the templates' directory: cfn-lint also loads a .cfnlintrc.yaml from its working
    directory, which would apply our ignore list even when asked not to."""
    options = ["--config-file", str(config)] if config is not None else []
    result = subprocess.run(
        [str(CFN_LINT), *options, "--regions", *LINT_REGIONS, "--format", "json", "--", *map(str, templates)],
        cwd=templates[0].parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip(), f"cfn-lint printed nothing (exit {result.returncode}): {result.stderr}"
    return json.loads(result.stdout)


def ignored_checks() -> list[str]:
    return list(yaml.safe_load(CONFIG.read_text())["ignore_checks"] or [])


def all_templates(synthesised) -> list[Path]:
    """Every template of every target, agnostic and deployed (tests.synth.TARGETS)."""
    return [path for target in TARGETS for path in synthesised(target).template_files()]


#: The regions cfn-lint checks every template against: each deployed target's region (instance
#: types, engine versions and resource types are validated per region), us-east-1 among them.
LINT_REGIONS = sorted({target.region for target in DEPLOYED} | {"us-east-1"})


@pytest.fixture(scope="module")
def raw_findings(synthesised) -> list[dict]:
    """cfn-lint once over every template of every environment, without our ignore list: both gates
    below read this one run (a run takes 10-15 s here). Applying the ignore list in Python is what
    cfn-lint does with our config, which holds nothing else (test_the_config_only_ignores_checks)."""
    templates = all_templates(synthesised)
    # Every stack of every target: the baseline and the eight environment stacks.
    assert len(templates) == 9 * len(TARGETS)
    return run_cfn_lint(templates, config=None)


def test_every_template_of_every_environment_is_clean(raw_findings) -> None:
    ignored = set(ignored_checks())
    assert [
        f"{m['Rule']['Id']} {m['Filename']}:{m['Location']['Start']['LineNumber']} {m['Message']}"
        for m in raw_findings
        if m["Rule"]["Id"] not in ignored
    ] == []


def test_the_config_only_ignores_checks() -> None:
    """The gates apply the ignore list themselves; any other setting would make them differ from
    ``make lint``."""
    assert set(yaml.safe_load(CONFIG.read_text())) == {"templates", "ignore_checks"}


def test_the_lint_gate_reports_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "broken.template.json"
    broken.write_text(
        json.dumps({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": "Sometimes"}}}}})
    )
    assert [m["Rule"]["Id"] for m in run_cfn_lint([broken])] == ["E3030"]


def test_every_ignored_check_is_explained() -> None:
    lines = CONFIG.read_text().splitlines()
    for check in ignored_checks():
        (number,) = [i for i, line in enumerate(lines) if line.strip() == f"- {check}"]
        assert lines[number - 1].strip().startswith("#"), f"ignored check without a reason: {check}"


def test_every_ignored_check_still_hides_a_finding_and_only_where_documented(raw_findings) -> None:
    """An ignore that no template needs any more would hide the next real finding; an ignored
    check raised on a resource of ours would be a real finding hidden."""
    for check in ignored_checks():
        hits = [m["Location"]["Path"][1] for m in raw_findings if m["Rule"]["Id"] == check]
        assert hits, f"{check} is ignored but no template raises it any more"
        allowed = IGNORED_ONLY_ON[check]
        assert [h for h in hits if not h.startswith(allowed)] == [], f"{check} raised outside {allowed}"
