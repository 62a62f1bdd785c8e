"""Session fixtures: each environment's app is synthesised once per test session."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.synth import ENVIRONMENTS, Synthesised, synthesise


@pytest.fixture(scope="session")
def synthesised(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Synthesised]:
    """``synthesised("prod")`` returns prod's synthesised app, synthesising it on first use."""
    cache: dict[str, Synthesised] = {}

    def get(env_name: str) -> Synthesised:
        if env_name not in cache:
            cache[env_name] = synthesise(env_name, tmp_path_factory.mktemp(f"cdk-out-{env_name}"))
        return cache[env_name]

    return get


@pytest.fixture(scope="session", params=ENVIRONMENTS)
def each_environment(request: pytest.FixtureRequest, synthesised) -> Synthesised:
    """Parametrises a test over every environment (synthesised once each)."""
    return synthesised(request.param)
