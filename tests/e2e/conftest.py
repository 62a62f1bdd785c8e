"""One pipeline run for the end-to-end tests (its second job run failing after its curated commit
and retried): a small fleet by default, larger ones by
environment variable (``E2E_DEVICES``, ``E2E_DAYS``, ``E2E_RUNS``, ``E2E_SEED``), e.g.
``E2E_DEVICES=300 E2E_DAYS=3 python -m pytest tests/e2e``.

It uses what the session already has: dev synthesised once (tests/conftest.py), one Trino
server (tests/trino_fixture.py, which needs ``make trino``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.trino_fixture import trino_server  # noqa: F401 - the session's server, by fixture name
from tools.pipeline.delivery_config import from_templates
from tools.pipeline.run import PipelineResult, run_pipeline

#: Default fleet: small enough for the default suite, with every awkward case and defect in it.
DEFAULTS = {"E2E_DEVICES": 20, "E2E_DAYS": 1.0, "E2E_RUNS": 2, "E2E_SEED": 16}


def _setting(name: str) -> float:
    return type(DEFAULTS[name])(os.environ.get(name, DEFAULTS[name]))


@pytest.fixture(scope="session")
def pipeline(synthesised, trino_server, tmp_path_factory: pytest.TempPathFactory) -> PipelineResult:  # noqa: F811
    config = from_templates(synthesised("dev").templates())
    runs = int(_setting("E2E_RUNS"))
    return run_pipeline(
        int(_setting("E2E_DEVICES")), _setting("E2E_DAYS"), int(_setting("E2E_SEED")), runs,
        output=Path(tmp_path_factory.mktemp("pipeline")), config=config, trino_server=trino_server,
        progress=False, say=lambda *_: None, fail_run=min(2, runs),  # the second run (or the only one) fails once
    )
