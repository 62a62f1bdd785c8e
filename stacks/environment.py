"""What every stack of one environment shares, and the base class that applies it.

An environment's stacks differ in what they build, never in how they name, keep, log and tag
it: those rules are read from the config once, here, instead of being passed to each stack knob
by knob. A stack then takes this, its own config section and the resources it consumes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from config import EnvironmentConfig
from constructs_lib import ResourceNamer
from stacks.log_retention import retention_days
from stacks.tagging import apply_tags

_REMOVAL_POLICIES = {"retain": cdk.RemovalPolicy.RETAIN, "destroy": cdk.RemovalPolicy.DESTROY}


@dataclass(frozen=True)
class EnvironmentSettings:
    """The environment-wide rules of one environment's stacks.

    ``env`` is ``None`` for an environment-agnostic synth. Every stack keeps or deletes its data
    by ``removal_policy``, and is protected against deletion wherever it keeps data.
    """

    project: str
    name: str
    env: cdk.Environment | None
    removal_policy: cdk.RemovalPolicy
    log_retention_days: int
    is_production: bool
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: EnvironmentConfig) -> EnvironmentSettings:
        return cls(
            project=config.project,
            name=config.name,
            env=None if config.is_environment_agnostic else cdk.Environment(account=config.account, region=config.region),
            removal_policy=_REMOVAL_POLICIES[config.data_removal_policy],
            log_retention_days=config.logging.retention_days,
            is_production=config.is_production,
            tags=config.resource_tags,
        )

    @property
    def namer(self) -> ResourceNamer:
        """Physical names of the resources that need one: ``<project>-<env>-<part>``."""
        return ResourceNamer(project=self.project, stage=self.name)

    @property
    def termination_protection(self) -> bool:
        return self.removal_policy == cdk.RemovalPolicy.RETAIN

    @property
    def log_retention(self) -> logs.RetentionDays:
        return retention_days(self.log_retention_days)

    def stack_id(self, part: str) -> str:
        """The stack name of ``part`` (``foundation``, ``catalog``...): ``<project>-<env>-<part>``."""
        return f"{self.project}-{self.name}-{part}"


@dataclass(frozen=True)
class LakeResources:
    """What the foundation stack gives every later stack: the zone buckets, the key that encrypts
    them and the alarm topic (a plain record, so a test can build a stack on imported resources)."""

    raw_bucket: s3.IBucket
    curated_bucket: s3.IBucket
    analytics_bucket: s3.IBucket
    query_results_bucket: s3.IBucket
    access_logs_bucket: s3.IBucket
    key: kms.IKey
    alarm_topic: sns.ITopic


class EnvironmentStack(cdk.Stack):
    """A stack of one environment: deployed to its account and region, described, protected while it
    keeps data, and tagged with the environment's tags. Subclasses set ``DESCRIPTION``."""

    #: The stack's description in CloudFormation; ``{env}`` is replaced by the environment's name.
    DESCRIPTION: ClassVar[str]

    def __init__(self, scope: Construct, construct_id: str, *, settings: EnvironmentSettings, **kwargs: Any) -> None:
        kwargs.setdefault("env", settings.env)
        kwargs.setdefault("description", self.DESCRIPTION.format(env=settings.name))
        kwargs.setdefault("termination_protection", settings.termination_protection)
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        if settings.tags:
            apply_tags(self, dict(settings.tags))
