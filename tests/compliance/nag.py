"""Helpers to read cdk-nag 3 results: acknowledgments in the construct tree, findings in reports."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from constructs import IConstruct

PACK_RULE_ID = re.compile(
    r"^((AwsSolutions|HIPAA\.Security|NIST\.800\.53\.R5|PCI\.DSS\.321|Serverless)-[A-Za-z0-9]+(\[.+\])?"
    r"|CloudFormation-Validate::[EW]\d{4})$"
)


@dataclass(frozen=True)
class Ack:
    stack: str
    path: str
    rule_id: str
    reason: str


@dataclass(frozen=True)
class Finding:
    pack: str
    rule_id: str
    severity: str
    path: str


def acknowledgments(app: cdk.App) -> list[Ack]:
    """Every acknowledgment recorded anywhere in the app's construct tree."""
    found = []
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                continue
            for key, reason in entry.data.items():
                found.append(
                    Ack(
                        stack=_stack_name(construct),
                        path=construct.node.path,
                        rule_id=key.removeprefix("Annotation::"),
                        reason=reason,
                    )
                )
    return found


def findings(outdir: Path) -> list[Finding]:
    """Every violation in the validation report that a synth wrote to ``outdir``."""
    report_file = outdir / "validation-report.json"
    if not report_file.exists():
        return []
    report = json.loads(report_file.read_text())
    return [
        Finding(plugin["pluginName"], violation["ruleName"], violation["severity"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]


def _stack_name(construct: IConstruct) -> str:
    try:
        return cdk.Stack.of(construct).stack_name
    except Exception:  # constructs above any stack (the app itself)
        return "<app>"


def synthesise_under_packs(app: cdk.App, outdir: Path) -> list[Finding]:
    """Every finding of ``app`` (written to ``outdir``) under the app's five packs (stacks.compliance):
    synth raises ValidationFailed when there is any, and the report in ``outdir`` lists them."""
    from stacks.compliance import add_compliance_checks

    add_compliance_checks(app)
    try:
        app.synth()
    except RuntimeError as error:
        assert "ValidationFailed" in str(error)
    return findings(outdir)
