"""cdk-nag gate: zero unacknowledged findings, every acknowledgment specific and load-bearing,
and a canary proving that the packs app.py registers do catch violations."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3

from stacks.compliance import COMPLIANCE_PACKS, add_compliance_checks
from tests.compliance.nag import PACK_RULE_ID, acknowledgments, findings
from tests.synth import AGNOSTIC, DEPLOYED_BY_ENV, Target, synthesise

#: Changing an acknowledgment count is a security decision: update this table in the same
#: change, so that a reviewer sees it. The counts of the environment-agnostic templates; deployed
#: with an account and region (tests.synth.TARGETS), see DEPLOYED_FEWER.
EXPECTED_ACKNOWLEDGMENTS = {
    env: {
        "analytics-account-baseline": 0,
        f"analytics-{env}-foundation": 6 if env == "dev" else 8,
        f"analytics-{env}-ingestion": 29,
        f"analytics-{env}-catalog": 85,
        f"analytics-{env}-network": 3,
        f"analytics-{env}-warehouse": 13 if env == "prod" else 16,
        f"analytics-{env}-emr": 20,
        f"analytics-{env}-search": 32 if env == "dev" else 31,
        f"analytics-{env}-streaming": 12,
    }
    for env in ("dev", "staging", "prod")
}
#: Deployed with an account and region, a stack may have fewer findings to acknowledge, never
#: more: the Firehose L2's region-to-CIDR mapping (W7001) is rendered only while the region is
#: unknown at synth (both stacks with a delivery stream to S3 acknowledge it then).
DEPLOYED_FEWER = {"ingestion": 1, "streaming": 1}


def expected_acknowledgments(target: Target) -> dict[str, int]:
    expected = dict(EXPECTED_ACKNOWLEDGMENTS[target.env_name])
    if target.deployed:
        for stack, fewer in DEPLOYED_FEWER.items():
            expected[f"analytics-{target.env_name}-{stack}"] -= fewer
    return expected
GENERIC_REASONS = ("todo", "tbd", "n/a", "not needed", "suppress", "ignore", "false positive")
#: Plugin names of the five packs in the validation report. Other plugins report there too (the
#: construct annotations, such as the deliberate data-destroyed warning of dev).
PACKS = {"AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless"}
#: aws-cdk-lib's own template validation, acknowledged as ``CloudFormation-Validate::<rule>``.
CFN_VALIDATE = "CloudFormation Validate"
#: Acknowledgments made inside aws-cdk-lib (TypeScript), not by us: we can neither rephrase them
#: nor switch them off to check them. Listed here so that a new one is a reviewed change.
LIBRARY_ACKNOWLEDGMENTS = {
    # aws-iot-alpha's TopicRule renders the deprecated-but-required TopicRulePayload property.
    ("CloudFormation-Validate::W9009", "topicRulePayload is deprecated, but we are using it for historical reasons"),
    # (aws-ec2's FlowLog acknowledges F3002/F3003 on itself whatever its destination; DataNetwork
    # renders the L1 instead, so that blanket acknowledgment is made nowhere.)
}


def pack_findings(outdir: Path):
    """Findings of the five packs and of CloudFormation validation, of every severity (a warning
    is a finding too), with validation rules named as they are acknowledged."""
    return [
        replace(f, rule_id=f"CloudFormation-Validate::{f.rule_id}") if f.pack == CFN_VALIDATE else f
        for f in findings(outdir)
        if f.pack in PACKS | {CFN_VALIDATE}
    ]


def our_acknowledgments(app):
    return [a for a in acknowledgments(app) if (a.rule_id, a.reason) not in LIBRARY_ACKNOWLEDGMENTS]


def test_every_environment_synthesises_with_zero_unacknowledged_findings(each_environment) -> None:
    assert pack_findings(each_environment.outdir) == []


def test_the_five_packs_are_registered() -> None:
    names = {pack.__name__ for pack in COMPLIANCE_PACKS}
    assert names == {
        "AwsSolutionsChecks",
        "HIPAASecurityChecks",
        "NIST80053R5Checks",
        "PCIDSS321Checks",
        "ServerlessChecks",
    }


def test_acknowledgment_counts_per_stack_are_pinned(each_environment) -> None:
    acks = acknowledgments(each_environment.app)
    counts = {name: sum(1 for a in acks if a.stack == name) for name in each_environment.stack_names()}
    assert counts == expected_acknowledgments(each_environment.target)


def test_every_acknowledgment_names_one_rule_and_a_specific_reason(each_environment) -> None:
    for ack in our_acknowledgments(each_environment.app):
        assert PACK_RULE_ID.match(ack.rule_id), f"{ack.path}: {ack.rule_id!r} is not a specific rule id"
        assert len(ack.reason) >= 100, f"{ack.path} {ack.rule_id}: reason too short to review"
        lowered = ack.reason.lower()
        assert not any(word in lowered for word in GENERIC_REASONS), f"{ack.path} {ack.rule_id}: generic reason"


@pytest.mark.parametrize("target", [*AGNOSTIC, DEPLOYED_BY_ENV["prod"]], ids=lambda target: target.id)
def test_every_acknowledgment_hides_a_real_finding_and_nothing_else(
    target: Target, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, synthesised
) -> None:
    """Synthesise with acknowledgments switched off: synth must fail, and its findings must be
    exactly the acknowledged ones (no stale acknowledgment, no finding hidden by accident).
    Deployed, once (prod): the zero-findings gate above already fails there on an acknowledgment
    that stops matching; this adds the stale-acknowledgment direction."""
    acks = our_acknowledgments(synthesised(target).app)
    monkeypatch.setattr(cdk.Validations, "acknowledge", lambda self, *rules: None)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        synthesise(target, tmp_path / "cdk.out")
    raw = {(f.rule_id, f.path) for f in pack_findings(tmp_path / "cdk.out")}
    for ack in acks:
        covered = {r for r in raw if r[0] == ack.rule_id and (r[1] + "/").startswith(ack.path + "/")}
        assert covered, f"stale acknowledgment: {ack.rule_id} on {ack.path} hides no finding"
    for rule_id, path in raw:
        assert any(
            a.rule_id == rule_id and (path + "/").startswith(a.path + "/") for a in acks
        ), f"finding {rule_id} at {path} is not covered by an acknowledgment"


class _CanaryStack(cdk.Stack):
    """Deliberate violations: an unencrypted, unlogged, unversioned bucket and a bare function."""

    def __init__(self, scope: cdk.App) -> None:
        super().__init__(scope, "Canary")
        s3.Bucket(self, "Leaky", encryption=s3.BucketEncryption.UNENCRYPTED)
        lambda_.Function(
            self,
            "Bare",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
        )


def test_canary_the_packs_catch_a_deliberate_violation(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    _CanaryStack(app)
    add_compliance_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    reported = findings(tmp_path)
    assert {f.pack for f in reported if f.severity == "error"} >= PACKS
    rules = {f.rule_id for f in reported}
    assert {"AwsSolutions-S1", "AwsSolutions-S10", "HIPAA.Security-S3DefaultEncryptionKMS", "Serverless-LambdaTracing"} <= rules
