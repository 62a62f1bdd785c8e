"""What `make preflight` and `make smoke` share: where they run (region, credentials) and how they
make boto3 clients.

Both tools talk to the account an environment deploys to, with the user's own credentials. They
resolve the region the same way (the environment's config first, because that is where the stacks
go; then the usual AWS variables) and refuse, in one line, to start without credentials, so that a
missing profile never turns into a page of botocore tracebacks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ClientFactory = Callable[..., Any]

#: The same retry policy as the device simulator: standard mode, bounded attempts.
_RETRIES = {"mode": "standard", "max_attempts": 5}

NO_CREDENTIALS = (
    "FAIL credentials: no AWS credentials found: set AWS_PROFILE (after `aws sso login` or `aws configure`), "
    "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile"
)


class SetupError(Exception):
    """The tool cannot start (no region, no credentials, a config error): one line says why."""


@dataclass(frozen=True)
class Region:
    name: str
    source: str


def resolve_region(config_region: str | None, env_name: str, environ: Mapping[str, str] | None = None,
                   profile_region: str | None = None) -> Region:
    """The environment's ``region``, else AWS_REGION / AWS_DEFAULT_REGION, else the profile's."""
    environ = os.environ if environ is None else environ
    if config_region:
        return Region(config_region, f"config/environments/{env_name}.yaml")
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if environ.get(variable):
            return Region(environ[variable], variable)
    if profile_region:
        return Region(profile_region, "the AWS profile")
    raise SetupError(
        f"FAIL region: no region for environment {env_name!r}: set `region` (with `account`) in "
        f"config/environments/{env_name}.yaml, or AWS_REGION"
    )


def boto3_session(profile: str | None) -> Any:
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.session.Session(profile_name=profile)
    except ProfileNotFound as error:
        raise SetupError(f"FAIL credentials: {error}: pass an existing --profile (aws configure list-profiles)") from None


def client_factory(session: Any, region: str, credentials: Mapping[str, str] | None = None) -> ClientFactory:
    """``factory("s3")``: clients of one session and region; ``credentials`` (from AssumeRole)
    replace the session's."""
    import botocore.config

    config = botocore.config.Config(retries=dict(_RETRIES))
    extra: dict[str, Any] = {}
    if credentials is not None:
        extra = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }

    def make(service: str, **kwargs: Any) -> Any:
        return session.client(service, region_name=region, config=config, **extra, **kwargs)

    return make


def require_credentials(session: Any) -> None:
    """Raises :class:`SetupError` with :data:`NO_CREDENTIALS` when the chain finds nothing."""
    if session.get_credentials() is None:
        raise SetupError(NO_CREDENTIALS)


def error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code", type(error).__name__)
    return type(error).__name__
