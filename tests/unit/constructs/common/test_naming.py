"""ResourceNamer: <project>-<stage>-<part>, validated."""

from __future__ import annotations

import pytest

from constructs_lib import ResourceNamer


def test_names_and_sql_names() -> None:
    namer = ResourceNamer("analytics", "prod")
    assert namer.name("raw-crawler") == "analytics-prod-raw-crawler"
    assert namer.sql_name("raw") == "analytics_prod_raw"


@pytest.mark.parametrize(("project", "stage"), [("Analytics", "dev"), ("analytics", "dev_1"), ("1a", "dev"), ("a--b", "dev")])
def test_bad_segments_are_rejected(project: str, stage: str) -> None:
    with pytest.raises(ValueError, match="ResourceNamer"):
        ResourceNamer(project, stage)


@pytest.mark.parametrize("part", ["", "Raw", "raw_db", "raw-", "-raw"])
def test_bad_parts_are_rejected(part: str) -> None:
    with pytest.raises(ValueError, match="name part"):
        ResourceNamer("analytics", "dev").name(part)


def test_overlong_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="longer than 128"):
        ResourceNamer("analytics", "dev").name("x" * 120)
