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

from config import CONFIG_DIR, AppConfig, ConfigError, load_config
from stacks import (
    AccountBaselineStack,
    CatalogStack,
    EmrStack,
    FoundationStack,
    IngestionStack,
    NetworkStack,
    SearchStack,
    StreamingStack,
    WarehouseStack,
)
from stacks.compliance import add_compliance_checks
from stacks.environment import EnvironmentSettings
from stacks.lake_governance import environment_lake_grants

#: The anomaly-detection application's deployable zip, built by ``make flink-app`` (tools/flink/build.py).
FLINK_APPLICATION_ZIP = Path(__file__).resolve().parent / "build" / "flink" / "anomaly-detection.zip"


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
    """The platform's wiring diagram: each stack with its config section and what it consumes.

    The graph is three deep: baseline and foundation; ingestion, catalog and network on them; the
    slow stacks (warehouse, EMR, search) side by side on those, never on each other; streaming on
    foundation and ingestion only.
    """
    project, env = config.project, config.environment
    settings = EnvironmentSettings.from_config(env)
    grants = environment_lake_grants(settings.namer, env.governance, migration_job=env.catalog.migrate_from_parquet)

    baseline = AccountBaselineStack(app, f"{project.project}-account-baseline", env=settings.env, config=project)
    catalog_key = baseline.catalog_encryption.key
    foundation = FoundationStack(
        app, settings.stack_id("foundation"), settings=settings, storage=env.storage, alarms=env.alarms
    )
    lake = foundation.lake

    ingestion = IngestionStack(
        app, settings.stack_id("ingestion"), settings=settings, config=env.ingestion,
        powertools_layer_version=project.powertools_layer_version, lake=lake,
    )
    catalog = CatalogStack(
        app, settings.stack_id("catalog"), settings=settings, config=env.catalog, athena=env.athena,
        governance=env.governance, lake=lake, catalog_key=catalog_key, lake_grants=grants,
    )
    network = NetworkStack(app, settings.stack_id("network"), settings=settings, config=env.network)

    warehouse = WarehouseStack(
        app, settings.stack_id("warehouse"), settings=settings, config=env.redshift, lake=lake,
        vpc=network.vpc, data_subnets=network.data_subnets, catalog_key=catalog_key,
        curated_database_name=catalog.curated_database_name, lake_grants=grants,
    )
    # The Spectrum schema needs the curated database to exist; its SQL names it in plain text.
    warehouse.add_stack_dependency(catalog, "the Spectrum schema reads the curated Glue database")

    emr = EmrStack(
        app, settings.stack_id("emr"), settings=settings, config=env.emr, lake=lake,
        vpc=network.vpc, data_subnets=network.data_subnets, catalog_key=catalog_key, lake_grants=grants,
    )
    # Its Lake Formation grant names the curated database, which must exist first.
    emr.add_stack_dependency(catalog, "the EMR instance role's Lake Formation grant names the curated database")

    SearchStack(
        app, settings.stack_id("search"), settings=settings, config=env.search, transform=env.ingestion.transform,
        powertools_layer_version=project.powertools_layer_version, lake=lake,
        source_stream=ingestion.stream.stream, vpc=network.vpc, data_subnets=network.data_subnets,
    )
    StreamingStack(
        app, settings.stack_id("streaming"), settings=settings, config=env.streaming, lake=lake,
        stream=ingestion.stream, application_zip=flink_application_zip(),
    )


def flink_application_zip() -> Path:
    """The built application zip; synthesis refuses to go on without it (it is the application's code asset)."""
    if not FLINK_APPLICATION_ZIP.is_file():
        raise ConfigError(
            f"{FLINK_APPLICATION_ZIP.relative_to(FLINK_APPLICATION_ZIP.parents[2])} is missing: build the "
            "anomaly-detection application with `make flink-app` (about 20 s; pinned jars and wheels, no network once cached)"
        )
    return FLINK_APPLICATION_ZIP


def main() -> None:
    try:
        app = build_app()
    except ConfigError as error:
        sys.exit(f"Configuration error: {error}")
    app.synth()


if __name__ == "__main__":
    main()
