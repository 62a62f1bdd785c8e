"""glue_scripts/README.md documents the job's actual vocabulary and names."""

from __future__ import annotations

import re
from pathlib import Path

from glue_scripts import raw_to_curated as job
from glue_scripts.curated_table import CURATED

README = (Path(job.__file__).parent / "README.md").read_text()


def test_the_reason_table_lists_exactly_the_reasons_in_order() -> None:
    section = README.split("### Quarantine reasons", 1)[1].split("\n### ", 1)[0]
    documented = re.findall(r"^\| `([a-z0-9_:<>]+)` \|", section, flags=re.M)
    expected = list(dict.fromkeys(re.sub(r":.*", ":<name>", reason) for reason in job.QUARANTINE_REASONS))
    assert documented == expected


def test_the_curated_columns_are_documented_in_order() -> None:
    section = README.split("Curated table", 1)[1].split("\n\n", 2)[1]
    documented = re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M)
    assert documented == [c.name for c in CURATED.columns]


def test_the_glue_arguments_are_documented() -> None:
    for argument in (*(f"--{name}" for name in job.GLUE_ARGUMENTS), "--datalake-formats", "--conf", "--extra-py-files"):
        assert f"`{argument}`" in README
