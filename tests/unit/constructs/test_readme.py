"""The library README's example is code a user will copy: it must run and do what it says."""

from __future__ import annotations

import re

from aws_cdk.assertions import Template

from tests.synth import ROOT

README = ROOT / "constructs_lib" / "README.md"


def example_code() -> str:
    (code,) = re.findall(r"## Example\n\n```python\n(.*?)```", README.read_text(), flags=re.S)
    return code


def test_the_readme_example_runs_and_builds_what_it_describes() -> None:
    namespace: dict = {}
    exec(compile(example_code(), str(README), "exec"), namespace)  # noqa: S102 - our own README
    assert namespace["database_name"] == "team_dev_curated"
    template = Template.from_stack(namespace["stack"])
    template.resource_count_is("AWS::S3::Bucket", 5)
    template.resource_count_is("AWS::SNS::Subscription", 1)
    raw_rules = {
        r["Id"]: r
        for r in template.to_json()["Resources"][
            namespace["stack"].get_logical_id(namespace["lake"].raw_bucket.node.default_child)
        ]["Properties"]["LifecycleConfiguration"]["Rules"]
    }
    assert raw_rules["TierRawObjects"]["Transitions"] == [{"StorageClass": "STANDARD_IA", "TransitionInDays": 60}]
