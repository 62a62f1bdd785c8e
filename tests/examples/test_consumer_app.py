"""Another team's use (issue 17 acceptance): tests/examples/consumer_app/app.py composes the library
differently from this repository's stacks (imported key and raw bucket, its own transform on arm64 and
Python 3.13, Glue, Athena, a VPC, OpenSearch with its delivery and security roles, an alarm topic) in a
concrete account and region, and is synthesised here through the pinned CDK CLI exactly as the team
would run ``cdk synth``: no AWS credentials (every ``AWS_*`` variable removed, an empty HOME), no
``cdk.context.json``, the five cdk-nag packs registered.

Here the library is imported from this checkout (PYTHONPATH), for a fast loop; the ``packaging`` test
(tests/packaging_check.py) synthesises the same app through the CLI with the built wheel installed in a
fresh virtual environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.compliance.nag import findings
from tests.synth import ROOT

APP_DIR = ROOT / "tests" / "examples" / "consumer_app"
CDK = ROOT / "node_modules" / ".bin" / "cdk"


@pytest.fixture(scope="module")
def synthesised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CDK.exists():
        pytest.fail("node_modules/.bin/cdk is missing: run `npm ci`")
    work = tmp_path_factory.mktemp("consumer")
    app_dir = work / "app"
    shutil.copytree(APP_DIR, app_dir, ignore=shutil.ignore_patterns("__pycache__", "cdk.out", "cdk.context.json"))
    home = work / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("PYTHONPATH", "CDK_OUTDIR")}
    env.update(
        HOME=str(home),
        PYTHONPATH=str(ROOT),
        # The app's "python3 app.py" runs with this test's interpreter (the project's environment).
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        AWS_EC2_METADATA_DISABLED="true",  # no instance-metadata credentials either
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="1",
        JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1",
    )
    done = subprocess.run(
        [str(CDK), "synth", "--quiet", "--no-notices", "--no-version-reporting", "--output", "cdk.out"],
        cwd=app_dir, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, f"cdk synth failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return app_dir


def test_the_cli_synthesises_it_without_credentials_lookups_or_context_file(synthesised: Path) -> None:
    manifest = json.loads((synthesised / "cdk.out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest.get("missing", []) == []  # no context lookup was needed
    assert not (synthesised / "cdk.context.json").exists()
    assert manifest["artifacts"]["Sensors"]["environment"] == "aws://444455556666/eu-central-1"


def test_it_passes_the_five_packs_with_its_acknowledgments(synthesised: Path) -> None:
    assert findings(synthesised / "cdk.out") == []


def test_it_uses_the_teams_key_runtime_and_namespace(synthesised: Path) -> None:
    template = json.loads((synthesised / "cdk.out" / "Sensors.template.json").read_text(encoding="utf-8"))
    resources = template["Resources"]
    team_key = "arn:aws:kms:eu-central-1:444455556666:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
    of_type = lambda kind: [r["Properties"] for r in resources.values() if r["Type"] == kind]  # noqa: E731
    assert [s["StreamEncryption"]["KeyId"] for s in of_type("AWS::Kinesis::Stream")] == [team_key]
    assert {g.get("KmsKeyId") for g in of_type("AWS::Logs::LogGroup")} >= {team_key}  # flow logs, transforms
    assert [c["EncryptionConfiguration"]["CloudWatchEncryption"]["KmsKeyArn"] for c in of_type("AWS::Glue::SecurityConfiguration")] == [team_key]
    assert [d["EncryptionAtRestOptions"]["KmsKeyId"] for d in of_type("AWS::OpenSearchService::Domain")] == [team_key.split("/")[-1]]
    # The one key created: the alarm topic's, whose policy must name CloudWatch, EventBridge and SNS.
    assert [name for name, r in resources.items() if r["Type"] == "AWS::KMS::Key"] == ["AlarmsKey3C2381B3"]
    functions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Function"
                 and r["Properties"].get("Handler") == "index.handler"]
    assert {(f["Runtime"], tuple(f.get("Architectures", ["x86_64"]))) for f in functions} >= {("python3.13", ("arm64",))}
    assert {f["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] for f in functions} == {"Acme/Sensors"}
    subnets = [r["Properties"]["AvailabilityZone"] for r in resources.values() if r["Type"] == "AWS::EC2::Subnet"]
    assert subnets and all("Fn::Select" in az for az in subnets)  # chosen at deploy time
