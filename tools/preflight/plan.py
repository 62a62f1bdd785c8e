"""What an environment will deploy, as far as the checks care: from the typed config and the
project's own constants (never retyped here, so a change to a construct's default is checked
without touching the preflight).

Values a construct decides rather than the config (the OpenSearch engine version, the transform's
runtime, the Powertools layer's publisher and name, the interface endpoints) are read from the
modules that decide them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from config import AppConfig
from constructs_lib import ResourceNamer


@dataclass(frozen=True)
class ProjectConstants:
    """Decided in code, not config: read from the modules that decide them (see :func:`from_code`)."""

    opensearch_engine_version: str
    transform_runtime: str
    powertools_layer_account: str
    powertools_layer_name: str
    interface_endpoints: tuple[str, ...]

    @classmethod
    def from_code(cls) -> ProjectConstants:
        from constructs_lib import DEFAULT_ENGINE_VERSION
        from constructs_lib.common.firehose_processing import TRANSFORM_RUNTIME
        from stacks.network_stack import INTERFACE_ENDPOINTS
        from stacks.transform_code import POWERTOOLS_LAYER_ACCOUNT, POWERTOOLS_LAYER_NAME

        return cls(
            opensearch_engine_version=DEFAULT_ENGINE_VERSION.version,
            transform_runtime=TRANSFORM_RUNTIME.name,
            powertools_layer_account=POWERTOOLS_LAYER_ACCOUNT,
            powertools_layer_name=POWERTOOLS_LAYER_NAME,
            interface_endpoints=tuple(INTERFACE_ENDPOINTS),
        )


@dataclass(frozen=True)
class DeployPlan:
    env_name: str
    config_account: str | None
    region: str
    stack_prefix: ResourceNamer
    constants: ProjectConstants
    powertools_layer_version: int
    search_instance_types: tuple[str, ...]
    redshift_node_type: str
    emr_release_label: str
    emr_instance_types: tuple[str, ...]
    lake_formation_admin_roles: tuple[str, ...]
    #: persona -> imported role ARN (personas created by the catalog stack are not listed)
    persona_role_arns: dict[str, str] = field(default_factory=dict)
    emr_tls_certificates_s3_uri: str | None = None
    stream_capacity_mode: str = "on_demand"
    stream_shard_count: int | None = None
    nat_gateways: int = 0

    @classmethod
    def from_config(cls, config: AppConfig, region: str, constants: ProjectConstants) -> DeployPlan:
        env = config.environment
        emr = env.emr
        search = env.search
        emr_types = [emr.primary_instance_type, emr.core_instance_type]
        if emr.max_task_instances:
            emr_types.append(emr.task_instance_type)
        search_types = [search.data_node_instance_type]
        if search.master_node_instance_type is not None:
            search_types.append(search.master_node_instance_type)
        personas = {
            name: getattr(env.governance, name).role_arn
            for name in ("analyst", "restricted_analyst")
            if getattr(env.governance, name).role_arn is not None
        }
        return cls(
            env_name=env.name,
            config_account=env.account,
            region=region,
            stack_prefix=ResourceNamer(project=env.project, stage=env.name),
            constants=constants,
            powertools_layer_version=config.project.powertools_layer_version,
            search_instance_types=tuple(dict.fromkeys(search_types)),
            redshift_node_type=env.redshift.node_type,
            emr_release_label=emr.release_label,
            emr_instance_types=tuple(dict.fromkeys(emr_types)),
            lake_formation_admin_roles=config.project.baseline.lake_formation_admin_roles,
            persona_role_arns=personas,
            emr_tls_certificates_s3_uri=emr.tls_certificates_s3_uri,
            stream_capacity_mode=env.ingestion.stream.capacity_mode,
            stream_shard_count=env.ingestion.stream.shard_count,
            nat_gateways=env.network.nat_gateways,
        )

    @property
    def env_file(self) -> str:
        return f"config/environments/{self.env_name}.yaml"

    def stack_name(self, part: str) -> str:
        """``analytics-dev-ingestion``: app.py names every environment stack ``<project>-<env>-<part>``."""
        return self.stack_prefix.name(part)

    def powertools_layer_arn(self, partition: str = "aws") -> str:
        """The ARN stacks/transform_code.py builds, for this region."""
        c = self.constants
        return (
            f"arn:{partition}:lambda:{self.region}:{c.powertools_layer_account}:layer:"
            f"{c.powertools_layer_name}:{self.powertools_layer_version}"
        )
