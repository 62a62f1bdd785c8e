"""Per-environment configuration: typed models (model.py) and the loader app.py calls once."""

from config.loader import CONFIG_DIR, DEFAULT_ENVIRONMENT, ConfigError, available_environments, load_config
from config.model import AppConfig, EnvironmentConfig, ProjectConfig

__all__ = [
    "CONFIG_DIR",
    "DEFAULT_ENVIRONMENT",
    "AppConfig",
    "ConfigError",
    "EnvironmentConfig",
    "ProjectConfig",
    "available_environments",
    "load_config",
]
