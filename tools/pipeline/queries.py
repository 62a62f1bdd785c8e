"""The saved Athena queries on Trino over the curated output, checked against the ground truth.

Runs through tools/trino (the server over the curated Iceberg table, the saved queries filled and run
as an analyst runs them). If Trino is not installed, :func:`run` says so and returns no
answers: ``make pipeline`` then reports the stage as skipped with the command that installs it.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.pipeline import truth
from tools.pipeline.fleet import Expected

UTC = dt.timezone.utc


@dataclass
class Answer:
    name: str
    parameters: list[Any]
    rows: list[tuple]
    seconds: float
    problems: list[str] = field(default_factory=list)

    def as_dict(self, sample: int = 3) -> dict[str, Any]:
        return {
            "parameters": self.parameters, "rows": len(self.rows), "seconds": round(self.seconds, 2),
            "matches_ground_truth": not self.problems, "problems": self.problems,
            "first_rows": [[_plain(v) for v in row] for row in self.rows[:sample]],
        }


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def parameters(readings: list[Expected], day: dt.date) -> dict[str, list[Any]]:
    """The parameters each saved query gets: the day (as the analyst types it) and N hours."""
    return {
        "hourly_aggregates_per_device": [day.isoformat()],
        "latest_reading_per_device": [],
        "silent_devices": [truth.SILENT_HOURS],
    }


def check(name: str, rows: list[tuple], readings: list[Expected], day: dt.date,
          before: dt.datetime, after: dt.datetime) -> list[str]:
    """Differences from the truth; ``before``/``after`` bracket the query (current_timestamp is
    somewhere between them): the answer must match the truth at one of the two."""
    attempts = []
    for now in (before, after):
        if name == "hourly_aggregates_per_device":
            attempts.append(truth.differences(rows, truth.hourly_aggregates(readings, day)))
        elif name == "latest_reading_per_device":
            attempts.append(truth.differences(rows, truth.latest_readings(readings, now), choices=True))
        elif name == "silent_devices":
            attempts.append(truth.differences(rows, truth.silent_devices(readings, now)))
        else:
            return [f"no ground truth for saved query {name}"]
    return min(attempts, key=len)


def run(server: Any, readings: list[Expected], day: dt.date) -> list[Answer]:
    from tools.trino.saved_queries import run_saved_query, saved_query_names

    given = parameters(readings, day)
    answers = []
    for name in saved_query_names():
        values = given.get(name, [])
        before = dt.datetime.now(UTC)
        started = time.perf_counter()
        rows = run_saved_query(server, name, values)
        seconds = time.perf_counter() - started
        after = dt.datetime.now(UTC)
        answers.append(Answer(name, values, rows, seconds, check(name, rows, readings, day, before, after)))
    return answers


def trino_unavailable() -> str | None:
    """None if the pinned Trino is installed, else why not (naming ``make trino``)."""
    from tools.trino.install import ensure_trino

    try:
        ensure_trino()
    except Exception as error:  # noqa: BLE001 - TrinoNotInstalled, or the cache unreadable
        return str(error)
    return None


def run_on_trino(curated: Path, quarantine: Path, readings: list[Expected], day: dt.date) -> tuple[list[Answer], float]:
    """Start Trino over the output, run every saved query; returns the answers and the start-up time."""
    from tools.trino.server import TrinoServer

    started = time.perf_counter()
    with TrinoServer(curated, quarantine) as server:
        startup = time.perf_counter() - started
        return run(server, readings, day), startup
