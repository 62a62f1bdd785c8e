"""tools/template_diff.py: the template diff that flags destructive changes in review.

Four layers, fastest first:
- the parser on real CDK CLI output (aws-cdk 2.1148.1, captured verbatim below), and its checks
  against the templates;
- acknowledgments, the report, the choice of base and environments, as functions;
- the whole script on a tiny CDK app in a temporary git repository, twice (4 synths in all):
  once failing on unacknowledged destructive changes, once passing with them acknowledged;
- the pull-request workflow: every `make` target it runs exists, and the diff runs before the
  comment is posted and the job fails after it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from tools.template_diff import Base, TemplateDiffError, compliance_findings, plan_environments, resolve_base
from tools.template_diff_parse import (
    ADDED,
    DESTROYED,
    MAY_CAUSE_REPLACEMENT,
    MODIFIED,
    ORPHANED,
    REMOVED,
    REQUIRES_REPLACEMENT,
    DiffParseError,
    ResourceChange,
    StackDiff,
    parse_cdk_diff,
    reconcile,
    removed_stack_diff,
)
from tools.template_diff_report import (
    ACKNOWLEDGED,
    ALLOWED,
    COMMENT_LIMIT,
    COMMENT_MARKER,
    NOT_ACKNOWLEDGED,
    Acknowledgment,
    AcknowledgmentError,
    EnvironmentDiff,
    Finding,
    apply_acknowledgments,
    comment,
    destructive_changes,
    environment_report,
    parse_acknowledgments,
)
from tools.stateful_resources import STATEFUL_TYPES

ROOT = Path(__file__).resolve().parents[2]

CLI = ROOT / "node_modules" / ".bin" / "cdk"
WORKFLOW = ROOT / ".github" / "workflows" / "pull-request.yml"

# `cdk diff --app <v2 assembly> --template <v1 template> --exclusively --method template --no-color
# --fail-on destructive --no-notices rich-data` (exit 1), stdout and stderr merged (the script
# also passes --no-lookups, which does not change the output), on a small app whose v2 removes a retained bucket (Keep) and a queue (Jobs), adds a bucket
# (Fresh) and a parameter, turns the SNS topic Swap into a queue, renames the bucket Named
# (BucketName), sets MultiAZ on an RDS instance, lengthens a queue's visibility timeout, widens
# a role's grant, renames an output and changes the stack description.
RICH_OUTPUT = """WARNING Parameters/Stage: Parameter 'Stage' is not referenced anywhere in the template (CloudFormation Validate)
   rich-data aws-cdk-lib.Stack
   Acknowledge with 'CloudFormation-Validate::W2001'

WARNING StorageEncrypted: RDS instance should have StorageEncrypted set to true (CloudFormation Validate)
   rich-data/Db (Db) aws-cdk-lib.aws_rds.CfnDBInstance
   Suggested fix: Set StorageEncrypted to true
   Acknowledge with 'CloudFormation-Validate::W9008'
Stack rich-data
Template
[~] Description Description: rich v1 to rich v2

IAM Statement Changes
┌───┬────────────────┬────────┬────────────────────────────┬───────────────┬───────────┐
│   │ Resource       │ Effect │ Action                     │ Principal     │ Condition │
├───┼────────────────┼────────┼────────────────────────────┼───────────────┼───────────┤
│ + │ ${Named.Arn}   │ Allow  │ s3:Abort*                  │ AWS:${Reader} │           │
│   │ ${Named.Arn}/* │        │ s3:DeleteObject*           │               │           │
│   │                │        │ s3:GetBucket*              │               │           │
│   │                │        │ s3:GetObject*              │               │           │
│   │                │        │ s3:List*                   │               │           │
│   │                │        │ s3:PutObject               │               │           │
│   │                │        │ s3:PutObjectLegalHold      │               │           │
│   │                │        │ s3:PutObjectRetention      │               │           │
│   │                │        │ s3:PutObjectTagging        │               │           │
│   │                │        │ s3:PutObjectVersionTagging │               │           │
│ - │ ${Named.Arn}   │ Allow  │ s3:GetBucket*              │ AWS:${Reader} │           │
│   │ ${Named.Arn}/* │        │ s3:GetObject*              │               │           │
│   │                │        │ s3:List*                   │               │           │
└───┴────────────────┴────────┴────────────────────────────┴───────────────┴───────────┘
(NOTE: There may be security-related changes not in this list. See https://github.com/aws/aws-cdk/issues/1299)

Parameters
[+] Parameter Stage Stage: {"Type":"String","Default":"test"}

Resources
[-] AWS::S3::Bucket Keep Keep4E804DFF orphan
[-] AWS::SQS::Queue Jobs JobsDF1CC2D4 destroy
[+] AWS::S3::Bucket Fresh FreshA68222D7
[~] AWS::SQS::Queue Swap Swap48A0C3F1 replace
[~] AWS::S3::Bucket Named NamedD2F31604 replace
 └─ [~] BucketName (requires replacement)
     ├─ [-] rich-named-1
     └─ [+] rich-named-2
[~] AWS::RDS::DBInstance Db Db may be replaced
 └─ [~] MultiAZ (may cause replacement)
[~] AWS::SQS::Queue Work WorkBF636A8B
 └─ [~] VisibilityTimeout
     ├─ [-] 30
     └─ [+] 60
[~] AWS::IAM::Policy Reader/DefaultPolicy ReaderDefaultPolicy151F3818
 └─ [~] PolicyDocument
     └─ [~] .Statement:
         └─ @@ -3,7 +3,14 @@
            [ ] "Action": [
            [ ]   "s3:GetObject*",
            [ ]   "s3:GetBucket*",
            [-]   "s3:List*"
            [+]   "s3:List*",
            [+]   "s3:DeleteObject*",
            [+]   "s3:PutObject",
            [+]   "s3:PutObjectLegalHold",
            [+]   "s3:PutObjectRetention",
            [+]   "s3:PutObjectTagging",
            [+]   "s3:PutObjectVersionTagging",
            [+]   "s3:Abort*"
            [ ] ],
            [ ] "Effect": "Allow",
            [ ] "Resource": [

Outputs
[-] Output NamedArn: {"Value":{"Fn::GetAtt":["NamedD2F31604","Arn"]}}
[+] Output NamedArnV2 NamedArnV2: {"Value":{"Fn::GetAtt":["NamedD2F31604","Arn"]}}



✨  Number of stacks with differences: 1

❌  Found 5 destructive change(s) (--fail-on=destructive):
  rich-data: AWS::S3::Bucket Keep Keep4E804DFF will be orphaned
  rich-data: AWS::SQS::Queue Jobs JobsDF1CC2D4 will be destroyed
  rich-data: AWS::SNS::Topic Swap Swap48A0C3F1 will be replaced
  rich-data: AWS::S3::Bucket Named NamedD2F31604 will be replaced
  rich-data: AWS::RDS::DBInstance Db Db may be replaced

"""

# The same command on the real app (analytics-dev-emr) after a config change: the EMR primary
# instance type and the owner tag.
EMR_OUTPUT = """WARNING removal_policy is DESTROY: the EMR cluster (with its HDFS) and its KDC password will be deleted with the stack, and their data with them. Use RETAIN for any environment whose data matters. (Annotation)
   analytics-dev-emr/Emr constructs.Construct
   Acknowledge with 'Annotation::constructs-lib:data-destroyed-on-stack-deletion'
Stack analytics-dev-emr
Resources
[~] AWS::EC2::SecurityGroup Emr/PrimarySecurityGroup EmrPrimarySecurityGroup5AB4F5EE
 └─ [~] Tags
     └─ @@ -13,7 +13,7 @@
        [ ] },
        [ ] {
        [ ]   "Key": "owner",
        [-]   "Value": "data-platform-team"
        [+]   "Value": "data-platform-team-x"
        [ ] },
        [ ] {
        [ ]   "Key": "project",
[~] AWS::EC2::SecurityGroup Emr/CoreSecurityGroup EmrCoreSecurityGroupE0C6BBAF
 └─ [~] Tags
     └─ @@ -13,7 +13,7 @@
        [ ] },
        [ ] {
        [ ]   "Key": "owner",
        [-]   "Value": "data-platform-team"
        [+]   "Value": "data-platform-team-x"
        [ ] },
        [ ] {
        [ ]   "Key": "project",
[~] AWS::EC2::SecurityGroup Emr/ServiceAccessSecurityGroup EmrServiceAccessSecurityGroup61AED160
 └─ [~] Tags
     └─ @@ -13,7 +13,7 @@
        [ ] },
        [ ] {
        [ ]   "Key": "owner",
        [-]   "Value": "data-platform-team"
        [+]   "Value": "data-platform-team-x"
        [ ] },
        [ ] {
        [ ]   "Key": "project",
[~] AWS::IAM::Role Emr/InstanceRole EmrInstanceRole2BD5E0CB
 └─ [~] Tags
     └─ @@ -9,7 +9,7 @@
        [ ] },
        [ ] {
        [ ]   "Key": "owner",
        [-]   "Value": "data-platform-team"
        [+]   "Value": "data-platform-team-x"
        [ ] },
        [ ] {
        [ ]   "Key": "project",
[~] AWS::IAM::Role Emr/ServiceRole EmrServiceRole0B4E58BF
 └─ [~] Tags
     └─ @@ -9,7 +9,7 @@
        [ ] },
        [ ] {
        [ ]   "Key": "owner",
        [-]   "Value": "data-platform-team"
        [+]   "Value": "data-platform-team-x"
        [ ] },
        [ ] {
        [ ]   "Key": "project",
[~] AWS::EMR::Cluster Emr/Cluster EmrClusterA5064A8E may be replaced
 ├─ [~] Instances (may cause replacement)
 │   └─ [~] .MasterInstanceGroup:
 │       └─ [~] .InstanceType:
 │           ├─ [-] m7g.xlarge
 │           └─ [+] m7g.2xlarge
 └─ [~] Tags
     └─ @@ -13,7 +13,7 @@
        [ ] },
        [ ] {
        [ ]   "Key": "owner",
        [-]   "Value": "data-platform-team"
        [+]   "Value": "data-platform-team-x"
        [ ] },
        [ ] {
        [ ]   "Key": "project",



✨  Number of stacks with differences: 1

❌  Found 1 destructive change(s) (--fail-on=destructive):
  analytics-dev-emr: AWS::EMR::Cluster Emr/Cluster EmrClusterA5064A8E may be replaced

"""

# A template against itself (with --no-lookups).
SAME_OUTPUT = """Stack tiny-data
There were no differences


✨  Number of stacks with differences: 0

"""


# The same command on the real app (analytics-dev-catalog, issue 19): saved queries whose SQL (a string
# with line breaks, one of them blank at its end) changed. The CLI prints such a value as it is, each
# further line from the start of the line. Cut down to two queries and an added table.
MULTILINE_OUTPUT = """Stack analytics-dev-catalog
Resources
[+] AWS::Glue::Table TelemetryTable/Table TelemetryTable0E09D475
[~] AWS::Athena::NamedQuery AnalystsWorkgroup/QueryHourlyAggregatesPerDevice AnalystsWorkgroupQueryHourlyAggregatesPerDevice70B2A198 replace
 └─ [~] QueryString (requires replacement)
     ├─ [-] -- Hourly aggregates per device and metric for one day (UTC). Parameter: the day, 'YYYY-MM-DD'.
-- Reads one day partition and three columns (device_id, event_time, metrics).
SELECT
    device_id,
[~] not a resource line, only text of the query
WHERE event_date = CAST(? AS date)

     └─ [+] -- Hourly aggregates per device and metric for one day (UTC). Parameter: the day, 'YYYY-MM-DD'.
SELECT
    device_id,
WHERE CAST(event_time AS date) = CAST(? AS date)

[~] AWS::Athena::NamedQuery AnalystsWorkgroup/QuerySilentDevices AnalystsWorkgroupQuerySilentDevicesAF3C15FD replace
 └─ [~] QueryString (requires replacement)
     ├─ [-] SELECT 1
FROM "analytics_dev_curated"."telemetry"

     └─ [+] SELECT 2
FROM "analytics_dev_curated"."telemetry"


Outputs
[+] Output CuratedTableName CuratedTableName: {"Value":"telemetry"}


✨  Number of stacks with differences: 1

❌  Found 2 destructive change(s) (--fail-on=destructive):
  analytics-dev-catalog: AWS::Athena::NamedQuery AnalystsWorkgroup/QueryHourlyAggregatesPerDevice AnalystsWorkgroupQueryHourlyAggregatesPerDevice70B2A198 will be replaced
  analytics-dev-catalog: AWS::Athena::NamedQuery AnalystsWorkgroup/QuerySilentDevices AnalystsWorkgroupQuerySilentDevicesAF3C15FD will be replaced

"""


# --- The parser on real CLI output ------------------------------------------------------------


def by_id(diff: StackDiff) -> dict[str, ResourceChange]:
    return {change.logical_id: change for change in diff.resources}


def test_every_kind_of_resource_change_is_read_from_real_output() -> None:
    diff = parse_cdk_diff(RICH_OUTPUT, "rich-data")
    changes = by_id(diff)
    assert {i: (c.category, c.resource_type, c.construct_path, c.impact) for i, c in changes.items()} == {
        "Keep4E804DFF": (REMOVED, "AWS::S3::Bucket", "Keep", ORPHANED),
        "JobsDF1CC2D4": (REMOVED, "AWS::SQS::Queue", "Jobs", DESTROYED),
        "FreshA68222D7": (ADDED, "AWS::S3::Bucket", "Fresh", None),
        "Swap48A0C3F1": (REQUIRES_REPLACEMENT, "AWS::SQS::Queue", "Swap", REQUIRES_REPLACEMENT),
        "NamedD2F31604": (REQUIRES_REPLACEMENT, "AWS::S3::Bucket", "Named", REQUIRES_REPLACEMENT),
        "Db": (MAY_CAUSE_REPLACEMENT, "AWS::RDS::DBInstance", "Db", MAY_CAUSE_REPLACEMENT),
        "WorkBF636A8B": (MODIFIED, "AWS::SQS::Queue", "Work", None),
        "ReaderDefaultPolicy151F3818": (MODIFIED, "AWS::IAM::Policy", "Reader/DefaultPolicy", None),
    }
    assert [(p.name, p.action, p.replacement) for p in changes["NamedD2F31604"].properties] == [
        ("BucketName", MODIFIED, "requires replacement")
    ]
    assert changes["Db"].replacing_properties() == ("MultiAZ",)
    assert [(p.name, p.replacement) for p in changes["WorkBF636A8B"].properties] == [("VisibilityTimeout", None)]
    assert changes["Swap48A0C3F1"].properties == ()  # a type change: no property to blame
    assert sorted(diff.cli_destructive) == sorted(
        [
            ("Keep4E804DFF", ORPHANED),
            ("JobsDF1CC2D4", DESTROYED),
            ("Swap48A0C3F1", REQUIRES_REPLACEMENT),
            ("NamedD2F31604", REQUIRES_REPLACEMENT),
            ("Db", MAY_CAUSE_REPLACEMENT),
        ]
    )
    assert list(diff.other_sections) == ["Template", "IAM Statement Changes", "Parameters", "Outputs"]
    assert diff.other_sections["Parameters"] == ['[+] Parameter Stage Stage: {"Type":"String","Default":"test"}']
    assert diff.cli_output is not None
    assert diff.cli_output.startswith("Stack rich-data\n") and "Number of stacks" not in diff.cli_output
    assert "WARNING" not in diff.cli_output  # the assembly's annotations before the stack are left out


def test_the_real_app_output_is_read_may_cause_replacement_apart_from_tags() -> None:
    changes = by_id(parse_cdk_diff(EMR_OUTPUT, "analytics-dev-emr"))
    cluster = changes.pop("EmrClusterA5064A8E")
    assert (cluster.category, cluster.resource_type, cluster.construct_path) == (
        MAY_CAUSE_REPLACEMENT, "AWS::EMR::Cluster", "Emr/Cluster",
    )  # fmt: skip
    assert [(p.name, p.replacement) for p in cluster.properties] == [("Instances", "may cause replacement"), ("Tags", None)]
    assert len(changes) == 5
    assert {c.category for c in changes.values()} == {MODIFIED}
    assert {p.name for c in changes.values() for p in c.properties} == {"Tags"}


def test_a_value_with_line_breaks_is_read_as_one_value() -> None:
    """Its lines (blank ones, and one that looks like a resource line, included) are the value's, not
    the diff's; the section still ends at the blank line before the next section title."""
    diff = parse_cdk_diff(MULTILINE_OUTPUT, "analytics-dev-catalog")
    changes = by_id(diff)
    assert {i: (c.category, [p.name for p in c.properties]) for i, c in changes.items()} == {
        "TelemetryTable0E09D475": (ADDED, []),
        "AnalystsWorkgroupQueryHourlyAggregatesPerDevice70B2A198": (REQUIRES_REPLACEMENT, ["QueryString"]),
        "AnalystsWorkgroupQuerySilentDevicesAF3C15FD": (REQUIRES_REPLACEMENT, ["QueryString"]),
    }
    assert list(diff.other_sections) == ["Outputs"] and len(diff.cli_destructive) == 2


def test_text_outside_a_value_is_still_an_error() -> None:
    """Only a value's own lines are free text: the same line right after a resource line is not."""
    broken = MULTILINE_OUTPUT.replace(
        "[+] AWS::Glue::Table TelemetryTable/Table TelemetryTable0E09D475\n",
        "[+] AWS::Glue::Table TelemetryTable/Table TelemetryTable0E09D475\nWHERE event_date = CAST(? AS date)\n",
    )
    with pytest.raises(DiffParseError, match="unexpected line in the Resources section: 'WHERE event_date"):
        parse_cdk_diff(broken, "analytics-dev-catalog")


def test_no_differences_is_an_empty_diff() -> None:
    diff = parse_cdk_diff(SAME_OUTPUT, "tiny-data")
    assert not diff.has_changes
    assert diff.cli_destructive == []


def test_colour_codes_are_ignored() -> None:
    coloured = RICH_OUTPUT.replace("[-]", "\x1b[31m[-]\x1b[39m").replace("replace\n", "\x1b[1mreplace\x1b[22m\n")
    assert by_id(parse_cdk_diff(coloured, "rich-data")) == by_id(parse_cdk_diff(RICH_OUTPUT, "rich-data"))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[+] AWS::S3::Bucket Fresh FreshA68222D7", "[*] AWS::S3::Bucket Fresh FreshA68222D7", "unexpected line in the Resources section"),
        (" └─ [~] BucketName (requires replacement)", " └─ [~] BucketName (requires a new name)", "unexpected line"),
        ("  rich-data: AWS::RDS::DBInstance Db Db may be replaced\n", "", "announced 5 destructive change(s) but 4"),
        ("Stack rich-data", "Stack other-stack", "no 'Stack rich-data' header"),
        ("\nResources\n", "\nResource changes\n", "unexpected line outside a section"),
    ],
)
def test_output_the_parser_does_not_understand_is_an_error(old: str, new: str, message: str) -> None:
    assert old in RICH_OUTPUT
    with pytest.raises(DiffParseError, match=re.escape(message)):
        parse_cdk_diff(RICH_OUTPUT.replace(old, new, 1), "rich-data")


# --- The reading held against the templates ---------------------------------------------------


def rich_templates() -> tuple[dict, dict]:
    """Templates with the resources of the captured diff (types and policies only)."""
    unchanged = {"RoleA": {"Type": "AWS::IAM::Role"}, "CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {"A": 1}}}
    base = {
        "Keep4E804DFF": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"},
        "JobsDF1CC2D4": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Delete"},
        "Swap48A0C3F1": {"Type": "AWS::SNS::Topic"},
        "NamedD2F31604": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"},
        "Db": {"Type": "AWS::RDS::DBInstance"},
        "WorkBF636A8B": {"Type": "AWS::SQS::Queue"},
        "ReaderDefaultPolicy151F3818": {"Type": "AWS::IAM::Policy"},
        **unchanged,
    }
    new = {k: v for k, v in base.items() if k not in ("Keep4E804DFF", "JobsDF1CC2D4")}
    new["Swap48A0C3F1"] = {"Type": "AWS::SQS::Queue"}
    new["FreshA68222D7"] = {"Type": "AWS::S3::Bucket"}
    new["CDKMetadata"] = {"Type": "AWS::CDK::Metadata", "Properties": {"A": 2}}
    return {"Resources": base}, {"Resources": new}


def test_reconcile_adds_old_types_and_policies_from_the_base_template() -> None:
    base, new = rich_templates()
    changes = by_id(reconcile(parse_cdk_diff(RICH_OUTPUT, "rich-data"), base, new))
    assert (changes["Swap48A0C3F1"].old_type, changes["Swap48A0C3F1"].resource_type) == ("AWS::SNS::Topic", "AWS::SQS::Queue")
    assert changes["Keep4E804DFF"].deletion_policy == "Retain"
    assert changes["NamedD2F31604"].update_replace_policy == "Retain"
    assert changes["FreshA68222D7"].old_type is None


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda base, new: base["Resources"].pop("JobsDF1CC2D4"), "JobsDF1CC2D4 is reported removed but is not in the base"),
        (lambda base, new: new["Resources"].update(ExtraA1B2C3D4={"Type": "AWS::S3::Bucket"}), "added in the templates but not reported by the CLI: ExtraA1B2C3D4"),
        (lambda base, new: new["Resources"].pop("WorkBF636A8B"), "removed in the templates but not reported by the CLI: WorkBF636A8B"),
        (lambda base, new: new["Resources"].update(FreshA68222D7={"Type": "AWS::SQS::Queue"}), "reported as AWS::S3::Bucket but the template says AWS::SQS::Queue"),
    ],
)
def test_a_reading_that_disagrees_with_the_templates_is_an_error(edit, message: str) -> None:
    base, new = rich_templates()
    edit(base, new)
    with pytest.raises(DiffParseError, match=re.escape(message)):
        reconcile(parse_cdk_diff(RICH_OUTPUT, "rich-data"), base, new)


def test_a_destructive_list_that_disagrees_with_the_resource_lines_is_an_error() -> None:
    base, new = rich_templates()
    tampered = RICH_OUTPUT.replace("Db Db may be replaced\n", "Db Db will be replaced\n")
    with pytest.raises(DiffParseError, match="destructive-change list"):
        reconcile(parse_cdk_diff(tampered, "rich-data"), base, new)


def test_a_stack_only_in_the_base_removes_every_resource_the_way_the_cli_would() -> None:
    template = {
        "Resources": {
            "Kept": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Metadata": {"aws:cdk:path": "old/Kept/Resource"}},
            "Gone": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Delete"},
            "Snap": {"Type": "AWS::Redshift::Cluster", "DeletionPolicy": "Snapshot"},
            "CDKMetadata": {"Type": "AWS::CDK::Metadata"},
        }
    }
    diff = removed_stack_diff("old", template)
    assert diff.status == "removed"
    assert [(c.logical_id, c.action, c.impact, c.construct_path) for c in diff.resources] == [
        ("Gone", REMOVED, DESTROYED, None),
        ("Kept", REMOVED, ORPHANED, "old/Kept/Resource"),
        ("Snap", REMOVED, DESTROYED, None),
    ]


# --- Destructive changes, acknowledgments, the report ------------------------------------------


def rich_environment() -> EnvironmentDiff:
    base, new = rich_templates()
    diff = reconcile(parse_cdk_diff(RICH_OUTPUT, "rich-data"), base, new)
    return EnvironmentDiff(env="dev", stacks=[diff, StackDiff(stack="rich-other", status="unchanged")])


def test_only_removals_and_replacements_of_stateful_resources_are_destructive() -> None:
    findings = destructive_changes(rich_environment(), STATEFUL_TYPES)
    # Swap was a topic (not stateful) and becomes a queue: what is lost is the topic.
    assert [(f.resource, f.change.category) for f in findings] == [
        ("rich-data/Db", MAY_CAUSE_REPLACEMENT),
        ("rich-data/JobsDF1CC2D4", REMOVED),
        ("rich-data/Keep4E804DFF", REMOVED),
        ("rich-data/NamedD2F31604", REQUIRES_REPLACEMENT),
    ]
    why = {f.change.logical_id: f.why() for f in findings}
    assert why["Keep4E804DFF"].startswith("removed: orphaned (DeletionPolicy Retain")
    assert why["JobsDF1CC2D4"] == "removed: deleted with its data (DeletionPolicy Delete)"
    assert why["NamedD2F31604"].startswith("requires replacement (`BucketName`); the old resource is kept outside the stack")
    assert why["Db"].startswith("may cause replacement (`MultiAZ`); if it is replaced, the old resource is deleted with its data")


def finding(resource: str) -> Finding:
    stack, logical_id = resource.split("/")
    return Finding(env="dev", stack=stack, change=ResourceChange(logical_id, "AWS::S3::Bucket", REMOVED, DESTROYED))


REASON = "The bucket held only test data that is regenerated daily."


def test_acknowledgments_are_read_and_checked() -> None:
    text = f"acknowledged:\n  - resource: s-dev/Bucket1\n    reason: >-\n      {REASON}\n"
    assert parse_acknowledgments(text, "f") == [Acknowledgment("s-dev/Bucket1", REASON)]
    assert parse_acknowledgments(None, "f") == parse_acknowledgments("", "f") == parse_acknowledgments("acknowledged:\n", "f") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- resource: s/B\n", "expected one top-level key 'acknowledged'"),
        ("acknowledged: {resource: s/B}\n", "'acknowledged' must be a list"),
        ("acknowledged:\n  - resource: s/B\n", "entry 1: expected exactly the keys 'resource' and 'reason'"),
        (f"acknowledged:\n  - {{resource: s/B, reason: {REASON}, env: dev}}\n", "expected exactly the keys"),
        (f"acknowledged:\n  - {{resource: B, reason: {REASON}}}\n", "'resource' must be '<stack name>/<logical id>'; got 'B'"),
        ("acknowledged:\n  - {resource: s/B, reason: ok}\n", "entry 1 (s/B): 'reason' must say why"),
        (f"acknowledged:\n  - {{resource: s/B, reason: {REASON}}}\n  - {{resource: s/B, reason: {REASON}}}\n", "entry 2: s/B is listed twice"),
        ("acknowledged: [\n", "not valid YAML"),
    ],
)
def test_a_malformed_acknowledgments_file_is_an_error(text: str, message: str) -> None:
    with pytest.raises(AcknowledgmentError, match=re.escape(message)):
        parse_acknowledgments(text, "f")


def test_only_new_entries_acknowledge_and_only_what_they_name() -> None:
    findings = [finding("s/New1"), finding("s/Carried1"), finding("s/Rewritten1"), finding("s/Other1")]
    carried = Acknowledgment("s/Carried1", REASON)
    rewritten_before = Acknowledgment("s/Rewritten1", REASON)
    rewritten = Acknowledgment("s/Rewritten1", REASON + " Checked again.")
    stale = Acknowledgment("s/Gone1", REASON)
    entries = [Acknowledgment("s/New1", REASON), carried, rewritten, stale]
    verdict = apply_acknowledgments(findings, entries, base_entries=[carried, rewritten_before])
    assert {f.resource: (f.status, f.reason) for f in verdict.findings} == {
        "s/New1": (ACKNOWLEDGED, REASON),
        "s/Carried1": (NOT_ACKNOWLEDGED, None),
        "s/Rewritten1": (ACKNOWLEDGED, REASON + " Checked again."),
        "s/Other1": (NOT_ACKNOWLEDGED, None),
    }
    assert verdict.stale == [stale]
    assert verdict.carried_over == [carried]
    assert [f.resource for f in verdict.unacknowledged()] == ["s/Carried1", "s/Other1"]


def test_allow_destructive_lets_everything_through_but_keeps_acknowledgments_apart() -> None:
    verdict = apply_acknowledgments([finding("s/A1"), finding("s/B1")], [Acknowledgment("s/A1", REASON)], allow_destructive=True)
    assert [f.status for f in verdict.findings] == [ACKNOWLEDGED, ALLOWED]
    assert verdict.unacknowledged() == []


def test_the_report_leads_with_the_caution_block_then_each_kind_of_change() -> None:
    env = rich_environment()
    findings = apply_acknowledgments(destructive_changes(env, STATEFUL_TYPES), [Acknowledgment("rich-data/Keep4E804DFF", REASON)]).findings
    report = environment_report(env, findings, "`HEAD`")
    caution = report.index("> [!CAUTION]")
    assert caution < report.index("### Added") < report.index("### Removed") < report.index("### Replaced: requires replacement")
    assert report.index("### Replaced: requires replacement") < report.index("### Replaced: may cause replacement") < report.index("### Modified")
    block = report[caution : report.index("\n\n", caution)]
    assert "4 destructive change(s) to stateful resources (3 not acknowledged)" in block
    assert "- acknowledged: `rich-data` / `Keep4E804DFF`" in block and REASON in block
    assert "- **NOT ACKNOWLEDGED**: `rich-data` / `NamedD2F31604` (`AWS::S3::Bucket`, `Named`): requires replacement (`BucketName`)" in block
    assert "WorkBF636A8B" not in block and "FreshA68222D7" not in block
    assert "| `rich-data` | `Swap48A0C3F1` | `AWS::SNS::Topic` → `AWS::SQS::Queue` | `Swap` |" in report
    assert "| `rich-data` | `WorkBF636A8B` | `AWS::SQS::Queue` | `Work` | ~`VisibilityTimeout` |" in report
    assert "Unchanged: `rich-other`." in report
    assert "<details><summary>rich-data</summary>" in report


def test_the_report_is_deterministic() -> None:
    env = rich_environment()
    shuffled = EnvironmentDiff(env="dev", stacks=list(reversed(env.stacks)))
    shuffled.stacks[1].resources.reverse()
    one = environment_report(rich_environment(), destructive_changes(rich_environment(), STATEFUL_TYPES), "b")
    assert environment_report(shuffled, destructive_changes(shuffled, STATEFUL_TYPES), "b") == one


def test_an_environment_without_changes_says_so() -> None:
    env = EnvironmentDiff(env="prod", stacks=[StackDiff(stack="a", status="unchanged"), StackDiff(stack="b", status="unchanged")])
    report = environment_report(env, [], "`origin/main`")
    assert "No changes: the 2 stack templates of `prod` are identical to the base's." in report
    assert "[!CAUTION]" not in report


def test_the_comment_fits_github_and_keeps_the_caution_block() -> None:
    env = rich_environment()
    env.stacks[0].cli_output = "x" * (COMMENT_LIMIT + 10)  # a huge diff
    verdict = apply_acknowledgments(destructive_changes(env, STATEFUL_TYPES), [])
    text = comment([env], verdict, "`origin/main`")
    assert text.startswith(COMMENT_MARKER + "\n")
    assert len(text) <= COMMENT_LIMIT
    assert text.index("> [!CAUTION]") < text.index("## Template diff: `dev`")
    assert text.count("> [!CAUTION]") == 1  # one block over every environment, not one per environment
    assert "- **NOT ACKNOWLEDGED**: `dev` `rich-data` / `JobsDF1CC2D4`" in text
    assert "xxxxxxxxxx" not in text  # the CLI output went, the tables stayed
    assert "### Modified" in text


# --- Choosing the base and the environments (git only, no synth) ---------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def commit(repo: Path, message: str) -> str:
    with (repo / "log.txt").open("a") as log:
        log.write(message + "\n")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """c1 <- c2 (HEAD, main); c1 <- c3 (origin/main, which moved on since the branch left it)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    commits = {"c1": commit(repo, "c1")}
    git(repo, "checkout", "--quiet", "-b", "other")
    commits["c3"] = commit(repo, "c3")
    git(repo, "checkout", "--quiet", "main")
    commits["c2"] = commit(repo, "c2")
    return repo, commits


def test_without_origin_main_the_base_is_the_previous_commit_and_it_says_so(history) -> None:
    repo, commits = history
    base = resolve_base(repo, None)
    assert (base.ref, base.commit) == ("HEAD~1", commits["c1"])
    assert "origin/main does not exist here: using HEAD~1" in base.note


def test_the_base_is_the_merge_base_so_a_branch_is_not_charged_with_mains_newer_changes(history) -> None:
    repo, commits = history
    git(repo, "update-ref", "refs/remotes/origin/main", commits["c3"])
    base = resolve_base(repo, None)
    assert (base.ref, base.commit) == ("origin/main", commits["c1"])
    assert f"comparing with its merge base with HEAD, {commits['c1'][:12]}" in base.note
    assert resolve_base(repo, "HEAD") == Base(ref="HEAD", commit=commits["c2"], note="")


def test_a_base_that_does_not_exist_is_an_error(history) -> None:
    repo, _ = history
    with pytest.raises(TemplateDiffError, match="--base 'origin/nope' is not a commit"):
        resolve_base(repo, "origin/nope")


def test_environments_come_from_both_sides_config(tmp_path: Path) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    for root, names in ((here, ("dev", "qa")), (there, ("dev", "old"))):
        (root / "config" / "environments").mkdir(parents=True)
        for name in names:
            (root / "config" / "environments" / f"{name}.yaml").write_text("{}\n")
    envs, base_envs, head_envs = plan_environments(None, here, here / "config" / "environments", there)
    assert (envs, base_envs, head_envs) == (["dev", "old", "qa"], {"dev", "old"}, {"dev", "qa"})
    assert plan_environments(["prod,dev", "dev"], here, here / "config" / "environments", there) == (
        ["dev", "prod"], {"dev", "prod"}, {"dev", "prod"},
    )  # fmt: skip
    with pytest.raises(TemplateDiffError, match="no environments"):
        plan_environments(None, here, tmp_path / "none", tmp_path / "none")


# --- The whole script on a tiny CDK app -------------------------------------------------------

APP_V1 = """
import aws_cdk as cdk
from aws_cdk import aws_s3 as s3, aws_sns as sns, aws_sqs as sqs

app = cdk.App()
env = app.node.try_get_context("env")
data = cdk.Stack(app, f"tiny-{env}-data", description="Tiny test data")
s3.Bucket(data, "Data", removal_policy=cdk.RemovalPolicy.RETAIN)
s3.Bucket(data, "Named", bucket_name=f"tiny-{env}-named-1", removal_policy=cdk.RemovalPolicy.RETAIN)
sqs.Queue(data, "Work", visibility_timeout=cdk.Duration.seconds(30))
old = cdk.Stack(app, f"tiny-{env}-old")
s3.Bucket(old, "Logs", removal_policy=cdk.RemovalPolicy.DESTROY)
app.synth()
"""
# The bucket Data renamed (construct id), Named given a new BucketName, the old stack removed,
# a new stack added; harmless: the queue's visibility timeout and the stack description.
APP_V2 = (
    APP_V1.replace('"Data"', '"Records"')
    .replace("named-1", "named-2")
    .replace("seconds(30)", "seconds(60)")
    .replace('"Tiny test data"', '"Tiny test data, v2"')
    .replace('old = cdk.Stack(app, f"tiny-{env}-old")\ns3.Bucket(old, "Logs", removal_policy=cdk.RemovalPolicy.DESTROY)\n', 'new = cdk.Stack(app, f"tiny-{env}-new")\nsns.Topic(new, "Alerts")\n')
)
# CDK's logical ids: the construct id and a hash of its path in the stack (stable across CDK releases).
DATA_ID, NAMED_ID = "Data666C94C7", "NamedD2F31604"
CARRIED = f"  - resource: tiny-dev-data/{NAMED_ID}\n    reason: Renaming this bucket was approved in an earlier change.\n"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository with the tiny app at HEAD (and an acknowledgment already merged), and v2
    of the app in the working tree, uncommitted."""
    repo = tmp_path_factory.mktemp("tiny-app")
    (repo / "config" / "environments").mkdir(parents=True)
    (repo / "config" / "environments" / "dev.yaml").write_text("# the tiny app reads nothing here\n")
    (repo / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py"}))
    (repo / ".gitignore").write_text("cdk.out/\n__pycache__/\n")
    (repo / "app.py").write_text(APP_V1)
    (repo / ".destructive-changes.yaml").write_text("acknowledged:\n" + CARRIED)
    git(repo, "init", "--quiet")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "--quiet", "-m", "v1")
    (repo / "app.py").write_text(APP_V2)
    return repo


def run_script(repo: Path) -> subprocess.CompletedProcess[str]:
    """The script as make runs it, with the pinned CLI on PATH and no AWS settings at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env["PATH"] = f"{CLI.parent}{os.pathsep}{env['PATH']}"
    env["AWS_PROFILE"] = "template-diff-test-no-such-profile"  # the script must not pass it on
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "template_diff.py"), "--project-dir", str(repo), "--base", "HEAD", "--jobs", "2"],
        cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def unacknowledged(repo: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run 1: the working tree's acknowledgments add only a stale entry to the carried-over one."""
    stale = "  - resource: tiny-dev-data/Gone12345678\n    reason: This resource is nowhere in the diff, so the entry is stale.\n"
    (repo / ".destructive-changes.yaml").write_text("acknowledged:\n" + CARRIED + stale)
    result = run_script(repo)
    return result, (repo / "cdk.out" / "diff" / "dev.md").read_text() if result.returncode != 1 else ""


@pytest.fixture(scope="module")
def acknowledged(repo: Path, unacknowledged) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run 2: every destructive change acknowledged, the carried-over entry with a new reason."""
    logs_id = re.search(r"tiny-dev-old/(Logs[0-9A-F]{8})", unacknowledged[0].stdout).group(1)
    (repo / ".destructive-changes.yaml").write_text(
        textwrap.dedent(
            f"""\
            acknowledged:
              - resource: tiny-dev-data/{DATA_ID}
                reason: Data becomes Records; the old bucket and its objects stay (Retain) and are copied over.
              - resource: tiny-dev-data/{NAMED_ID}
                reason: The bucket's new name is needed now; its objects were copied to the new one first.
              - resource: tiny-dev-old/{logs_id}
                reason: The old stack's log bucket holds nothing anyone reads any more.
            """
        )
    )
    result = run_script(repo)
    return result, (repo / "cdk.out" / "diff" / "dev.md").read_text() if result.returncode != 1 else ""


def caution(report: str) -> str:
    start = report.index("> [!CAUTION]")
    return report[start : report.index("\n\n", start)]


def test_renamed_bucket_replaced_bucket_and_removed_stack_fail_the_run(unacknowledged) -> None:
    result, report = unacknowledged
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Base: HEAD -> merge base" in result.stdout
    block = caution(report)
    assert report.index("> [!CAUTION]") < report.index("### Added")  # at the top
    assert "3 destructive change(s) to stateful resources (3 not acknowledged)" in block
    assert f"- **NOT ACKNOWLEDGED**: `tiny-dev-data` / `{DATA_ID}` (`AWS::S3::Bucket`, `Data`): removed: orphaned (DeletionPolicy Retain" in block
    assert f"- **NOT ACKNOWLEDGED**: `tiny-dev-data` / `{NAMED_ID}` (`AWS::S3::Bucket`, `Named`): requires replacement (`BucketName`)" in block
    assert re.search(r"- \*\*NOT ACKNOWLEDGED\*\*: `tiny-dev-old` / `Logs[0-9A-F]{8}` \(`AWS::S3::Bucket`, `tiny-dev-old/Logs/Resource`\): removed: deleted with its data", block)
    assert f"NOT ACKNOWLEDGED: dev tiny-dev-data/{NAMED_ID} AWS::S3::Bucket: requires replacement (BucketName)" in result.stdout


def test_stale_and_carried_over_entries_are_reported(repo: Path, unacknowledged) -> None:
    result, _ = unacknowledged
    assert "Stale acknowledgment (matches nothing; delete it): tiny-dev-data/Gone12345678" in result.stdout
    assert f"Acknowledgment already in the base's file (acknowledges nothing; delete it): tiny-dev-data/{NAMED_ID}" in result.stdout
    text = (repo / "cdk.out" / "diff" / "comment.md").read_text()
    assert text.startswith(COMMENT_MARKER)
    assert "> - `tiny-dev-data/Gone12345678`: stale" in text


def test_harmless_changes_are_modified_and_new_or_removed_stacks_are_shown(unacknowledged) -> None:
    _, report = unacknowledged
    assert "WorkBF636A8B" not in caution(report)
    assert re.search(r"\| `tiny-dev-data` \| `WorkBF636A8B` \| `AWS::SQS::Queue` \| `Work` \| ~`VisibilityTimeout` \|", report)
    assert re.search(r"\| `tiny-dev-data` \| `Records[0-9A-F]{8}` \| `AWS::S3::Bucket` \| `Records` \|", report)  # added
    assert "| `tiny-dev-new` | new stack |" in report
    assert "| `tiny-dev-old` | removed from the app |" in report
    assert '[~] Description Description: Tiny test data to Tiny test data, v2' in report


def test_acknowledged_destructive_changes_pass_and_say_so(acknowledged) -> None:
    result, report = acknowledged
    assert result.returncode == 0, result.stdout + result.stderr
    block = caution(report)
    assert "3 destructive change(s) to stateful resources (all acknowledged)" in block
    assert f"- acknowledged: `tiny-dev-data` / `{DATA_ID}`" in block
    assert "Reason: The bucket's new name is needed now" in block
    assert "NOT ACKNOWLEDGED" not in report
    assert "WorkBF636A8B" in report and "WorkBF636A8B" not in block  # the harmless change needs no entry


def test_the_run_leaves_no_worktree_behind(repo: Path, acknowledged) -> None:
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert git(repo, "status", "--porcelain").split("\n")[0:2] == [" M .destructive-changes.yaml", " M app.py"]


# --- The pull-request workflow ----------------------------------------------------------------


def make_targets() -> set[str]:
    output = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in output.splitlines() if line.startswith("  ") and not line.strip().startswith("Variables")}


def workflow_steps() -> list[dict]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers
    (job,) = workflow["jobs"].values()
    return job["steps"]


def step_index(steps: list[dict], predicate) -> int:
    (index,) = [i for i, step in enumerate(steps) if predicate(step)]
    return index


def test_every_make_target_the_workflow_runs_exists() -> None:
    runs = "\n".join(step.get("run", "") for step in workflow_steps())
    used = set(re.findall(r"\bmake\s+([a-z][a-z-]*)", runs))
    assert {"install-dev", "lint", "test", "synth-all", "diff"} <= used
    assert used <= make_targets()


def test_the_diff_runs_before_the_comment_and_the_job_fails_after_it() -> None:
    steps = workflow_steps()
    diff = step_index(steps, lambda s: re.match(r"\s*make diff\b", s.get("run", "")))
    post = step_index(steps, lambda s: "github-script" in s.get("uses", ""))
    fail = step_index(steps, lambda s: "outcome == 'failure'" in str(s.get("if", "")))
    assert diff < post < fail
    assert steps[diff]["continue-on-error"] is True
    assert re.search(r'BASE="?origin/\$\{\{ github\.base_ref \}\}"?', steps[diff]["run"])
    assert f"steps.{steps[diff]['id']}.outcome" in steps[fail]["if"]
    assert "always()" in steps[post]["if"]
    assert COMMENT_MARKER in steps[post]["with"]["script"]
    assert "cdk.out/diff/comment.md" in steps[post]["with"]["script"]
    checkout = step_index(steps, lambda s: s.get("uses", "").startswith("actions/checkout@"))
    assert steps[checkout]["with"]["fetch-depth"] == 0
    assert all(re.fullmatch(r"[\w-]+/[\w-]+@v\d+", s["uses"]) for s in steps if "uses" in s)


def test_the_workflow_token_can_comment_and_read_only() -> None:
    permissions = yaml.safe_load(WORKFLOW.read_text())["permissions"]
    assert permissions == {"contents": "read", "pull-requests": "write"}


# --- A working tree that fails its compliance checks -------------------------------------------


def test_compliance_findings_counts_the_failed_plugins_violations(tmp_path: Path) -> None:
    report = {
        "pluginReports": [
            {"summary": {"status": "failure"}, "violations": [
                {"ruleName": "AwsSolutions-IAM5", "severity": "error", "violatingConstructs": [{"constructPath": "a"}, {"constructPath": "b"}]},
                {"ruleName": "Serverless-X", "severity": "warning", "violatingConstructs": [{"constructPath": "c"}]},
            ]},
            {"summary": {"status": "success"}, "violations": []},
        ]
    }
    (tmp_path / "validation-report.json").write_text(json.dumps(report))
    assert compliance_findings(tmp_path) == 3
    assert compliance_findings(tmp_path / "nowhere") == 0


def test_a_compliance_failure_is_reported_above_the_diff() -> None:
    env = rich_environment()
    failing = EnvironmentDiff(env=env.env, stacks=env.stacks, compliance_findings=22)
    report = environment_report(failing, destructive_changes(failing, STATEFUL_TYPES), "b")
    warning = report.index("> [!WARNING]")
    assert "fails the compliance checks in `dev`: 22 finding(s)" in report
    assert warning < report.index("> [!CAUTION]")
    assert "[!WARNING]" not in environment_report(env, destructive_changes(env, STATEFUL_TYPES), "b")
