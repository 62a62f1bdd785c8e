"""What a template diff means for the data, and the Markdown a reviewer reads.

A change is *destructive* when it removes or replaces a stateful resource (a type in
``STATEFUL_TYPES``, the list the retention gate uses): the data in it is lost, or left behind
outside the stack while the stack moves on to a new, empty resource. Every destructive change
goes into a caution block at the top of the report, acknowledged or not, so a reviewer cannot
miss it; an unacknowledged one also fails the run.

Acknowledgments live in ``.destructive-changes.yaml`` at the project root:

    acknowledged:
      - resource: analytics-dev-foundation/DataLakeAccessLogsBucket7B54C271
        reason: The access-log bucket is renamed; dev access logs are disposable.

An entry acknowledges exactly one ``<stack name>/<logical id>``, in every environment whose
assembly has that stack. It counts only in the change that adds it (or rewrites its reason): an
entry that the base's file already has, word for word, acknowledges nothing, so an old entry
cannot wave through a later destructive change to the same resource. Entries that acknowledge
nothing are reported as stale, to be deleted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import yaml

from tools.template_diff_parse import (
    ADDED,
    DESTROYED,
    MAY_CAUSE_REPLACEMENT,
    MODIFIED,
    ORPHANED,
    REMOVED,
    REQUIRES_REPLACEMENT,
    ResourceChange,
    StackDiff,
)

#: Where the acknowledgments live, relative to the project root.
ACKNOWLEDGMENTS_FILE = ".destructive-changes.yaml"
#: The first line of the PR comment: the workflow finds its previous comment by it.
COMMENT_MARKER = "<!-- template-diff-report -->"
#: GitHub refuses comments over 65,536 characters; keep a margin for the workflow's footer.
COMMENT_LIMIT = 60_000
MIN_REASON_LENGTH = 20

CATEGORIES = (ADDED, REMOVED, REQUIRES_REPLACEMENT, MAY_CAUSE_REPLACEMENT, MODIFIED)
DESTRUCTIVE_CATEGORIES = (REMOVED, REQUIRES_REPLACEMENT, MAY_CAUSE_REPLACEMENT)

NOT_ACKNOWLEDGED = "not acknowledged"
ACKNOWLEDGED = "acknowledged"
ALLOWED = "allowed by --allow-destructive"

_RESOURCE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9-]*/[A-Za-z0-9]+$")


class AcknowledgmentError(ValueError):
    """The acknowledgments file is malformed."""


@dataclass(frozen=True)
class Acknowledgment:
    resource: str  # "<stack name>/<logical id>"
    reason: str


@dataclass(frozen=True)
class Finding:
    """A destructive change to a stateful resource."""

    env: str
    stack: str
    change: ResourceChange
    status: str = NOT_ACKNOWLEDGED
    reason: str | None = None  # the acknowledgment's

    @property
    def resource(self) -> str:
        return f"{self.stack}/{self.change.logical_id}"

    def why(self, markdown: bool = True) -> str:
        """What happens to the resource, in the words a reviewer needs."""
        change = self.change
        if change.action == REMOVED:
            policy = change.deletion_policy or "Delete"
            if change.impact == ORPHANED:
                return f"removed: orphaned (DeletionPolicy {policy}: it stays, with its data, outside the stack)"
            if policy == "Snapshot":
                return "removed: deleted after a final snapshot (DeletionPolicy Snapshot)"
            return f"removed: deleted with its data (DeletionPolicy {policy})"
        quote = "`" if markdown else ""
        properties = ", ".join(f"{quote}{name}{quote}" for name in change.replacing_properties()) or "its type"
        policy = change.update_replace_policy or "Delete"
        if policy in ("Retain", "RetainExceptOnCreate"):
            old = "kept outside the stack, and the stack moves to a new, empty one"
        elif policy == "Snapshot":
            old = "snapshotted, then deleted"
        else:
            old = "deleted with its data"
        when = "if it is replaced, " if change.category == MAY_CAUSE_REPLACEMENT else ""
        return f"{change.category} ({properties}); {when}the old resource is {old} (UpdateReplacePolicy {policy})"


@dataclass(frozen=True)
class EnvironmentDiff:
    """One environment's stacks, compared."""

    env: str
    stacks: list[StackDiff]
    base_found: bool = True  # False: the base has no such environment (every stack is new)
    #: Violations of the compliance checks that failed the working tree's synth (0: it passed).
    compliance_findings: int = 0

    def changed(self) -> list[StackDiff]:
        return [s for s in self.stacks if s.has_changes]

    def count(self, category: str) -> int:
        return sum(1 for s in self.stacks for r in s.resources if r.category == category)


@dataclass(frozen=True)
class Verdict:
    """The findings of every environment, with the acknowledgments applied."""

    findings: list[Finding]
    stale: list[Acknowledgment]  # new entries that match nothing
    carried_over: list[Acknowledgment]  # entries the base already had: they acknowledge nothing

    def unacknowledged(self) -> list[Finding]:
        return [f for f in self.findings if f.status == NOT_ACKNOWLEDGED]


# --- Destructive changes and their acknowledgment ---------------------------------------------


def destructive_changes(env_diff: EnvironmentDiff, stateful_types: Iterable[str]) -> list[Finding]:
    """Removals and replacements of stateful resources. What is lost is the *old* resource, so
    its type (from the base template) decides."""
    stateful = frozenset(stateful_types)
    return [
        Finding(env=env_diff.env, stack=stack.stack, change=change)
        for stack, change in _ordered(env_diff)
        if change.category in DESTRUCTIVE_CATEGORIES and (change.old_type or change.resource_type) in stateful
    ]


def _ordered(env_diff: EnvironmentDiff) -> list[tuple[StackDiff, ResourceChange]]:
    """Every resource change, by stack name and logical id: reports do not depend on CLI order."""
    return sorted(
        ((stack, change) for stack in env_diff.stacks for change in stack.resources),
        key=lambda pair: (pair[0].stack, pair[1].logical_id),
    )


def parse_acknowledgments(text: str | None, source: str) -> list[Acknowledgment]:
    """Read and validate an acknowledgments file (None or empty: no entries)."""
    if text is None or not text.strip():
        return []
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise AcknowledgmentError(f"{source}: not valid YAML: {error}") from None
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) != {"acknowledged"}:
        raise AcknowledgmentError(f"{source}: expected one top-level key 'acknowledged' (a list); got {data!r}"[:300])
    entries = data["acknowledged"] or []
    if not isinstance(entries, list):
        raise AcknowledgmentError(f"{source}: 'acknowledged' must be a list; got {type(entries).__name__}")
    result: list[Acknowledgment] = []
    for index, entry in enumerate(entries, start=1):
        where = f"{source}: entry {index}"
        if not isinstance(entry, dict) or set(entry) != {"resource", "reason"}:
            raise AcknowledgmentError(f"{where}: expected exactly the keys 'resource' and 'reason'; got {entry!r}")
        resource, reason = entry["resource"], entry["reason"]
        if not isinstance(resource, str) or not _RESOURCE_KEY.match(resource):
            raise AcknowledgmentError(f"{where}: 'resource' must be '<stack name>/<logical id>'; got {resource!r}")
        if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
            raise AcknowledgmentError(
                f"{where} ({resource}): 'reason' must say why the data may go, in at least "
                f"{MIN_REASON_LENGTH} characters; got {reason!r}"
            )
        if any(a.resource == resource for a in result):
            raise AcknowledgmentError(f"{where}: {resource} is listed twice")
        result.append(Acknowledgment(resource=resource, reason=" ".join(reason.split())))
    return result


def apply_acknowledgments(
    findings: Sequence[Finding],
    entries: Sequence[Acknowledgment],
    base_entries: Sequence[Acknowledgment] = (),
    allow_destructive: bool = False,
) -> Verdict:
    """Mark each finding acknowledged (by a new entry), allowed (by the flag) or not."""
    carried = [e for e in entries if e in set(base_entries)]
    active = {e.resource: e for e in entries if e not in set(base_entries)}
    used: set[str] = set()
    marked = []
    for finding in findings:
        entry = active.get(finding.resource)
        if entry is not None:
            used.add(entry.resource)
            marked.append(replace(finding, status=ACKNOWLEDGED, reason=entry.reason))
        elif allow_destructive:
            marked.append(replace(finding, status=ALLOWED))
        else:
            marked.append(finding)
    stale = [e for e in active.values() if e.resource not in used]
    return Verdict(findings=marked, stale=stale, carried_over=carried)


# --- Markdown ---------------------------------------------------------------------------------


def code(text: str) -> str:
    """Inline code that survives a table cell."""
    text = text.replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _type(change: ResourceChange) -> str:
    if change.old_type and change.old_type != change.resource_type:
        return f"{code(change.old_type)} → {code(change.resource_type)}"
    return code(change.resource_type)


def _finding_line(finding: Finding, with_env: bool) -> str:
    status = f"**{finding.status.upper()}**" if finding.status == NOT_ACKNOWLEDGED else finding.status
    env = f"{code(finding.env)} " if with_env else ""
    path = f", {code(finding.change.construct_path)}" if finding.change.construct_path else ""
    line = f"- {status}: {env}{code(finding.stack)} / {code(finding.change.logical_id)} ({_type(finding.change)}{path}): {finding.why()}"
    if finding.reason:
        line += f". Reason: {finding.reason}"
    return line


def caution_block(findings: Sequence[Finding], with_env: bool = False) -> list[str]:
    """The GitHub caution alert listing every destructive change (empty when there is none)."""
    if not findings:
        return []
    open_count = sum(1 for f in findings if f.status == NOT_ACKNOWLEDGED)
    state = f"{open_count} not acknowledged" if open_count else "all acknowledged"
    lines = [
        "> [!CAUTION]",
        f"> **{len(findings)} destructive change(s) to stateful resources ({state}).** "
        "Deploying this loses the data in them, or leaves it behind outside the stack.",
        ">",
        *(f"> {_finding_line(f, with_env)}" for f in findings),
    ]
    if open_count:
        lines += [
            ">",
            f"> To go ahead on purpose, list each as `<stack>/<logical id>` with a reason in `{ACKNOWLEDGMENTS_FILE}` "
            "in this change (or run `make diff ALLOW_DESTRUCTIVE=1` locally).",
        ]
    return lines + [""]


def stale_block(verdict: Verdict) -> list[str]:
    if not verdict.stale and not verdict.carried_over:
        return []
    lines = ["> [!WARNING]", f"> Entries in `{ACKNOWLEDGMENTS_FILE}` that acknowledge nothing; delete them:", ">"]
    lines += [f"> - {code(e.resource)}: stale, it matches no destructive change in the environments diffed" for e in verdict.stale]
    lines += [
        f"> - {code(e.resource)}: already in the base's file, so it acknowledges nothing in this change" for e in verdict.carried_over
    ]
    return lines + [""]


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    rows = list(rows)
    if not rows:
        return []
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]


def _properties(change: ResourceChange) -> str:
    parts = []
    for prop in change.properties:
        note = f" ({prop.replacement})" if prop.replacement else ""
        sign = {ADDED: "+", REMOVED: "-", MODIFIED: "~"}[prop.action]
        parts.append(f"{sign}{code(prop.name)}{note}")
    return ", ".join(parts)


def _what_happens(change: ResourceChange) -> str:
    if change.impact == ORPHANED:
        return f"orphaned (DeletionPolicy {change.deletion_policy})"
    if change.impact == DESTROYED:
        return f"destroyed (DeletionPolicy {change.deletion_policy or 'Delete'})"
    return change.impact or ""


def _path(change: ResourceChange) -> str:
    return code(change.construct_path) if change.construct_path else ""


def _rows(env_diff: EnvironmentDiff, category: str) -> list[tuple[StackDiff, ResourceChange]]:
    return [(stack, change) for stack, change in _ordered(env_diff) if change.category == category]


def environment_report(
    env_diff: EnvironmentDiff,
    findings: Sequence[Finding],
    base_label: str,
    include_cli_output: bool = True,
    include_caution: bool = True,
) -> str:
    """One environment's Markdown report: destructive changes first, then every change by kind.
    (The PR comment leaves out the caution block: its own, over every environment, heads it.)"""
    env = env_diff.env
    stacks = sorted(env_diff.stacks, key=lambda s: s.stack)
    changed = [s for s in stacks if s.has_changes]
    lines = [f"## Template diff: `{env}`", "", f"Base: {base_label} → the working tree.", ""]
    if not env_diff.base_found:
        lines += [f"The base has no `{env}` environment: every stack is new.", ""]
    if env_diff.compliance_findings:
        lines += [
            "> [!WARNING]",
            f"> The working tree fails the compliance checks in `{env}`: {env_diff.compliance_findings} finding(s) of "
            "cdk-nag or CloudFormation validation (`make test` names them). The diff below is of the templates "
            "the synth wrote anyway.",
            "",
        ]
    if include_caution:
        lines += caution_block(findings)
    if not changed:
        lines += [f"No changes: the {len(stacks)} stack templates of `{env}` are identical to the base's.", ""]
        return "\n".join(lines)
    counts = ", ".join(f"{env_diff.count(c)} {c}" for c in CATEGORIES)
    lines += [f"{len(changed)} of {len(stacks)} stacks changed: {counts}.", ""]
    lines += _table(
        ("stack", "stack change", *CATEGORIES, "other sections"),
        (
            (
                code(s.stack),
                {"added": "new stack", "removed": "removed from the app"}.get(s.status, "changed"),
                *(str(sum(1 for r in s.resources if r.category == c)) for c in CATEGORIES),
                ", ".join(s.other_sections) or "",
            )
            for s in changed
        ),
    )
    unchanged = [s.stack for s in stacks if not s.has_changes]
    if unchanged:
        lines += ["Unchanged: " + ", ".join(code(s) for s in unchanged) + ".", ""]
    if any(s.status == "removed" for s in changed):
        lines += [
            "A stack removed from the app is not deleted by `cdk deploy`; its resources are listed as removed "
            "because `cdk destroy` (or deleting the stack) removes them.",
            "",
        ]
    sections = (
        ("Added", ADDED, ("stack", "logical id", "type", "construct path"), lambda s, c: ()),
        ("Removed", REMOVED, ("stack", "logical id", "type", "construct path", "what happens"), lambda s, c: (_what_happens(c),)),
        (
            "Replaced: requires replacement",
            REQUIRES_REPLACEMENT,
            ("stack", "logical id", "type", "construct path", "changed properties"),
            lambda s, c: (_properties(c),),
        ),
        (
            "Replaced: may cause replacement",
            MAY_CAUSE_REPLACEMENT,
            ("stack", "logical id", "type", "construct path", "changed properties"),
            lambda s, c: (_properties(c),),
        ),
        ("Modified", MODIFIED, ("stack", "logical id", "type", "construct path", "changed properties"), lambda s, c: (_properties(c),)),
    )
    for title, category, header, extra in sections:
        rows = _rows(env_diff, category)
        if rows:
            lines += [f"### {title} ({len(rows)})", ""]
            lines += _table(header, ((code(s.stack), code(c.logical_id), _type(c), _path(c), *extra(s, c)) for s, c in rows))
    others = [s for s in changed if s.other_sections]
    if others:
        lines += ["### Other template changes", ""]
        for stack in others:
            body = "\n".join(f"{title}\n" + "\n".join(content) for title, content in stack.other_sections.items())
            fence = _fence(body)
            lines += [f"{code(stack.stack)}:", "", f"{fence}text", body, fence, ""]
    if include_cli_output:
        outputs = [s for s in changed if s.cli_output]
        if outputs:
            lines += ["### `cdk diff` output", ""]
            for stack in outputs:
                fence = _fence(stack.cli_output or "")
                lines += [
                    f"<details><summary>{stack.stack}</summary>",
                    "",
                    f"{fence}text",
                    (stack.cli_output or "").rstrip(),
                    fence,
                    "",
                    "</details>",
                    "",
                ]
    return "\n".join(lines)


def comment(
    env_diffs: Sequence[EnvironmentDiff], verdict: Verdict, base_label: str, report_names: Sequence[str] = ()
) -> str:
    """All environments in one PR comment, under COMMENT_LIMIT characters: the caution block over
    every environment first, then each environment's report (without the CLI output if too long)."""
    head = [COMMENT_MARKER, "# Template diff", ""]
    head += caution_block(verdict.findings, with_env=True)
    head += stale_block(verdict)
    if not verdict.findings:
        head += ["No destructive change to a stateful resource.", ""]
    overview = _table(
        ("environment", "changed stacks", *CATEGORIES),
        ((code(e.env), f"{len(e.changed())} of {len(e.stacks)}", *(str(e.count(c)) for c in CATEGORIES)) for e in env_diffs),
    )
    for include_cli_output in (True, False):
        reports = [
            environment_report(e, [], base_label, include_cli_output, include_caution=False)
            for e in env_diffs
        ]
        text = "\n".join(head + overview + reports)
        if len(text) <= COMMENT_LIMIT:
            return text
    note = "\n\n*(Cut to fit a GitHub comment: the full reports are in the workflow run's `template-diff` artifact"
    note += (": " + ", ".join(report_names) + ")*") if report_names else ")*"
    return text[: COMMENT_LIMIT - len(note)] + note


# --- The console summary --------------------------------------------------------------------


def summary(env_diffs: Sequence[EnvironmentDiff], verdict: Verdict, base_label: str, report_paths: dict[str, str]) -> str:
    lines = [f"Template diff: {base_label} -> working tree"]
    width = max((len(e.env) for e in env_diffs), default=0)
    for env_diff in env_diffs:
        changed = env_diff.changed()
        if changed:
            counts = ", ".join(f"{env_diff.count(c)} {c}" for c in CATEGORIES)
            state = f"{len(changed)} of {len(env_diff.stacks)} stacks changed: {counts}"
        else:
            state = "no changes"
        lines.append(f"  {env_diff.env:<{width}}  {state}  ({report_paths.get(env_diff.env, '')})")
    if verdict.findings:
        lines.append(f"Destructive changes to stateful resources: {len(verdict.findings)}, not acknowledged: {len(verdict.unacknowledged())}")
        for finding in verdict.findings:
            lines.append(f"  {finding.status.upper() if finding.status == NOT_ACKNOWLEDGED else finding.status}: "
                         f"{finding.env} {finding.resource} {finding.change.old_type or finding.change.resource_type}: {finding.why(markdown=False)}")
    for env_diff in env_diffs:
        if env_diff.compliance_findings:
            lines.append(f"Failing: the working tree fails the compliance checks in {env_diff.env} "
                         f"({env_diff.compliance_findings} finding(s)); the diff is of the templates it wrote anyway.")
    for entry in verdict.stale:
        lines.append(f"Stale acknowledgment (matches nothing; delete it): {entry.resource}")
    for entry in verdict.carried_over:
        lines.append(f"Acknowledgment already in the base's file (acknowledges nothing; delete it): {entry.resource}")
    if verdict.unacknowledged():
        lines.append(
            f"Failing: acknowledge each in {ACKNOWLEDGMENTS_FILE} with a reason, or rerun with --allow-destructive "
            "(make diff ALLOW_DESTRUCTIVE=1)."
        )
    return "\n".join(lines)
