"""cfn-lint over every synthesised template of every environment: no errors, no warnings
beyond those ignored (with their reasons) in .cfnlintrc.yaml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.synth import ENVIRONMENTS, ROOT

CONFIG = ROOT / ".cfnlintrc.yaml"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def run_cfn_lint(templates: list[Path]) -> list[dict]:
    result = subprocess.run(
        [str(CFN_LINT), "--config-file", str(CONFIG), "--format", "json", *map(str, templates)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip(), f"cfn-lint printed nothing (exit {result.returncode}): {result.stderr}"
    return json.loads(result.stdout)


def test_every_template_of_every_environment_is_clean(synthesised) -> None:
    templates = [path for env in ENVIRONMENTS for path in synthesised(env).template_files()]
    assert len(templates) == 2 * len(ENVIRONMENTS)
    matches = run_cfn_lint(templates)
    assert [
        f"{m['Rule']['Id']} {m['Filename']}:{m['Location']['Start']['LineNumber']} {m['Message']}" for m in matches
    ] == []


def test_the_lint_gate_reports_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "broken.template.json"
    broken.write_text(
        json.dumps({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": "Sometimes"}}}}})
    )
    assert [m["Rule"]["Id"] for m in run_cfn_lint([broken])] == ["E3030"]


def test_every_ignored_check_is_explained() -> None:
    lines = CONFIG.read_text().splitlines()
    start = lines.index("ignore_checks:")
    for number, line in enumerate(lines[start + 1 :], start + 1):
        if line.strip().startswith("- "):
            assert lines[number - 1].strip().startswith("#"), f"ignored check without a reason: {line.strip()}"
