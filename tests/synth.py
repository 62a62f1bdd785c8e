"""Synthesising the real app the way the CDK CLI does, for tests and benchmarks.

The CLI passes cdk.json's context (the feature flags) to the app; a test that builds the app
in-process must pass it too, or it would test different templates than the ones deployed.

Every environment is synthesised in two forms (:data:`TARGETS`):

- environment-agnostic, as the repository ships it;
- deployed: with ``account`` and ``region`` set in its YAML, as the README's first-deploy step has
  a platform team do, in a multi-account layout (:data:`DEPLOYED`: one account per environment,
  two regions, one of them outside us-east-1). CDK then writes literals where the agnostic template
  has pseudo parameters, renders cross-stack references with the region, and would look up
  anything it is not given: the gates run over both forms.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import cx_api

from app import build_app, cli_context
from config import CONFIG_DIR

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("dev", "staging", "prod")


@dataclass(frozen=True)
class Target:
    """An environment, and where it is deployed (``None``: environment-agnostic)."""

    env_name: str
    account: str | None = None
    region: str | None = None

    @property
    def deployed(self) -> bool:
        return self.account is not None

    @property
    def id(self) -> str:
        """``prod`` or ``prod@333333333333/eu-central-1`` (test ids and snapshot names)."""
        return self.env_name if not self.deployed else f"{self.env_name}@{self.account}/{self.region}"


AGNOSTIC = tuple(Target(env) for env in ENVIRONMENTS)
#: One account per environment, as most organisations run them; dev and prod outside us-east-1.
DEPLOYED = (
    Target("dev", "111111111111", "eu-west-1"),
    Target("staging", "222222222222", "us-east-1"),
    Target("prod", "333333333333", "eu-west-1"),
)
TARGETS = AGNOSTIC + DEPLOYED
DEPLOYED_BY_ENV = {target.env_name: target for target in DEPLOYED}


def target_of(env_name: str, *, deployed: bool = False) -> Target:
    return DEPLOYED_BY_ENV[env_name] if deployed else Target(env_name)


def app_context(env_name: str, **extra: Any) -> dict[str, Any]:
    return cli_context(env_name, **extra)


def write_deployed_config(destination: Path, targets: tuple[Target, ...] = DEPLOYED, source: Path = CONFIG_DIR) -> Path:
    """A copy of ``config/`` with each target's ``account`` and ``region`` added to its YAML, the
    edit the README asks of a platform team before the first deploy. Returns the copy's path."""
    config_dir = destination / "config"
    shutil.copytree(source, config_dir, ignore=shutil.ignore_patterns("__pycache__"))
    for target in targets:
        env_file = config_dir / "environments" / f"{target.env_name}.yaml"
        env_file.write_text(
            f'account: "{target.account}"\nregion: {target.region}\n' + env_file.read_text(encoding="utf-8"),
            encoding="utf-8",
        )
    return config_dir


@dataclass
class Synthesised:
    """One environment's app after synthesis."""

    target: Target
    app: cdk.App
    assembly: cx_api.CloudAssembly
    outdir: Path

    @property
    def env_name(self) -> str:
        return self.target.env_name

    def stack_names(self) -> list[str]:
        return [stack.stack_name for stack in self.assembly.stacks]

    def template(self, stack_name: str) -> dict[str, Any]:
        return self.assembly.get_stack_by_name(stack_name).template

    def templates(self) -> dict[str, dict[str, Any]]:
        return {name: self.template(name) for name in self.stack_names()}

    def template_files(self) -> list[Path]:
        return sorted(self.outdir.glob("*.template.json"))


def synthesise(target: Target | str, outdir: Path) -> Synthesised:
    """Synthesise ``target`` (an environment name: agnostic) into ``outdir``; a deployed target's
    configuration is written next to it (``<outdir>.config/``)."""
    target = Target(target) if isinstance(target, str) else target
    config_dir = CONFIG_DIR
    if target.deployed:
        config_root = outdir.parent / f"{outdir.name}.config"
        shutil.rmtree(config_root, ignore_errors=True)
        config_dir = write_deployed_config(config_root)
    app = build_app(app_context(target.env_name), outdir=str(outdir), config_dir=config_dir)
    assembly = app.synth()
    return Synthesised(target=target, app=app, assembly=assembly, outdir=outdir)


def missing_context(outdir: Path) -> list[str]:
    """The context keys a synth could not resolve (``missing`` in the assembly's manifest): each is
    a lookup the CLI would make with AWS credentials before synthesising again."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    return sorted(entry["key"] for entry in manifest.get("missing", []))
