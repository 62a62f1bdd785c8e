"""The library README is what other teams copy: its examples must run and build what they say, and
every construct of the public API must have a section whose props table matches the code.

Every ```python block of constructs_lib/README.md is run:

- the top example (section "Example") on its own, with the assertions it always had;
- the setup block (section "What the examples below assume") once per other block, which then runs
  in a fresh copy of the namespace the setup defines (constructs cannot be copied: the setup is
  executed again, in a new app);
- every other block after it; its app is synthesised (``Template.from_stack`` of each stack) and the
  block must add its section's main resources to what the setup alone builds (``MAIN_RESOURCES``),
  and instantiate the construct its section is named after.

A failing block fails its own test case, named after its section.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template
from constructs import Construct

import constructs_lib
from constructs_lib.common.nag import INLINE_POLICY_RULES
from tests.synth import ROOT

README = ROOT / "constructs_lib" / "README.md"
TOP_EXAMPLE = "Example"
SETUP = "What the examples below assume"

#: Section -> the resource types (and how many of each) its example must add to the setup's app.
#: A new section with an example must say here what it builds.
MAIN_RESOURCES: dict[str, dict[str, int]] = {
    "DataLakeStorage": {"AWS::S3::Bucket": 4, "AWS::KMS::Key": 1},
    "AlarmTopic": {"AWS::SNS::Topic": 1, "AWS::SNS::Subscription": 2, "AWS::SQS::Queue": 1},
    "DataCatalogEncryption": {"AWS::Glue::DataCatalogEncryptionSettings": 1, "AWS::KMS::Key": 1},
    "TelemetryStream": {"AWS::Kinesis::Stream": 1, "AWS::CloudWatch::Alarm": 3},
    "IotTelemetryRule": {"AWS::IoT::TopicRule": 1, "AWS::IoT::Policy": 1, "AWS::Logs::LogGroup": 1},
    "RawZoneDelivery": {"AWS::KinesisFirehose::DeliveryStream": 1, "AWS::Lambda::Function": 1},
    "GlueSecurity": {"AWS::Glue::SecurityConfiguration": 1},
    "LakeCrawler": {"AWS::Glue::Crawler": 1},
    "LakeEtlJob": {"AWS::Glue::Job": 1},
    "EtlWorkflow": {"AWS::Glue::Workflow": 1, "AWS::Glue::Trigger": 2, "AWS::Events::Rule": 2},
    "AthenaWorkgroup": {"AWS::Athena::WorkGroup": 1, "AWS::Athena::NamedQuery": 1},
    "IcebergTable": {"AWS::Glue::Table": 1, "AWS::Glue::Database": 1},
    "IcebergTableMaintenance": {
        "AWS::Glue::Table": 1, "AWS::Glue::TableOptimizer": 3, "AWS::Lambda::Function": 1, "AWS::CloudWatch::Alarm": 3,
    },
    "DataNetwork": {"AWS::EC2::VPC": 1, "AWS::EC2::NatGateway": 1, "AWS::EC2::FlowLog": 1},
    "RedshiftWarehouse": {"AWS::Redshift::Cluster": 1, "AWS::SecretsManager::RotationSchedule": 1},
    "RedshiftSql": {"Custom::RedshiftSql": 1, "AWS::Lambda::Function": 1},
    "EmrCluster": {"AWS::EMR::Cluster": 1, "AWS::EMR::SecurityConfiguration": 1},
    "SearchDomain": {"AWS::OpenSearchService::Domain": 1, "AWS::Logs::ResourcePolicy": 1},
    "StreamToSearchDelivery": {"AWS::KinesisFirehose::DeliveryStream": 1, "AWS::OpenSearchService::Domain": 1},
    "SearchSecurityRoles": {"Custom::OpenSearchSecurityRoles": 1, "AWS::OpenSearchService::Domain": 1},
    "EnhancedFanOutConsumer": {"AWS::Kinesis::StreamConsumer": 1},
    "PyFlinkApplication": {
        "AWS::KinesisAnalyticsV2::Application": 1, "AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption": 1,
        "AWS::Kinesis::StreamConsumer": 1, "AWS::CloudWatch::Alarm": 4,
    },
    "JsonLinesDelivery": {"AWS::KinesisFirehose::DeliveryStream": 1, "AWS::Glue::Table": 1, "AWS::Glue::Database": 1},
    "DataLakeSettings": {"AWS::LakeFormation::DataLakeSettings": 1},
    "RegisteredLocations": {"AWS::LakeFormation::Resource": 2},
    "LakeDataCellsFilter": {"AWS::LakeFormation::DataCellsFilter": 1},
    "LakePermissions": {"AWS::LakeFormation::PrincipalPermissions": 3, "AWS::LakeFormation::DataCellsFilter": 1},
    "IamAllowedPrincipalsRevocation": {
        "Custom::IamAllowedPrincipalsRevocation": 1,
        "AWS::LakeFormation::PrincipalPermissions": 2,
        "AWS::Glue::Database": 1,
    },
    "Putting it together": {
        "AWS::LakeFormation::Resource": 1,
        "AWS::Glue::Database": 1,
        "Custom::IamAllowedPrincipalsRevocation": 1,
        # the revocation's two grants and the crawler's three
        "AWS::LakeFormation::PrincipalPermissions": 5,
    },
    "ResourceNamer": {"AWS::Glue::Database": 1},
    "Helpers": {"AWS::KMS::Key": 1, "AWS::Logs::LogGroup": 1, "AWS::SQS::Queue": 1},
    "Firehose transform helpers": {"AWS::Lambda::Function": 1, "AWS::CloudWatch::Alarm": 3},
    # Creates nothing: its check is in EXTRA_CHECKS.
    "cdk-nag helpers": {},
    # Registers the five packs: its app synthesises only if every finding is acknowledged.
    "Using cdk-nag": {"AWS::Glue::Job": 1, "AWS::Glue::SecurityConfiguration": 1},
}


def _acknowledged_on_analysts(namespace: dict[str, Any]) -> None:
    """The cdk-nag helpers' example acknowledges the inline-policy rules on the setup's role."""
    recorded = {
        key.removeprefix("Annotation::")
        for entry in namespace["analysts"].node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for key in entry.data
    }
    assert set(INLINE_POLICY_RULES) <= recorded, recorded


#: Checks beyond resource counts, for sections whose example creates nothing.
EXTRA_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {"cdk-nag helpers": _acknowledged_on_analysts}


# -- reading the README --------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    section: str
    line: int
    code: str


def readme_text() -> str:
    return README.read_text(encoding="utf-8")


def sections_and_blocks(text: str) -> tuple[dict[str, list[str]], list[Block]]:
    """The README's sections (``##`` and ``###`` headings outside code, title -> lines) and its
    ```python blocks, each with the section it is in."""
    sections: dict[str, list[str]] = {}
    blocks: list[Block] = []
    section, fence, start, code = "", None, 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        if fence is None and line.startswith("```"):
            fence, start, code = line[3:].strip(), number, []
        elif fence is not None and line.startswith("```"):
            if fence == "python":
                blocks.append(Block(section, start, "\n".join(code) + "\n"))
            fence = None
        elif fence is not None:
            code.append(line)
        elif match := re.match(r"^#{2,3} (.+)$", line):
            section = match.group(1).strip()
            if section in sections:
                raise AssertionError(f"README: the heading {section!r} appears twice")
            sections[section] = []
        if section:
            sections[section].append(line)
    assert fence is None, "README: a code fence is not closed"
    return sections, blocks


SECTIONS, BLOCKS = sections_and_blocks(readme_text())


def the_block(section: str) -> Block:
    (block,) = [b for b in BLOCKS if b.section == section]
    return block


def example_blocks() -> list[Block]:
    return [b for b in BLOCKS if b.section not in (TOP_EXAMPLE, SETUP)]


def run(block: Block, namespace: dict[str, Any]) -> None:
    """Execute ``block`` in ``namespace``; a failure names the block's section and line."""
    try:
        exec(compile(block.code, f"{README}:{block.section}", "exec"), namespace)  # noqa: S102 - our own README
    except Exception as error:
        pytest.fail(
            f"README section {block.section!r} (python block at line {block.line}) fails: "
            f"{type(error).__name__}: {error}",
            pytrace=False,
        )


def resource_counts(app: cdk.App) -> Counter[str]:
    """Resource types over every stack of ``app``, each stack synthesised with Template.from_stack."""
    counts: Counter[str] = Counter()
    for stack in (c for c in app.node.children if isinstance(c, cdk.Stack)):
        for resource in Template.from_stack(stack).to_json().get("Resources", {}).values():
            counts[resource["Type"]] += 1
    return counts


def public_constructs() -> list[str]:
    return [
        name
        for name in constructs_lib.__all__
        if inspect.isclass(getattr(constructs_lib, name)) and issubclass(getattr(constructs_lib, name), Construct)
    ]


def instances(app: cdk.App, cls: type) -> int:
    return sum(isinstance(c, cls) for c in app.node.find_all())


# -- the top example -----------------------------------------------------------------------------


def test_the_readme_example_runs_and_builds_what_it_describes() -> None:
    namespace: dict[str, Any] = {}
    run(the_block(TOP_EXAMPLE), namespace)
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


# -- the setup and every example after it --------------------------------------------------------


@pytest.fixture(scope="module")
def setup_namespace_and_counts() -> tuple[dict[str, Any], Counter[str], dict[str, int]]:
    """The setup block alone: what it defines, and what its app builds (the baseline every example
    adds to)."""
    namespace: dict[str, Any] = {}
    run(the_block(SETUP), namespace)
    app = namespace["app"]
    return namespace, resource_counts(app), {name: instances(app, getattr(constructs_lib, name)) for name in public_constructs()}


def test_the_setup_defines_what_the_readme_says_the_examples_assume(setup_namespace_and_counts) -> None:
    namespace, counts, _ = setup_namespace_and_counts
    stack = namespace["stack"]
    assert (stack.account, stack.region) == ("111122223333", "eu-west-1")
    assert isinstance(namespace["app"], cdk.App)
    assert isinstance(namespace["lake"], constructs_lib.DataLakeStorage)
    assert isinstance(namespace["alarms"], constructs_lib.AlarmTopic)
    assert isinstance(namespace["network"], constructs_lib.DataNetwork)
    assert isinstance(namespace["analysts"], cdk.aws_iam.Role)
    assert isinstance(namespace["transform_code"], cdk.aws_lambda.Code)
    assert counts["AWS::EC2::VPC"] == 1 and counts["AWS::S3::Bucket"] == 5


@pytest.mark.parametrize("block", example_blocks(), ids=lambda block: block.section)
def test_the_example_runs_and_builds_its_construct(block: Block, setup_namespace_and_counts) -> None:
    _, baseline, baseline_instances = setup_namespace_and_counts
    assert block.section in MAIN_RESOURCES, (
        f"README section {block.section!r} has an example: say in MAIN_RESOURCES what it builds"
    )
    namespace: dict[str, Any] = {}
    run(the_block(SETUP), namespace)
    run(block, namespace)
    app = namespace["app"]
    try:
        counts = resource_counts(app)
    except Exception as error:
        pytest.fail(f"README section {block.section!r}: its app does not synthesise: {error}", pytrace=False)
    for resource_type, added in MAIN_RESOURCES[block.section].items():
        assert counts[resource_type] - baseline[resource_type] >= added, (
            f"README section {block.section!r}: expected its example to add {added} {resource_type}; "
            f"it added {counts[resource_type] - baseline[resource_type]}"
        )
    if block.section in public_constructs():
        cls = getattr(constructs_lib, block.section)
        assert instances(app, cls) > baseline_instances[block.section], (
            f"README section {block.section!r}: its example does not create a {block.section}"
        )
    if block.section in EXTRA_CHECKS:
        EXTRA_CHECKS[block.section](namespace)


def test_every_section_that_says_what_it_builds_has_an_example() -> None:
    assert set(MAIN_RESOURCES) == {b.section for b in example_blocks()}
    assert len(example_blocks()) == len(MAIN_RESOURCES), "one example per section"


# -- coverage of the public API ------------------------------------------------------------------


def test_every_construct_of_the_public_api_has_a_section_with_an_example() -> None:
    names = public_constructs()
    assert len(names) >= 23  # the test would pass vacuously if the lookup broke
    missing_sections = [name for name in names if name not in SECTIONS]
    assert not missing_sections, f"constructs without a README section: {missing_sections}"
    without_example = [
        name for name in names if not any(b.section == name and re.search(rf"\b{name}\(", b.code) for b in BLOCKS)
    ]
    assert not without_example, f"README sections without an example that creates their construct: {without_example}"


def test_every_public_name_is_mentioned_in_the_readme() -> None:
    text = readme_text()
    unmentioned = [name for name in constructs_lib.__all__ if f"`{name}" not in text and f"{name}(" not in text]
    assert not unmentioned, f"public names the README never mentions: {unmentioned}"


# -- props tables against the code ---------------------------------------------------------------

_UNITS = {"second": 1, "seconds": 1, "minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def table_after(lines: list[str], label: str) -> dict[str, str]:
    """The first table after the line that starts with ``label``: first column (a backticked name)
    -> third column (the default)."""
    start = next((i for i, line in enumerate(lines) if line.startswith(label)), None)
    if start is None:
        return {}
    rows: dict[str, str] = {}
    for line in lines[start + 1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if re.fullmatch(r"`\w+`", cells[0]):
            rows[cells[0].strip("`")] = cells[2]
    return rows


def literal(value: Any) -> str | None:
    """How the README writes a literal default; ``None`` for values it describes in words."""
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return "(" + ", ".join(json.dumps(v) for v in value) + ")"
    if isinstance(value, enum.Enum):
        return value.name
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and value == type(value)():
        return f"{type(value).__name__}()"  # a settings object with every field at its default
    return None


def check_default(owner: str, name: str, default: Any, cell: str) -> None:
    if default is inspect.Parameter.empty or default is dataclasses.MISSING:
        assert cell.startswith("required"), f"{owner}.{name} is required; the README says {cell!r}"
        return
    assert not cell.startswith("required"), f"{owner}.{name} has a default; the README says {cell!r}"
    written = literal(default)
    if written is not None:
        assert cell.startswith(f"`{written}`"), f"{owner}.{name} defaults to {written}; the README says {cell!r}"
    elif isinstance(default, cdk.Duration):
        match = re.match(r"^(\d+) (\w+)", cell)
        assert match and int(match.group(1)) * _UNITS[match.group(2)] == default.to_seconds(), (
            f"{owner}.{name} defaults to {default.to_human_string()}; the README says {cell!r}"
        )
    elif isinstance(default, lambda_.Runtime | lambda_.Architecture):
        assert cell.startswith(f"`{default.name}`"), f"{owner}.{name} defaults to {default.name}; the README says {cell!r}"
    elif isinstance(default, cdk.Size):
        assert cell == f"{default.to_mebibytes():g} MiB", f"{owner}.{name} defaults to {default.to_mebibytes()} MiB; the README says {cell!r}"
    else:
        names = [n for n in constructs_lib.__all__ if getattr(constructs_lib, n) is default]
        assert names and cell.startswith(f"`{names[0]}`"), f"{owner}.{name}: describe its default {default!r} in the test"


def documented(section: str, label: str, owner: str, parameters: dict[str, Any]) -> None:
    rows = table_after(SECTIONS[section], label)
    assert rows, f"README section {section!r} has no table after {label!r}"
    assert sorted(rows) == sorted(parameters), (
        f"{owner}: the README's table lists {sorted(rows)}; the code has {sorted(parameters)}"
    )
    for name, default in parameters.items():
        check_default(owner, name, default, rows[name])


@pytest.mark.parametrize("name", public_constructs())
def test_the_props_table_matches_the_constructs_signature(name: str) -> None:
    signature = inspect.signature(getattr(constructs_lib, name).__init__)
    parameters = {
        p.name: p.default for p in signature.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    documented(name, "**Props**", name, parameters)


def dataclass_tables() -> list[tuple[str, str]]:
    """(section, dataclass name) for every ``**`Name` fields**`` table in the README."""
    return [
        (section, match.group(1))
        for section, lines in SECTIONS.items()
        for line in lines
        if (match := re.match(r"^\*\*`(\w+)` fields\*\*", line))
    ]


@pytest.mark.parametrize(("section", "name"), dataclass_tables(), ids=[n for _, n in dataclass_tables()])
def test_the_fields_table_matches_the_dataclass(section: str, name: str) -> None:
    cls = getattr(constructs_lib, name)
    fields = {
        f.name: (f.default if f.default is not dataclasses.MISSING else dataclasses.MISSING) for f in dataclasses.fields(cls)
    }
    documented(section, f"**`{name}` fields**", name, fields)


def test_the_public_dataclasses_with_fields_have_a_fields_table() -> None:
    documented_names = {name for _, name in dataclass_tables()}
    public = {
        name for name in constructs_lib.__all__
        if dataclasses.is_dataclass(getattr(constructs_lib, name)) and name != "ResourceNamer"
        and name not in ("DatabaseGrant", "TableGrant", "LocationGrant", "DataCellsFilterGrant", "LakeLocation")
    }
    assert public <= documented_names, f"dataclasses without a fields table: {sorted(public - documented_names)}"
