"""README, `make help` and the code stay true to each other."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.compliance.test_cdk_nag import EXPECTED_ACKNOWLEDGMENTS
from tests.synth import ROOT

README = (ROOT / "README.md").read_text()


def make_targets() -> set[str]:
    output = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in output.splitlines() if line.startswith("  ") and not line.strip().startswith("Variables")}


def readme_targets() -> set[str]:
    section = README.split("## Make targets", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z-]+)` \|", section, flags=re.M))


def test_readme_lists_exactly_the_make_targets() -> None:
    assert readme_targets() == make_targets()


def test_readme_gives_the_two_fresh_machine_commands() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", quick_start, flags=re.S)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make synth", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("stack", ["foundation", "ingestion", "catalog", "network", "warehouse", "emr", "search"])
def test_readme_acknowledgment_counts_match_the_pinned_ones(stack: str) -> None:
    row = re.search(rf"^\| {stack} \| (\d+) \| (\d+) \| (\d+) \|", README, flags=re.M)
    assert row, f"the {stack} row of the acknowledgment table is missing"
    documented = dict(zip(("dev", "staging", "prod"), map(int, row.groups())))
    pinned = {env: counts[f"analytics-{env}-{stack}"] for env, counts in EXPECTED_ACKNOWLEDGMENTS.items()}
    assert documented == pinned


@pytest.fixture(scope="module")
def sections(synthesised):
    """The generated sections, the diagram drawn from the session's synthesis of its environment."""
    from config import available_environments
    from tools.generate_docs import DIAGRAM_ENVIRONMENT, SECTIONS, architecture_section, left_behind_section

    outdir = synthesised(DIAGRAM_ENVIRONMENT).outdir
    outdirs = {env: synthesised(env).outdir for env in available_environments()}  # make docs' order
    return {
        **SECTIONS,
        "architecture": lambda: architecture_section(outdir),
        "left-behind": lambda: left_behind_section(outdirs),
    }


def test_the_generated_readme_sections_are_current(sections) -> None:
    from tools.generate_docs import stale_sections

    assert stale_sections(README, sections) == [], "run `make docs`"


@pytest.mark.parametrize(
    ("old", "new", "section"),
    [
        ("| `emr` | database", "| `emr` | all databases", "lake-permissions"),
        ("Kinesis stream<br/>", "Kinesis streams<br/>", "architecture"),
    ],
)
def test_the_staleness_check_reports_an_edited_section(sections, old: str, new: str, section: str) -> None:
    from tools.generate_docs import stale_sections

    edited = README.replace(old, new, 1)
    assert edited != README
    assert stale_sections(edited, sections) == [section]
