"""Reading the CDK CLI's own template diff (``cdk diff --template``) into data.

The CLI knows which property changes replace a resource (from the CloudFormation resource
specification it ships), and reviewers know its output; so the CLI computes the diff and this
module only reads it. Its text is made for people, not programs, so the reader is strict: a line
it does not understand in the Resources section, or a result that disagrees with the two
templates (a resource reported as added that the base template already has, an addition or
removal the CLI did not report, a destructive-change summary that disagrees with the resource
lines), raises ``DiffParseError`` instead of under-reporting. A CLI upgrade that changes the
format then fails loudly.

The format read here is that of aws-cdk 2.1148 (``@aws-cdk/cloudformation-diff``), run with
``--no-color --method template --fail-on destructive``:

    Stack <name>
    <section title>                      Template, IAM Statement Changes, Parameters, Resources, ...
    [+] AWS::S3::Bucket Path/To/Bucket BucketABC123              added
    [-] AWS::SQS::Queue Jobs JobsDF1CC2D4 destroy                removed (or ``orphan`` when retained)
    [~] AWS::S3::Bucket Named NamedD2F31604 replace              modified (``may be replaced``)
     ├─ [~] BucketName (requires replacement)                    one line per changed property
     │   └─ ...                                                  details (ignored here)
     │       ├─ [-] first line of an old value                   a value: a string with line breaks goes on
    continued at the start of the line, blank lines too          on the lines below, as it is (ignored here)
    <blank line>                                                 end of the section

A value's own lines are the one place where the reader accepts any text: only right after a value
line (``├─ [-] ...``, ``└─ [+] ...``), and a blank line ends the section there only when what
follows could not go on the value (a section title, the CLI's closing lines, the end). The saved
queries' SQL is such a value.
    ❌  Found 1 destructive change(s) (--fail-on=destructive):
      <stack>: <type> <path> <logical id> will be replaced       the CLI's own destructive list
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The resource type the CLI leaves out of its diff (it changes with every construct change).
CDK_METADATA_TYPE = "AWS::CDK::Metadata"

ADDED = "added"
REMOVED = "removed"
MODIFIED = "modified"

# Resource impacts, named after what happens to the resource.
REQUIRES_REPLACEMENT = "requires replacement"
MAY_CAUSE_REPLACEMENT = "may cause replacement"
DESTROYED = "destroyed"
ORPHANED = "orphaned"
IMPORTED = "imported"

#: The impact word at the end of a resource line -> impact.
_LINE_IMPACTS = {
    "may be replaced": MAY_CAUSE_REPLACEMENT,
    "replace": REQUIRES_REPLACEMENT,
    "destroy": DESTROYED,
    "orphan": ORPHANED,
    "import": IMPORTED,
}
#: The impact words of the CLI's destructive-change summary -> impact.
_SUMMARY_IMPACTS = {
    "will be replaced": REQUIRES_REPLACEMENT,
    "may be replaced": MAY_CAUSE_REPLACEMENT,
    "will be destroyed": DESTROYED,
    "will be orphaned": ORPHANED,
}
DESTRUCTIVE_IMPACTS = frozenset(_SUMMARY_IMPACTS.values())

_ACTIONS = {"+": ADDED, "-": REMOVED, "~": MODIFIED, "\u2190": ADDED}
_SECTION_TITLES = frozenset(
    {
        "Template",
        "IAM Statement Changes",
        "IAM Policy Changes",
        "IAM Identity Center Changes",
        "Security Group Changes",
        "Parameters",
        "Metadata",
        "Mappings",
        "Conditions",
        "Resources",
        "Outputs",
        "Other Changes",
    }
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: A resource line: its type is always ``Service::...`` (``AWS::S3::Bucket``, ``Custom::RedshiftSql``),
#: which tells it from a value's line that happens to start with ``[~] ``.
_RESOURCE_LINE = re.compile(r"^\[(?P<sign>[+~\u2190-])\] (?P<type>[A-Za-z0-9]+::\S+) (?P<rest>.+)$")
_PROPERTY_LINE = re.compile(
    r"^ [\u251c\u2514]\u2500 \[(?P<sign>[+~-])\] (?P<name>\S+)"
    r"(?: \((?P<replacement>requires replacement|may cause replacement)\))?$"
)
_DETAIL_LINE = re.compile(r"^ [ \u2502]")
#: A detail line that starts a value (old or new); the value's further lines follow as they are.
_VALUE_LINE = re.compile(r"^ [ \u2502]*[\u251c\u2514]\u2500 \[[+-]\] ")
_MOVE_SUFFIX = re.compile(r" \(OR move .*\)$")
_SUMMARY_HEADER = re.compile(r"^\u274c\s+Found (?P<count>\d+) destructive change\(s\)")
_SUMMARY_LINE = re.compile(
    r"^  (?P<stack>\S+): (?P<rest>.+) (?P<impact>will be replaced|may be replaced|will be destroyed|will be orphaned)"
    r"(?: \(moved to .*\))?$"
)
_NO_DIFFERENCES = "There were no differences"
_END_MARKERS = ("\u2728", "Omitted ")


class DiffParseError(RuntimeError):
    """The CLI's output could not be read, or disagrees with the templates it compared."""


@dataclass(frozen=True)
class PropertyChange:
    """One changed top-level property (or other resource attribute, e.g. DeletionPolicy)."""

    name: str
    action: str  # added / removed / modified
    replacement: str | None = None  # requires replacement / may cause replacement / None


@dataclass(frozen=True)
class ResourceChange:
    """One resource that the diff reports."""

    logical_id: str
    resource_type: str  # as the CLI shows it: the new type, or the old one when removed
    action: str  # added / removed / modified
    impact: str | None = None  # requires replacement, may cause replacement, destroyed, orphaned, None
    construct_path: str | None = None
    properties: tuple[PropertyChange, ...] = ()
    old_type: str | None = None  # from the base template (None when added)
    deletion_policy: str | None = None  # of the base template's resource (removals and replacements)
    update_replace_policy: str | None = None

    @property
    def category(self) -> str:
        """added, removed, requires replacement, may cause replacement or modified."""
        if self.action == MODIFIED and self.impact in (REQUIRES_REPLACEMENT, MAY_CAUSE_REPLACEMENT):
            return self.impact
        return self.action

    def replacing_properties(self) -> tuple[str, ...]:
        """The properties that cause the replacement, as the CLI marks them."""
        return tuple(p.name for p in self.properties if p.replacement is not None)


@dataclass
class StackDiff:
    """One stack's differences between the base and the working tree."""

    stack: str
    resources: list[ResourceChange] = field(default_factory=list)
    #: Non-resource sections (Template, Parameters, Outputs, IAM tables, ...): title -> lines.
    other_sections: dict[str, list[str]] = field(default_factory=dict)
    #: The CLI's own destructive-change list: (logical id, impact).
    cli_destructive: list[tuple[str, str]] = field(default_factory=list)
    #: The CLI's text from the stack header on, or None when the CLI was not run.
    cli_output: str | None = None
    #: "changed", "unchanged", "added" (stack only in the working tree) or "removed" (only in the base).
    status: str = "changed"

    @property
    def has_changes(self) -> bool:
        return bool(self.resources or self.other_sections)


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def parse_cdk_diff(text: str, stack: str) -> StackDiff:
    """Read the output of ``cdk diff --template <file> --no-color --fail-on destructive <stack>``."""
    lines = strip_ansi(text).splitlines()
    start = _find_stack_header(lines, stack)
    diff = StackDiff(stack=stack)
    body = lines[start:]
    section: str | None = None
    current: dict[str, Any] | None = None
    summary_expected: int | None = None
    in_value = False
    for index, line in enumerate(body[1:], start=1):
        number = start + index + 1
        if summary_expected is not None:
            match = _SUMMARY_LINE.match(line)
            if match and match.group("stack") == stack:
                diff.cli_destructive.append((match.group("rest").split()[-1], _SUMMARY_IMPACTS[match.group("impact")]))
            continue
        header = _SUMMARY_HEADER.match(line)
        if header:
            _finish(diff, current)
            summary_expected = int(header.group("count"))
            section, current = None, None
            continue
        if line in _SECTION_TITLES:  # a title ends the previous section, blank line or not
            _finish(diff, current)
            section, current = line, None
            if section != "Resources":
                diff.other_sections.setdefault(section, [])
            continue
        if section is None:
            if not line.strip() or line.startswith(_END_MARKERS) or line.startswith(_NO_DIFFERENCES):
                continue
            raise DiffParseError(f"line {number}: unexpected line outside a section: {line!r}")
        if not line.strip():
            if section == "Resources" and in_value and not _ends_section(body[index + 1:]):
                continue  # a blank line of a multi-line value
            _finish(diff, current)
            section, current, in_value = None, None, False
            continue
        if section != "Resources":
            diff.other_sections[section].append(line)
            continue
        current, in_value = _read_resource_section_line(diff, current, line, number, in_value)
    _finish(diff, current)
    if summary_expected is not None and summary_expected != len(diff.cli_destructive):
        raise DiffParseError(
            f"the CLI announced {summary_expected} destructive change(s) but {len(diff.cli_destructive)} were read"
        )
    diff.cli_output = "\n".join(_trim(body)).rstrip() + "\n"
    return diff


def _find_stack_header(lines: list[str], stack: str) -> int:
    for index, line in enumerate(lines):
        if line == f"Stack {stack}" or line.startswith(f"Stack {stack} ("):
            return index
    raise DiffParseError(f"no 'Stack {stack}' header in the CLI output:\n" + "\n".join(lines[-20:]))


def _ends_section(rest: list[str]) -> bool:
    """Whether a blank line followed by ``rest`` ends the Resources section rather than belonging to
    a multi-line value: the next line is another blank one, a section title, the CLI's closing lines
    or the end of the output."""
    following = rest[0] if rest else ""
    return (
        not following.strip()
        or following in _SECTION_TITLES
        or following.startswith(_END_MARKERS)
        or following.startswith(_NO_DIFFERENCES)
        or _SUMMARY_HEADER.match(following) is not None
    )


def _read_resource_section_line(
    diff: StackDiff, current: dict[str, Any] | None, line: str, number: int, in_value: bool
) -> tuple[dict[str, Any] | None, bool]:
    """The resource being read after ``line``, and whether the next line may continue a value."""
    resource = _RESOURCE_LINE.match(line)
    if resource:
        _finish(diff, current)
        return _start_resource(resource, line, number), False
    prop = _PROPERTY_LINE.match(line)
    if prop:
        if current is None:
            raise DiffParseError(f"line {number}: a property line before any resource line: {line!r}")
        current["properties"].append(
            PropertyChange(name=prop.group("name"), action=_ACTIONS[prop.group("sign")], replacement=prop.group("replacement"))
        )
        return current, False
    if _DETAIL_LINE.match(line) and current is not None:
        return current, bool(_VALUE_LINE.match(line)) or in_value
    if in_value and current is not None:
        return current, True  # a further line of a multi-line value
    raise DiffParseError(f"line {number}: unexpected line in the Resources section: {line!r}")


def _start_resource(match: re.Match[str], line: str, number: int) -> dict[str, Any]:
    rest = _MOVE_SUFFIX.sub("", match.group("rest"))
    impact = None
    for word, name in _LINE_IMPACTS.items():
        if rest.endswith(" " + word):
            rest, impact = rest[: -len(word) - 1], name
            break
    tokens = rest.split(" ")
    if not tokens or not tokens[-1]:
        raise DiffParseError(f"line {number}: no logical id in {line!r}")
    return {
        "logical_id": tokens[-1],
        "construct_path": " ".join(tokens[:-1]) or None,
        "resource_type": match.group("type"),
        "action": _ACTIONS[match.group("sign")],
        "impact": impact,
        "properties": [],
    }


def _finish(diff: StackDiff, current: dict[str, Any] | None) -> None:
    if current is not None:
        diff.resources.append(ResourceChange(**{**current, "properties": tuple(current["properties"])}))


def _trim(lines: list[str]) -> list[str]:
    """The stack's diff without the CLI's closing lines (the count of stacks, the summary)."""
    kept = []
    for line in lines:
        if line.startswith(_END_MARKERS) or _SUMMARY_HEADER.match(line):
            break
        kept.append(line)
    return kept


# --- Holding the CLI's reading against the templates -------------------------------------------


def resources_of(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's resources, without the CDK's metadata resource (the CLI ignores it too)."""
    return {
        logical_id: resource
        for logical_id, resource in (template.get("Resources") or {}).items()
        if resource.get("Type") != CDK_METADATA_TYPE
    }


def reconcile(diff: StackDiff, base_template: Mapping[str, Any], new_template: Mapping[str, Any]) -> StackDiff:
    """Check the CLI's reading against both templates, and add what only the base template knows
    (the old type and the deletion policies). Raises DiffParseError on any disagreement."""
    base, new = resources_of(base_template), resources_of(new_template)
    problems = []
    seen: set[str] = set()
    enriched = []
    for change in diff.resources:
        if change.logical_id in seen:
            problems.append(f"{change.logical_id} is reported twice")
        seen.add(change.logical_id)
        expected = {ADDED: (False, True), REMOVED: (True, False), MODIFIED: (True, True)}[change.action]
        actual = (change.logical_id in base, change.logical_id in new)
        if actual != expected:
            problems.append(
                f"{change.logical_id} is reported {change.action} but is "
                f"{'in' if actual[0] else 'not in'} the base and {'in' if actual[1] else 'not in'} the new template"
            )
            continue
        shown_type = (base if change.action == REMOVED else new)[change.logical_id].get("Type")
        if shown_type != change.resource_type:
            problems.append(f"{change.logical_id} is reported as {change.resource_type} but the template says {shown_type}")
        old = base.get(change.logical_id, {})
        enriched.append(
            ResourceChange(
                **{
                    **change.__dict__,
                    "old_type": old.get("Type"),
                    "deletion_policy": old.get("DeletionPolicy"),
                    "update_replace_policy": old.get("UpdateReplacePolicy"),
                }
            )
        )
    reported = {action: {c.logical_id for c in diff.resources if c.action == action} for action in (ADDED, REMOVED)}
    for action, ids in ((ADDED, new.keys() - base.keys()), (REMOVED, base.keys() - new.keys())):
        missing = sorted(ids - reported[action])
        if missing:
            problems.append(f"{action} in the templates but not reported by the CLI: {', '.join(missing)}")
    read = sorted((c.logical_id, c.impact) for c in diff.resources if c.impact in DESTRUCTIVE_IMPACTS)
    if read != sorted(diff.cli_destructive):
        problems.append(f"the CLI's destructive-change list {sorted(diff.cli_destructive)} differs from its resource lines {read}")
    if problems:
        raise DiffParseError(f"stack {diff.stack}: the CLI's diff disagrees with the templates: " + "; ".join(problems))
    diff.resources = sorted(enriched, key=lambda c: c.logical_id)
    return diff


def removed_stack_diff(stack: str, base_template: Mapping[str, Any]) -> StackDiff:
    """A stack that only the base has: every resource is removed. The CLI cannot diff a stack
    that is not in the assembly, so this follows its rules from the template: a removed resource
    is orphaned when its DeletionPolicy is Retain or RetainExceptOnCreate, destroyed otherwise."""
    resources = []
    for logical_id, resource in sorted(resources_of(base_template).items()):
        policy = resource.get("DeletionPolicy")
        resources.append(
            ResourceChange(
                logical_id=logical_id,
                resource_type=resource.get("Type", "?"),
                action=REMOVED,
                impact=ORPHANED if policy in ("Retain", "RetainExceptOnCreate") else DESTROYED,
                construct_path=(resource.get("Metadata") or {}).get("aws:cdk:path"),
                old_type=resource.get("Type"),
                deletion_policy=policy,
                update_replace_policy=resource.get("UpdateReplacePolicy"),
            )
        )
    return StackDiff(stack=stack, resources=resources, status="removed")
