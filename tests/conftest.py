"""Session fixtures: each environment's app is synthesised once per test session, and the slow
packaging acceptance runs in the background from collection on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.synth import ROOT, TARGETS, Synthesised, Target, synthesise, target_of

#: The packaging check pip-installs aws-cdk-lib and synthesises twice: minutes at worst.
PACKAGING_TIMEOUT_SECONDS = 900


class BackgroundCheck:
    """``python -m tests.packaging_check <workdir>``, started now, awaited by ``result()``."""

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="packaging-check-"))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.packaging_check", str(self.workdir)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def result(self) -> dict:
        stdout, stderr = self.process.communicate(timeout=PACKAGING_TIMEOUT_SECONDS)
        assert self.process.returncode == 0, f"the packaging check failed:\n{stderr[-6000:]}"
        return json.loads(stdout.splitlines()[-1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
        shutil.rmtree(self.workdir, ignore_errors=True)


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(item.get_closest_marker("packaging") for item in session.items):
        session.config.stash[_PACKAGING] = BackgroundCheck()


def pytest_sessionfinish(session: pytest.Session) -> None:
    check = session.config.stash.get(_PACKAGING, None)
    if check is not None:
        check.stop()


_PACKAGING = pytest.StashKey[BackgroundCheck]()


@pytest.fixture(scope="session")
def packaging_check(request: pytest.FixtureRequest) -> BackgroundCheck:
    return request.config.stash[_PACKAGING]


@pytest.fixture(scope="session")
def synthesised(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Synthesised]:
    """``synthesised("prod")`` returns prod's environment-agnostic app, ``synthesised("prod",
    deployed=True)`` prod with its account and region set (tests.synth.DEPLOYED); each is
    synthesised on first use."""
    cache: dict[Target, Synthesised] = {}

    def get(env_name: str | Target, *, deployed: bool = False) -> Synthesised:
        target = env_name if isinstance(env_name, Target) else target_of(env_name, deployed=deployed)
        if target not in cache:
            cache[target] = synthesise(target, tmp_path_factory.mktemp(f"cdk-out-{target.env_name}"))
        return cache[target]

    return get


@pytest.fixture(scope="session", params=TARGETS, ids=lambda target: target.id)
def each_environment(request: pytest.FixtureRequest, synthesised) -> Synthesised:
    """Parametrises a test over every environment, environment-agnostic and deployed with an
    account and region (tests.synth.TARGETS), each synthesised once."""
    return synthesised(request.param)
