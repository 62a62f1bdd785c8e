"""Synthesising the real app the way the CDK CLI does, for tests and benchmarks.

The CLI passes cdk.json's context (the feature flags) to the app; a test that builds the app
in-process must pass it too, or it would test different templates than the ones deployed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import cx_api

from app import build_app, cli_context

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("dev", "staging", "prod")


def app_context(env_name: str, **extra: Any) -> dict[str, Any]:
    return cli_context(env_name, **extra)


@dataclass
class Synthesised:
    """One environment's app after synthesis."""

    env_name: str
    app: cdk.App
    assembly: cx_api.CloudAssembly
    outdir: Path

    def stack_names(self) -> list[str]:
        return [stack.stack_name for stack in self.assembly.stacks]

    def template(self, stack_name: str) -> dict[str, Any]:
        return self.assembly.get_stack_by_name(stack_name).template

    def templates(self) -> dict[str, dict[str, Any]]:
        return {name: self.template(name) for name in self.stack_names()}

    def template_files(self) -> list[Path]:
        return sorted(self.outdir.glob("*.template.json"))


def synthesise(env_name: str, outdir: Path) -> Synthesised:
    app = build_app(app_context(env_name), outdir=str(outdir))
    assembly = app.synth()
    return Synthesised(env_name=env_name, app=app, assembly=assembly, outdir=outdir)
