"""Edit a private copy of the config and read the error it fails with."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import ConfigError, load_config
from config.loader import CONFIG_DIR


def copy_config(tmp_path: Path) -> Path:
    """A private copy of the real config directory that a test may edit."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def edit(config_dir: Path, env_name: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = config_dir / "environments" / f"{env_name}.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


def error_of(config_dir: Path, env_name: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(env_name, config_dir)
    return str(caught.value)
