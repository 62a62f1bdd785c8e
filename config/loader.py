"""Load and validate the configuration of one environment, once, for app.py.

Errors are collected by pydantic and rewritten into one message that names the environment,
the file, every offending key and what it accepts, so that ``cdk synth -c env=prod`` with a
bad value tells the operator exactly what to fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from config.model import AppConfig

CONFIG_DIR = Path(__file__).resolve().parent
DEFAULT_ENVIRONMENT = "dev"


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or holds a value that is not allowed."""


def available_environments(config_dir: Path = CONFIG_DIR) -> tuple[str, ...]:
    """Environment names, one per ``environments/<name>.yaml`` file, sorted."""
    return tuple(sorted(p.stem for p in (config_dir / "environments").glob("*.yaml")))


def load_config(env_name: str | None, config_dir: Path = CONFIG_DIR) -> AppConfig:
    """Return the validated configuration of ``env_name`` (``None`` selects the default)."""
    name = DEFAULT_ENVIRONMENT if env_name is None else env_name
    allowed = available_environments(config_dir)
    if name not in allowed:
        raise ConfigError(
            f"Unknown environment {name!r} (from -c env=...). Allowed values: {', '.join(allowed)}"
        )
    project_file = config_dir / "project.yaml"
    env_file = config_dir / "environments" / f"{name}.yaml"
    project_raw = _read_mapping(project_file, name)
    env_raw = _read_mapping(env_file, name)
    if "name" in env_raw or "project" in env_raw:
        raise ConfigError(
            f"Invalid configuration for environment {name!r} ({env_file}): the keys 'name' and "
            "'project' come from the file name and project.yaml; remove them"
        )
    document = {
        "project": project_raw,
        "environment": {**env_raw, "name": name, "project": project_raw.get("project")},
    }
    try:
        return AppConfig.model_validate(document)
    except ValidationError as error:
        raise ConfigError(_describe(error, name, project_file, env_file)) from None


def _read_mapping(path: Path, env_name: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Configuration for environment {env_name!r}: {path} does not exist") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"Configuration for environment {env_name!r}: {path} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"Configuration for environment {env_name!r}: {path} must hold a mapping of keys to values"
        )
    return data


def _describe(error: ValidationError, env_name: str, project_file: Path, env_file: Path) -> str:
    lines = [f"Invalid configuration for environment {env_name!r}:"]
    for problem in error.errors():
        section, *rest = problem["loc"] or ("",)
        source = project_file if section == "project" else env_file
        key = ".".join(str(part) for part in rest) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "missing":
            message = "missing (this key is required)"
        elif problem["type"] == "extra_forbidden":
            message = "unknown key (check its spelling against config/model.py)"
        elif problem["type"] not in ("value_error",) and "input" in problem:
            message = f"{message} (got {problem['input']!r})"
        lines.append(f"  - {source.parent.name}/{source.name}: key '{key}': {message}")
    return "\n".join(lines)
