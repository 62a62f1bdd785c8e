"""The saved Athena queries, run on Trino as an analyst runs them. Skeleton."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stacks.telemetry_tables import NAMED_QUERIES


def saved_query_names() -> list[str]:
    return sorted(NAMED_QUERIES)


def run_saved_query(server, name: str, parameters: Sequence[Any] = ()) -> list[tuple]:
    raise NotImplementedError
