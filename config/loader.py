"""Load and validate the configuration of one environment, once, for app.py.

Errors are collected by pydantic and rewritten into one message that names the environment,
the file, every offending key and what it accepts, so that ``cdk synth -c env=prod`` with a
bad value tells the operator exactly what to fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from config.model import AppConfig, EnvironmentConfig

CONFIG_DIR = Path(__file__).resolve().parent
DEFAULT_ENVIRONMENT = "dev"


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or holds a value that is not allowed."""


def available_environments(config_dir: Path = CONFIG_DIR) -> tuple[str, ...]:
    """Environment names, one per ``environments/<name>.yaml`` file, sorted."""
    return tuple(sorted(p.stem for p in (config_dir / "environments").glob("*.yaml")))


def load_config(env_name: str | None, config_dir: Path = CONFIG_DIR, *, check_others: bool = True) -> AppConfig:
    """Return the validated configuration of ``env_name`` (``None`` selects the default).

    With an account set, the other environments are loaded too (``check_others``) and checked
    against this one by :func:`check_shared_accounts`."""
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
        config = AppConfig.model_validate(document)
    except ValidationError as error:
        raise ConfigError(_describe(error, name, project_file, env_file)) from None
    if check_others and config.environment.account is not None:
        others = [load_config(other, config_dir, check_others=False).environment for other in allowed if other != name]
        check_shared_accounts(config.environment, others, config_dir)
    return config


def check_shared_accounts(environment: EnvironmentConfig, others: Sequence[EnvironmentConfig], config_dir: Path = CONFIG_DIR) -> None:
    """Refuse two environments whose account-level singletons would collide.

    Most teams give each environment its own account; nothing requires it. Where two environments
    share an account and region they share the account baseline (identical by construction: its
    template depends on project.yaml only) and everything else AWS keeps once per account and
    region. Of the latter, only the MQTT topic space is configured per environment: IoT topic rules
    match topics of the whole account and region, so with the same ``ingestion.topic_prefix`` each
    environment's rule would ingest the other's devices (prod readings in dev, and dev's test
    traffic in prod's curated data)."""
    for other in others:
        if (other.account, other.region) != (environment.account, environment.region):
            continue
        if other.ingestion.topic_prefix == environment.ingestion.topic_prefix:
            raise ConfigError(
                f"Invalid configuration for environment {environment.name!r}: environments {environment.name!r} and "
                f"{other.name!r} share account {environment.account} in {environment.region}, and both set "
                f"ingestion.topic_prefix {environment.ingestion.topic_prefix!r} "
                f"({config_dir.name}/environments/{environment.name}.yaml, "
                f"{config_dir.name}/environments/{other.name}.yaml): IoT topic rules match the topics of the whole "
                "account and region, so each environment would ingest the other's devices. Give each a prefix of its "
                "own (for example 'telemetry-dev'), or each environment an account of its own."
            )


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
