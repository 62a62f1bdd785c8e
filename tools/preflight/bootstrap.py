"""The CDK bootstrap version the environment's templates require, read from a synthesised cloud
assembly rather than guessed.

Every stack artifact (and asset manifest) in ``manifest.json`` carries
``requiresBootstrapStackVersion`` and ``bootstrapStackVersionSsmParameter``
(``/cdk-bootstrap/<qualifier>/version``); the templates' ``CheckBootstrapVersion`` rule reads
that parameter at deploy time. With aws-cdk-lib 2.275 and the default synthesizer both say 6 and
``hnb659fds``, but they follow the library and any qualifier set in cdk.json, so they are read,
not written down. Without ``--assembly`` the app is synthesised in a child process (its output
is kept out of the preflight's lines unless it fails).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TOOLKIT_STACK = "CDKToolkit"
_STACK = "aws:cloudformation:stack"
_ASSETS = "cdk:asset-manifest"


class AssemblyError(Exception):
    """The assembly is missing, unreadable, or says nothing about bootstrapping."""


@dataclass(frozen=True)
class BootstrapRequirement:
    version: int
    ssm_parameter: str
    stacks: tuple[str, ...]

    @property
    def qualifier(self) -> str:
        """``hnb659fds`` from ``/cdk-bootstrap/hnb659fds/version``."""
        return self.ssm_parameter.strip("/").split("/")[1]


def read_requirement(assembly_dir: Path) -> BootstrapRequirement:
    """The highest version any stack or asset manifest requires, and the (single) SSM parameter."""
    manifest_file = assembly_dir / "manifest.json"
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AssemblyError(f"cannot read {manifest_file}: {error}") from None
    versions: list[int] = []
    parameters: set[str] = set()
    stacks: list[str] = []
    for name, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") not in (_STACK, _ASSETS):
            continue
        properties = artifact.get("properties", {})
        if "requiresBootstrapStackVersion" in properties:
            versions.append(int(properties["requiresBootstrapStackVersion"]))
        if "bootstrapStackVersionSsmParameter" in properties:
            parameters.add(properties["bootstrapStackVersionSsmParameter"])
        if artifact.get("type") == _STACK:
            stacks.append(properties.get("stackName", name))
    if not versions:
        raise AssemblyError(f"{manifest_file} names no required bootstrap version (no stack artifacts?)")
    if len(parameters) > 1:
        raise AssemblyError(f"{manifest_file}: stacks use different bootstrap qualifiers: {sorted(parameters)}")
    parameter = parameters.pop() if parameters else "/cdk-bootstrap/hnb659fds/version"
    return BootstrapRequirement(version=max(versions), ssm_parameter=parameter, stacks=tuple(stacks))


def toolkit_stack_name(cdk_json: Path = ROOT / "cdk.json") -> str:
    """cdk.json's ``toolkitStackName`` when set (``cdk bootstrap --toolkit-stack-name``), else CDKToolkit."""
    try:
        return json.loads(cdk_json.read_text(encoding="utf-8")).get("toolkitStackName") or DEFAULT_TOOLKIT_STACK
    except (OSError, ValueError):
        return DEFAULT_TOOLKIT_STACK


_SYNTH = "import sys; from app import build_app, cli_context; build_app(cli_context(sys.argv[1]), outdir=sys.argv[2]).synth()"


def synthesise(env_name: str, timeout_seconds: float = 600) -> Path:
    """Synthesises ``env_name`` as the CLI would (cdk.json's context) into a temporary directory."""
    outdir = Path(tempfile.mkdtemp(prefix=f"preflight-{env_name}-"))
    try:
        done = subprocess.run(
            [sys.executable, "-c", _SYNTH, env_name, str(outdir)],
            cwd=ROOT, capture_output=True, text=True, timeout=timeout_seconds,
        )
    except subprocess.TimeoutExpired:
        shutil.rmtree(outdir, ignore_errors=True)
        raise AssemblyError(f"synthesising {env_name} took longer than {timeout_seconds:g} s") from None
    if done.returncode != 0:
        shutil.rmtree(outdir, ignore_errors=True)
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise AssemblyError(f"synthesising {env_name} failed: {last}")
    return outdir


def requirement_of(env_name: str, assembly_dir: Path | None) -> BootstrapRequirement:
    """From ``assembly_dir`` when given; else from a fresh synth of ``env_name``, removed afterwards."""
    if assembly_dir is not None:
        return read_requirement(assembly_dir)
    outdir = synthesise(env_name)
    try:
        return read_requirement(outdir)
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
