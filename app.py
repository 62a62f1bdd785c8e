#!/usr/bin/env python3
"""The CDK app: ``cdk synth -c env=<dev|staging|prod>`` (default dev).

Loads and validates the selected environment's configuration once, builds the account
baseline and the environment's stacks, tags everything, and registers the compliance packs.
Needs no AWS credentials and no network: nothing here looks anything up.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from config import CONFIG_DIR, AppConfig, ConfigError, EnvironmentConfig, load_config
from constructs_lib import (
    EmrCapacity,
    EmrKerberos,
    LakeLifecyclePolicy,
    PauseResumeSchedule,
    ResourceNamer,
    SearchCapacity,
    SnapshotCopy,
)
from stacks import (
    AccountBaselineStack,
    CatalogStack,
    EmrStack,
    FoundationStack,
    IngestionStack,
    NetworkStack,
    SearchStack,
    WarehouseStack,
)
from stacks.compliance import add_compliance_checks
from stacks.lake_governance import GovernanceSettings
from stacks.lake_permissions import GrantRow, lake_grants, names_for
from stacks.tagging import apply_tags

_REMOVAL_POLICIES = {"retain": cdk.RemovalPolicy.RETAIN, "destroy": cdk.RemovalPolicy.DESTROY}


def cli_context(env_name: str, **extra: Any) -> dict[str, Any]:
    """The context the CDK CLI gives the app for ``-c env=<env_name>``: cdk.json's (the feature
    flags) and the environment. Whoever builds the app in-process (tests, ``make docs``) passes
    this, so that it synthesises the templates the CLI would."""
    cdk_json = json.loads((Path(__file__).resolve().parent / "cdk.json").read_text(encoding="utf-8"))
    return {**cdk_json["context"], "env": env_name, **extra}


def build_app(
    context: dict[str, Any] | None = None, outdir: str | None = None, *, config_dir: Path = CONFIG_DIR
) -> cdk.App:
    """Create the app with all stacks of the environment named by the ``env`` context key, from
    the configuration in ``config_dir`` (tests pass a copy with an account and region set)."""
    app = cdk.App(context=context, outdir=outdir)
    config = load_config(app.node.try_get_context("env"), config_dir)
    add_stacks(app, config)
    add_compliance_checks(app)
    return app


def add_stacks(app: cdk.App, config: AppConfig) -> None:
    env_config = config.environment
    deploy_env = _deploy_environment(env_config)

    baseline = AccountBaselineStack(
        app,
        f"{config.project.project}-account-baseline",
        env=deploy_env,
        description="Account-level singletons (Glue Data Catalog encryption, Lake Formation data lake settings); "
        "one per account and region",
        lake_formation_admin_roles=config.project.baseline.lake_formation_admin_roles,
    )
    apply_tags(baseline, config.project.baseline_tags())

    prefix = f"{env_config.project}-{env_config.name}"
    # Every environment stack keeps or deletes its data by the same rule, and is protected
    # against deletion wherever it keeps data.
    removal_policy = _REMOVAL_POLICIES[env_config.data_removal_policy]
    protected = not env_config.destroys_data_on_delete
    foundation = FoundationStack(
        app,
        f"{prefix}-foundation",
        env=deploy_env,
        description=f"Data lake storage and alarm topic of the {env_config.name} environment",
        termination_protection=protected,
        data_removal_policy=removal_policy,
        lifecycle=_lifecycle(env_config),
        alarm_email_subscribers=env_config.alarms.email_subscribers,
    )
    apply_tags(foundation, env_config.resource_tags)

    ingestion_config = env_config.ingestion
    ingestion = IngestionStack(
        app,
        f"{prefix}-ingestion",
        env=deploy_env,
        description=f"IoT Core -> Kinesis -> Firehose -> raw zone of the {env_config.name} environment",
        termination_protection=protected,
        raw_bucket=foundation.storage.raw_bucket,
        raw_bucket_key=foundation.storage.key,
        alarm_topic=foundation.alarms.topic,
        topic_prefix=ingestion_config.topic_prefix,
        shard_count=ingestion_config.stream.shard_count,
        stream_retention_hours=ingestion_config.stream.retention_hours,
        max_iterator_age_seconds=ingestion_config.stream.max_iterator_age_seconds,
        buffer_size_mib=ingestion_config.delivery.buffer_size_mib,
        buffer_interval_seconds=ingestion_config.delivery.buffer_interval_seconds,
        processor_buffer_size_mib=ingestion_config.delivery.processor_buffer_size_mib,
        processor_buffer_interval_seconds=ingestion_config.delivery.processor_buffer_interval_seconds,
        max_data_freshness_seconds=ingestion_config.delivery.max_data_freshness_seconds,
        transform_memory_mib=ingestion_config.transform.memory_mib,
        transform_timeout_seconds=ingestion_config.transform.timeout_seconds,
        powertools_layer_version=config.project.powertools_layer_version,
        log_retention_days=env_config.logging.retention_days,
        removal_policy=removal_policy,
    )
    apply_tags(ingestion, env_config.resource_tags)

    catalog_config = env_config.catalog
    storage = foundation.storage
    namer = ResourceNamer(project=env_config.project, stage=env_config.name)
    governance = governance_settings(env_config)
    grants = environment_lake_grants(namer, governance)
    catalog = CatalogStack(
        app,
        f"{prefix}-catalog",
        env=deploy_env,
        description=f"Glue catalog, raw-to-curated ETL workflow and Athena workgroups of the {env_config.name} environment",
        termination_protection=protected,
        namer=namer,
        raw_bucket=storage.raw_bucket,
        curated_bucket=storage.curated_bucket,
        analytics_bucket=storage.analytics_bucket,
        query_results_bucket=storage.query_results_bucket,
        data_key=storage.key,
        catalog_key=baseline.catalog_encryption.key,
        alarm_topic=foundation.alarms.topic,
        schedule=catalog_config.schedule,
        recrawl_behavior=catalog_config.crawler.recrawl_behavior,
        update_behavior=catalog_config.crawler.update_behavior,
        delete_behavior=catalog_config.crawler.delete_behavior,
        worker_type=catalog_config.job.worker_type,
        number_of_workers=catalog_config.job.number_of_workers,
        job_timeout_minutes=catalog_config.job.timeout_minutes,
        job_max_retries=catalog_config.job.max_retries,
        analysts_bytes_scanned_cutoff_mb=env_config.athena.analysts.bytes_scanned_cutoff_mb,
        reports_bytes_scanned_cutoff_mb=env_config.athena.reports.bytes_scanned_cutoff_mb,
        governance=governance,
        lake_grants=grants,
        log_retention_days=env_config.logging.retention_days,
        removal_policy=removal_policy,
    )
    apply_tags(catalog, env_config.resource_tags)

    network_config = env_config.network
    network = NetworkStack(
        app,
        f"{prefix}-network",
        env=deploy_env,
        description=f"VPC with isolated data subnets and VPC endpoints of the {env_config.name} environment",
        termination_protection=protected,
        cidr=network_config.cidr,
        availability_zones=network_config.availability_zones,
        nat_gateways=network_config.nat_gateways,
        log_retention_days=env_config.logging.retention_days,
        removal_policy=removal_policy,
    )
    apply_tags(network, env_config.resource_tags)

    redshift_config = env_config.redshift
    warehouse = WarehouseStack(
        app,
        f"{prefix}-warehouse",
        env=deploy_env,
        description=f"Redshift warehouse with a Spectrum schema over the curated zone of the {env_config.name} environment",
        termination_protection=protected,
        namer=namer,
        vpc=network.vpc,
        data_subnets=network.data_subnets,
        curated_bucket=storage.curated_bucket,
        log_bucket=storage.access_logs_bucket,
        data_key=storage.key,
        catalog_key=baseline.catalog_encryption.key,
        curated_database_name=catalog.curated_database_name,
        alarm_topic=foundation.alarms.topic,
        node_type=redshift_config.node_type,
        number_of_nodes=redshift_config.number_of_nodes,
        port=redshift_config.port,
        admin_username=redshift_config.admin_username,
        database_name=redshift_config.database_name,
        snapshot_retention_days=redshift_config.snapshot_retention_days,
        snapshot_copy=None if redshift_config.snapshot_copy is None else SnapshotCopy(
            destination_region=redshift_config.snapshot_copy.destination_region,
            retention_days=redshift_config.snapshot_copy.retention_days,
            grant_name=redshift_config.snapshot_copy.grant_name,
        ),
        maintenance_window=redshift_config.maintenance_window,
        admin_secret_rotation_days=redshift_config.admin_secret_rotation_days,
        pause_resume=None if redshift_config.pause_resume is None else PauseResumeSchedule(
            pause_schedule=redshift_config.pause_resume.pause_schedule,
            resume_schedule=redshift_config.pause_resume.resume_schedule,
        ),
        spectrum_schema=redshift_config.spectrum_schema,
        lake_grants=grants,
        log_retention_days=env_config.logging.retention_days,
        removal_policy=removal_policy,
    )
    # The Spectrum schema needs the curated database to exist; its SQL names it in plain text.
    warehouse.add_stack_dependency(catalog, "the Spectrum schema reads the curated Glue database")
    apply_tags(warehouse, env_config.resource_tags)

    emr_config = env_config.emr
    emr = EmrStack(
        app,
        f"{prefix}-emr",
        env=deploy_env,
        description=f"EMR cluster (Spark, Hive; Glue catalog as metastore) of the {env_config.name} environment",
        termination_protection=protected,
        namer=namer,
        vpc=network.vpc,
        data_subnets=network.data_subnets,
        raw_bucket=storage.raw_bucket,
        curated_bucket=storage.curated_bucket,
        analytics_bucket=storage.analytics_bucket,
        log_bucket=storage.access_logs_bucket,
        data_key=storage.key,
        catalog_key=baseline.catalog_encryption.key,
        release_label=emr_config.release_label,
        extra_applications=emr_config.extra_applications,
        capacity=EmrCapacity(
            primary_instance_type=emr_config.primary_instance_type,
            core_instance_type=emr_config.core_instance_type,
            core_instances=emr_config.core_instances,
            max_core_instances=emr_config.max_core_instances,
            task_instance_type=emr_config.task_instance_type,
            max_task_instances=emr_config.max_task_instances,
        ),
        idle_timeout_minutes=emr_config.idle_timeout_minutes,
        tls_certificates_s3_uri=emr_config.tls_certificates_s3_uri,
        kerberos=None if emr_config.kerberos is None else EmrKerberos(
            realm=emr_config.kerberos.realm, ticket_lifetime_hours=emr_config.kerberos.ticket_lifetime_hours
        ),
        key_pair_name=emr_config.key_pair_name,
        protect_cluster=env_config.is_production,
        lake_grants=grants,
        removal_policy=removal_policy,
    )
    # Its Lake Formation grant names the curated database, which must exist first.
    emr.add_stack_dependency(catalog, "the EMR instance role's Lake Formation grant names the curated database")
    apply_tags(emr, env_config.resource_tags)

    search_config = env_config.search
    search = SearchStack(
        app,
        f"{prefix}-search",
        env=deploy_env,
        description=f"OpenSearch domain fed from the telemetry stream of the {env_config.name} environment",
        termination_protection=protected,
        namer=namer,
        vpc=network.vpc,
        data_subnets=network.data_subnets,
        source_stream=ingestion.stream.stream,
        raw_bucket=storage.raw_bucket,
        data_key=storage.key,
        alarm_topic=foundation.alarms.topic,
        capacity=SearchCapacity(
            data_node_instance_type=search_config.data_node_instance_type,
            data_nodes=search_config.data_nodes,
            volume_size_gib=search_config.volume_size_gib,
            master_node_instance_type=search_config.master_node_instance_type,
            master_nodes=search_config.master_nodes,
            multi_az_with_standby=search_config.multi_az_with_standby,
        ),
        buffer_size_mib=search_config.delivery.buffer_size_mib,
        buffer_interval_seconds=search_config.delivery.buffer_interval_seconds,
        retry_duration_seconds=search_config.delivery.retry_duration_seconds,
        max_data_freshness_seconds=search_config.delivery.max_data_freshness_seconds,
        transform_memory_mib=ingestion_config.transform.memory_mib,
        transform_timeout_seconds=ingestion_config.transform.timeout_seconds,
        powertools_layer_version=config.project.powertools_layer_version,
        log_retention_days=env_config.logging.retention_days,
        removal_policy=removal_policy,
    )
    apply_tags(search, env_config.resource_tags)


def _deploy_environment(env_config: EnvironmentConfig) -> cdk.Environment | None:
    if env_config.is_environment_agnostic:
        return None
    return cdk.Environment(account=env_config.account, region=env_config.region)


def governance_settings(env_config: EnvironmentConfig) -> GovernanceSettings:
    governance = env_config.governance
    return GovernanceSettings(
        hybrid_access=governance.hybrid_access,
        sensitive_columns=governance.sensitive_columns,
        row_filter=governance.restricted_analyst.row_filter,
        analyst_role_arn=governance.analyst.role_arn,
        restricted_analyst_role_arn=governance.restricted_analyst.role_arn,
    )


def environment_lake_grants(namer: ResourceNamer, governance: GovernanceSettings) -> list[GrantRow]:
    """Every Lake Formation grant of the environment (the README's table of it is made from the same call)."""
    return lake_grants(
        names_for(namer),
        sensitive_columns=governance.sensitive_columns,
        row_filter=governance.row_filter,
        hybrid_access=governance.hybrid_access,
    )


def _lifecycle(env_config: EnvironmentConfig) -> LakeLifecyclePolicy:
    storage = env_config.storage
    return LakeLifecyclePolicy(
        raw_infrequent_access_after_days=storage.raw_infrequent_access_after_days,
        raw_glacier_after_days=storage.raw_glacier_after_days,
        noncurrent_version_expiration_days=storage.noncurrent_version_expiration_days,
        query_results_expiration_days=storage.query_results_expiration_days,
        access_log_expiration_days=env_config.logging.retention_days,
    )


def main() -> None:
    try:
        app = build_app()
    except ConfigError as error:
        sys.exit(f"Configuration error: {error}")
    app.synth()


if __name__ == "__main__":
    main()
