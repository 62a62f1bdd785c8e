"""The streaming constructs under the five cdk-nag packs, in a stack with a concrete environment and
in an environment-agnostic one: nothing left but what the library leaves to the app (the inline-policy
rule on the two roles that hold CDK policies, and aws-cdk-lib's unused Firehose region mapping in an
environment-agnostic template), and every acknowledgment they make hides a real finding of theirs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest

from constructs_lib.common.nag import INLINE_POLICY_RULES, acknowledge
from tests.compliance.nag import Ack, Finding, acknowledgments, synthesise_under_packs
from tests.unit.constructs.streaming.builders import application_zip, pipeline

OURS = ("Test/Consumer", "Test/Anomalies", "Test/Detector")
APP_S_OWN = (
    "Test fixture, as an app acknowledges it: the role's permissions are the one inline policy CDK generates from "
    "the construct's statements and the grants wired to it, attached to this role only."
)
UNUSED_MAPPING = (
    "Test fixture, as an app acknowledges it: aws-cdk-lib's DeliveryStream adds a region mapping an "
    "environment-agnostic template does not use."
)


@dataclass
class Synthesised:
    app: cdk.App
    findings: list[Finding]

    def ours(self) -> list[Ack]:
        return [a for a in acknowledgments(self.app) if a.path.startswith(OURS)]


def synthesise(outdir: Path, code: str, *, concrete: bool) -> Synthesised:
    app = cdk.App(outdir=str(outdir), context={"@aws-cdk/core:enablePartitionLiterals": True})
    env = cdk.Environment(account="111122223333", region="eu-west-1") if concrete else None
    scope = cdk.Stack(app, "Test", env=env)
    built = pipeline(scope, code)
    for role in (built["application"].role, built["sink"].destination_role):
        acknowledge(role, APP_S_OWN, *INLINE_POLICY_RULES)
    if not concrete:
        acknowledge(scope, UNUSED_MAPPING, "CloudFormation-Validate::W7001")
    return Synthesised(app, synthesise_under_packs(app, outdir))


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> str:
    return application_zip(tmp_path_factory.mktemp("nag-code"))


@pytest.fixture(scope="module", params=[True, False], ids=["concrete-environment", "environment-agnostic"])
def runs(request, tmp_path_factory, code) -> tuple[Synthesised, Synthesised]:
    concrete = request.param
    acknowledged = synthesise(tmp_path_factory.mktemp("streaming-nag"), code, concrete=concrete)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cdk.Validations, "acknowledge", lambda self, *rules: None)
        unacknowledged = synthesise(tmp_path_factory.mktemp("streaming-nag-raw"), code, concrete=concrete)
    return acknowledged, unacknowledged


def test_no_finding_is_left_under_the_five_packs(runs) -> None:
    acknowledged, _ = runs
    assert acknowledged.findings == []


def test_every_acknowledgment_hides_a_real_finding_of_its_construct_and_every_finding_is_acknowledged(runs) -> None:
    acknowledged, unacknowledged = runs
    raw = {(f.rule_id, f.path) for f in unacknowledged.findings if f.path.startswith(OURS)}
    assert {f.pack for f in unacknowledged.findings} >= {"AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"}
    acks = acknowledged.ours()
    assert acks, "the constructs acknowledged nothing: the packs' findings were not checked"
    for ack in acks:
        assert any(rule == ack.rule_id and (path + "/").startswith(ack.path + "/") for rule, path in raw), (
            f"stale acknowledgment: {ack.rule_id} on {ack.path} hides no finding"
        )
    for rule, path in raw:
        assert any(a.rule_id == rule and (path + "/").startswith(a.path + "/") for a in acks), f"{rule} at {path} not acknowledged"


def test_the_library_acknowledges_only_its_log_and_prefix_wildcards_with_a_reason(runs) -> None:
    acknowledged, _ = runs
    library = [a for a in acknowledged.ours() if a.reason not in (APP_S_OWN, UNUSED_MAPPING)]
    assert {(a.path, a.rule_id.split("[")[0]) for a in library} == {
        ("Test/Detector/Role", "AwsSolutions-IAM5"), ("Test/Anomalies/DestinationRole", "AwsSolutions-IAM5"),
    }
    assert len(library) == 4  # two log wildcards, two written prefixes
    for ack in library:
        assert ack.rule_id.startswith("AwsSolutions-IAM5[Resource::") and len(ack.reason) > 150
