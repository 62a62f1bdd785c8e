"""The maintenance of one Iceberg table by the Glue Data Catalog's table optimizers (compaction,
snapshot retention, orphan file deletion), with a role that reaches that table only, and alarms on
their failures (:mod:`~constructs_lib.catalog.optimizer_health`).

Each optimizer is an ``AWS::Glue::TableOptimizer``; its type, table, database and catalog are
create-only (changing them replaces it), its configuration updates in place. What CloudFormation
can set (aws-cdk-lib 2.275, and the resource schema cfn-lint ships): compaction's strategy (binpack,
sort, z-order), minimum input files and delete-file threshold; retention's days, snapshots to keep
and whether expired files are deleted; orphan deletion's days and location; a VPC connection. Not
settable in CloudFormation: ``runRateInHours`` of retention and orphan deletion (the API's, 3 to 168,
default 24), which stay at Glue's default.

The role follows "Table optimization prerequisites" in the Glue developer guide: S3 read, write and
delete on the table's location, ``glue:GetTable`` and ``glue:UpdateTable`` on the table, its
database and the catalog, and writing Glue's optimizer log groups
(``/aws-glue/iceberg-compaction/logs``, ``-retention``, ``-orphan-file-deletion``), narrowed to the
table's prefix (listing included) and to the log groups of the optimizers declared; the bucket key
through S3 only and the catalog key through Glue only; ``lakeformation:GetDataAccess`` when Lake
Formation governs the location (which also needs Lake Formation grants for the role: the app's).

Documented limits that shape the props ("Considerations and limitations" in the guide):
compaction supports SSE-S3 and SSE-KMS buckets; it is suspended after four consecutive failures;
tables that share an S3 location must not have optimizers (one table's retention or orphan deletion
deletes the other's files: give every table its own prefix, not a prefix of another's); S3 lifecycle
expiration rules must exclude the table's location; orphan deletion only knows committed files, so
its retention must exceed the longest time a writer holds a file before committing it; retention and
orphan deletion delete at most 1,000,000 files per run; no cross-account or cross-Region tables, no
resource links, no S3 Express One Zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.catalog.iceberg_schema import _check_name
from constructs_lib.catalog.iceberg_table import IcebergTable
from constructs_lib.catalog.optimizer_health import OptimizerHealthCheck, optimizer_health_check
from constructs_lib.common.nag import INLINE_POLICY_RULES, acknowledge, acknowledge_resources
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import boolean, instance, integer, text
from constructs_lib.governance.lake_access import KMS_WRITE_ACTIONS, check_prefix, glue_catalog_arns, grant_prefix_write, key_statement

OWNER = "IcebergTableMaintenance"
CompactionStrategy = Literal["binpack", "sort", "z-order"]
#: CloudFormation's optimizer type -> the log group Glue writes that optimizer's runs to.
LOG_GROUPS = {
    "compaction": "/aws-glue/iceberg-compaction/logs",
    "retention": "/aws-glue/iceberg-retention/logs",
    "orphan_file_deletion": "/aws-glue/iceberg-orphan-file-deletion/logs",
}
CATALOG_ACTIONS = ("glue:GetTable", "glue:UpdateTable")
DEFAULT_METRICS_NAMESPACE = "IcebergTableMaintenance"
#: The check's interval: often enough to alarm within hours, within CloudWatch's evaluation range.
MIN_INTERVAL, MAX_INTERVAL = cdk.Duration.minutes(5), cdk.Duration.hours(6)


def _optional_int(owner: str, prop: str, value: object, minimum: int) -> None:
    if value is not None:
        integer(owner, prop, value, minimum=minimum)


@dataclass(frozen=True)
class IcebergCompaction:
    """Compaction settings; ``None`` leaves Glue's default (binpack, 100 input files, 1 delete)."""

    strategy: CompactionStrategy | None = None
    min_input_files: int | None = None
    delete_file_threshold: int | None = None

    def __post_init__(self) -> None:
        if self.strategy is not None and self.strategy not in ("binpack", "sort", "z-order"):
            raise ValueError(f"IcebergCompaction: strategy must be 'binpack', 'sort' or 'z-order'; got {self.strategy!r}")
        _optional_int("IcebergCompaction", "min_input_files", self.min_input_files, 1)
        _optional_int("IcebergCompaction", "delete_file_threshold", self.delete_file_threshold, 1)


@dataclass(frozen=True)
class IcebergSnapshotRetention:
    """Snapshot retention; ``None`` leaves Glue's rule (the table's ``history.expire.*`` properties,
    else 5 days and 1 snapshot). A snapshot is kept while either limit keeps it. Expired snapshots'
    files are deleted unless ``clean_expired_files=False`` (then only the metadata forgets them)."""

    snapshot_retention_days: int | None = None
    snapshots_to_retain: int | None = None
    clean_expired_files: bool = True

    def __post_init__(self) -> None:
        _optional_int("IcebergSnapshotRetention", "snapshot_retention_days", self.snapshot_retention_days, 1)
        _optional_int("IcebergSnapshotRetention", "snapshots_to_retain", self.snapshots_to_retain, 1)
        boolean("IcebergSnapshotRetention", "clean_expired_files", self.clean_expired_files)


@dataclass(frozen=True)
class IcebergOrphanFileDeletion:
    """Orphan file deletion: files under the table's location (or under ``prefix``, a folder of it)
    that no snapshot references and that are older than ``orphan_file_retention_days`` (``None``:
    Glue's 3). Keep it longer than any writer may hold a file before its commit."""

    orphan_file_retention_days: int | None = None
    prefix: str | None = None

    def __post_init__(self) -> None:
        _optional_int("IcebergOrphanFileDeletion", "orphan_file_retention_days", self.orphan_file_retention_days, 1)
        if self.prefix is not None:
            check_prefix(text("IcebergOrphanFileDeletion", "prefix", self.prefix), owner="IcebergOrphanFileDeletion")


@dataclass(frozen=True)
class ExistingIcebergTable:
    """An Iceberg table this app does not declare: where it is, and the key of its objects."""

    database_name: str
    table_name: str
    bucket: s3.IBucket
    prefix: str
    bucket_key: kms.IKey | None = None

    def __post_init__(self) -> None:
        _check_name("ExistingIcebergTable", "database_name", self.database_name)
        _check_name("ExistingIcebergTable", "table_name", self.table_name)
        instance("ExistingIcebergTable", "bucket", self.bucket, s3.IBucket)
        check_prefix(text("ExistingIcebergTable", "prefix", self.prefix), owner="ExistingIcebergTable")
        if self.bucket_key is not None:
            instance("ExistingIcebergTable", "bucket_key", self.bucket_key, kms.IKey)


Table = Union[IcebergTable, ExistingIcebergTable]  # noqa: UP007 - a construct class in a union


class IcebergTableMaintenance(Construct):
    """Attributes: ``optimizers`` (type -> ``AWS::Glue::TableOptimizer``), ``role``, ``health_check``
    (``None`` with ``health_check=False``) and ``alarms`` (type -> alarm; empty without a check)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: Table,
        compaction: IcebergCompaction | None = IcebergCompaction(),
        snapshot_retention: IcebergSnapshotRetention | None = IcebergSnapshotRetention(),
        orphan_file_deletion: IcebergOrphanFileDeletion | None = IcebergOrphanFileDeletion(),
        catalog_key: kms.IKey | None = None,
        lake_formation: bool = False,
        role: iam.IRole | None = None,
        alarm_topic: sns.ITopic | None = None,
        health_check: bool = True,
        check_interval: cdk.Duration = cdk.Duration.hours(1),
        max_hours_without_run: int = 48,
        metrics_namespace: str = DEFAULT_METRICS_NAMESPACE,
        key: kms.IKey | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        instance(OWNER, "table", table, (IcebergTable, ExistingIcebergTable))
        settings = {
            "compaction": (compaction, IcebergCompaction),
            "retention": (snapshot_retention, IcebergSnapshotRetention),
            "orphan_file_deletion": (orphan_file_deletion, IcebergOrphanFileDeletion),
        }
        for (value, kind), prop in zip(settings.values(), ("compaction", "snapshot_retention", "orphan_file_deletion"), strict=True):
            if value is not None:
                instance(OWNER, prop, value, kind)
        declared = [name for name, (value, _) in settings.items() if value is not None]
        if not declared:
            raise ValueError(f"{OWNER}: compaction, snapshot_retention and orphan_file_deletion are all None: nothing to maintain")
        for prop, value in (("catalog_key", catalog_key), ("key", key)):
            if value is not None:
                instance(OWNER, prop, value, kms.IKey)
        boolean(OWNER, "lake_formation", lake_formation)
        boolean(OWNER, "health_check", health_check)
        if role is not None:
            instance(OWNER, "role", role, iam.IRole)
        if alarm_topic is not None:
            instance(OWNER, "alarm_topic", alarm_topic, sns.ITopic)
        instance(OWNER, "check_interval", check_interval, cdk.Duration)
        if not MIN_INTERVAL.to_seconds() <= check_interval.to_seconds() <= MAX_INTERVAL.to_seconds() or check_interval.to_seconds() % 60:
            raise ValueError(f"{OWNER}: check_interval must be whole minutes from 5 minutes to 6 hours; got {check_interval.to_human_string()}")
        integer(OWNER, "max_hours_without_run", max_hours_without_run, minimum=25, maximum=24 * 7 * 2)
        text(OWNER, "metrics_namespace", metrics_namespace)
        if metrics_namespace.startswith("AWS/"):
            raise ValueError(f"{OWNER}: metrics_namespace {metrics_namespace!r} is reserved for AWS services")
        instance(OWNER, "log_retention", log_retention, logs.RetentionDays)
        check_data_removal_policy(removal_policy, owner=OWNER)
        if not health_check:
            for prop, value, default in (
                ("alarm_topic", alarm_topic, None), ("key", key, None), ("removal_policy", removal_policy, cdk.RemovalPolicy.RETAIN),
            ):
                if value != default:
                    raise ValueError(f"{OWNER}: {prop} has no effect with health_check=False; leave it out")
        if compaction is not None and compaction.strategy in ("sort", "z-order") and isinstance(table, IcebergTable) \
                and not table.schema.sort_order["fields"]:
            raise ValueError(f"{OWNER}: compaction strategy {compaction.strategy!r} sorts by the table's sort order, and the table has none (IcebergTable sort_by)")
        orphans = orphan_file_deletion
        if orphans is not None and orphans.prefix is not None and not orphans.prefix.startswith(table.prefix):
            raise ValueError(f"{OWNER}: orphan_file_deletion prefix {orphans.prefix!r} is not under the table's prefix {table.prefix!r}")

        self.table: Table = table
        self.role: iam.IRole = role if role is not None else iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description=f"Glue table optimizers of {table.database_name}.{table.table_name}: this table and its prefix only",
        )
        self._grant(declared, catalog_key, lake_formation, own_role=role is None)
        stack = cdk.Stack.of(self)
        self.optimizers: dict[str, glue.CfnTableOptimizer] = {}
        for name in declared:
            optimizer = glue.CfnTableOptimizer(
                self, name,
                catalog_id=stack.account,
                database_name=table.database_name,
                table_name=table.table_name,
                type=name,
                table_optimizer_configuration=glue.CfnTableOptimizer.TableOptimizerConfigurationProperty(
                    enabled=True,
                    role_arn=self.role.role_arn,
                    compaction_configuration=_compaction(compaction) if name == "compaction" else None,
                    retention_configuration=_retention(snapshot_retention) if name == "retention" else None,
                    orphan_file_deletion_configuration=_orphans(orphan_file_deletion, table) if name == "orphan_file_deletion" else None,
                ),
            )
            # The optimizer's first run needs the role's permissions and the table itself.
            policy = self.role.node.try_find_child("DefaultPolicy")
            if policy is not None:
                optimizer.node.add_dependency(policy)
            if isinstance(table, IcebergTable):
                optimizer.node.add_dependency(table.table)
            self.optimizers[name] = optimizer

        self.health_check: OptimizerHealthCheck | None = None
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        if health_check:
            self.health_check = optimizer_health_check(
                Construct(self, "HealthCheck"),
                database_name=table.database_name, table_name=table.table_name, optimizer_types=declared,
                interval=check_interval, max_hours_without_run=max_hours_without_run, metrics_namespace=metrics_namespace,
                key=key, log_retention=log_retention, removal_policy=removal_policy, alarm_topic=alarm_topic,
            )
            for optimizer in self.optimizers.values():
                self.health_check.function.node.add_dependency(optimizer)
            self.alarms = self.health_check.alarms
            apply_data_removal_policy(self, removal_policy, what="the optimizer check's log group (and its key, unless passed)")

    def _grant(self, declared: list[str], catalog_key: kms.IKey | None, lake_formation: bool, *, own_role: bool) -> None:
        table, role = self.table, self.role
        stack = cdk.Stack.of(self)
        grant_prefix_write(role, table.bucket, table.prefix, table.bucket_key, delete=True)
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=list(CATALOG_ACTIONS), resources=glue_catalog_arns(stack, table.database_name, table.table_name),
        ))
        log_groups = [
            stack.format_arn(service="logs", resource="log-group", resource_name=f"{LOG_GROUPS[name]}:*",
                             arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
            for name in declared
        ]
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], resources=log_groups,
        ))
        if catalog_key is not None:
            role.add_to_principal_policy(key_statement(catalog_key, KMS_WRITE_ACTIONS, via="glue"))
        if lake_formation:
            role.add_to_principal_policy(iam.PolicyStatement(actions=["lakeformation:GetDataAccess"], resources=["*"]))
            acknowledge(role, "lakeformation:GetDataAccess has no resource-level permissions; Lake Formation's own "
                        "grants decide which locations it vends credentials for.", "AwsSolutions-IAM5[Resource::*]")
        acknowledge_resources(
            role, "S3 has no ARN narrower than a key pattern: the optimizers read, rewrite and delete the table's "
            "data and metadata files, every object under its prefix.", table.bucket.arn_for_objects(f"{table.prefix}*"),
        )
        acknowledge_resources(
            role, "Glue names the optimizers' log streams itself, at run time, in the log groups its table optimization "
            "prerequisites name.", *log_groups,
        )
        if own_role:
            acknowledge(role, "The role's permissions are the one inline policy CDK generates from this construct's "
                        "explicit statements, attached to this role only and scoped to one table, its prefix, its keys "
                        "and Glue's optimizer log groups. The IAM User Guide (Managed policies and inline policies) names "
                        "inline policies for a strict one-to-one relationship between a policy and its identity.",
                        *INLINE_POLICY_RULES)


def _compaction(settings: IcebergCompaction | None) -> glue.CfnTableOptimizer.CompactionConfigurationProperty | None:
    if settings is None or (settings.strategy, settings.min_input_files, settings.delete_file_threshold) == (None, None, None):
        return None
    return glue.CfnTableOptimizer.CompactionConfigurationProperty(
        iceberg_configuration=glue.CfnTableOptimizer.IcebergCompactionConfigurationProperty(
            strategy=settings.strategy, min_input_files=settings.min_input_files,
            delete_file_threshold=settings.delete_file_threshold,
        )
    )


def _retention(settings: IcebergSnapshotRetention | None) -> glue.CfnTableOptimizer.RetentionConfigurationProperty | None:
    if settings is None:
        return None
    return glue.CfnTableOptimizer.RetentionConfigurationProperty(
        iceberg_configuration=glue.CfnTableOptimizer.IcebergRetentionConfigurationProperty(
            snapshot_retention_period_in_days=settings.snapshot_retention_days,
            number_of_snapshots_to_retain=settings.snapshots_to_retain,
            clean_expired_files=settings.clean_expired_files,
        )
    )


def _orphans(settings: IcebergOrphanFileDeletion | None, table: Table) -> glue.CfnTableOptimizer.OrphanFileDeletionConfigurationProperty | None:
    if settings is None or (settings.orphan_file_retention_days, settings.prefix) == (None, None):
        return None
    location = None if settings.prefix is None else f"s3://{table.bucket.bucket_name}/{settings.prefix.rstrip('/')}"
    return glue.CfnTableOptimizer.OrphanFileDeletionConfigurationProperty(
        iceberg_configuration=glue.CfnTableOptimizer.IcebergConfigurationProperty(
            orphan_file_retention_period_in_days=settings.orphan_file_retention_days, location=location,
        )
    )
