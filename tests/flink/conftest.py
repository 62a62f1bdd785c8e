"""Local Flink runs for the tests: the application's dataflow on a mini-cluster, in the Flink
environment (``.venv-flink``, ``make flink-env``: apache-flink pins pyarrow and numpy below what
the rest of the project uses, so it lives in its own virtual environment).

Both runs of the fleet share one subprocess (one mini-cluster, about 10 s to start), a session
fixture, so every test that checks a run shares it.
"""

from __future__ import annotations

import pytest

from tests.flink import scenario
from tools.flink.local import ROOT, flink_env, flink_python, run_local  # noqa: F401 - re-exported to the tests


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "flink: runs PyFlink on a local mini-cluster in .venv-flink (make flink-env; about 15 s a run); "
        "leave out with -m 'not flink'",
    )


@pytest.fixture(scope="session")
def fleet() -> scenario.Scenario:
    return scenario.build()


#: Overrides for the second run: properties reach the job (a lower sample minimum scores the
#: sparse device, a one-minute period pages every spike of the flapping sensor).
OVERRIDES = {"Detection": {"min.samples": "5"}, "Notifications": {"dedup.period.seconds": "60"}}


@pytest.fixture(scope="session")
def runs(fleet: scenario.Scenario, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """The fleet through the job twice, on one mini-cluster: default properties, then OVERRIDES."""
    return run_local(tmp_path_factory.mktemp("flink-runs"), fleet.records, overrides=[{}, OVERRIDES])


@pytest.fixture(scope="session")
def default_run(runs: list[dict]) -> dict:
    return runs[0]


@pytest.fixture(scope="session")
def tuned_run(runs: list[dict]) -> dict:
    return runs[1]
