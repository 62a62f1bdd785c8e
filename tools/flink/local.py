"""Run the anomaly-detection dataflow on a local Flink mini-cluster from the project's main
environment: the tests and the benchmark call :func:`run_local`, which starts
``flink_apps.anomaly_detection.local_run`` in ``.venv-flink`` (``make flink-env``; apache-flink
lives in its own venv, see requirements-flink.txt) and returns what that run wrote.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLINK_PYTHON = Path(os.environ.get("FLINK_PYTHON", ROOT / ".venv-flink" / "bin" / "python"))


class FlinkEnvMissing(RuntimeError):
    """The Flink virtual environment is not there: run ``make flink-env``."""


def flink_python() -> Path:
    if not FLINK_PYTHON.exists():
        raise FlinkEnvMissing(f"{FLINK_PYTHON} is missing: run `make flink-env` (apache-flink in its own venv; `make test` does it)")
    return FLINK_PYTHON


def flink_env() -> dict[str, str]:
    """The environment of a Flink subprocess: the repository and lambda_src importable (the
    mini-cluster's Python workers inherit it)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "lambda_src")])
    env.pop("PYTHONHOME", None)
    return env


def write_records(path: Path, records: list[bytes]) -> None:
    """local_run's input: one ``{"b64": ...}`` object per line (any bytes, UTF-8 or not)."""
    path.write_text("".join(json.dumps({"b64": base64.b64encode(r).decode("ascii")}) + "\n" for r in records))


def run_local(
    folder: Path, records: list[bytes], *, mode: str = "job", overrides: dict | list[dict] | None = None, timeout: int = 600
) -> dict | list[dict]:
    """Run over ``records`` on one mini-cluster: ``mode`` ``job`` (the dataflow) or ``passthrough``
    (the benchmark's floor); ``overrides`` as ``{group: {key: value}}`` over the defaults, or a
    list of them for one run each in the same mini-cluster (then a list of results)."""
    folder.mkdir(parents=True, exist_ok=True)
    source, output = folder / "records.jsonl", folder / "result.json"
    write_records(source, records)
    command = [str(flink_python()), "-m", "flink_apps.anomaly_detection.local_run",
               "--input", str(source), "--output", str(output), "--mode", mode,
               "--overrides", json.dumps(overrides or {})]
    done = subprocess.run(command, env=flink_env(), cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"local Flink run failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(output.read_text())
