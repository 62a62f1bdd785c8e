"""Fixtures of the config tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.config.editing import copy_config


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A private copy of the real config directory that a test may edit."""
    return copy_config(tmp_path)
