"""The app as a whole: which stacks each environment gets, config flowing into them, tags,
account-level singletons kept out of environment stacks, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from config import load_config
from tests.synth import ROOT, missing_context

#: Types of the account-level singletons: only the account baseline may create them.
ACCOUNT_SINGLETONS = {
    "AWS::Glue::DataCatalogEncryptionSettings",
    "AWS::LakeFormation::DataLakeSettings",
}
#: Every resource type the app creates that CloudFormation can tag (IAM policies, log streams,
#: subscriptions and the like cannot carry tags).
TAGGABLE_TYPES = {
    "AWS::S3::Bucket", "AWS::KMS::Key", "AWS::SNS::Topic", "AWS::SQS::Queue", "AWS::IAM::Role",
    "AWS::Lambda::Function", "AWS::Kinesis::Stream", "AWS::KinesisFirehose::DeliveryStream",
    "AWS::Logs::LogGroup", "AWS::IoT::TopicRule", "AWS::IoT::Policy", "AWS::CloudWatch::Alarm",
    "AWS::Glue::Crawler", "AWS::Glue::Job", "AWS::Glue::Trigger", "AWS::Glue::Workflow",
    "AWS::Athena::WorkGroup", "AWS::Events::Rule",
    "AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::RouteTable", "AWS::EC2::SecurityGroup", "AWS::EC2::FlowLog",
    "AWS::Redshift::Cluster", "AWS::Redshift::ClusterParameterGroup", "AWS::Redshift::ClusterSubnetGroup",
    "AWS::SecretsManager::Secret", "AWS::EMR::Cluster", "AWS::KinesisAnalyticsV2::Application",
    "AWS::OpenSearchService::Domain",
}


def tags_of(resource: dict) -> dict[str, str]:
    tags = resource.get("Properties", {}).get("Tags", [])
    return {t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else dict(tags)


def test_each_environment_has_the_baseline_and_its_foundation(each_environment) -> None:
    env = each_environment.env_name
    assert sorted(each_environment.stack_names()) == [
        "analytics-account-baseline",
        f"analytics-{env}-catalog",
        f"analytics-{env}-emr",
        f"analytics-{env}-foundation",
        f"analytics-{env}-ingestion",
        f"analytics-{env}-network",
        f"analytics-{env}-search",
        f"analytics-{env}-streaming",
        f"analytics-{env}-warehouse",
    ]


def _stack_dependencies(synthesised_env) -> dict[str, set[str]]:
    manifest = json.loads((synthesised_env.outdir / "manifest.json").read_text())
    return {
        name: {d for d in artifact.get("dependencies", []) if not d.endswith(".assets")}
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }


def _depth(graph: dict[str, set[str]], name: str) -> int:
    return 1 + max((_depth(graph, d) for d in graph[name]), default=0)


def _reaches(graph: dict[str, set[str]], start: str, target: str) -> bool:
    return any(d == target or _reaches(graph, d, target) for d in graph[start])


def test_slow_stacks_deploy_side_by_side_in_a_shallow_graph(each_environment) -> None:
    """Redshift (about 10 minutes), EMR (about 10) and OpenSearch (15 to 30) never wait for each other."""
    env = each_environment.env_name
    graph = _stack_dependencies(each_environment)
    slow = [f"analytics-{env}-{s}" for s in ("warehouse", "emr", "search")]
    for one in slow:
        for other in slow:
            assert one == other or not _reaches(graph, one, other), (one, other)
    baseline = {"analytics-account-baseline"}
    assert graph[slow[0]] == {f"analytics-{env}-{s}" for s in ("catalog", "foundation", "network")} | baseline
    assert graph[slow[1]] == {f"analytics-{env}-{s}" for s in ("catalog", "foundation", "network")} | baseline
    assert graph[slow[2]] == {f"analytics-{env}-{s}" for s in ("ingestion", "foundation", "network")}
    assert graph[f"analytics-{env}-catalog"] == {f"analytics-{env}-foundation"} | baseline
    assert graph[f"analytics-{env}-network"] == set()
    # Streaming analytics reads only what it consumes (DESIGN 2): no slow stack waits for it.
    assert graph[f"analytics-{env}-streaming"] == {f"analytics-{env}-{s}" for s in ("foundation", "ingestion")}
    assert not any(_reaches(graph, one, f"analytics-{env}-streaming") for one in slow)
    assert max(_depth(graph, name) for name in graph) == 3


def test_environment_stacks_never_set_account_level_singletons(each_environment) -> None:
    for name, template in each_environment.templates().items():
        if name == "analytics-account-baseline":
            continue
        types = {r["Type"] for r in template["Resources"].values()}
        assert not types & ACCOUNT_SINGLETONS, name


def test_account_baseline_is_identical_whichever_environment_is_selected(synthesised) -> None:
    """Two environments in one account deploy the same baseline instead of overwriting it."""
    baselines = {json.dumps(synthesised(env).template("analytics-account-baseline"), sort_keys=True) for env in ("dev", "staging", "prod")}
    assert len(baselines) == 1
    (baseline,) = baselines
    for env in ("dev", "staging", "prod"):
        assert f'"{env}"' not in baseline


def test_account_baseline_encrypts_the_catalog(synthesised) -> None:
    template = synthesised("prod").template("analytics-account-baseline")
    settings = [r for r in template["Resources"].values() if r["Type"] == "AWS::Glue::DataCatalogEncryptionSettings"]
    assert len(settings) == 1
    assert settings[0]["Properties"]["DataCatalogEncryptionSettings"]["EncryptionAtRest"]["CatalogEncryptionMode"] == "SSE-KMS"


@pytest.mark.parametrize("env_name", ["dev", "staging", "prod"])
def test_every_taggable_resource_carries_the_environment_tags(synthesised, env_name: str) -> None:
    app = synthesised(env_name)
    expected = load_config(env_name).environment.resource_tags
    checked: dict[str, int] = {}
    for stack_name in app.stack_names():
        if stack_name == "analytics-account-baseline":
            continue
        for logical_id, resource in app.template(stack_name)["Resources"].items():
            if resource["Type"] in TAGGABLE_TYPES:
                assert expected.items() <= tags_of(resource).items(), f"{stack_name} {logical_id}"
                checked[stack_name] = checked.get(stack_name, 0) + 1
    assert checked[f"analytics-{env_name}-foundation"] >= 7
    assert checked[f"analytics-{env_name}-ingestion"] >= 24
    assert checked[f"analytics-{env_name}-catalog"] >= 20
    assert checked[f"analytics-{env_name}-network"] >= 6
    assert checked[f"analytics-{env_name}-warehouse"] >= 8
    assert checked[f"analytics-{env_name}-emr"] >= 5
    assert checked[f"analytics-{env_name}-search"] >= 15
    assert checked[f"analytics-{env_name}-streaming"] >= 6


def test_baseline_is_tagged_from_the_project_not_an_environment(synthesised) -> None:
    template = synthesised("dev").template("analytics-account-baseline")
    key = next(r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key")
    assert tags_of(key) == load_config("dev").project.baseline_tags()


@pytest.mark.parametrize(("env_name", "protected"), [("dev", False), ("staging", True), ("prod", True)])
def test_stacks_that_keep_data_have_termination_protection(synthesised, env_name: str, protected: bool) -> None:
    stack = synthesised(env_name).assembly.get_stack_by_name(f"analytics-{env_name}-foundation")
    assert stack.termination_protection is protected


def test_config_lifecycle_reaches_the_buckets(synthesised) -> None:
    for env_name in ("dev", "prod"):
        storage = load_config(env_name).environment.storage
        template = synthesised(env_name).template(f"analytics-{env_name}-foundation")
        raw = next(r for k, r in template["Resources"].items() if k.startswith("DataLakeRawBucket") and r["Type"] == "AWS::S3::Bucket")
        rules = {r["Id"]: r for r in raw["Properties"]["LifecycleConfiguration"]["Rules"]}
        expected = [{"StorageClass": "STANDARD_IA", "TransitionInDays": storage.raw_infrequent_access_after_days}]
        if storage.raw_glacier_after_days is not None:
            expected.append({"StorageClass": "GLACIER_IR", "TransitionInDays": storage.raw_glacier_after_days})
        assert rules["TierRawObjects"]["Transitions"] == expected
        assert rules["ExpireNoncurrentVersions"]["NoncurrentVersionExpiration"] == {
            "NoncurrentDays": storage.noncurrent_version_expiration_days
        }


def test_config_log_retention_reaches_the_access_log_bucket(synthesised) -> None:
    template = synthesised("staging").template("analytics-staging-foundation")
    logs = next(r for k, r in template["Resources"].items() if k.startswith("DataLakeAccessLogsBucket") and r["Type"] == "AWS::S3::Bucket")
    rules = {r["Id"]: r for r in logs["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireAccessLogs"]["ExpirationInDays"] == load_config("staging").environment.logging.retention_days


def test_config_subscribers_reach_the_alarm_topic(synthesised) -> None:
    for env_name in ("dev", "prod"):
        template = synthesised(env_name).template(f"analytics-{env_name}-foundation")
        endpoints = sorted(r["Properties"]["Endpoint"] for r in template["Resources"].values() if r["Type"] == "AWS::SNS::Subscription")
        assert endpoints == sorted(load_config(env_name).environment.alarms.email_subscribers)


def test_dev_warns_that_it_destroys_its_data(synthesised) -> None:
    def warnings(env_name: str) -> list[str]:
        stack = synthesised(env_name).assembly.get_stack_by_name(f"analytics-{env_name}-foundation")
        return [str(m.entry.data) for m in stack.messages if m.entry.type == "aws:cdk:warning"]

    assert any("removal_policy is DESTROY" in w for w in warnings("dev"))
    assert not any("removal_policy is DESTROY" in w for w in warnings("prod"))


#: Tooling output, never deployed: the construct tree, the validation report, and each stack's
#: metadata file, whose traces of the acknowledgments aws-cdk-lib makes itself contain the jsii
#: kernel's per-process temporary directory.
_NOT_DEPLOYED = ("tree.json", "validation-report.json", "cdk.out")


def _assembly_files(outdir: Path) -> dict[str, bytes]:
    """Every file a reviewer or a deployment reads: templates, asset manifests (with their hashes),
    the manifest, and the staged asset directories' contents."""
    return {
        str(path.relative_to(outdir)): path.read_bytes()
        for path in sorted(outdir.rglob("*"))
        if path.is_file() and path.name not in _NOT_DEPLOYED and not path.name.endswith(".metadata.json")
    }


@pytest.mark.parametrize("deployed", [False, True], ids=["agnostic", "deployed"])
def test_synthesis_is_byte_for_byte_deterministic(synthesised, tmp_path: Path, deployed: bool) -> None:
    """The same commit synthesised again, in a fresh process with another hash seed, writes the same
    bytes: templates, asset hashes and staged assets included (prod, in both forms)."""
    import os
    import subprocess
    import sys

    script = (
        "import sys; from pathlib import Path; from tests.synth import synthesise, target_of; "
        f"synthesise(target_of('prod', deployed={deployed}), Path(sys.argv[1]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    outdir = tmp_path / "cdk.out"
    subprocess.run([sys.executable, "-c", script, str(outdir)], cwd=ROOT, env=env, check=True, capture_output=True)
    first, second = _assembly_files(synthesised("prod", deployed=deployed).outdir), _assembly_files(outdir)
    assert sorted(first) == sorted(second)
    assert any(name.endswith(".assets.json") for name in first) and any(name.startswith("asset.") for name in first)
    assert [name for name in first if first[name] != second[name]] == []


def test_environment_agnostic_by_default_and_pinned_when_configured(each_environment) -> None:
    target = each_environment.target
    for stack in each_environment.assembly.stacks:
        assert stack.environment.account == (target.account or "unknown-account"), stack.stack_name
        assert stack.environment.region == (target.region or "unknown-region"), stack.stack_name


def test_no_stack_needs_a_context_lookup(each_environment) -> None:
    """Synth needs no AWS call in any form: nothing is looked up (the VPC's AZs are chosen by
    CloudFormation at deploy time), so there is no cdk.context.json to commit or to keep complete."""
    assert missing_context(each_environment.outdir) == []
    assert not (ROOT / "cdk.context.json").exists(), "a lookup was cached: remove it, or commit it as a design decision"


def test_the_lookup_check_catches_a_lookup(tmp_path: Path) -> None:
    """The check above can fail: a VPC left to pick its AZs in a stack with a concrete environment
    is the lookup that made the README's first-deploy step need credentials."""
    from aws_cdk import aws_ec2 as ec2

    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Looks", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    ec2.Vpc(stack, "Vpc", max_azs=2)
    app.synth()
    assert missing_context(tmp_path) == ["availability-zones:account=123456789012:region=eu-west-1"]
