"""The job's command line works where awsglue is not installed (issue 16): help and argument
errors come from argparse, and only a real Glue run imports awsglue."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "glue_scripts.raw_to_curated", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.fixture(scope="module", autouse=True)
def no_awsglue() -> None:
    assert importlib.util.find_spec("awsglue") is None, "these tests are about a machine without awsglue"


def test_help_describes_both_modes_and_exits_0() -> None:
    result = run("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m glue_scripts.raw_to_curated")
    for argument in ("--local", "--input", "--output", "--warehouse", "--run-id", "--raw_path", "--iceberg_catalog",
                     "--curated_database", "--curated_table", "--quarantine_table"):
        assert argument in result.stdout
    assert "Traceback" not in result.stderr


def test_glue_arguments_outside_glue_are_a_clear_error_not_a_traceback() -> None:
    result = run("--JOB_NAME", "j", "--raw_path", "s3://raw/telemetry/")
    assert result.returncode == 2
    assert "awsglue is not installed" in result.stderr and "--local" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_arguments_at_all_is_a_usage_error() -> None:
    result = run()
    assert result.returncode == 2
    assert result.stderr.startswith("usage: ")
    assert "Traceback" not in result.stderr
