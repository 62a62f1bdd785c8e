"""Per-environment catalog and batch ETL: raw crawler -> Glue job -> curated Iceberg tables, and Athena.

Depends on the foundation stack (buckets, data key, alarm topic) and the account baseline (the
catalog key). The workflow runs on the configured schedule:

1. the raw crawler registers new ``event_date=/event_hour=`` partitions of ``<raw>.telemetry``;
2. the raw-to-curated job (Glue 5.1) reads the raw files it has not seen (bookmarks) and MERGEs
   the valid readings into the Iceberg table ``<curated>.telemetry`` and every other line, with its
   reason, into ``<curated>.telemetry_quarantine``. Both tables are declared here from
   glue_scripts/curated_table.py (stacks/telemetry_tables.py): schema, partition spec, sort order
   and properties are in the template, never inferred.

There is no curated crawler any more: an Iceberg commit is itself the catalog update (the job's
``glue:UpdateTable`` points the table at its new ``metadata.json``), and Iceberg keeps its partitions
in its own metadata, not in the catalog, so a crawler would have nothing to add (and crawling an
Iceberg table's folder would register its data files as a second, Hive table).

The Glue Data Catalog's table optimizers maintain both tables (compaction, snapshot retention,
orphan file deletion; settings from ``catalog.maintenance``), each table with a role of its own and a
scheduled health check whose alarms, like the workflow's failures, go to the alarm topic. Athena has
two workgroups: ``analysts`` (results in the query-results bucket, the saved queries of
curated_table.py) and ``reports`` (results in the analytics bucket), both encrypted with the lake's key.

Lake Formation governs both zones (the data lake settings, with this deployment's role as an
admin, live in the account baseline, which is deployed first): the raw and curated ``telemetry/``
prefixes are registered before the databases are created, the grants of the principals this stack
owns (the raw crawler, the job, the optimizers, the analyst personas, the revocation function) come
after the databases and tables they name, and where Lake Formation governs alone (``hybrid_access`` off) IAMAllowedPrincipals is
revoked on both databases. Every grant is a row of ``stacks.lake_permissions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from constructs import Construct

from config.model import AthenaConfig, CatalogConfig, GovernanceConfig, TableMaintenanceConfig

from constructs_lib import (
    AthenaWorkgroup,
    EtlWorkflow,
    GlueSecurity,
    IamAllowedPrincipalsRevocation,
    IcebergCompaction,
    IcebergOrphanFileDeletion,
    IcebergSnapshotRetention,
    IcebergTable,
    IcebergTableMaintenance,
    LakeCrawler,
    LakeDataCellsFilter,
    LakeEtlJob,
    LakeLocation,
    RegisteredLocations,
    disable_iam_allowed_principals_for_new_tables,
    grant_prefix_read,
)
from constructs_lib.nag import INLINE_POLICY_RULES, acknowledge, acknowledge_resources
from glue_scripts.curated_table import CURATED, QUARANTINE, TABLE_NAME, job_arguments
from stacks.environment import EnvironmentSettings, EnvironmentStack, LakeResources
from stacks.lake_governance import grant_persona, persona_role, serialize_lake_grants
from stacks.lake_permissions import OPTIMIZER_PERSONAS, GrantRow
from stacks.nag_reasons import ENCRYPTED_TOPIC_PUBLISH_GRANT, INLINE_GRANT_POLICIES
from stacks.telemetry_tables import CURATED_PREFIX, RAW_PREFIX, WAREHOUSE_PREFIX, iceberg_table, named_queries

GLUE_SCRIPTS = Path(__file__).resolve().parent.parent / "glue_scripts"
JOB_SCRIPT = GLUE_SCRIPTS / "raw_to_curated.py"
#: The modules the job imports as top-level modules (the tables' definitions, the Spark/Iceberg I/O).
#: Glue puts --extra-py-files on the Python path under their object names, and an asset's object is
#: named by its hash: so they go as one zip (a folder asset) holding the two files by their own names.
JOB_MODULES = ("curated_table.py", "lakehouse.py")
#: The one-time migration (catalog.migrate_from_parquet): its script, and the job's modules besides.
MIGRATION_SCRIPT = GLUE_SCRIPTS / "migrate_to_iceberg.py"
MIGRATION_MODULES = (*JOB_MODULES, "raw_to_curated.py")
#: Where an environment created before issue 19 keeps its curated readings (Snappy Parquet in Hive
#: folders event_date=YYYY-MM-DD/) and its quarantine (gzip JSON lines in run_id=<run>/ folders).
#: The glob reads the readings' folders only, not the Iceberg tables' files under telemetry/iceberg/.
OLD_CURATED_GLOB = f"{CURATED_PREFIX}event_date=*"
OLD_QUARANTINE_PREFIX = "quarantine/telemetry/"
#: Athena's cutoff is in bytes; the config states decimal megabytes (10^6 bytes).
MEGABYTE = 1_000_000

ZONE_PREFIX_OBJECTS = (
    "Objects under one zone prefix of one data lake bucket (<bucket>/<prefix>*): a crawler or job "
    "reads and writes object keys that are new on every delivery or run, so they cannot be named in "
    "advance. Listing is limited to the same prefix (s3:prefix condition) and the bucket key may be "
    "used only through S3 (kms:ViaService)."
)
OLD_CURATED_ZONE_OBJECTS = (
    "Objects under the curated zone's telemetry/ and quarantine/telemetry/ prefixes (<bucket>/<prefix>*), read "
    "only: the one-time migration job (deployed only while catalog.migrate_from_parquet is on) reads every "
    "Parquet file and quarantine file the job of before issue 19 wrote there, whose keys were new on every run. "
    "Listing is limited to the same prefixes and the bucket key may be used only through S3."
)
TABLE_PREFIX_OBJECTS = (
    "Objects under one Iceberg table's own folder of the curated bucket (<bucket>/telemetry/iceberg/<table>/*): "
    "every commit writes data and metadata files under new, unpredictable keys, and a failed task's files are "
    "removed again, so they cannot be named in advance. Listing is limited to the same prefix (s3:prefix "
    "condition), the bucket key may be used only through S3, and the table's catalog entry is the only one the "
    "role may update."
)
GLUE_MANAGED_LOG_GROUPS = (
    "Glue creates the log groups of crawlers and jobs that run under a security configuration itself, "
    "with names derived from the role and the configuration; the wildcard covers Glue's own "
    "/aws-glue/crawlers* or /aws-glue/jobs* log groups of this account and region only."
)
PUT_METRIC_DATA_HAS_NO_RESOURCES = (
    "cloudwatch:PutMetricData supports no resource narrower than '*'; the statement is limited to "
    "the Glue namespace with the cloudwatch:namespace condition."
)
REGISTRATION_ROLE_READS_THE_ZONE = (
    "Objects under one registered zone prefix (<bucket>/telemetry/*): Lake Formation assumes the "
    "registration role to vend credentials for any object of a governed table, including objects written "
    "after registration, and scopes each vended credential down to the table being read. Listing is "
    "limited to the prefix (s3:prefix condition) and the lake key may be used only through S3."
)
GET_DATA_ACCESS_HAS_NO_RESOURCES = (
    "lakeformation:GetDataAccess supports no resource narrower than '*'. It only lets the persona ask Lake "
    "Formation for credentials: Lake Formation vends them only for tables, columns and rows the persona "
    "was granted (stacks/lake_permissions.py), so the wildcard widens nothing."
)
PERSONA_READS_THE_CURATED_CATALOG = (
    "Read-only Glue catalog actions on the tables of the one curated database (<database>/*), so the "
    "persona can plan queries over tables added later; what it may actually select (tables, columns, "
    "rows) is decided by its Lake Formation grants, not by this IAM statement."
)
PERSONA_WRITES_ITS_QUERY_RESULTS = (
    "Objects under the analysts workgroup's results prefix (<query-results bucket>/analysts/*): Athena "
    "writes each query's result under a new, unpredictable key with the caller's credentials, and the "
    "persona reads its results back. Listing is limited to the prefix and the lake key is usable through "
    "S3 only; the workgroup enforces this output location."
)


class CatalogStack(EnvironmentStack):
    """Attributes: ``raw_database``, ``curated_database`` and their plain names
    ``raw_database_name``, ``curated_database_name`` (for SQL that other stacks write),
    ``curated_table`` and ``quarantine_table`` (IcebergTable; both in ``tables``), ``maintenance``
    (table name -> IcebergTableMaintenance), ``security``, ``raw_crawler``, ``job``, ``workflow``,
    ``analysts``, ``reports``;
    governance: ``lake_locations`` (RegisteredLocations), ``zone_locations`` (zone -> LakeLocation),
    ``revocation`` (IamAllowedPrincipalsRevocation of both databases; ``None`` in hybrid access mode),
    ``restricted_rows`` (the data cells filter), ``analyst_role``, ``restricted_analyst_role`` and
    ``lake_permissions`` (persona -> LakePermissions)."""

    DESCRIPTION = "Glue catalog, raw-to-curated ETL workflow and Athena workgroups of the {env} environment"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        config: CatalogConfig,
        athena: AthenaConfig,
        governance: GovernanceConfig,
        lake: LakeResources,
        catalog_key: kms.IKey,
        lake_grants: Sequence[GrantRow],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, settings=settings, **kwargs)
        namer, removal_policy = settings.namer, settings.removal_policy
        raw_bucket, curated_bucket, data_key = lake.raw_bucket, lake.curated_bucket, lake.key
        self.raw_bucket = raw_bucket
        self.curated_bucket = curated_bucket
        self.data_key = data_key
        self.query_results_bucket = lake.query_results_bucket
        self.raw_database_name = namer.sql_name("raw")
        self.curated_database_name = namer.sql_name("curated")
        self.raw_database = glue.Database(
            self, "RawDatabase", database_name=self.raw_database_name,
            description="Raw zone: telemetry as Firehose delivered it (JSON lines), catalogued by the raw crawler",
            removal_policy=removal_policy,
        )
        self.curated_database = glue.Database(
            self, "CuratedDatabase", database_name=self.curated_database_name,
            description="Curated zone: validated, de-duplicated telemetry and its quarantine, as Apache Iceberg tables",
            removal_policy=removal_policy,
        )
        # The Iceberg tables, from the definitions the job uses (glue_scripts/curated_table.py).
        self.curated_table: IcebergTable = iceberg_table(
            self, "TelemetryTable", CURATED, database_name=self.curated_database_name,
            bucket=curated_bucket, bucket_key=data_key, removal_policy=removal_policy,
        )
        self.quarantine_table: IcebergTable = iceberg_table(
            self, "TelemetryQuarantineTable", QUARANTINE, database_name=self.curated_database_name,
            bucket=curated_bucket, bucket_key=data_key, removal_policy=removal_policy,
        )
        self.tables = (self.curated_table, self.quarantine_table)
        for table in self.tables:
            table.node.add_dependency(self.curated_database)

        self.security = GlueSecurity(
            self, "GlueSecurity", configuration_name=namer.name("glue-security"),
            data_key=data_key, removal_policy=removal_policy,
        )
        self.raw_crawler = LakeCrawler(
            self, "RawCrawler",
            crawler_name=namer.name("raw-crawler"),
            database_name=self.raw_database.database_name,
            bucket=raw_bucket, prefix=RAW_PREFIX, bucket_key=data_key, catalog_key=catalog_key,
            security=self.security,
            recrawl_behavior=config.crawler.recrawl_behavior.upper(),
            update_behavior=config.crawler.update_behavior.upper(),
            delete_behavior=config.crawler.delete_behavior.upper(),
            description="Registers the raw telemetry table and its event_date/event_hour partitions",
        )

        # Assets of their own, so the job role is granted these objects, not the whole bootstrap
        # assets bucket (which glue.Code.from_asset would grant).
        self.job = self._iceberg_job(
            "RawToCurated", config, catalog_key=catalog_key,
            name="raw-to-curated", script_path=JOB_SCRIPT, modules=JOB_MODULES,
            description="Raw JSON -> MERGE into the curated Iceberg tables (telemetry, telemetry_quarantine)",
            source_bucket=raw_bucket, source_prefix=RAW_PREFIX, max_retries=config.job.max_retries,
            arguments=job_arguments(
                raw_path=f"s3://{raw_bucket.bucket_name}/{RAW_PREFIX}",
                warehouse=f"s3://{curated_bucket.bucket_name}/{WAREHOUSE_PREFIX}",
                database=self.curated_database_name,
            ),
        )

        self.workflow = EtlWorkflow(
            self, "Workflow",
            workflow_name=namer.name("raw-to-curated"),
            description="raw crawler -> raw-to-curated job (MERGE into the curated Iceberg tables)",
            schedule=glue.TriggerSchedule.expression(config.schedule),
            steps=[self.raw_crawler.crawler, self.job.job],
            alarm_topic=lake.alarm_topic,
            removal_policy=removal_policy,
        )
        self.maintenance = self._maintain(config.maintenance, catalog_key=catalog_key, alarm_topic=lake.alarm_topic)
        self.migration: LakeEtlJob | None = self._migration(config, catalog_key=catalog_key) if config.migrate_from_parquet else None

        # The plain name, not a reference: saved queries read better in the template and in
        # the console, and the name is fixed by the naming helper anyway.
        curated_name = self.curated_database_name
        self.analysts = AthenaWorkgroup(
            self, "AnalystsWorkgroup",
            workgroup_name=namer.name("analysts"),
            description="Ad hoc analysis of the curated zone",
            results_bucket=lake.query_results_bucket, results_prefix="analysts/", results_key=data_key,
            bytes_scanned_cutoff_per_query=athena.analysts.bytes_scanned_cutoff_mb * MEGABYTE,
            named_queries=named_queries(curated_name),
        )
        self.reports = AthenaWorkgroup(
            self, "ReportsWorkgroup",
            workgroup_name=namer.name("reports"),
            description="Scheduled reports; results kept in the analytics zone",
            results_bucket=lake.analytics_bucket, results_prefix="reports/", results_key=data_key,
            bytes_scanned_cutoff_per_query=athena.reports.bytes_scanned_cutoff_mb * MEGABYTE,
        )

        self._govern(governance, lake_grants, data_key=data_key, catalog_key=catalog_key)
        self._acknowledge_findings()

        cdk.CfnOutput(self, "RawDatabaseName", value=self.raw_database.database_name)
        cdk.CfnOutput(self, "CuratedDatabaseName", value=curated_name)
        cdk.CfnOutput(self, "WorkflowName", value=namer.name("raw-to-curated"))
        cdk.CfnOutput(self, "AnalystsWorkgroupName", value=self.analysts.workgroup_name)
        cdk.CfnOutput(self, "ReportsWorkgroupName", value=self.reports.workgroup_name)

    def _migration(self, config: CatalogConfig, *, catalog_key: kms.IKey) -> LakeEtlJob:
        """The one-time job that MERGEs an environment's Parquet table of before issue 19 into the Iceberg
        tables (glue_scripts/migrate_to_iceberg.py; idempotent: a second run adds nothing). Started by hand,
        once, with the schedule paused; removed again by turning catalog.migrate_from_parquet off. It reads
        the old readings and quarantine (read-only: the migration never deletes) and commits as the job does."""
        data_key, curated = self.data_key, self.curated_bucket
        arguments = job_arguments(
            raw_path="", warehouse=f"s3://{curated.bucket_name}/{WAREHOUSE_PREFIX}", database=self.curated_database_name,
        )
        del arguments["--raw_path"]  # the migration reads the old curated zone, not the raw one
        migration = self._iceberg_job(
            "MigrateToIceberg", config, catalog_key=catalog_key,
            name="migrate-to-iceberg", script_path=MIGRATION_SCRIPT, modules=MIGRATION_MODULES,
            description="One-time: the Parquet curated table of before issue 19 -> MERGE into the curated Iceberg tables",
            source_bucket=curated, source_prefix=CURATED_PREFIX, max_retries=0,
            arguments={
                **arguments,
                "--old_curated_path": f"s3://{curated.bucket_name}/{OLD_CURATED_GLOB}",
                "--old_quarantine_path": f"s3://{curated.bucket_name}/{OLD_QUARANTINE_PREFIX}",
            },
        )
        grant_prefix_read(migration.role, curated, OLD_QUARANTINE_PREFIX, data_key)
        return migration

    def _iceberg_job(
        self, construct_id: str, config: CatalogConfig, *, catalog_key: kms.IKey, name: str, script_path: Path,
        modules: Sequence[str], description: str, source_bucket: s3.IBucket, source_prefix: str, max_retries: int,
        arguments: dict[str, str],
    ) -> LakeEtlJob:
        """A Glue 5.1 job that commits to both Iceberg tables: its script and its modules as assets of their
        own (one zip: Glue imports ``--extra-py-files`` by object name, and asset objects are named by hash),
        so the role is granted these objects, not the whole bootstrap assets bucket (which
        ``glue.Code.from_asset`` would grant)."""
        script = s3_assets.Asset(self, f"{construct_id}Script", path=str(script_path))
        code = s3_assets.Asset(
            self, f"{construct_id}Modules", path=str(GLUE_SCRIPTS), exclude=["*", *(f"!{module}" for module in modules)]
        )
        return LakeEtlJob(
            self, construct_id,
            job_name=self.settings.namer.name(name),
            description=description,
            script=glue.Code.from_bucket(script.bucket, script.s3_object_key),
            extra_python_files=[glue.Code.from_bucket(code.bucket, code.s3_object_key)],
            glue_version=glue.GlueVersion.V5_1,
            source_bucket=source_bucket, source_prefix=source_prefix,
            iceberg_tables=list(self.tables), catalog_key=catalog_key,
            data_key=self.data_key, security=self.security,
            worker_type=glue.WorkerType[config.job.worker_type.replace('.', '_')],
            number_of_workers=config.job.number_of_workers,
            timeout=cdk.Duration.minutes(config.job.timeout_minutes),
            max_retries=max_retries,
            arguments=arguments,
            log_retention=self.settings.log_retention,
            log_removal_policy=self.settings.removal_policy,
        )

    def _maintain(
        self, config: TableMaintenanceConfig, *, catalog_key: kms.IKey, alarm_topic: sns.ITopic
    ) -> dict[str, IcebergTableMaintenance]:
        """Both tables' optimizers, each with a role of its own (one table, its prefix) and a health check
        that alarms on the alarm topic. The locations are registered with Lake Formation, so the roles
        may ask it for credentials and hold Lake Formation grants on their table (stacks.lake_permissions)."""
        maintenance = {}
        for table in self.tables:
            maintenance[table.table_name] = IcebergTableMaintenance(
                self, "".join(part.title() for part in table.table_name.split("_")) + "Maintenance",
                table=table,
                compaction=IcebergCompaction(strategy=config.compaction_strategy, min_input_files=config.compaction_min_input_files),
                snapshot_retention=IcebergSnapshotRetention(
                    snapshot_retention_days=config.snapshot_retention_days,
                    snapshots_to_retain=config.snapshots_to_keep,
                    clean_expired_files=config.clean_expired_files,
                ),
                orphan_file_deletion=IcebergOrphanFileDeletion(orphan_file_retention_days=config.orphan_file_retention_days),
                catalog_key=catalog_key,
                lake_formation=True,
                alarm_topic=alarm_topic,
                check_interval=cdk.Duration.minutes(config.check_interval_minutes),
                max_hours_without_run=config.max_hours_without_run,
                # The Glue key already lets CloudWatch Logs of this account and region use it: no
                # second key per table for the check's log group.
                key=self.security.key,
                log_retention=self.settings.log_retention,
                removal_policy=self.settings.removal_policy,
            )
        return maintenance

    def _govern(
        self, governance: GovernanceConfig, grants: Sequence[GrantRow], *, data_key: kms.IKey, catalog_key: kms.IKey
    ) -> None:
        """Lake Formation over both zones, in the order it needs: registration -> databases ->
        tables and filter -> grants (and the revocation, which needs the databases)."""
        namer = self.settings.namer
        self.zone_locations = {
            "raw": LakeLocation(bucket=self.raw_bucket, prefix=RAW_PREFIX, key=data_key),
            "curated": LakeLocation(bucket=self.curated_bucket, prefix=CURATED_PREFIX, key=data_key),
        }
        self.lake_locations = RegisteredLocations(
            self, "LakeLocations", locations=list(self.zone_locations.values()), hybrid_access=governance.hybrid_access
        )
        databases = (self.raw_database, self.curated_database)
        for database in databases:
            database.node.add_dependency(self.lake_locations)

        self.revocation: IamAllowedPrincipalsRevocation | None = None
        if not governance.hybrid_access:
            for database in databases:
                disable_iam_allowed_principals_for_new_tables(database)
            # By name, not reference (construct ids derive from the names): ``after`` makes each
            # database's custom resource and grants wait for the database and its declared tables.
            self.revocation = IamAllowedPrincipalsRevocation(
                self, "Revocation",
                database_names=[self.raw_database_name, self.curated_database_name],
                key=self.security.key,
                log_retention=self.settings.log_retention, removal_policy=self.settings.removal_policy,
                after={
                    self.raw_database_name: [self.raw_database],
                    self.curated_database_name: [self.curated_database, *self.tables],
                },
            )

        self.restricted_rows = LakeDataCellsFilter(
            self, "RestrictedAnalystRows",
            database_name=self.curated_database_name,
            table_name=TABLE_NAME,
            name=next(row.target for row in grants if row.kind == "filter"),
            row_filter=governance.restricted_analyst.row_filter,
            excluded_columns=governance.sensitive_columns,
        )
        self.restricted_rows.node.add_dependency(self.curated_table.table)

        curated = [self.curated_database_name]
        self.analyst_role = persona_role(
            self, "AnalystRole", role_name=namer.name("analyst"), imported_arn=governance.analyst.role_arn,
            description="Analyst persona: queries the curated zone in the analysts workgroup, minus sensitive columns",
            workgroup=self.analysts, database_names=curated, catalog_key=catalog_key,
        )
        self.restricted_analyst_role = persona_role(
            self, "RestrictedAnalystRole", role_name=namer.name("restricted-analyst"),
            imported_arn=governance.restricted_analyst.role_arn,
            description="Restricted analyst persona: queries only the curated rows its data cells filter selects",
            workgroup=self.analysts, database_names=curated, catalog_key=catalog_key,
        )

        after = [self.lake_locations, *databases, *(table.table for table in self.tables)]
        principals = {
            "raw-crawler": self.raw_crawler.role.role_arn,
            "raw-to-curated-job": self.job.role.role_arn,
            **({"migration-job": self.migration.role.role_arn} if self.migration is not None else {}),
            **{OPTIMIZER_PERSONAS[name]: maintenance.role.role_arn for name, maintenance in self.maintenance.items()},
            "analyst": self.analyst_role.role_arn,
            "restricted-analyst": self.restricted_analyst_role.role_arn,
        }
        self.lake_permissions = {}
        for persona, principal_arn in principals.items():
            permissions = grant_persona(
                self, "".join(part.title() for part in persona.split("-")) + "LakePermissions",
                persona=persona, principal_arn=principal_arn, grants=grants, after=after,
                locations=self.zone_locations, filters={self.restricted_rows.name: self.restricted_rows},
            )
            if permissions is not None:
                self.lake_permissions[persona] = permissions
        serialize_lake_grants(self)
        # A crawler creating or updating tables at a registered location needs its grants first, and
        # an optimizer's first run its role's.
        self.raw_crawler.crawler.node.add_dependency(self.lake_permissions["raw-crawler"])
        for name, maintenance in self.maintenance.items():
            for optimizer in maintenance.optimizers.values():
                optimizer.node.add_dependency(self.lake_permissions[OPTIMIZER_PERSONAS[name]])


    def _acknowledge_findings(self) -> None:
        """Findings inherent to S3 prefixes, Glue, CDK's grants and Lake Formation (its registration
        role, the analyst personas)."""
        raw_objects = self.raw_bucket.arn_for_objects(f"{RAW_PREFIX}*")
        curated_objects = self.curated_bucket.arn_for_objects(f"{CURATED_PREFIX}*")
        table_objects = [self.curated_bucket.arn_for_objects(f"{table.prefix}*") for table in self.tables]

        acknowledge_resources(self.raw_crawler.role, ZONE_PREFIX_OBJECTS, raw_objects)
        acknowledge_resources(self.job.role, ZONE_PREFIX_OBJECTS, raw_objects)
        acknowledge_resources(self.job.role, TABLE_PREFIX_OBJECTS, *table_objects)
        acknowledge_resources(self.raw_crawler.role, GLUE_MANAGED_LOG_GROUPS, self.security.log_groups_arn("crawler"))
        acknowledge_resources(self.job.role, GLUE_MANAGED_LOG_GROUPS, self.security.log_groups_arn("job"))
        acknowledge(self.job.role, PUT_METRIC_DATA_HAS_NO_RESOURCES, "AwsSolutions-IAM5[Resource::*]")
        events_role = self.workflow.events_role
        if events_role is not None:
            acknowledge(events_role, ENCRYPTED_TOPIC_PUBLISH_GRANT, "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]")
        migration_role = None
        if self.migration is not None:
            migration_role = self.migration.role
            acknowledge_resources(
                migration_role, OLD_CURATED_ZONE_OBJECTS, curated_objects,
                self.curated_bucket.arn_for_objects(f"{OLD_QUARANTINE_PREFIX}*"),
            )
            acknowledge_resources(migration_role, TABLE_PREFIX_OBJECTS, *table_objects)
            acknowledge_resources(migration_role, GLUE_MANAGED_LOG_GROUPS, self.security.log_groups_arn("job"))
            acknowledge(migration_role, PUT_METRIC_DATA_HAS_NO_RESOURCES, "AwsSolutions-IAM5[Resource::*]")
        for role in (self.raw_crawler.role, self.job.role, migration_role, events_role):
            if role is not None:
                acknowledge(role, INLINE_GRANT_POLICIES, *INLINE_POLICY_RULES)

        acknowledge_resources(self.lake_locations.role, REGISTRATION_ROLE_READS_THE_ZONE, raw_objects, curated_objects)
        results_objects = self.query_results_bucket.arn_for_objects("analysts/*")
        curated_tables = self.format_arn(service="glue", resource="table", resource_name=f"{self.curated_database_name}/*")
        for persona in (self.analyst_role, self.restricted_analyst_role):
            if not isinstance(persona, iam.Role):
                continue  # imported by ARN: its policies are its owner's
            acknowledge(persona, GET_DATA_ACCESS_HAS_NO_RESOURCES, "AwsSolutions-IAM5[Resource::*]")
            acknowledge_resources(persona, PERSONA_READS_THE_CURATED_CATALOG, curated_tables)
            acknowledge_resources(persona, PERSONA_WRITES_ITS_QUERY_RESULTS, results_objects)
            acknowledge(persona, INLINE_GRANT_POLICIES, *INLINE_POLICY_RULES)
