"""Per-environment configuration: typed models (model.py) and the loader app.py calls once."""

from config.loader import DEFAULT_ENVIRONMENT, ConfigError, available_environments, load_config
from config.model import AppConfig, EnvironmentConfig, ProjectConfig

__all__ = [
    "DEFAULT_ENVIRONMENT",
    "AppConfig",
    "ConfigError",
    "EnvironmentConfig",
    "ProjectConfig",
    "available_environments",
    "load_config",
]
