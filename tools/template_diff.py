"""Template diff of every environment between a base git ref and the working tree, for review.

    make diff                                  # every environment against origin/main
    make diff BASE=origin/release ALLOW_DESTRUCTIVE=1
    python -m tools.template_diff --base HEAD --env dev --out /tmp/diff

What it does, without AWS credentials and without AWS calls:

1. Picks the base: ``--base`` (default ``origin/main``; when that does not exist, ``HEAD~1``,
   and it says so), then compares against the merge base of that ref and HEAD, so a branch that
   is behind main is not charged with main's newer changes.
2. Synthesises every environment (``config/environments/*.yaml``, or ``--env``) twice with this
   checkout's interpreter and pinned CDK CLI: the base in a temporary
   ``git worktree add --detach`` (removed afterwards, also on failure), and the working tree as
   it is (uncommitted changes included). An environment that only the working tree has is all
   new (nothing to synthesise at the base); one that only the base has is all removed.
3. Diffs every stack with the CLI's own template diff,
   ``cdk diff --app <working assembly> --template <base template> --method template`` (a new
   stack against an empty template; a stack only in the base is removed, resource by resource,
   from its template). Stacks whose templates are identical are not diffed.
4. Reads the CLI's output (tools/template_diff_parse.py, checked against both templates) into
   resources added, removed, replaced (requires / may cause replacement) and modified, and writes
   one Markdown report per environment (``--out``, default ``cdk.out/diff/<env>.md``) plus
   ``comment.md`` (all environments, sized for a pull-request comment), and a summary on stdout.

A destructive change is the removal or replacement of a stateful resource (the types of
tools/stateful_resources.py STATEFUL_TYPES: buckets, keys, streams, log groups, secrets,
queues, Glue databases and tables, Redshift, OpenSearch, EMR, DynamoDB, RDS). Each one heads the
report in a caution block. Acknowledge one on purpose in ``.destructive-changes.yaml`` at the
project root, committed in the change that makes it:

    acknowledged:
      - resource: <stack name>/<logical id>       # e.g. analytics-dev-foundation/DataLakeAccessLogsBucket7B54C271
        reason: <why the data may go, at least 20 characters>

Only the listed resources are acknowledged; an entry counts only in the change that adds it or
rewrites its reason (an entry that the base's file already has, word for word, acknowledges
nothing, so an old entry cannot wave through a later replacement of the same resource); an entry
that matches nothing is reported as stale. ``--allow-destructive`` lets every destructive change
through (for a local run); the report still lists them.

Exit status: 0 no destructive change, or all acknowledged (the reports are written either way);
2 an unacknowledged destructive change; 1 the diff could not be made (bad ref, synth failure,
unreadable CLI output, malformed acknowledgments file); 130 interrupted. ``make diff`` exits 2
on any failure (make's own status).

Credentials: the CLI runs without any AWS_* or CDK_* variable of the caller, with empty AWS
config and credentials files, instance metadata disabled, ``--no-lookups`` (a context lookup
fails synth instead of calling AWS), ``--no-notices`` and telemetry off. Colours are off
(NO_COLOR=1, FORCE_COLOR removed: FORCE_COLOR would override ``--no-color``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

if __package__ in (None, ""):  # run as a file (python tools/template_diff.py): import from the repository
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.template_diff_parse import DiffParseError, StackDiff, parse_cdk_diff, reconcile, removed_stack_diff  # noqa: E402
from tools.template_diff_report import (  # noqa: E402
    ACKNOWLEDGMENTS_FILE,
    Acknowledgment,
    AcknowledgmentError,
    EnvironmentDiff,
    apply_acknowledgments,
    comment,
    destructive_changes,
    environment_report,
    parse_acknowledgments,
    summary,
)
from tools.stateful_resources import STATEFUL_TYPES  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE = "origin/main"
FALLBACK_BASE = "HEAD~1"
EXIT_OK, EXIT_ERROR, EXIT_DESTRUCTIVE = 0, 1, 2
SYNTH_TIMEOUT_SECONDS = 900
DIFF_TIMEOUT_SECONDS = 300
DEFAULT_JOBS = max(1, min(4, os.cpu_count() or 1))  # a synth keeps about one core busy

T = TypeVar("T")


class TemplateDiffError(RuntimeError):
    """The diff could not be made; the message says why."""


# --- Processes --------------------------------------------------------------------------------


class Runner:
    """Runs commands in a credential-free environment and can stop every one still running."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self._running: set[subprocess.Popen[str]] = set()
        self._lock = threading.Lock()
        self.stopping = False

    def run(self, args: Sequence[str], cwd: Path, timeout: float) -> tuple[int, str]:
        """Return code and the merged stdout and stderr (the CLI writes to either, depending on CI)."""
        if self.stopping:
            raise TemplateDiffError("stopped")
        process = subprocess.Popen(
            list(args), cwd=cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )
        with self._lock:
            self._running.add(process)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            raise TemplateDiffError(f"timed out after {timeout:.0f} s: {' '.join(args)}") from None
        finally:
            with self._lock:
                self._running.discard(process)
        return process.returncode, output

    def stop_all(self) -> None:
        self.stopping = True
        with self._lock:
            for process in list(self._running):
                _kill(process)


def _kill(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def credential_free_environment(project_dir: Path, scratch: Path) -> dict[str, str]:
    """The caller's environment without AWS or CDK settings, with the project's interpreter (its
    .venv, else this one) and CLI first on PATH (cdk.json runs ``python3 app.py``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_")) and k not in ("FORCE_COLOR", "NO_COLOR")}
    empty = scratch / "aws-empty"
    empty.write_text("")
    venv = project_dir / ".venv" / "bin"
    interpreter = venv if (venv / "python3").exists() else Path(sys.executable).parent
    path = [str(interpreter), str(project_dir / "node_modules" / ".bin"), env.get("PATH", "")]
    env.update(
        PATH=os.pathsep.join(path),
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        AWS_EC2_METADATA_DISABLED="true",
        CDK_DISABLE_CLI_TELEMETRY="true",
        NO_COLOR="1",
    )
    return env


def parallel(jobs: int, tasks: Sequence[Callable[[], T]], runner: Runner) -> list[T]:
    """Run the tasks, at most ``jobs`` at a time; on the first failure stop the others."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(task) for task in tasks]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            runner.stop_all()
            raise


# --- Git --------------------------------------------------------------------------------------


def git(project_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["git", "-C", str(project_dir), *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise TemplateDiffError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def commit_of(project_dir: Path, ref: str) -> str | None:
    result = git(project_dir, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    return result.stdout.strip() or None


@dataclass(frozen=True)
class Base:
    ref: str
    commit: str  # the merge base of ref and HEAD: what is synthesised
    note: str  # how it was chosen, for the reader

    def label(self) -> str:
        return f"`{self.ref}` (merge base `{self.commit[:12]}`)"


def resolve_base(project_dir: Path, requested: str | None) -> Base:
    notes = []
    if requested is not None:
        ref = requested
        if commit_of(project_dir, ref) is None:
            raise TemplateDiffError(f"--base {ref!r} is not a commit in {project_dir}")
    elif commit_of(project_dir, DEFAULT_BASE) is not None:
        ref = DEFAULT_BASE
    elif commit_of(project_dir, FALLBACK_BASE) is not None:
        ref = FALLBACK_BASE
        notes.append(f"{DEFAULT_BASE} does not exist here: using {FALLBACK_BASE}")
    else:
        raise TemplateDiffError(f"neither {DEFAULT_BASE} nor {FALLBACK_BASE} exists: pass --base")
    tip = commit_of(project_dir, ref)
    assert tip is not None
    merge_base = git(project_dir, "merge-base", tip, "HEAD", check=False).stdout.strip()
    if not merge_base:
        raise TemplateDiffError(f"{ref} and HEAD have no common ancestor (a shallow clone? fetch with fetch-depth: 0)")
    if merge_base != tip:
        notes.append(f"{ref} is at {tip[:12]}; comparing with its merge base with HEAD, {merge_base[:12]}")
    return Base(ref=ref, commit=merge_base, note="; ".join(notes))


class BaseWorktree:
    """The base commit, checked out in a temporary detached worktree; removed on exit."""

    def __init__(self, project_dir: Path, commit: str, parent: Path) -> None:
        self.project_dir = project_dir
        self.commit = commit
        self.path = parent / "base"
        toplevel = Path(git(project_dir, "rev-parse", "--show-toplevel").stdout.strip())
        self.project_in_worktree = self.path / project_dir.resolve().relative_to(toplevel.resolve())

    def __enter__(self) -> BaseWorktree:
        git(self.project_dir, "worktree", "add", "--detach", "--quiet", str(self.path), self.commit)
        # Built artefacts a synthesis needs but git does not hold (the Flink application zip, the
        # streaming stack's code asset): the base synthesises with the working tree's build, so a
        # change of the application's code is not reported, only the templates' changes.
        built = self.project_dir / "build" / "flink"
        if built.is_dir():
            (self.project_in_worktree / "build").mkdir(exist_ok=True)
            (self.project_in_worktree / "build" / "flink").symlink_to(built.resolve())
        return self

    def __exit__(self, *exc: object) -> None:
        removed = git(self.project_dir, "worktree", "remove", "--force", str(self.path), check=False).returncode == 0
        if not removed:  # its directory is gone already: let git drop the registration
            shutil.rmtree(self.path, ignore_errors=True)
            git(self.project_dir, "worktree", "prune", check=False)


# --- Environments, synthesis, assemblies ------------------------------------------------------


def environments_in(config_dir: Path) -> list[str]:
    return sorted(p.stem for p in config_dir.glob("*.yaml")) if config_dir.is_dir() else []


def plan_environments(
    requested: Sequence[str] | None, project_dir: Path, config_dir: Path, base_project_dir: Path
) -> tuple[list[str], set[str], set[str]]:
    """The environments to diff, and which of them the base and the working tree have.

    ``--env`` names them (both sides must have them). Otherwise they are the config files on
    either side: an environment added in this change is new (nothing to synthesise at the
    base), one deleted in this change is removed (nothing to synthesise here)."""
    if requested:
        envs = sorted({name.strip() for value in requested for name in value.split(",") if name.strip()})
        return envs, set(envs), set(envs)
    try:
        base_config_dir = base_project_dir / config_dir.relative_to(project_dir)
    except ValueError:  # a config directory outside the project: the same on both sides
        base_config_dir = config_dir
    head_envs, base_envs = set(environments_in(config_dir)), set(environments_in(base_config_dir))
    if not head_envs | base_envs:
        raise TemplateDiffError(f"no environments: no *.yaml in {config_dir}; pass --env")
    if head_envs != base_envs:
        print(f"Environments here: {sorted(head_envs)}; at the base: {sorted(base_envs)}", flush=True)
    return sorted(head_envs | base_envs), base_envs, head_envs


@dataclass(frozen=True)
class Assembly:
    """The stacks of one synthesised cloud assembly: stack name -> (selector, template file)."""

    directory: Path | None
    stacks: dict[str, tuple[str, Path]]
    #: Findings of the compliance checks (cdk-nag, CloudFormation validation) when they failed the
    #: synth: the templates are written all the same, and are diffed.
    compliance_findings: int = 0

    @classmethod
    def empty(cls) -> Assembly:
        return cls(directory=None, stacks={})

    @classmethod
    def read(cls, directory: Path, compliance_findings: int = 0) -> Assembly:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        stacks = {}
        for artifact_id, artifact in manifest.get("artifacts", {}).items():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            properties = artifact.get("properties", {})
            name = properties.get("stackName", artifact_id)
            stacks[name] = (artifact.get("displayName", artifact_id), directory / properties["templateFile"])
        return cls(directory=directory, stacks=stacks, compliance_findings=compliance_findings)

    def template(self, stack: str) -> dict[str, Any]:
        return json.loads(self.stacks[stack][1].read_text(encoding="utf-8"))


def synthesise(runner: Runner, cdk: str, app_dir: Path, env: str, outdir: Path, label: str) -> Assembly:
    """The synthesised assembly of ``env``. A synth that fails only its compliance checks (the app
    registers cdk-nag as validation plugins, which fail the synth and write a validation report) has
    still written every template;
    they are diffed, and the failure is reported with the diff (a renamed bucket, say, fails both)."""
    args = [cdk, "synth", "--quiet", "--no-lookups", "--no-notices", "-c", f"env={env}", "-o", str(outdir)]
    code, output = runner.run(args, cwd=app_dir, timeout=SYNTH_TIMEOUT_SECONDS)
    if not (outdir / "manifest.json").exists():
        raise TemplateDiffError(f"cdk synth of {env} at {label} failed (exit {code}):\n{_excerpt(output)}")
    if code != 0:
        findings = compliance_findings(outdir)
        if not findings:
            raise TemplateDiffError(f"cdk synth of {env} at {label} failed (exit {code}):\n{_excerpt(output)}")
        return Assembly.read(outdir, compliance_findings=findings)
    return Assembly.read(outdir)


def compliance_findings(outdir: Path) -> int:
    """How many violations the validation report of a failed synth holds (0 without a report)."""
    report = outdir / "validation-report.json"
    if not report.exists():
        return 0
    plugins = json.loads(report.read_text(encoding="utf-8")).get("pluginReports", [])
    return sum(
        len(violation.get("violatingConstructs", [])) or 1
        for plugin in plugins
        if plugin.get("summary", {}).get("status") != "success"
        for violation in plugin.get("violations", [])
        if violation.get("severity") != "info"
    )


def _excerpt(output: str) -> str:
    """The CLI's errors (an ERROR line and the two lines naming the construct), else its last lines."""
    lines = output.rstrip().splitlines()
    errors = [line for i, first in enumerate(lines) if first.startswith("ERROR") for line in lines[i : i + 3]]
    return "\n".join(errors[:60] or lines[-40:])


# --- Diffs ------------------------------------------------------------------------------------


def cli_diff(runner: Runner, cdk: str, scratch: Path, head: Assembly, stack: str, base_template_file: Path) -> str:
    selector = head.stacks[stack][0]
    args = [
        cdk, "diff", "--app", str(head.directory), "--template", str(base_template_file), "--method", "template",
        "--exclusively", "--no-color", "--no-notices", "--no-lookups", "--fail-on", "destructive",
        # An assembly whose synth failed its compliance checks carries their errors in its metadata,
        # and the CLI refuses such an assembly unless told to read it anyway.
        *(["--ignore-errors"] if head.compliance_findings else []),
        selector,
    ]  # fmt: skip
    code, output = runner.run(args, cwd=scratch, timeout=DIFF_TIMEOUT_SECONDS)
    # --fail-on destructive: exit 1 with the CLI's own list of destructive changes, which the
    # parser holds against the resource lines. Exit 1 without that list is a failure.
    if code != 0 and not (code == 1 and "destructive change(s) (--fail-on=destructive)" in output):
        raise TemplateDiffError(f"cdk diff of {stack} failed (exit {code}):\n{_excerpt(output)}")
    return output


def stack_diff(runner: Runner, cdk: str, scratch: Path, base: Assembly, head: Assembly, stack: str) -> StackDiff:
    if stack not in head.stacks:
        return removed_stack_diff(stack, base.template(stack))
    new_template = head.template(stack)
    if stack in base.stacks:
        base_template, base_file, status = base.template(stack), base.stacks[stack][1], "changed"
    else:
        base_template, base_file, status = {}, scratch / "empty.template.json", "added"
    if base_template == new_template:
        return StackDiff(stack=stack, status="unchanged")
    output = cli_diff(runner, cdk, scratch, head, stack, base_file)
    diff = reconcile(parse_cdk_diff(output, stack), base_template, new_template)
    diff.status = status
    return diff


# --- The run ----------------------------------------------------------------------------------


def find_cdk(project_dir: Path, requested: str | None) -> str:
    for candidate in (requested, project_dir / "node_modules" / ".bin" / "cdk", REPO_ROOT / "node_modules" / ".bin" / "cdk"):
        if candidate is not None and Path(candidate).is_file():
            return str(candidate)
    on_path = shutil.which("cdk")
    if requested is None and on_path:
        return on_path
    raise TemplateDiffError(f"no CDK CLI at {requested or 'node_modules/.bin/cdk'}: run `make install`")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="template_diff", description=__doc__.split("\n\n", 1)[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", help=f"git ref to compare with (default {DEFAULT_BASE}, else {FALLBACK_BASE})")
    parser.add_argument("--project-dir", type=Path, default=REPO_ROOT, help="the CDK app's directory (default: this repository)")
    parser.add_argument(
        "--env", action="append", default=None,
        help="an environment to diff (repeatable or comma-separated; default: every <config-dir>/*.yaml)",
    )  # fmt: skip
    parser.add_argument("--config-dir", type=Path, help="where <env>.yaml files are (default <project-dir>/config/environments)")
    parser.add_argument("--out", type=Path, help="report directory (default <project-dir>/cdk.out/diff)")
    parser.add_argument("--acknowledgments", type=Path, help=f"default <project-dir>/{ACKNOWLEDGMENTS_FILE}")
    parser.add_argument("--allow-destructive", action="store_true", help="acknowledge every destructive change (exit 0)")
    parser.add_argument("--cdk", help="the CDK CLI (default <project-dir>/node_modules/.bin/cdk)")
    parser.add_argument(
        "--jobs", type=int, default=DEFAULT_JOBS, help=f"synths and diffs run in parallel (default {DEFAULT_JOBS}: the CPUs, at most 4)"
    )
    return parser.parse_args(argv)


def read_acknowledgments(project_dir: Path, path: Path, base_commit: str) -> tuple[list[Acknowledgment], list[Acknowledgment]]:
    """The working tree's entries and the base's (the same file at the base commit)."""
    current = parse_acknowledgments(path.read_text(encoding="utf-8") if path.is_file() else None, str(path))
    toplevel = Path(git(project_dir, "rev-parse", "--show-toplevel").stdout.strip()).resolve()
    try:
        relative = path.resolve().relative_to(toplevel).as_posix()
    except ValueError:
        return current, []
    shown = git(project_dir, "show", f"{base_commit}:{relative}", check=False)
    base = parse_acknowledgments(shown.stdout if shown.returncode == 0 else None, f"{relative} at {base_commit[:12]}")
    return current, base


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    project_dir = args.project_dir.resolve()
    if not (project_dir / "cdk.json").is_file():
        raise TemplateDiffError(f"no cdk.json in {project_dir}")
    config_dir = (args.config_dir or project_dir / "config" / "environments").resolve()
    out_dir = (args.out or project_dir / "cdk.out" / "diff").resolve()
    ack_path = (args.acknowledgments or project_dir / ACKNOWLEDGMENTS_FILE).resolve()
    cdk = find_cdk(project_dir, args.cdk)
    base = resolve_base(project_dir, args.base)
    print(f"Base: {base.ref} -> merge base {base.commit[:12]}" + (f" ({base.note})" if base.note else ""), flush=True)
    entries, base_entries = read_acknowledgments(project_dir, ack_path, base.commit)

    with tempfile.TemporaryDirectory(prefix="template-diff-") as tmp:
        scratch = Path(tmp)
        (scratch / "empty.template.json").write_text("{}\n")
        runner = Runner(credential_free_environment(project_dir, scratch))
        with BaseWorktree(project_dir, base.commit, scratch) as worktree:
            envs, base_envs, head_envs = plan_environments(args.env, project_dir, config_dir, worktree.project_in_worktree)
            print(f"Environments: {', '.join(envs)}; synthesising each at the base and here with {cdk}", flush=True)
            tasks: list[Callable[[], Assembly]] = []
            for env in envs:
                base_out, head_out = scratch / f"base-{env}", scratch / f"head-{env}"
                tasks.append(
                    (lambda e=env, o=base_out: synthesise(runner, cdk, worktree.project_in_worktree, e, o, base.ref))
                    if env in base_envs else Assembly.empty
                )  # fmt: skip
                tasks.append(
                    (lambda e=env, o=head_out: synthesise(runner, cdk, project_dir, e, o, "the working tree"))
                    if env in head_envs else Assembly.empty
                )  # fmt: skip
            assemblies = parallel(args.jobs, tasks, runner)
        synthesised = time.monotonic()

        pairs = dict(zip(envs, zip(assemblies[0::2], assemblies[1::2], strict=True), strict=True))
        work = [(env, stack) for env, (b, h) in pairs.items() for stack in sorted(set(b.stacks) | set(h.stacks))]
        diffs = parallel(
            args.jobs, [lambda e=env, s=stack: stack_diff(runner, cdk, scratch, *pairs[e], s) for env, stack in work], runner
        )
        env_diffs = [
            EnvironmentDiff(
                env=env, stacks=[d for (e, _), d in zip(work, diffs, strict=True) if e == env], base_found=env in base_envs,
                compliance_findings=pairs[env][1].compliance_findings,
            )
            for env in envs
        ]

    findings = [f for env_diff in env_diffs for f in destructive_changes(env_diff, STATEFUL_TYPES)]
    verdict = apply_acknowledgments(findings, entries, base_entries, args.allow_destructive)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for env_diff in env_diffs:
        path = out_dir / f"{env_diff.env}.md"
        env_findings = [f for f in verdict.findings if f.env == env_diff.env]
        path.write_text(environment_report(env_diff, env_findings, base.label()) + "\n", encoding="utf-8")
        paths[env_diff.env] = _shown(path)
    (out_dir / "comment.md").write_text(comment(env_diffs, verdict, base.label(), sorted(paths.values())) + "\n", encoding="utf-8")
    print(summary(env_diffs, verdict, base.ref, paths))
    finished = time.monotonic()
    print(f"Comment: {_shown(out_dir / 'comment.md')}. Took {finished - started:.0f} s "
          f"(synth {synthesised - started:.0f} s, diff {finished - synthesised:.0f} s).")  # fmt: skip
    if verdict.unacknowledged():
        return EXIT_DESTRUCTIVE
    # The diff is made, but the change does not synthesise cleanly: it cannot land as it is.
    return EXIT_ERROR if any(e.compliance_findings for e in env_diffs) else EXIT_OK


def _shown(path: Path) -> str:
    """A path as the reader typed it: relative when under the current directory."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (a cancelled CI job) unwinds like Ctrl-C, so the worktree is removed.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return run(args)
    except (TemplateDiffError, AcknowledgmentError) as error:
        print(f"template_diff: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("template_diff: interrupted", file=sys.stderr)
        return 130
    except DiffParseError as error:
        print(f"template_diff: error: could not read the CDK CLI's diff (did the CLI change?): {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
