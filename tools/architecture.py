"""The architecture diagram in the README, drawn from a synthesised cloud assembly.

Nothing in the diagram is typed by hand: the stacks are the assembly's stacks, what each holds is
counted from its template, and each arrow is a cross-stack reference (``Fn::GetStackOutput``,
rendered by CDK for every value one stack takes from another), labelled with the resources whose
values cross it, from the stack that owns them to the stack that uses them. So the arrows are the
data flow between stacks: raw bucket and stream into ingestion, stream into search, curated
bucket into the catalog, and so on. ``tools/generate_docs.py`` writes it into README.md and
``tests/test_docs.py`` fails when the committed diagram is stale.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

#: What the diagram names, per resource type, in the order it lists them; other types are left out
#: (roles, policies, alarms, log groups: every stack has them, and they carry no data between parts).
NOTABLE_TYPES: dict[str, str] = {
    "AWS::IoT::TopicRule": "IoT topic rule",
    "AWS::Kinesis::Stream": "Kinesis stream",
    "AWS::KinesisFirehose::DeliveryStream": "Firehose delivery stream",
    "AWS::Lambda::Function": "Lambda function",
    "AWS::S3::Bucket": "S3 bucket",
    "AWS::Glue::Database": "Glue database",
    "AWS::Glue::Table": "Glue table",
    "AWS::Glue::Crawler": "Glue crawler",
    "AWS::Glue::Job": "Glue job",
    "AWS::Glue::Workflow": "Glue workflow",
    "AWS::Athena::WorkGroup": "Athena workgroup",
    "AWS::Redshift::Cluster": "Redshift cluster",
    "AWS::EMR::Cluster": "EMR cluster",
    "AWS::OpenSearchService::Domain": "OpenSearch domain",
    "AWS::EC2::VPC": "VPC",
    "AWS::EC2::VPCEndpoint": "VPC endpoint",
    "AWS::SNS::Topic": "SNS topic",
    "AWS::Glue::DataCatalogEncryptionSettings": "Data Catalog encryption",
    "AWS::LakeFormation::DataLakeSettings": "Lake Formation settings",
    "AWS::LakeFormation::Resource": "Lake Formation location",
    "AWS::LakeFormation::DataCellsFilter": "data cells filter",
    "AWS::LakeFormation::PrincipalPermissions": "Lake Formation grant",
    "AWS::KMS::Key": "KMS key",
}
#: CDK's output names for a cross-stack value: ``PublishOutputFnGetAtt<LogicalId><Attr><hash>`` or
#: ``PublishOutputRef<LogicalId><hash>``. The logical id ends in CDK's 8-character hash.
_OUTPUT = re.compile(r"^PublishOutput(?:FnGetAtt|Ref)(?P<id>[A-Za-z0-9]+?[0-9A-F]{8})")
_ID_HASH = re.compile(r"[0-9A-F]{8}$")


def _references(node: Any) -> Iterator[tuple[str, str]]:
    """Every (producer stack, output name) a template reads through ``Fn::GetStackOutput``."""
    if isinstance(node, dict):
        if "Fn::GetStackOutput" in node:
            reference = node["Fn::GetStackOutput"]
            yield reference["StackName"], reference["OutputName"]
            return
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _resource_label(logical_id: str) -> str:
    """``DataLakeRawBucket881B694B`` -> ``Data Lake Raw Bucket``: the construct path CDK folded into the
    id, in words. Numbered siblings (``DataSubnet1Subnet``, ``DataSubnet2Subnet``) become one label."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z][a-z])", " ", re.sub(r"\d+", "", _ID_HASH.sub("", logical_id))).split()
    return " ".join(word for index, word in enumerate(words) if index == 0 or word != words[index - 1])


def _node_id(stack_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", stack_name)


def _contents(template: Mapping[str, Any]) -> str:
    counts = Counter(resource["Type"] for resource in template.get("Resources", {}).values())
    parts = []
    for resource_type, label in NOTABLE_TYPES.items():
        if counts[resource_type]:
            parts.append(label if counts[resource_type] == 1 else f"{counts[resource_type]} × {label}s")
    return "<br/>".join(parts) if parts else "(no notable resources)"


def data_flows(templates: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """(producer stack, consumer stack) -> the producer's resources whose values the consumer uses."""
    flows: dict[tuple[str, str], set[str]] = {}
    for consumer, template in templates.items():
        for producer, output in _references(template):
            match = _OUTPUT.match(output)
            label = _resource_label(match.group("id")) if match else output
            flows.setdefault((producer, consumer), set()).add(label)
    return {edge: sorted(labels) for edge, labels in sorted(flows.items())}


def mermaid(templates: Mapping[str, Mapping[str, Any]], dependencies: Mapping[str, set[str]]) -> str:
    """A Mermaid flowchart of the stacks, what they hold, and the values that flow between them.
    Stack dependencies without a cross-stack value (ordering only) are drawn dotted."""
    lines = ["```mermaid", "flowchart LR"]
    for stack_name in sorted(templates):
        lines.append(f'  {_node_id(stack_name)}["<b>{stack_name}</b><br/>{_contents(templates[stack_name])}"]')
    flows = data_flows(templates)
    for (producer, consumer), labels in flows.items():
        lines.append(f'  {_node_id(producer)} -->|"{", ".join(labels)}"| {_node_id(consumer)}')
    for consumer in sorted(dependencies):
        for producer in sorted(dependencies[consumer]):
            if (producer, consumer) not in flows:
                lines.append(f'  {_node_id(producer)} -.->|"deployed first"| {_node_id(consumer)}')
    lines.append("```")
    return "\n".join(lines) + "\n"


def assembly_inputs(outdir) -> tuple[dict[str, dict], dict[str, set[str]]]:
    """Templates and stack dependencies of a cloud assembly directory (``cdk.out``)."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = {
        name: artifact for name, artifact in manifest["artifacts"].items() if artifact["type"] == "aws:cloudformation:stack"
    }
    templates = {
        name: json.loads((outdir / artifact["properties"]["templateFile"]).read_text()) for name, artifact in stacks.items()
    }
    dependencies = {
        name: {d for d in artifact.get("dependencies", []) if d in stacks} for name, artifact in stacks.items()
    }
    return templates, dependencies
