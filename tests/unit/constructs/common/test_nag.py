"""constructs_lib.common.nag: acknowledgments whose finding ids are derived, never written by hand.

cdk-nag names an ``AwsSolutions-IAM5`` resource finding after the resource as rendered in the
template. A bucket of another stack renders as a cross-stack reference whose text names the
deployment region (or ``AWS::Region``) and an output name CDK generates at synthesis; a format_arn
renders pseudo parameters as ``<AWS::Region>`` only while the stack is environment-agnostic. These
tests synthesise both forms with the real packs and compare with cdk-nag's own finding ids."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from constructs_lib.common.nag import acknowledge_resources, flatten_cfn_reference, rendered_resource
from stacks.compliance import add_compliance_checks
from tests.compliance.nag import findings

CONCRETE = cdk.Environment(account="123456789012", region="eu-west-1")
HASHED_AGNOSTIC_ID = (
    'AwsSolutions-IAM5[Resource::{"Fn::GetStackOutput":{"StackName":"Producer","Region":{"Ref":"AWS::Region"},'
    '"OutputName":"PublishOutputFnGetAttBucket83908E77Arn063C8555"}}/telemetry/*]'
)


class _Producer(cdk.Stack):
    def __init__(self, scope: cdk.App, env: cdk.Environment | None) -> None:
        super().__init__(scope, "Producer", env=env)
        self.bucket = s3.Bucket(
            self, "Bucket", enforce_ssl=True, versioned=True, encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        )


class _Consumer(cdk.Stack):
    """A role in another stack reading objects under one prefix, and Glue's log groups."""

    def __init__(self, scope: cdk.App, env: cdk.Environment | None, bucket: s3.IBucket) -> None:
        super().__init__(scope, "Consumer", env=env)
        self.role = iam.Role(self, "Reader", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
        self.objects = bucket.arn_for_objects("telemetry/*")
        self.log_groups = self.format_arn(
            service="logs", resource="log-group", resource_name="/aws-glue/jobs*", arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME
        )
        self.role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[self.objects]))
        self.role.add_to_policy(iam.PolicyStatement(actions=["logs:PutLogEvents"], resources=[self.log_groups]))


def _synth(tmp_path: Path, env: cdk.Environment | None, *, acknowledged: bool) -> tuple[_Consumer, set[str]]:
    app = cdk.App(outdir=str(tmp_path), context={"@aws-cdk/core:defaultCrossStackReferences": "weak"})
    producer = _Producer(app, env)
    consumer = _Consumer(app, env, producer.bucket)
    if acknowledged:
        acknowledge_resources(consumer.role, "a reason long enough to review " * 4, consumer.objects, consumer.log_groups)
    add_compliance_checks(app)
    try:
        app.synth()
    except RuntimeError as error:
        assert "ValidationFailed" in str(error)
    found = {f.rule_id for f in findings(tmp_path) if f.path.startswith("Consumer/Reader") and "IAM5[Resource" in f.rule_id}
    return consumer, found


@pytest.mark.parametrize("env", [None, CONCRETE], ids=["agnostic", "concrete"])
def test_rendered_names_equal_cdk_nags_finding_ids(tmp_path: Path, env: cdk.Environment | None) -> None:
    consumer, found = _synth(tmp_path, env, acknowledged=False)
    derived = {f"AwsSolutions-IAM5[Resource::{rendered_resource(consumer.role, arn)}]" for arn in (consumer.objects, consumer.log_groups)}
    assert found == derived


@pytest.mark.parametrize("env", [None, CONCRETE], ids=["agnostic", "concrete"])
def test_derived_acknowledgments_match_in_either_form(tmp_path: Path, env: cdk.Environment | None) -> None:
    _, found = _synth(tmp_path, env, acknowledged=True)
    assert found == set()


def test_the_concrete_form_names_the_region_and_the_account(tmp_path: Path) -> None:
    consumer, found = _synth(tmp_path, CONCRETE, acknowledged=False)
    # (This bare app has no feature flags: the partition stays a pseudo parameter.)
    assert "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:eu-west-1:123456789012:log-group:/aws-glue/jobs*]" in found
    objects = rendered_resource(consumer.role, consumer.objects)
    assert objects.startswith('{"Fn::GetStackOutput":{"StackName":"Producer","Region":"eu-west-1","OutputName":"PublishOutput')
    assert objects.endswith("}}/telemetry/*")


def test_a_hand_written_agnostic_id_stops_matching_once_a_region_is_set(tmp_path: Path) -> None:
    """Why ids are derived: the form the app used to write by hand matches only environment-agnostic
    templates, so a concrete account and region surfaced the finding (and failed synth)."""
    app = cdk.App(outdir=str(tmp_path), context={"@aws-cdk/core:defaultCrossStackReferences": "weak"})
    consumer = _Consumer(app, CONCRETE, _Producer(app, CONCRETE).bucket)
    cdk.Validations.of(consumer.role).acknowledge(cdk.Acknowledgment(id=HASHED_AGNOSTIC_ID, reason="hand-written"))
    add_compliance_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    assert any("/telemetry/*" in f.rule_id for f in findings(tmp_path) if f.path.startswith("Consumer/Reader"))


def test_acknowledge_resources_needs_a_resource() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ValueError, match="acknowledge_resources: name at least one resource"):
        acknowledge_resources(stack, "reason")


@pytest.mark.parametrize(
    ("node", "flat"),
    [
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/*"),
        ({"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket1", "Arn"]}, "/x/*"]]}, "<Bucket1.Arn>/x/*"),
        ({"Fn::Join": [":", ["arn", {"Ref": "AWS::Partition"}, "logs"]]}, "arn:<AWS::Partition>:logs"),
        ({"Fn::Sub": "arn:${AWS::Partition}:s3:::b/*"}, "arn:<AWS::Partition>:s3:::b/*"),
        ({"Fn::ImportValue": "Export1"}, "Export1"),
        ({"Fn::GetStackOutput": {"StackName": "P", "Region": {"Ref": "AWS::Region"}, "OutputName": "O"}},
         '{"Fn::GetStackOutput":{"StackName":"P","Region":{"Ref":"AWS::Region"},"OutputName":"O"}}'),
        ({"Fn::Select": [0, ["é"]]}, '{"Fn::Select":[0,["é"]]}'),
        (None, ""),
    ],
)
def test_flatten_follows_cdk_nags_rules(node, flat: str) -> None:
    assert flatten_cfn_reference(node) == flat
