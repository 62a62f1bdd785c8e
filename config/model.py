"""Typed, validated configuration of one deployment environment.

Every value a stack needs comes from here. The models forbid unknown keys (a typo such as
``removal_polcy`` must fail, not be silently ignored) and carry the allowed range of every
number, so that a wrong value fails at synth with the key named. Rules that relate two fields
live in ``model_validator`` methods next to the fields they relate.

Later features add their own section model here, next to the constructs that consume it, so
that no knob exists before something reads it.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Retention periods that CloudWatch Logs accepts (PutRetentionPolicy); any other number is
#: rejected by the service at deploy time, so it is rejected here at synth time instead.
CLOUDWATCH_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)

#: S3 refuses a transition to STANDARD_IA before day 30, and objects must stay 30 days in
#: STANDARD_IA before a lifecycle rule may move them on to a Glacier class.
S3_MIN_DAYS_BEFORE_INFREQUENT_ACCESS = 30
S3_MIN_DAYS_IN_INFREQUENT_ACCESS = 30

PRODUCTION_ENVIRONMENT = "prod"

_TAG_VALUE = re.compile(r"^[\w\s+=.:/@-]{1,256}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")

TagValue = Annotated[str, Field(min_length=1, max_length=256)]
AwsAccountId = Annotated[str, Field(pattern=r"^\d{12}$")]
AwsRegion = Annotated[str, Field(pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")]


class StrictModel(BaseModel):
    """Immutable, and unknown keys are errors rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_tag_value(value: str) -> str:
    if not _TAG_VALUE.match(value):
        raise ValueError(
            "tag values may contain letters, digits, spaces and + - = . _ : / @ "
            f"(1-256 characters); got {value!r}"
        )
    return value


class TagsConfig(StrictModel):
    """Who owns the environment and who pays for it; applied to every taggable resource."""

    owner: TagValue
    cost_centre: TagValue

    _valid_owner = field_validator("owner", "cost_centre")(_check_tag_value)


class StorageConfig(StrictModel):
    """Lifecycle of the data lake buckets (see constructs_lib.storage.data_lake_storage)."""

    raw_infrequent_access_after_days: int = Field(ge=S3_MIN_DAYS_BEFORE_INFREQUENT_ACCESS, le=3650)
    #: ``null`` keeps raw objects in STANDARD_IA for good.
    raw_glacier_after_days: int | None = Field(default=None, ge=60, le=3650)
    noncurrent_version_expiration_days: int = Field(ge=1, le=3650)
    query_results_expiration_days: int = Field(ge=1, le=3650)

    @model_validator(mode="after")
    def _glacier_after_infrequent_access(self) -> StorageConfig:
        if self.raw_glacier_after_days is None:
            return self
        earliest = self.raw_infrequent_access_after_days + S3_MIN_DAYS_IN_INFREQUENT_ACCESS
        if self.raw_glacier_after_days < earliest:
            raise ValueError(
                "raw_glacier_after_days must be at least raw_infrequent_access_after_days + "
                f"{S3_MIN_DAYS_IN_INFREQUENT_ACCESS} (S3 keeps objects 30 days in STANDARD_IA "
                f"before a Glacier transition): allowed >= {earliest}, "
                f"got {self.raw_glacier_after_days}"
            )
        return self


class LoggingConfig(StrictModel):
    """How long operational logs are kept: S3 server access logs and CloudWatch log groups."""

    retention_days: int

    @field_validator("retention_days")
    @classmethod
    def _cloudwatch_accepts(cls, value: int) -> int:
        if value not in CLOUDWATCH_RETENTION_DAYS:
            allowed = ", ".join(str(d) for d in CLOUDWATCH_RETENTION_DAYS)
            raise ValueError(f"must be one of the CloudWatch Logs retention periods ({allowed}); got {value}")
        return value


class AlarmsConfig(StrictModel):
    """Who hears about alarms: e-mail subscribers of the environment's alarm topic."""

    email_subscribers: tuple[str, ...] = ()

    @field_validator("email_subscribers")
    @classmethod
    def _valid_addresses(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in values if not _EMAIL.match(v)]
        if bad:
            raise ValueError(f"not e-mail addresses: {', '.join(repr(b) for b in bad)}")
        if len(set(values)) != len(values):
            raise ValueError("duplicate e-mail addresses")
        return values


#: Kinesis retention bounds (hours) and the prod minimum the platform promises: 7 days of replay.
KINESIS_MIN_RETENTION_HOURS = 24
KINESIS_MAX_RETENTION_HOURS = 8760
PRODUCTION_MIN_RETENTION_HOURS = 168


class StreamConfig(StrictModel):
    """The Kinesis data stream that the IoT rule writes to and Firehose reads from."""

    #: ``on_demand`` scales by itself; ``provisioned`` needs ``shard_count``.
    capacity_mode: Literal["on_demand", "provisioned"]
    shard_count: int | None = Field(default=None, ge=1, le=500)
    retention_hours: int = Field(ge=KINESIS_MIN_RETENTION_HOURS, le=KINESIS_MAX_RETENTION_HOURS)
    #: Alarm when the oldest unread record is older than this (Firehose is falling behind).
    max_iterator_age_seconds: int = Field(ge=60, le=86400)

    @model_validator(mode="after")
    def _shards_only_when_provisioned(self) -> StreamConfig:
        if self.capacity_mode == "provisioned" and self.shard_count is None:
            raise ValueError("shard_count is required when capacity_mode is 'provisioned'")
        if self.capacity_mode == "on_demand" and self.shard_count is not None:
            raise ValueError("shard_count must be omitted when capacity_mode is 'on_demand' (it scales by itself)")
        return self


class DeliveryConfig(StrictModel):
    """Firehose from the stream to the raw zone. Dynamic partitioning needs a buffer of at least
    64 MiB; the Lambda processor takes 1-2 MiB per invocation (its response cap is 6 MB)."""

    buffer_size_mib: int = Field(ge=64, le=128)
    buffer_interval_seconds: int = Field(ge=60, le=900)
    #: At most 2 MiB: enrichment grows records, and at 3 MiB of typical readings the response
    #: nears the 6 MB Lambda cap (measured by benchmarks/transform_throughput.py).
    processor_buffer_size_mib: int = Field(ge=1, le=2)
    processor_buffer_interval_seconds: int = Field(ge=60, le=900)
    #: Alarm when the oldest record not yet in S3 is older than this.
    max_data_freshness_seconds: int = Field(ge=60, le=86400)


class TransformConfig(StrictModel):
    """The Firehose transform function."""

    memory_mib: int = Field(ge=128, le=10240)
    #: Firehose waits at most 5 minutes for a processor function.
    timeout_seconds: int = Field(ge=60, le=300)


class IngestionConfig(StrictModel):
    """IoT Core -> Kinesis -> Firehose -> raw zone (constructs_lib ingestion constructs)."""

    #: Devices publish to ``<topic_prefix>/<device_id>/telemetry``.
    topic_prefix: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")]
    stream: StreamConfig
    delivery: DeliveryConfig
    transform: TransformConfig


#: Glue's cron: ``cron(Minutes Hours Day-of-month Month Day-of-week Year)``, six fields, one of
#: day-of-month and day-of-week being ``?``. Checked for form here; Glue checks the values.
_GLUE_CRON = re.compile(r"^cron\((\S+ ){5}\S+\)$")


class CrawlerConfig(StrictModel):
    """How the raw-zone crawler treats folders it has seen and schema changes it finds."""

    #: ``crawl_new_folders_only`` reads only folders added since the last crawl (cheap with
    #: hourly partitions) but forces both schema-change behaviours to ``log``.
    recrawl_behavior: Literal["crawl_everything", "crawl_new_folders_only"]
    update_behavior: Literal["log", "update_in_database"]
    delete_behavior: Literal["log", "deprecate_in_database", "delete_from_database"]

    @model_validator(mode="after")
    def _incremental_crawls_only_log(self) -> CrawlerConfig:
        if self.recrawl_behavior == "crawl_new_folders_only" and (
            self.update_behavior != "log" or self.delete_behavior != "log"
        ):
            raise ValueError(
                "recrawl_behavior 'crawl_new_folders_only' requires update_behavior and "
                "delete_behavior 'log' (Glue rejects any other schema-change policy for "
                f"incremental crawls); got update_behavior={self.update_behavior!r}, "
                f"delete_behavior={self.delete_behavior!r}"
            )
        return self


class EtlJobConfig(StrictModel):
    """Capacity and failure handling of the raw-to-curated Glue job (Glue 5.1)."""

    #: G.025X is for streaming jobs only; Z.2X for Ray.
    worker_type: Literal["G.1X", "G.2X", "G.4X", "G.8X"]
    #: Glue's minimum for Spark jobs is 2 (one driver, one executor).
    number_of_workers: int = Field(ge=2, le=299)
    timeout_minutes: int = Field(ge=1, le=2880)
    max_retries: int = Field(ge=0, le=10)


class TableMaintenanceConfig(StrictModel):
    """The Glue Data Catalog table optimizers of the curated Iceberg tables (the same settings for
    both), and the scheduled check that alarms on their failures (constructs_lib
    IcebergTableMaintenance). The shipped values are glue_scripts/curated_table.py ``MAINTENANCE``,
    what the local maintenance and the benchmark run."""

    #: binpack merges small files; sort and z-order also rewrite by the tables' sort order.
    compaction_strategy: Literal["binpack", "sort", "z-order"]
    #: Files a partition needs before compaction rewrites it (Glue's default: 100).
    compaction_min_input_files: int = Field(ge=1)
    #: Snapshots older than this expire (time travel reaches back this far) ...
    snapshot_retention_days: int = Field(ge=1, le=3650)
    #: ... but the newest this many are always kept.
    snapshots_to_keep: int = Field(ge=1, le=1000)
    #: Delete the files only expired snapshots referenced (``false``: the metadata forgets them only).
    clean_expired_files: bool
    #: Files under a table's location that no snapshot references are deleted once this old.
    orphan_file_retention_days: int = Field(ge=1, le=3650)
    #: How often the health check reads the optimizers, and how long retention or orphan deletion
    #: may go without a run before it alarms (they run about daily).
    check_interval_minutes: int = Field(ge=5, le=360)
    max_hours_without_run: int = Field(ge=25, le=336)


class CatalogConfig(StrictModel):
    """Glue Data Catalog, the raw crawler and the raw-to-curated job, run by one Glue workflow, and the
    maintenance of the curated Iceberg tables."""

    #: When the workflow starts: raw crawler -> job.
    schedule: str
    crawler: CrawlerConfig
    job: EtlJobConfig
    maintenance: TableMaintenanceConfig
    #: ``true`` only for the deployments that move an environment created before issue 19 from the
    #: Parquet table to the Iceberg tables: it adds the one-time job that copies the old files in
    #: (README, "Moving an existing environment to Iceberg"). ``false`` again once it has run.
    migrate_from_parquet: bool

    @model_validator(mode="after")
    def _orphans_outlive_a_run(self) -> CatalogConfig:
        """Orphan file deletion only knows committed files: a run's files are orphans until its commit,
        so they must not reach the retention age while a run may still be writing them."""
        if self.maintenance.orphan_file_retention_days * 24 * 60 <= self.job.timeout_minutes:
            raise ValueError(
                f"maintenance.orphan_file_retention_days ({self.maintenance.orphan_file_retention_days}) must be longer "
                f"than job.timeout_minutes ({self.job.timeout_minutes} minutes): orphan file deletion would delete "
                "the files of a run that has not committed yet"
            )
        return self

    @field_validator("schedule")
    @classmethod
    def _glue_cron(cls, value: str) -> str:
        if not _GLUE_CRON.match(value):
            raise ValueError(
                "must be a Glue cron expression with six fields, e.g. 'cron(15 * * * ? *)' "
                f"(Minutes Hours Day-of-month Month Day-of-week Year); got {value!r}"
            )
        return value


#: Athena rejects a per-query cutoff below 10,000,000 bytes.
ATHENA_MIN_BYTES_SCANNED_CUTOFF_MB = 10


class WorkgroupConfig(StrictModel):
    """One Athena workgroup's guard rail: queries scanning more than this are cancelled."""

    bytes_scanned_cutoff_mb: int = Field(ge=ATHENA_MIN_BYTES_SCANNED_CUTOFF_MB, le=1_000_000_000)


class AthenaConfig(StrictModel):
    """The analysts' (ad hoc) and reports' (scheduled) Athena workgroups."""

    analysts: WorkgroupConfig
    reports: WorkgroupConfig


#: Redshift accepts these ports; 5439 is the default and is refused here (a non-default port is a
#: cdk-nag rule and a small obstacle to scans).
REDSHIFT_PORT_RANGES = ((5431, 5455), (8191, 8215))
REDSHIFT_DEFAULT_PORT = 5439
#: Usernames scanners try first, and the one CDK and the console suggest.
REDSHIFT_REFUSED_ADMIN_USERNAMES = frozenset({"awsuser", "admin", "administrator", "root", "rdsadmin", "master"})
PRODUCTION_MIN_SNAPSHOT_RETENTION_DAYS = 7
#: The most nodes a new cluster of each RA3 type may have (CloudFormation caps ra3.16xlarge at 100).
REDSHIFT_MAX_NODES = {"ra3.large": 16, "ra3.xlplus": 16, "ra3.4xlarge": 32, "ra3.16xlarge": 100}
_REDSHIFT_CRON = re.compile(r"^cron\((\S+ ){5}\S+\)$")
_MAINTENANCE_WINDOW = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|\d*xlarge|metal)$")


#: VPC prefix lengths the DataNetwork subnet layout fits (room for three data and three public subnets).
VPC_PREFIX_RANGE = (16, 22)


class NetworkConfig(StrictModel):
    """The environment's VPC (constructs_lib.DataNetwork)."""

    #: A private IPv4 range, /16 to /22.
    cidr: Annotated[str, Field(pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$")]
    availability_zones: int = Field(ge=2, le=3)
    #: 0 keeps the data subnets isolated (AWS reached through VPC endpoints only).
    nat_gateways: int = Field(default=0, ge=0, le=3)

    @field_validator("cidr")
    @classmethod
    def _private_range(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value)
        except ValueError as error:
            raise ValueError(f"must be an IPv4 network such as '10.20.0.0/16' ({error}); got {value!r}") from None
        low, high = VPC_PREFIX_RANGE
        if not network.is_private or not low <= network.prefixlen <= high:
            raise ValueError(f"must be a private (RFC 1918) range of /{low} to /{high}; got {value!r}")
        return value

    @model_validator(mode="after")
    def _nat_per_zone_at_most(self) -> NetworkConfig:
        if self.nat_gateways > self.availability_zones:
            raise ValueError(
                f"nat_gateways ({self.nat_gateways}) must not exceed availability_zones ({self.availability_zones})"
            )
        return self


class SnapshotCopyConfig(StrictModel):
    """Copy automated snapshots to another region. The cluster is KMS-encrypted, so a snapshot
    copy grant named ``grant_name`` must exist in ``destination_region`` before deploying."""

    destination_region: AwsRegion
    retention_days: int = Field(ge=1, le=35)
    grant_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,62}$")]


class PauseResumeConfig(StrictModel):
    """Pause the cluster outside working hours (UTC, Redshift scheduler cron). Not in prod."""

    pause_schedule: str
    resume_schedule: str

    @field_validator("pause_schedule", "resume_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not _REDSHIFT_CRON.match(value):
            raise ValueError(
                "must be a cron expression with six fields, e.g. 'cron(0 19 ? * MON-FRI *)'; "
                f"got {value!r}"
            )
        return value


class RedshiftConfig(StrictModel):
    """The Redshift warehouse (constructs_lib.RedshiftWarehouse) and its Spectrum schema."""

    node_type: Literal["ra3.large", "ra3.xlplus", "ra3.4xlarge", "ra3.16xlarge"]
    number_of_nodes: int = Field(ge=1, le=128)
    port: int
    admin_username: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,127}$")]
    database_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    snapshot_retention_days: int = Field(ge=1, le=35)
    snapshot_copy: SnapshotCopyConfig | None = None
    #: ddd:hh24:mi-ddd:hh24:mi (UTC), at least 30 minutes.
    maintenance_window: str
    admin_secret_rotation_days: int = Field(ge=1, le=365)
    pause_resume: PauseResumeConfig | None = None
    #: Name of the external schema over the curated Glue database.
    spectrum_schema: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,126}$")]

    @field_validator("port")
    @classmethod
    def _redshift_port(cls, value: int) -> int:
        if value == REDSHIFT_DEFAULT_PORT:
            raise ValueError(f"must not be Redshift's default port {REDSHIFT_DEFAULT_PORT}")
        if not any(low <= value <= high for low, high in REDSHIFT_PORT_RANGES):
            raise ValueError(f"must be in 5431-5455 or 8191-8215 (the ports Redshift accepts); got {value}")
        return value

    @field_validator("admin_username")
    @classmethod
    def _not_a_guessable_username(cls, value: str) -> str:
        if value in REDSHIFT_REFUSED_ADMIN_USERNAMES:
            refused = ", ".join(sorted(REDSHIFT_REFUSED_ADMIN_USERNAMES))
            raise ValueError(f"must not be one of {refused}; got {value!r}")
        return value

    @field_validator("maintenance_window")
    @classmethod
    def _window_form(cls, value: str) -> str:
        if not _MAINTENANCE_WINDOW.match(value):
            raise ValueError(f"must look like 'sun:03:00-sun:03:30' (lowercase day, UTC); got {value!r}")
        return value

    @model_validator(mode="after")
    def _node_count_fits_the_type(self) -> RedshiftConfig:
        high = REDSHIFT_MAX_NODES[self.node_type]
        if self.number_of_nodes > high:
            raise ValueError(f"number_of_nodes must be at most {high} for {self.node_type}; got {self.number_of_nodes}")
        return self

    @model_validator(mode="after")
    def _single_node_types(self) -> RedshiftConfig:
        if self.number_of_nodes == 1 and self.node_type not in ("ra3.large", "ra3.xlplus"):
            raise ValueError(
                f"number_of_nodes 1 (a single-node cluster) needs node_type ra3.large or ra3.xlplus; "
                f"{self.node_type} needs at least 2 nodes"
            )
        return self


class KerberosConfig(StrictModel):
    """A cluster-dedicated KDC on the EMR primary node."""

    realm: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9.-]{0,254}$")]
    ticket_lifetime_hours: int = Field(default=24, ge=1, le=720)


class EmrConfig(StrictModel):
    """The long-running EMR cluster (constructs_lib.EmrCluster)."""

    release_label: Annotated[str, Field(pattern=r"^emr-7\.\d+\.\d+$")]
    #: Installed next to Spark and Hive, which are always there.
    extra_applications: tuple[
        Literal["Hadoop", "JupyterEnterpriseGateway", "Livy", "Presto", "Tez", "Trino", "Zeppelin"], ...
    ] = ()
    primary_instance_type: str
    core_instance_type: str
    core_instances: int = Field(ge=1, le=256)
    max_core_instances: int = Field(ge=1, le=256)
    task_instance_type: str
    #: Spot task nodes managed scaling may add; 0 means no task group.
    max_task_instances: int = Field(ge=0, le=256)
    idle_timeout_minutes: int = Field(ge=1, le=10080)
    #: s3://bucket/key.zip of PEM files; enables in-transit encryption. Upload it before deploying.
    tls_certificates_s3_uri: Annotated[str, Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+\.zip$")] | None = None
    kerberos: KerberosConfig | None = None
    key_pair_name: Annotated[str, Field(min_length=1, max_length=255)] | None = None

    @field_validator("primary_instance_type", "core_instance_type", "task_instance_type")
    @classmethod
    def _instance_type_form(cls, value: str) -> str:
        if not _INSTANCE_TYPE.match(value):
            raise ValueError(f"must be an EC2 instance type such as 'm7g.xlarge'; got {value!r}")
        return value

    @model_validator(mode="after")
    def _core_range(self) -> EmrConfig:
        if self.max_core_instances < self.core_instances:
            raise ValueError(
                f"max_core_instances ({self.max_core_instances}) must be at least core_instances ({self.core_instances})"
            )
        return self


#: OpenSearch instance types: ``<family>.<size>.search``.
_SEARCH_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|\d*xlarge)\.search$")
#: Families that multi-AZ with standby does not support (burstable instances).
SEARCH_BURSTABLE_FAMILIES = ("t2", "t3")


class SearchDeliveryConfig(StrictModel):
    """The second Firehose delivery stream, from the Kinesis stream into the OpenSearch domain."""

    #: Firehose's OpenSearch destination buffers 1-100 MiB and 0-900 seconds; recent telemetry is
    #: searchable after at most the interval (plus the transform's own 1 MiB batching).
    buffer_size_mib: int = Field(ge=1, le=100)
    buffer_interval_seconds: int = Field(ge=0, le=900)
    #: How long Firehose retries a failing index request before the document goes to S3.
    retry_duration_seconds: int = Field(ge=0, le=7200)
    #: Alarm when the oldest record not yet indexed is older than this.
    max_data_freshness_seconds: int = Field(ge=60, le=86400)


class SearchConfig(StrictModel):
    """The OpenSearch domain (constructs_lib.SearchDomain) and its delivery stream."""

    data_node_instance_type: str
    data_nodes: int = Field(ge=1, le=80)
    #: gp3 EBS volume per data node.
    volume_size_gib: int = Field(ge=10, le=24576)
    #: Dedicated master nodes: none, or an odd number of three or more for a quorum.
    master_node_instance_type: str | None = None
    master_nodes: Literal[0, 3, 5] = 0
    #: Multi-AZ with standby: three AZs, one of them a standby that takes over on AZ failure.
    multi_az_with_standby: bool = False
    delivery: SearchDeliveryConfig

    @field_validator("data_node_instance_type", "master_node_instance_type")
    @classmethod
    def _search_instance_type(cls, value: str | None) -> str | None:
        if value is not None and not _SEARCH_INSTANCE_TYPE.match(value):
            raise ValueError(f"must be an OpenSearch instance type such as 'r7g.large.search'; got {value!r}")
        return value

    @model_validator(mode="after")
    def _masters_need_a_type(self) -> SearchConfig:
        if (self.master_nodes == 0) != (self.master_node_instance_type is None):
            raise ValueError(
                "master_node_instance_type must be given exactly when master_nodes is 3 or 5; got "
                f"master_nodes={self.master_nodes}, master_node_instance_type={self.master_node_instance_type!r}"
            )
        return self

    @model_validator(mode="after")
    def _standby_requirements(self) -> SearchConfig:
        if not self.multi_az_with_standby:
            return self
        problems = []
        if self.master_nodes == 0:
            problems.append("dedicated master nodes (master_nodes 3 or 5)")
        if self.data_nodes % 3:
            problems.append(f"a multiple of 3 data_nodes (got {self.data_nodes})")
        burstable = [t for t in (self.data_node_instance_type, self.master_node_instance_type)
                     if t is not None and t.split(".")[0] in SEARCH_BURSTABLE_FAMILIES]
        if burstable:
            problems.append(f"no burstable (t2/t3) instance types (got {', '.join(burstable)})")
        if problems:
            raise ValueError("multi_az_with_standby needs " + "; ".join(problems))
        return self


#: The curated table's data columns (glue_scripts/curated_table.py CURATED without the lineage
#: columns; config imports nothing of the app, so tests/unit/config/test_search_and_governance_config.py
#: keeps the two equal), and those a Lake Formation row filter may compare: LF row filters support
#: strings, numbers, booleans and structs, not timestamps or maps.
CURATED_COLUMN_NAMES = ("device_id", "event_time", "ingested_at", "schema_version", "metrics", "attributes")
ROW_FILTER_COLUMNS = ("device_id", "schema_version")
#: Lake Formation's limit on a row filter expression.
MAX_ROW_FILTER_LENGTH = 2047
_ROW_FILTER_KEYWORDS = frozenset({"and", "or", "not", "between", "in", "like", "is", "null", "true", "false"})
_QUOTED = re.compile(r"'(?:[^']|'')*'")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
IamRoleArn = Annotated[str, Field(pattern=r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$")]


class PersonaConfig(StrictModel):
    """A Lake Formation persona's IAM role: imported by ARN, or (``null``) created as
    ``<project>-<env>-<persona>`` and assumable by the account's administrators."""

    role_arn: IamRoleArn | None = None


class RestrictedAnalystConfig(PersonaConfig):
    """An analyst who sees only the curated rows the filter selects (and no sensitive column)."""

    #: Lake Formation row filter (PartiQL subset), e.g. ``device_id LIKE 'eu-%'``.
    row_filter: Annotated[str, Field(min_length=1, max_length=MAX_ROW_FILTER_LENGTH)]

    @field_validator("row_filter")
    @classmethod
    def _filterable_columns_only(cls, value: str) -> str:
        if value.count("'") % 2:
            raise ValueError(f"has an unterminated string literal; got {value!r}")
        names = {word for word in _IDENTIFIER.findall(_QUOTED.sub("''", value)) if word.lower() not in _ROW_FILTER_KEYWORDS}
        unknown = sorted(names - set(ROW_FILTER_COLUMNS))
        if unknown:
            raise ValueError(
                f"may compare only the curated columns {', '.join(ROW_FILTER_COLUMNS)} (Lake Formation row "
                f"filters cannot use timestamps or maps); got {', '.join(unknown)} in {value!r}"
            )
        return value


class GovernanceConfig(StrictModel):
    """Lake Formation over the raw and curated zones (stacks/lake_permissions.py)."""

    #: ``true`` registers the zones in hybrid access mode and keeps IAMAllowedPrincipals on the
    #: databases (IAM policies keep working next to Lake Formation grants); ``false``: Lake
    #: Formation alone decides, and IAMAllowedPrincipals is revoked.
    hybrid_access: bool
    #: Curated columns that no analyst persona may select (column-level security).
    sensitive_columns: tuple[Literal[CURATED_COLUMN_NAMES], ...] = ()  # type: ignore[valid-type]
    analyst: PersonaConfig = PersonaConfig()
    restricted_analyst: RestrictedAnalystConfig

    @field_validator("sensitive_columns")
    @classmethod
    def _unique_and_not_all(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(values)) != len(values):
            raise ValueError(f"lists a column twice; got {list(values)}")
        if set(values) == set(CURATED_COLUMN_NAMES):
            raise ValueError("would hide every column of the curated table from the analysts")
        return values


class SeverityConfig(StrictModel):
    """Anomaly score bands: a reading scoring above ``alert`` standard deviations from its window's
    mean is an anomaly, above ``high`` HIGH, above ``critical`` CRITICAL (HIGH and CRITICAL notify)."""

    alert: float = Field(default=2.0, gt=0, le=100)
    high: float = Field(default=3.0, gt=0, le=100)
    critical: float = Field(default=4.0, gt=0, le=100)

    @model_validator(mode="after")
    def _ascending(self) -> SeverityConfig:
        if not self.alert < self.high < self.critical:
            raise ValueError(
                f"must rise: alert < high < critical; got alert={self.alert}, high={self.high}, critical={self.critical}"
            )
        return self


class DetectionConfig(StrictModel):
    """What the anomaly detector computes: per device and metric, a sliding window of event time."""

    window_minutes: int = Field(default=10, ge=1, le=1440)
    #: How often a window starts; must divide the window's length.
    slide_minutes: int = Field(default=1, ge=1, le=1440)
    #: Readings a window needs before any reading in it is scored.
    min_samples: int = Field(default=10, ge=2, le=100_000)
    severity: SeverityConfig = SeverityConfig()
    #: How far behind a sensor's newest reading a reading may arrive and still be scored; later
    #: readings are counted and written to the anomaly sink as late, never dropped.
    out_of_orderness_seconds: int = Field(default=30, ge=0, le=3600)
    #: Per device and metric, at most one HIGH/CRITICAL notification per period (an escalation is sent at once).
    notification_dedup_minutes: int = Field(default=15, ge=1, le=1440)

    @model_validator(mode="after")
    def _slide_divides_window(self) -> DetectionConfig:
        if self.slide_minutes > self.window_minutes or self.window_minutes % self.slide_minutes:
            raise ValueError(
                f"slide_minutes ({self.slide_minutes}) must divide window_minutes ({self.window_minutes}): every "
                "reading then falls in the same number of windows"
            )
        return self


class FlinkCapacityConfig(StrictModel):
    """The Managed Flink application's capacity: KPUs = parallelism / parallelism_per_kpu, rounded up."""

    parallelism: int = Field(ge=1, le=1000)
    parallelism_per_kpu: int = Field(ge=1, le=8)
    #: The service raises parallelism under sustained CPU load and lowers it when idle.
    autoscaling: bool


class AnomalyDeliveryConfig(StrictModel):
    """The Firehose delivery stream that lands every anomaly in the analytics zone."""

    buffer_size_mib: int = Field(ge=1, le=128)
    buffer_interval_seconds: int = Field(ge=0, le=900)


class StreamingConfig(StrictModel):
    """Real-time anomaly detection on the telemetry stream (Managed Service for Apache Flink)."""

    detection: DetectionConfig = DetectionConfig()
    capacity: FlinkCapacityConfig
    delivery: AnomalyDeliveryConfig
    #: Alarm when the application's enhanced fan-out reader is this far behind the stream's newest record.
    max_millis_behind_latest: int = Field(ge=1000, le=86_400_000)


class EnvironmentConfig(StrictModel):
    """Everything that differs between dev, staging and prod."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,11}$")]
    project: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,19}$")]
    #: Both or neither: without them the stacks are environment-agnostic.
    account: AwsAccountId | None = None
    region: AwsRegion | None = None
    #: ``retain`` keeps buckets, keys and other stateful resources when the stack is deleted;
    #: ``destroy`` empties and deletes them. Production must retain.
    data_removal_policy: Literal["retain", "destroy"]
    tags: TagsConfig
    storage: StorageConfig
    logging: LoggingConfig
    alarms: AlarmsConfig
    ingestion: IngestionConfig
    catalog: CatalogConfig
    athena: AthenaConfig
    network: NetworkConfig
    redshift: RedshiftConfig
    emr: EmrConfig
    search: SearchConfig
    governance: GovernanceConfig
    streaming: StreamingConfig

    @model_validator(mode="after")
    def _account_and_region_together(self) -> EnvironmentConfig:
        if (self.account is None) != (self.region is None):
            raise ValueError(
                "account and region must be given together (or both omitted for an "
                f"environment-agnostic synth); got account={self.account!r}, region={self.region!r}"
            )
        return self

    @model_validator(mode="after")
    def _production_keeps_data(self) -> EnvironmentConfig:
        if self.name == PRODUCTION_ENVIRONMENT and self.data_removal_policy != "retain":
            raise ValueError(
                f"data_removal_policy must be 'retain' in {PRODUCTION_ENVIRONMENT}; "
                f"got {self.data_removal_policy!r}"
            )
        return self

    @model_validator(mode="after")
    def _production_alarms_reach_someone(self) -> EnvironmentConfig:
        if self.name == PRODUCTION_ENVIRONMENT and not self.alarms.email_subscribers:
            raise ValueError(
                f"alarms.email_subscribers must list at least one address in {PRODUCTION_ENVIRONMENT}"
            )
        return self

    @model_validator(mode="after")
    def _production_can_replay_a_week(self) -> EnvironmentConfig:
        hours = self.ingestion.stream.retention_hours
        if self.name == PRODUCTION_ENVIRONMENT and hours < PRODUCTION_MIN_RETENTION_HOURS:
            raise ValueError(
                f"ingestion.stream.retention_hours must be at least {PRODUCTION_MIN_RETENTION_HOURS} "
                f"(7 days) in {PRODUCTION_ENVIRONMENT}; got {hours}"
            )
        return self

    @model_validator(mode="after")
    def _production_warehouse_survives(self) -> EnvironmentConfig:
        if self.name != PRODUCTION_ENVIRONMENT:
            return self
        redshift = self.redshift
        if redshift.snapshot_retention_days < PRODUCTION_MIN_SNAPSHOT_RETENTION_DAYS:
            raise ValueError(
                f"redshift.snapshot_retention_days must be at least {PRODUCTION_MIN_SNAPSHOT_RETENTION_DAYS} "
                f"in {PRODUCTION_ENVIRONMENT}; got {redshift.snapshot_retention_days}"
            )
        if redshift.number_of_nodes < 2:
            raise ValueError(
                f"redshift.number_of_nodes must be at least 2 in {PRODUCTION_ENVIRONMENT} "
                "(a single-node cluster has no data redundancy within the cluster); "
                f"got {redshift.number_of_nodes}"
            )
        if redshift.pause_resume is not None:
            raise ValueError(f"redshift.pause_resume must be omitted in {PRODUCTION_ENVIRONMENT} (prod is always on)")
        return self

    @model_validator(mode="after")
    def _snapshot_copy_leaves_the_region(self) -> EnvironmentConfig:
        copy = self.redshift.snapshot_copy
        if copy is not None and self.region is not None and copy.destination_region == self.region:
            raise ValueError(
                "redshift.snapshot_copy.destination_region must differ from the environment's "
                f"region {self.region!r}"
            )
        return self

    @model_validator(mode="after")
    def _search_nodes_spread_over_the_zones(self) -> EnvironmentConfig:
        zones, search = self.network.availability_zones, self.search
        if search.data_nodes % zones:
            raise ValueError(
                f"search.data_nodes ({search.data_nodes}) must be a multiple of network.availability_zones "
                f"({zones}): the domain spreads its data nodes evenly over the VPC's zones"
            )
        if search.multi_az_with_standby and zones != 3:
            raise ValueError(
                f"search.multi_az_with_standby needs network.availability_zones 3; got {zones}"
            )
        return self

    @model_validator(mode="after")
    def _production_search_is_highly_available(self) -> EnvironmentConfig:
        search = self.search
        if self.name == PRODUCTION_ENVIRONMENT and not (search.multi_az_with_standby and search.master_nodes >= 3):
            raise ValueError(
                f"search must be highly available in {PRODUCTION_ENVIRONMENT}: multi_az_with_standby true and "
                f"master_nodes 3 or 5; got multi_az_with_standby={search.multi_az_with_standby}, "
                f"master_nodes={search.master_nodes}"
            )
        return self

    @model_validator(mode="after")
    def _persona_roles_in_this_account(self) -> EnvironmentConfig:
        if self.account is None:
            return self
        governance = self.governance
        for persona in ("analyst", "restricted_analyst"):
            arn = getattr(governance, persona).role_arn
            if arn is not None and arn.split(":")[4] != self.account:
                raise ValueError(
                    f"governance.{persona}.role_arn must be a role of the environment's account {self.account}; got {arn!r}"
                )
        return self

    @property
    def is_environment_agnostic(self) -> bool:
        return self.account is None

    @property
    def is_production(self) -> bool:
        return self.name == PRODUCTION_ENVIRONMENT

    @property
    def destroys_data_on_delete(self) -> bool:
        return self.data_removal_policy == "destroy"

    @property
    def resource_tags(self) -> dict[str, str]:
        """Tags applied to every taggable resource of the environment's stacks."""
        return {
            "project": self.project,
            "environment": self.name,
            "owner": self.tags.owner,
            "cost-centre": self.tags.cost_centre,
        }


class BaselineConfig(StrictModel):
    """Tags of the account baseline stack.

    The baseline is shared by every environment deployed to the same account and region, so
    its template must not depend on which environment was selected: it takes its tags from
    here, never from an environment.
    """

    owner: TagValue
    cost_centre: TagValue
    #: IAM role names (in the deploying account) made Lake Formation data lake administrators,
    #: next to the CDK bootstrap's CloudFormation execution role. Names, not ARNs: the baseline
    #: template is the same for every account it is deployed to.
    lake_formation_admin_roles: tuple[Annotated[str, Field(pattern=r"^[A-Za-z0-9_+=,.@-]{1,64}$")], ...] = ()

    _valid_owner = field_validator("owner", "cost_centre")(_check_tag_value)

    @field_validator("lake_formation_admin_roles")
    @classmethod
    def _unique_roles(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(values)) != len(values):
            raise ValueError(f"lists a role twice; got {list(values)}")
        return values


class ProjectConfig(StrictModel):
    """Settings shared by all environments (config/project.yaml)."""

    project: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,19}$")]
    baseline: BaselineConfig
    #: Version of AWS's public Powertools for AWS Lambda (Python) v3 layer for Python 3.14
    #: (arn:aws:lambda:<region>:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-x86_64:<n>).
    powertools_layer_version: int = Field(ge=1, le=1000)

    def baseline_tags(self) -> dict[str, str]:
        return {
            "project": self.project,
            "environment": "account-baseline",
            "owner": self.baseline.owner,
            "cost-centre": self.baseline.cost_centre,
        }


class AppConfig(StrictModel):
    """What app.py needs: the project-wide settings and the selected environment."""

    project: ProjectConfig
    environment: EnvironmentConfig
