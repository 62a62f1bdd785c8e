"""Local Flink runs for the tests: the application's dataflow on a mini-cluster, in the Flink
environment (``.venv-flink``, ``make flink-env``: apache-flink pins pyarrow and numpy below what
the rest of the project uses, so it lives in its own virtual environment).

Each run is one subprocess (one mini-cluster, about 10 s to start); the runs are session fixtures
so every test that checks a run shares it.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.flink import scenario

ROOT = Path(__file__).resolve().parents[2]
FLINK_PYTHON = Path(os.environ.get("FLINK_PYTHON", ROOT / ".venv-flink" / "bin" / "python"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "flink: runs PyFlink on a local mini-cluster in .venv-flink (make flink-env; about 15 s a run); "
        "leave out with -m 'not flink'",
    )


def flink_python() -> Path:
    if not FLINK_PYTHON.exists():
        raise RuntimeError(f"{FLINK_PYTHON} is missing: run `make flink-env` (apache-flink in its own venv; `make test` does it)")
    return FLINK_PYTHON


def flink_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "lambda_src")])
    env.pop("PYTHONHOME", None)
    return env


def run_local(tmp: Path, records: list[bytes], *, mode: str = "job", overrides: dict | None = None, timeout: int = 300) -> dict:
    """Run ``flink_apps.anomaly_detection.local_run`` over ``records`` and return its output."""
    tmp.mkdir(parents=True, exist_ok=True)
    source, output = tmp / "records.jsonl", tmp / "result.json"
    # local_run's input format (its module imports pyflink, which this environment does not have).
    source.write_text("".join(json.dumps({"b64": base64.b64encode(r).decode("ascii")}) + "\n" for r in records))
    command = [str(flink_python()), "-m", "flink_apps.anomaly_detection.local_run",
               "--input", str(source), "--output", str(output), "--mode", mode,
               "--overrides", json.dumps(overrides or {})]
    done = subprocess.run(command, env=flink_env(), cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"local Flink run failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(output.read_text())


@pytest.fixture(scope="session")
def fleet() -> scenario.Scenario:
    return scenario.build()


@pytest.fixture(scope="session")
def default_run(fleet: scenario.Scenario, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The fleet through the job with the default properties."""
    return run_local(tmp_path_factory.mktemp("flink-default"), fleet.records)


#: Overrides for the second run: properties reach the job (a lower sample minimum scores the
#: sparse device, a one-minute period pages every spike of the flapping sensor).
OVERRIDES = {"Detection": {"min.samples": "5"}, "Notifications": {"dedup.period.seconds": "60"}}


@pytest.fixture(scope="session")
def tuned_run(fleet: scenario.Scenario, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_local(tmp_path_factory.mktemp("flink-tuned"), fleet.records, overrides=OVERRIDES)
