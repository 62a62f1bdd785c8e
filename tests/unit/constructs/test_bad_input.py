"""Bad input to every public construct fails at synth with a clear error naming the construct and the
prop (issue 17): a ``str`` where a list is expected (a ``str`` is a ``Sequence[str]`` to a type
checker, and would be split into characters), a ``str`` or ``bool`` where an ``int`` is, a
non-``bool`` where a ``bool`` is, an ARN string where a CDK object is; and props that would have no
effect or contradict each other.

Each case starts from a builder that builds the construct with valid props (checked by
``test_the_valid_props_build``) and overrides one prop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns

from constructs_lib import (
    AlarmTopic,
    AthenaWorkgroup,
    DatabaseGrant,
    DataCatalogEncryption,
    DataCellsFilterGrant,
    DataLakeSettings,
    DataNetwork,
    EmrCapacity,
    EmrCluster,
    EmrKerberos,
    EtlWorkflow,
    ExistingIcebergTable,
    GlueSecurity,
    IamAllowedPrincipalsRevocation,
    IcebergColumn,
    IcebergCompaction,
    IcebergOrphanFileDeletion,
    IcebergPartitionField,
    IcebergSnapshotRetention,
    IcebergSortField,
    IcebergTable,
    IcebergTableMaintenance,
    IotTelemetryRule,
    LakeCrawler,
    LakeDataCellsFilter,
    LakeEtlJob,
    LakeLocation,
    LakePermissions,
    LocationGrant,
    NamedQuery,
    PauseResumeSchedule,
    RawZoneDelivery,
    RedshiftSql,
    RedshiftWarehouse,
    RegisteredLocations,
    ResourceNamer,
    SearchCapacity,
    SearchDomain,
    SearchRole,
    SearchSecurityRoles,
    SnapshotCopy,
    StreamToSearchDelivery,
    TableGrant,
    TelemetryStream,
    grant_catalog_read,
    grant_prefix_read,
    grant_prefix_write,
)
from tests.unit.constructs.stack_helpers import stack

KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
ROLE_ARN = "arn:aws:iam::111122223333:role/team-analyst"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:team-admin-AbCdEf"
CODE = lambda_.Code.from_inline("def handler(event, context):\n    return event\n")


def _key(scope: cdk.Stack) -> kms.IKey:
    found = scope.node.try_find_child("ImportedKey")
    return found if found is not None else kms.Key.from_key_arn(scope, "ImportedKey", KEY_ARN)


def _bucket(scope: cdk.Stack) -> s3.IBucket:
    found = scope.node.try_find_child("Lake")
    return found if found is not None else s3.Bucket.from_bucket_name(scope, "Lake", "team-lake")


def _stream(scope: cdk.Stack) -> kinesis.IStream:
    return kinesis.Stream.from_stream_arn(scope, "Stream", "arn:aws:kinesis:eu-west-1:111122223333:stream/telemetry")


def _security(scope: cdk.Stack) -> GlueSecurity:
    return GlueSecurity(scope, "Security", configuration_name="team-security", data_key=_key(scope))


def _vpc(scope: cdk.Stack) -> ec2.IVpc:
    found = scope.node.try_find_child("Vpc")
    return found if found is not None else ec2.Vpc.from_vpc_attributes(
        scope, "Vpc", vpc_id="vpc-1", availability_zones=["eu-west-1a", "eu-west-1b"],
        isolated_subnet_ids=["subnet-1", "subnet-2"], vpc_cidr_block="10.20.0.0/16",
    )


SMALL = dict(data_node_instance_type="r7g.large.search", data_nodes=2, volume_size_gib=20)
ISOLATED = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
EMR_CAPACITY = dict(
    primary_instance_type="m7g.xlarge", core_instance_type="r7g.2xlarge", core_instances=2, max_core_instances=5,
    task_instance_type="c7g.4xlarge", max_task_instances=0,
)


def _location(scope: cdk.Stack, prefix: str = "raw/") -> LakeLocation:
    return LakeLocation(bucket=_bucket(scope), prefix=prefix, key=_key(scope))


def _role(scope: cdk.Stack) -> iam.IRole:
    found = scope.node.try_find_child("Grantee")
    return found if found is not None else iam.Role(scope, "Grantee", assumed_by=iam.AccountRootPrincipal())


def _emr(scope: cdk.Stack, **p: Any) -> EmrCluster:
    vpc = _vpc(scope)
    return EmrCluster(scope, "Subject", **{
        "release_label": "emr-7.5.0", "vpc": vpc, "subnet": vpc.isolated_subnets[0], "capacity": EmrCapacity(**EMR_CAPACITY),
        "data_key": _key(scope), "log_bucket": _bucket(scope), "log_prefix": "emr/", "idle_timeout": cdk.Duration.hours(1),
        "read_locations": [_location(scope)], "write_locations": [_location(scope, "curated/")], **p,
    })


def _warehouse(scope: cdk.Stack, **p: Any) -> RedshiftWarehouse:
    return RedshiftWarehouse(scope, "Subject", **{
        "vpc": _vpc(scope), "vpc_subnets": ISOLATED, "audit_log_bucket": s3.Bucket(
            scope, "Audit", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        ),
        "admin_secret_rotation": cdk.Duration.days(30), "alarm_topic": None, **p,
    })


def _sql(scope: cdk.Stack, **p: Any) -> RedshiftSql:
    return RedshiftSql(scope, "Subject", **{
        "secret": secretsmanager.Secret.from_secret_complete_arn(scope, "Secret", SECRET_ARN), "vpc": _vpc(scope),
        "vpc_subnets": ISOLATED, **p,
    })


def _search_roles(scope: cdk.Stack, **p: Any) -> SearchSecurityRoles:
    domain = SearchDomain(scope, "Search", vpc=_vpc(scope), vpc_subnets=ISOLATED, capacity=SearchCapacity(**SMALL))
    return SearchSecurityRoles(scope, "Subject", **{"domain": domain, "vpc": _vpc(scope), "vpc_subnets": ISOLATED, **p})


def _cells_filter(scope: cdk.Stack) -> LakeDataCellsFilter:
    return LakeDataCellsFilter(scope, "Filter", database_name="team_db", table_name="events", name="eu_rows")


ANALYSTS = SearchRole.reader([ROLE_ARN], ["logs-*"], name="analysts")

#: construct -> (builder(scope, **props), its valid props). Builders add what needs a scope.
Builder = Callable[..., Any]
BUILDERS: dict[str, tuple[Builder, dict[str, Any]]] = {
    "AlarmTopic": (lambda scope, **p: AlarmTopic(scope, "Subject", **p), {"email_subscribers": ["oncall@acme.example"]}),
    "TelemetryStream": (lambda scope, **p: TelemetryStream(scope, "Subject", **p), {"shard_count": 2}),
    "DataCatalogEncryption": (lambda scope, **p: DataCatalogEncryption(scope, "Subject", **p), {}),
    "GlueSecurity": (
        lambda scope, **p: GlueSecurity(scope, "Subject", data_key=_key(scope), **p),
        {"configuration_name": "team-security"},
    ),
    "RawZoneDelivery": (
        lambda scope, **p: RawZoneDelivery(
            scope, "Subject", source_stream=_stream(scope), destination_bucket=_bucket(scope), destination_key=_key(scope),
            transform_code=CODE, log_key=_key(scope), **p,
        ),
        {"transform_handler": "index.handler", "partition_keys": ["event_date"], "transform_memory_mib": 256},
    ),
    "LakeCrawler": (
        lambda scope, **p: LakeCrawler(
            scope, "Subject", bucket=_bucket(scope), bucket_key=_key(scope), security=_security(scope), **p
        ),
        {"crawler_name": "team-crawler", "database_name": "team_db", "prefix": "curated/"},
    ),
    "LakeEtlJob": (
        lambda scope, **p: LakeEtlJob(
            scope, "Subject", job_name="team-job", script=glue.Code.from_bucket(_bucket(scope), "job.py"),
            source_bucket=_bucket(scope), source_prefix="raw/", target_bucket=_bucket(scope), data_key=_key(scope),
            security=_security(scope), **p,
        ),
        {"target_prefixes": ["curated/"], "number_of_workers": 2, "max_retries": 0},
    ),
    "AthenaWorkgroup": (
        lambda scope, **p: AthenaWorkgroup(
            scope, "Subject", workgroup_name="team-adhoc", results_bucket=_bucket(scope), results_prefix="results/",
            results_key=_key(scope), **p,
        ),
        {"bytes_scanned_cutoff_per_query": 10_000_000, "named_queries": [NamedQuery("daily", "Daily count", "team_db", "SELECT 1")]},
    ),
    "EtlWorkflow": (
        lambda scope, **p: EtlWorkflow(
            scope, "Subject", workflow_name="team-workflow", schedule=glue.TriggerSchedule.expression("cron(0 3 * * ? *)"),
            alarm_topic=None, **p,
        ),
        {"steps": "job"},  # replaced by the builder test with a real job (see _workflow_steps)
    ),
    "IotTelemetryRule": (
        lambda scope, **p: IotTelemetryRule(scope, "Subject", stream=_stream(scope), **p),
        {"topic_prefix": "sensors", "log_key": "key"},  # "key": replaced by the imported key in build()
    ),
    "DataNetwork": (
        lambda scope, **p: DataNetwork(
            scope, "Subject", cidr="10.20.0.0/16", flow_log_retention=logs.RetentionDays.ONE_MONTH, **p
        ),
        {"availability_zones": 2, "nat_gateways": 0, "interface_endpoints": [ec2.InterfaceVpcEndpointAwsService.STS],
         "allow_availability_zone_lookup": False},
    ),
    "SearchDomain": (
        lambda scope, **p: SearchDomain(
            scope, "Subject", vpc=_vpc(scope), vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED), **p
        ),
        {"capacity": SearchCapacity(**SMALL)},
    ),
    "StreamToSearchDelivery": (
        lambda scope, **p: StreamToSearchDelivery(
            scope, "Subject", source_stream=_stream(scope),
            domain=__import__("aws_cdk.aws_opensearchservice", fromlist=["Domain"]).Domain.from_domain_endpoint(
                scope, "Domain", "https://search-team-abc.eu-west-1.es.amazonaws.com"),
            domain_connections=ec2.SecurityGroup.from_security_group_id(scope, "DomainSg", "sg-1"),
            vpc=_vpc(scope), vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            backup_bucket=_bucket(scope), backup_key=_key(scope), transform_code=CODE, transform_handler="index.handler",
            log_key=_key(scope), **p,
        ),
        {"transform_memory_mib": 256, "transform_layers": []},
    ),
    "EmrCluster": (
        _emr,
        {"cluster_name": "team-cluster", "catalog_databases": ["team_db"], "applications": ["Livy"], "catalog_key": "key",
         "termination_protection": False},
    ),
    "EmrCapacity": (lambda scope, **p: EmrCapacity(**p), EMR_CAPACITY),
    "EmrKerberos": (lambda scope, **p: EmrKerberos(**p), {"realm": "TEAM.EXAMPLE.COM", "ticket_lifetime_hours": 24}),
    "RedshiftWarehouse": (
        _warehouse,
        {"node_type": "ra3.xlplus", "number_of_nodes": 1, "port": 5441, "admin_username": "team_admin",
         "database_name": "team", "audit_log_prefix": "redshift/", "snapshot_retention_days": 7,
         "maintenance_window": "sun:03:00-sun:03:30"},
    ),
    "SnapshotCopy": (
        lambda scope, **p: SnapshotCopy(**p),
        {"destination_region": "eu-central-1", "retention_days": 7, "grant_name": "team-grant"},
    ),
    "PauseResumeSchedule": (
        lambda scope, **p: PauseResumeSchedule(**p),
        {"pause_schedule": "cron(0 19 ? * MON-FRI *)", "resume_schedule": "cron(0 7 ? * MON-FRI *)"},
    ),
    "RedshiftSql": (
        _sql, {"cluster_identifier": "team-dw", "database": "team", "create_statements": ["SELECT 1"], "delete_statements": []}
    ),
    "SearchSecurityRoles": (_search_roles, {"roles": [ANALYSTS]}),
    "SearchRole": (
        lambda scope, **p: SearchRole(**p),
        {"name": "analysts", "backend_role_arns": [ROLE_ARN], "index_patterns": ["logs-*"], "index_actions": ["crud"]},
    ),
    "DataLakeSettings": (
        lambda scope, **p: DataLakeSettings(scope, "Subject", **p),
        {"admin_arns": [ROLE_ARN], "deployment_role_arn": "arn:aws:iam::111122223333:role/team-deploy"},
    ),
    "LakeLocation": (lambda scope, **p: LakeLocation(**{"bucket": _bucket(scope), "key": _key(scope), **p}), {"prefix": "raw/"}),
    "RegisteredLocations": (
        lambda scope, **p: RegisteredLocations(scope, "Subject", **{"locations": [_location(scope)], **p}),
        {"hybrid_access": False},
    ),
    "LakePermissions": (
        lambda scope, **p: LakePermissions(scope, "Subject", **p),
        {"principal_arn": ROLE_ARN, "grants": [DatabaseGrant("team_db", ["DESCRIBE"])]},
    ),
    "DatabaseGrant": (lambda scope, **p: DatabaseGrant(**p), {"database": "team_db", "permissions": ["DESCRIBE"]}),
    "TableGrant": (
        lambda scope, **p: TableGrant(**p),
        {"database": "team_db", "table": "events", "permissions": ["SELECT"], "excluded_columns": ["email"]},
    ),
    "LocationGrant": (lambda scope, **p: LocationGrant(**{"location": _location(scope), **p}), {"with_grant_option": False}),
    "DataCellsFilterGrant": (
        lambda scope, **p: DataCellsFilterGrant(**{"filter": _cells_filter(scope), **p}), {"permissions": ["SELECT"]}
    ),
    "LakeDataCellsFilter": (
        lambda scope, **p: LakeDataCellsFilter(scope, "Subject", **p),
        {"database_name": "team_db", "table_name": "events", "name": "eu_rows", "row_filter": "region = 'eu'",
         "excluded_columns": ["email"]},
    ),
    "IamAllowedPrincipalsRevocation": (
        lambda scope, **p: IamAllowedPrincipalsRevocation(scope, "Subject", **p),
        {"database_names": ["team_db"], "restore_on_delete": False},
    ),
    "IcebergTable": (
        lambda scope, **p: IcebergTable(scope, "Subject", **{"bucket": _bucket(scope), "bucket_key": _key(scope), **p}),
        {"database_name": "team_db", "table_name": "events", "prefix": "events/", "columns": [IcebergColumn("id", "string")],
         "partition_by": [IcebergPartitionField("id", "bucket[8]")], "format_version": 2},
    ),
    "IcebergTableMaintenance": (
        lambda scope, **p: IcebergTableMaintenance(
            scope, "Subject", **{"table": ExistingIcebergTable("team_db", "events", _bucket(scope), "events/", _key(scope)), **p}
        ),
        {"compaction": IcebergCompaction(min_input_files=2), "max_hours_without_run": 48, "check_interval": cdk.Duration.hours(1)},
    ),
    "IcebergColumn": (lambda scope, **p: IcebergColumn(**p), {"name": "id", "type": "string", "required": False}),
    "IcebergPartitionField": (lambda scope, **p: IcebergPartitionField(**p), {"source": "event_time", "transform": "day"}),
    "IcebergSortField": (lambda scope, **p: IcebergSortField(**p), {"source": "id", "direction": "asc"}),
    "IcebergCompaction": (lambda scope, **p: IcebergCompaction(**p), {"min_input_files": 2}),
    "IcebergSnapshotRetention": (lambda scope, **p: IcebergSnapshotRetention(**p), {"clean_expired_files": True}),
    "IcebergOrphanFileDeletion": (lambda scope, **p: IcebergOrphanFileDeletion(**p), {"prefix": "events/data/"}),
    "ExistingIcebergTable": (
        lambda scope, **p: ExistingIcebergTable(**{"bucket": _bucket(scope), **p}),
        {"database_name": "team_db", "table_name": "events", "prefix": "events/"},
    ),
    "ResourceNamer": (lambda scope, **p: ResourceNamer(**p), {"project": "team", "stage": "dev"}),
    "ResourceNamer.name": (lambda scope, **p: ResourceNamer("team", "dev").name(**p), {"part": "raw"}),
    "grant_prefix_read": (
        lambda scope, **p: grant_prefix_read(**{"grantee": _role(scope), "bucket": _bucket(scope), "key": _key(scope), **p}),
        {"prefix": "raw/"},
    ),
    "grant_prefix_write": (
        lambda scope, **p: grant_prefix_write(**{"grantee": _role(scope), "bucket": _bucket(scope), "key": _key(scope), **p}),
        {"prefix": "curated/", "delete": True},
    ),
    "grant_catalog_read": (
        lambda scope, **p: grant_catalog_read(**{"role": _role(scope), **p}),
        {"database_names": ["team_db"], "catalog_key": "key", "actions": ["glue:GetTable"]},
    ),
}


def build(name: str, /, **overrides: Any) -> Any:
    builder, props = BUILDERS[name]
    scope = stack()
    props = {**props, **overrides}
    for prop in ("log_key", "catalog_key"):
        if props.get(prop) == "key":
            props[prop] = _key(scope)
    if name == "EtlWorkflow" and props.get("steps") == "job":
        job = LakeEtlJob(
            scope, "Job", job_name="team-job", script=glue.Code.from_bucket(_bucket(scope), "job.py"),
            source_bucket=_bucket(scope), source_prefix="raw/", target_bucket=_bucket(scope),
            target_prefixes=["curated/"], data_key=_key(scope), security=_security(scope),
        )
        props["steps"] = [job.job]
    return builder(scope, **props)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_the_valid_props_build(name: str) -> None:
    build(name)


#: (construct, prop, bad value, error type, what the message must contain besides the construct and prop)
CASES: list[tuple[str, str, Any, type[Exception], str]] = [
    # a str where a list is expected
    ("AlarmTopic", "email_subscribers", "oncall@acme.example", TypeError, "not a single string"),
    ("RawZoneDelivery", "partition_keys", "event_date", TypeError, "not a single string"),
    ("LakeEtlJob", "target_prefixes", "curated/", TypeError, "not a single string"),
    ("DataNetwork", "interface_endpoints", "sts", TypeError, "must be a list"),
    ("AthenaWorkgroup", "named_queries", NamedQuery("daily", "Daily count", "team_db", "SELECT 1"), TypeError, "must be a list"),
    ("EtlWorkflow", "steps", "team-job", TypeError, "must be a list"),
    ("RawZoneDelivery", "transform_layers", "arn:aws:lambda:eu-west-1:111122223333:layer:x:1", TypeError, "must be a list"),
    ("StreamToSearchDelivery", "transform_layers", "arn:aws:lambda:eu-west-1:111122223333:layer:x:1", TypeError, "must be a list"),
    # a list of the wrong things
    ("AlarmTopic", "email_subscribers", ["oncall@acme.example", 7], TypeError, "non-empty strings"),
    ("AlarmTopic", "email_subscribers", ["a@acme.example", "a@acme.example"], ValueError, "more than once"),
    ("RawZoneDelivery", "partition_keys", [], ValueError, "at least one key"),
    ("AthenaWorkgroup", "named_queries", ["SELECT 1"], TypeError, "NamedQuery"),
    ("EtlWorkflow", "steps", ["team-job"], TypeError, "must hold"),
    # a str (or bool) where an int is expected
    ("TelemetryStream", "shard_count", "2", TypeError, "must be an int"),
    ("TelemetryStream", "shard_count", True, TypeError, "must be an int"),
    ("DataNetwork", "availability_zones", "2", TypeError, "must be an int"),
    ("DataNetwork", "nat_gateways", 1.0, TypeError, "must be an int"),
    ("LakeEtlJob", "number_of_workers", "2", TypeError, "must be an int"),
    ("LakeEtlJob", "max_retries", 11, ValueError, "at most 10"),
    ("AthenaWorkgroup", "bytes_scanned_cutoff_per_query", "10000000", TypeError, "must be an int"),
    ("RawZoneDelivery", "transform_memory_mib", "256", TypeError, "must be an int"),
    ("RawZoneDelivery", "transform_memory_mib", 64, ValueError, "at least 128"),
    ("StreamToSearchDelivery", "transform_memory_mib", "256", TypeError, "must be an int"),
    # a non-bool where a bool is expected
    ("DataNetwork", "allow_availability_zone_lookup", "false", TypeError, "True or False"),
    # a str where a CDK object is expected
    ("GlueSecurity", "existing_key", KEY_ARN, TypeError, "must be a IKey"),
    ("DataNetwork", "existing_flow_log_key", KEY_ARN, TypeError, "must be a IKey"),
    ("AlarmTopic", "existing_key", KEY_ARN, TypeError, "must be a IKey"),
    ("SearchDomain", "capacity", "r7g.large.search", TypeError, "must be a SearchCapacity"),
    ("TelemetryStream", "retention", 24, TypeError, "must be a Duration"),
    ("RawZoneDelivery", "buffering_size", 64, TypeError, "must be a Size"),
    ("RawZoneDelivery", "transform_runtime", "python3.12", TypeError, "must be a Runtime"),
    ("RawZoneDelivery", "transform_architecture", "arm64", TypeError, "must be a Architecture"),
    ("RawZoneDelivery", "transform_runtime", lambda_.Runtime.NODEJS_22_X, ValueError, "Python runtime"),
    ("RawZoneDelivery", "metrics_namespace", "AWS/Firehose", ValueError, "reserved"),
    ("StreamToSearchDelivery", "transform_environment", {"LEVEL": 1}, TypeError, "map strings to strings"),
    ("LakeEtlJob", "arguments", {"--flag": True}, TypeError, "map strings to strings"),
    ("LakeCrawler", "crawler_name", "", ValueError, "must not be empty"),
    ("LakeCrawler", "database_name", None, TypeError, "must be a string"),
    ("IotTelemetryRule", "topic_prefix", 7, TypeError, "must be a string"),
    ("IotTelemetryRule", "log_key", KEY_ARN, TypeError, "must be a IKey"),
    # EmrCluster, EmrCapacity, EmrKerberos
    ("EmrCluster", "catalog_databases", "team_db", TypeError, "not a single string"),
    ("EmrCluster", "catalog_databases", 7, TypeError, "must be a list"),
    ("EmrCluster", "applications", "Livy", TypeError, "not a single string"),
    ("EmrCluster", "read_locations", "s3://team-lake/raw/", TypeError, "must be a list"),
    ("EmrCluster", "write_locations", ["s3://team-lake/curated/"], TypeError, "must hold LakeLocation"),
    ("EmrCluster", "capacity", "m7g.xlarge", TypeError, "must be a EmrCapacity"),
    ("EmrCluster", "kerberos", "TEAM.EXAMPLE.COM", TypeError, "must be a EmrKerberos"),
    ("EmrCluster", "data_key", KEY_ARN, TypeError, "must be a IKey"),
    ("EmrCluster", "log_key", KEY_ARN, TypeError, "must be a IKey"),
    ("EmrCluster", "catalog_key", KEY_ARN, TypeError, "must be a IKey"),
    ("EmrCluster", "log_bucket", "team-logs", TypeError, "must be a IBucket"),
    ("EmrCluster", "idle_timeout", 3600, TypeError, "must be a Duration"),
    ("EmrCluster", "termination_protection", "false", TypeError, "True or False"),
    ("EmrCluster", "cluster_name", 7, TypeError, "must be a string"),
    ("EmrCluster", "log_prefix", None, TypeError, "must be a string"),
    ("EmrCluster", "key_pair_name", 7, TypeError, "must be a string"),
    ("EmrCluster", "tls_certificates_s3_uri", 7, TypeError, "must be a string"),
    ("EmrCapacity", "core_instances", "2", TypeError, "must be an int"),
    ("EmrCapacity", "max_core_instances", True, TypeError, "must be an int"),
    ("EmrCapacity", "max_task_instances", 1.5, TypeError, "must be an int"),
    ("EmrKerberos", "ticket_lifetime_hours", "24", TypeError, "must be an int"),
    # RedshiftWarehouse, SnapshotCopy, PauseResumeSchedule (the int and percent props keep their range messages)
    ("RedshiftWarehouse", "node_type", 7, TypeError, "must be a string"),
    ("RedshiftWarehouse", "number_of_nodes", "2", ValueError, "got '2'"),
    ("RedshiftWarehouse", "port", "5441", ValueError, "got '5441'"),
    ("RedshiftWarehouse", "snapshot_retention_days", True, ValueError, "whole number"),
    ("RedshiftWarehouse", "cpu_alarm_percent", "90", ValueError, "above 0 and below 100"),
    ("RedshiftWarehouse", "admin_username", None, TypeError, "must be a string"),
    ("RedshiftWarehouse", "maintenance_window", 3, TypeError, "must be a string"),
    ("RedshiftWarehouse", "cluster_name", 7, TypeError, "must be a string"),
    ("RedshiftWarehouse", "admin_secret_rotation", 30, TypeError, "must be a Duration"),
    ("RedshiftWarehouse", "vpc_subnets", "subnet-1", TypeError, "must be a SubnetSelection"),
    ("RedshiftWarehouse", "audit_log_bucket", "team-audit", TypeError, "must be a IBucket"),
    ("RedshiftWarehouse", "alarm_topic", "arn:aws:sns:eu-west-1:111122223333:alarms", TypeError, "must be a ITopic"),
    ("RedshiftWarehouse", "encryption_key", KEY_ARN, TypeError, "must be a IKey"),
    ("RedshiftWarehouse", "snapshot_copy", "eu-central-1", TypeError, "must be a SnapshotCopy"),
    ("RedshiftWarehouse", "pause_resume", "cron(0 19 ? * MON-FRI *)", TypeError, "must be a PauseResumeSchedule"),
    ("SnapshotCopy", "destination_region", 7, TypeError, "must be a string"),
    ("SnapshotCopy", "grant_name", None, TypeError, "must be a string"),
    ("PauseResumeSchedule", "pause_schedule", None, TypeError, "must be a string"),
    ("PauseResumeSchedule", "resume_schedule", 7, TypeError, "must be a string"),
    # RedshiftSql
    ("RedshiftSql", "create_statements", "SELECT 1", ValueError, "not one string"),
    ("RedshiftSql", "delete_statements", 5, TypeError, "must be a list"),
    ("RedshiftSql", "create_statements", ["SELECT 1", 7], ValueError, "non-empty string"),
    ("RedshiftSql", "cluster_identifier", 7, TypeError, "must be a string"),
    ("RedshiftSql", "database", None, TypeError, "must be a string"),
    ("RedshiftSql", "secret", SECRET_ARN, TypeError, "must be a ISecret"),
    ("RedshiftSql", "key", KEY_ARN, TypeError, "must be a IKey"),
    ("RedshiftSql", "security_group", "sg-1", TypeError, "must be a ISecurityGroup"),
    ("RedshiftSql", "timeout", 300, TypeError, "must be a Duration"),
    ("RedshiftSql", "log_retention", 30, TypeError, "must be a RetentionDays"),
    # SearchSecurityRoles, SearchRole
    ("SearchSecurityRoles", "roles", "analysts", TypeError, "not a single string"),
    ("SearchSecurityRoles", "roles", ANALYSTS, TypeError, "must be a list"),
    ("SearchSecurityRoles", "key", KEY_ARN, TypeError, "must be a IKey"),
    ("SearchSecurityRoles", "timeout", 300, TypeError, "must be a Duration"),
    ("SearchSecurityRoles", "log_retention", 30, TypeError, "must be a RetentionDays"),
    ("SearchSecurityRoles", "vpc_subnets", "subnet-1", TypeError, "must be a SubnetSelection"),
    ("SearchRole", "index_patterns", "logs-*", ValueError, "not one string"),
    ("SearchRole", "backend_role_arns", 5, TypeError, "must be a list"),
    ("SearchRole", "index_actions", ["crud", 7], ValueError, "non-empty string"),
    # DataCatalogEncryption, DataLakeSettings, LakeLocation, RegisteredLocations
    ("DataCatalogEncryption", "existing_key", KEY_ARN, TypeError, "must be a IKey"),
    ("DataLakeSettings", "admin_arns", ROLE_ARN, ValueError, "not one string"),
    ("DataLakeSettings", "admin_arns", 5, TypeError, "must be a list"),
    ("DataLakeSettings", "deployment_role_arn", 7, ValueError, "IAM role or user ARN"),
    ("LakeLocation", "bucket", "team-lake", TypeError, "must be a IBucket"),
    ("LakeLocation", "prefix", 7, TypeError, "must be a string"),
    ("LakeLocation", "key", KEY_ARN, TypeError, "must be a IKey"),
    ("RegisteredLocations", "locations", "s3://team-lake/raw/", ValueError, "at least one LakeLocation"),
    ("RegisteredLocations", "locations", 5, TypeError, "must be a list"),
    ("RegisteredLocations", "hybrid_access", "no", ValueError, "True or False"),
    ("RegisteredLocations", "role", ROLE_ARN, TypeError, "must be a IRole"),
    # LakePermissions and its grant rows, LakeDataCellsFilter
    ("LakePermissions", "grants", DatabaseGrant("team_db", ["DESCRIBE"]), TypeError, "must be a list"),
    ("LakePermissions", "grants", "team_db", ValueError, "at least one grant"),
    ("LakePermissions", "principal_arn", 7, ValueError, "IAM role or user ARN"),
    ("DatabaseGrant", "permissions", "DESCRIBE", ValueError, "not one string"),
    ("DatabaseGrant", "permissions", 5, TypeError, "must be a list"),
    ("DatabaseGrant", "permissions", [5], TypeError, "permission names"),
    ("DatabaseGrant", "with_grant_option", "yes", TypeError, "True or False"),
    ("TableGrant", "excluded_columns", "email", ValueError, "not one string"),
    ("TableGrant", "excluded_columns", 5, TypeError, "must be a list"),
    ("TableGrant", "with_grant_option", 1, TypeError, "True or False"),
    ("LocationGrant", "location", "s3://team-lake/raw/", ValueError, "must be a LakeLocation"),
    ("LocationGrant", "with_grant_option", "true", TypeError, "True or False"),
    ("DataCellsFilterGrant", "permissions", "SELECT", ValueError, "not one string"),
    ("DataCellsFilterGrant", "with_grant_option", "yes", TypeError, "True or False"),
    ("LakeDataCellsFilter", "excluded_columns", "email", ValueError, "not one string"),
    ("LakeDataCellsFilter", "excluded_columns", 5, TypeError, "must be a list"),
    ("LakeDataCellsFilter", "row_filter", 7, ValueError, "non-empty PartiQL"),
    ("LakeDataCellsFilter", "name", 7, ValueError, "bytes of UTF-8"),
    # IamAllowedPrincipalsRevocation
    ("IamAllowedPrincipalsRevocation", "database_names", "team_db", ValueError, "at least one database name"),
    ("IamAllowedPrincipalsRevocation", "database_names", 5, TypeError, "must be a list"),
    ("IamAllowedPrincipalsRevocation", "restore_on_delete", "true", ValueError, "True or False"),
    ("IamAllowedPrincipalsRevocation", "key", KEY_ARN, TypeError, "must be a IKey"),
    ("IamAllowedPrincipalsRevocation", "timeout", 300, TypeError, "must be a Duration"),
    ("IamAllowedPrincipalsRevocation", "log_retention", 30, TypeError, "must be a RetentionDays"),
    ("IamAllowedPrincipalsRevocation", "after", {"other_db": []}, ValueError, "does not list"),
    # IcebergTable, IcebergTableMaintenance and their dataclasses
    ("IcebergTable", "columns", "id string", TypeError, "not a single string"),
    ("IcebergTable", "columns", ["id"], TypeError, "must hold IcebergColumn"),
    ("IcebergTable", "partition_by", IcebergPartitionField("id", "identity"), TypeError, "must be a list"),
    ("IcebergTable", "sort_by", ["id"], TypeError, "must hold IcebergSortField"),
    ("IcebergTable", "properties", {"write.target-file-size-bytes": 134217728}, TypeError, "map strings to strings"),
    ("IcebergTable", "bucket_key", KEY_ARN, TypeError, "must be a IKey"),
    ("IcebergTable", "format_version", "2", TypeError, "must be an int"),
    ("IcebergTable", "table_name", "Events", ValueError, "lower-case"),
    ("IcebergTable", "partition_by", [IcebergPartitionField("name", "day")], ValueError, "not a column"),
    ("IcebergTableMaintenance", "table", "team_db.events", TypeError, "must be a IcebergTable or ExistingIcebergTable"),
    ("IcebergTableMaintenance", "role", ROLE_ARN, TypeError, "must be a IRole"),
    ("IcebergTableMaintenance", "alarm_topic", "arn:aws:sns:eu-west-1:111122223333:alarms", TypeError, "must be a ITopic"),
    ("IcebergTableMaintenance", "check_interval", 3600, TypeError, "must be a Duration"),
    ("IcebergTableMaintenance", "max_hours_without_run", "48", TypeError, "must be an int"),
    ("IcebergTableMaintenance", "catalog_key", KEY_ARN, TypeError, "must be a IKey"),
    ("IcebergTableMaintenance", "health_check", "no", TypeError, "True or False"),
    ("IcebergColumn", "type", "strng", ValueError, "not an Iceberg type"),
    ("IcebergColumn", "required", "yes", TypeError, "True or False"),
    ("IcebergPartitionField", "transform", "days", ValueError, "transform must be"),
    ("IcebergSortField", "direction", "up", ValueError, "direction must be"),
    ("IcebergCompaction", "min_input_files", "2", TypeError, "must be an int"),
    ("IcebergSnapshotRetention", "clean_expired_files", "false", TypeError, "True or False"),
    ("IcebergOrphanFileDeletion", "prefix", "data", ValueError, "S3 prefix"),
    ("ExistingIcebergTable", "bucket", "team-lake", TypeError, "must be a IBucket"),
    # the public helpers
    ("ResourceNamer", "project", 7, TypeError, "must be a string"),
    ("ResourceNamer", "stage", None, TypeError, "must be a string"),
    ("ResourceNamer.name", "part", 7, TypeError, "must be a string"),
    ("grant_prefix_read", "prefix", 7, TypeError, "must be a string"),
    ("grant_prefix_read", "prefix", "raw", ValueError, "S3 prefix"),
    ("grant_prefix_read", "bucket", "team-lake", TypeError, "must be a IBucket"),
    ("grant_prefix_read", "key", KEY_ARN, TypeError, "must be a IKey"),
    ("grant_prefix_write", "delete", "yes", TypeError, "True or False"),
    ("grant_prefix_write", "grantee", ROLE_ARN, TypeError, "must be a IGrantable"),
    ("grant_catalog_read", "database_names", "team_db", TypeError, "not a single string"),
    ("grant_catalog_read", "database_names", [], ValueError, "must not be empty"),
    ("grant_catalog_read", "actions", "glue:GetTable", TypeError, "not a single string"),
    ("grant_catalog_read", "catalog_key", KEY_ARN, TypeError, "must be a IKey"),
    ("grant_catalog_read", "role", ROLE_ARN, TypeError, "must be a IRole"),
]


@pytest.mark.parametrize(
    ("name", "prop", "value", "error", "says"), CASES, ids=[f"{c[0]}.{c[1]}={c[2]!r}"[:80] for c in CASES]
)
def test_bad_input_names_the_construct_and_the_prop(name: str, prop: str, value: Any, error: type[Exception], says: str) -> None:
    with pytest.raises(error) as raised:
        build(name, **{prop: value})
    message = str(raised.value)
    assert message.startswith(f"{name}:"), message
    assert prop in message and says in message, message


def test_an_emr_catalog_key_without_catalog_databases_is_refused() -> None:
    with pytest.raises(ValueError, match="EmrCluster: catalog_key has no effect without catalog_databases"):
        build("EmrCluster", catalog_databases=[])


@pytest.mark.parametrize(
    ("field", "value"), [("data_nodes", "2"), ("volume_size_gib", "20"), ("master_nodes", None), ("multi_az_with_standby", "no")]
)
def test_search_capacity_names_its_field(field: str, value: Any) -> None:
    with pytest.raises(TypeError, match=f"SearchCapacity: {field} must be"):
        SearchCapacity(**{**SMALL, field: value})


# --- props that would have no effect, impossible combinations --------------------------------------

def test_an_existing_topic_with_destroy_and_nothing_created_is_refused() -> None:
    scope = stack()
    topic = sns.Topic.from_topic_arn(scope, "Team", "arn:aws:sns:eu-west-1:111122223333:team-alarms")
    with pytest.raises(ValueError, match="AlarmTopic: removal_policy=DESTROY has no effect with existing_topic"):
        AlarmTopic(scope, "Subject", existing_topic=topic, removal_policy=cdk.RemovalPolicy.DESTROY)


def test_an_existing_catalog_key_with_destroy_is_refused() -> None:
    scope = stack()
    with pytest.raises(ValueError, match="DataCatalogEncryption: key_removal_policy=DESTROY has no effect with existing_key"):
        DataCatalogEncryption(scope, "Subject", existing_key=_key(scope), key_removal_policy=cdk.RemovalPolicy.DESTROY)


def test_an_alarm_topic_in_another_region_is_refused_naming_both_regions() -> None:
    app = cdk.App()
    home = cdk.Stack(app, "Alarms", env=cdk.Environment(account="111122223333", region="us-east-1"))
    alarms = AlarmTopic(home, "Alarms")
    data = cdk.Stack(app, "Data", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    with pytest.raises(ValueError) as raised:
        TelemetryStream(data, "Stream", alarm_topic=alarms.topic)
    message = str(raised.value)
    assert "alarm_topic is in us-east-1" in message and "is in eu-west-1" in message and "TelemetryStream" in message


def test_an_imported_topic_arn_of_another_region_is_refused_too() -> None:
    scope = stack()
    topic = sns.Topic.from_topic_arn(scope, "Far", "arn:aws:sns:us-west-2:111122223333:alarms")
    with pytest.raises(ValueError, match="alarm_topic is in us-west-2 .* eu-west-1"):
        TelemetryStream(scope, "Stream", alarm_topic=topic)


def test_a_topic_of_the_same_region_in_another_stack_is_fine() -> None:
    app = cdk.App()
    env = cdk.Environment(account="111122223333", region="eu-west-1")
    alarms = AlarmTopic(cdk.Stack(app, "Alarms", env=env), "Alarms")
    TelemetryStream(cdk.Stack(app, "Data", env=env), "Stream", alarm_topic=alarms.topic)


def test_the_destroy_warning_names_only_what_the_construct_created() -> None:
    from aws_cdk.assertions import Annotations, Match

    from constructs_lib import DataLakeStorage

    scope = stack()
    DataLakeStorage(scope, "Subject", existing_raw_bucket=_bucket(scope), existing_key=_key(scope),
                    removal_policy=cdk.RemovalPolicy.DESTROY)
    (warning,) = [str(w.entry.data) for w in Annotations.from_stack(scope).find_warning("/Test/Subject", Match.any_value())]
    assert "curated, analytics, query results, access logs buckets will be deleted" in warning
    assert "raw" not in warning and "key" not in warning


def test_the_workflow_dead_letters_take_an_existing_key_and_create_none() -> None:
    from aws_cdk.assertions import Template

    scope = stack()
    topic = sns.Topic.from_topic_arn(scope, "Alarms", "arn:aws:sns:eu-west-1:111122223333:alarms")
    job = LakeEtlJob(
        scope, "Job", job_name="team-job", script=glue.Code.from_bucket(_bucket(scope), "job.py"),
        source_bucket=_bucket(scope), source_prefix="raw/", target_bucket=_bucket(scope),
        target_prefixes=["curated/"], data_key=_key(scope), security=_security(scope),
    )
    workflow = EtlWorkflow(
        scope, "Subject", workflow_name="team-workflow", schedule=glue.TriggerSchedule.expression("cron(0 3 * * ? *)"),
        steps=[job.job], alarm_topic=topic, existing_dead_letter_key=_key(scope),
    )
    template = Template.from_stack(scope).to_json()
    # The only key created is GlueSecurity's (the job's), none for the dead letters.
    assert [name for name, r in template["Resources"].items() if r["Type"] == "AWS::KMS::Key"] == [
        name for name in template["Resources"] if name.startswith("SecurityKey")
    ]
    (queue,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::SQS::Queue"]
    assert queue["KmsMasterKeyId"] == KEY_ARN
    assert workflow.dead_letter_queue is not None


def test_an_existing_dead_letter_key_without_an_alarm_topic_is_refused() -> None:
    scope = stack()
    with pytest.raises(ValueError, match="EtlWorkflow: existing_dead_letter_key has no effect without alarm_topic"):
        EtlWorkflow(
            scope, "Subject", workflow_name="team-workflow", schedule=glue.TriggerSchedule.expression("cron(0 3 * * ? *)"),
            steps=[], alarm_topic=None, existing_dead_letter_key=_key(scope),
        )


@pytest.mark.parametrize("which", ["analytics", "access_logs"])
def test_the_analytics_and_access_log_buckets_are_optional(which: str) -> None:
    from aws_cdk.assertions import Template

    from constructs_lib import DataLakeStorage

    scope = stack()
    lake = DataLakeStorage(scope, "Lake", **{f"with_{which}_bucket": False})
    assert getattr(lake, f"{which}_bucket") is None
    buckets = [r["Properties"] for r in Template.from_stack(scope).to_json()["Resources"].values() if r["Type"] == "AWS::S3::Bucket"]
    assert len(buckets) == 4 and len(lake.created_buckets) == 4
    logged = [b for b in buckets if "LoggingConfiguration" in b]
    assert len(logged) == (0 if which == "access_logs" else 3)


def test_an_existing_bucket_and_its_opt_out_together_are_refused() -> None:
    from constructs_lib import DataLakeStorage

    scope = stack()
    with pytest.raises(ValueError, match="DataLakeStorage: pass existing_analytics_bucket or with_analytics_bucket=False"):
        DataLakeStorage(scope, "Store", existing_analytics_bucket=_bucket(scope), with_analytics_bucket=False)
    with pytest.raises(TypeError, match="DataLakeStorage: with_access_logs_bucket must be True or False"):
        DataLakeStorage(scope, "Store2", with_access_logs_bucket="no")
