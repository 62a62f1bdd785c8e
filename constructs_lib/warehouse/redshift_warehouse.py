"""A provisioned Amazon Redshift (RA3) cluster, private, encrypted, audited and monitored.

Fixed (security and correctness): RA3 nodes only (DC2 is deprecated and DS2 retired; RA3 keeps
data in managed storage, so compute can be resized, paused and relocated); encrypted with a
customer-managed KMS key, which also encrypts the admin secret; never publicly accessible;
enhanced VPC routing, so COPY and UNLOAD traffic stays on the VPC's endpoints; a parameter group
of its own (in the same stack, where the compliance rules look for it) with ``require_ssl`` and
``enable_user_activity_logging``; connection, user and user-activity audit logs to an S3 prefix;
automated snapshots; the admin secret rotated in the VPC; a security group with no ingress
(callers open it through :attr:`RedshiftWarehouse.connections`) and HTTPS as the only egress.
Tunable: node type and count, port, admin user name, database name, key, snapshot retention and
cross-region copy, maintenance window, rotation schedule, pause/resume schedule, alarm topic and
thresholds, removal policy, cluster name.

Spectrum: :attr:`RedshiftWarehouse.spectrum_role` is attached to the cluster; grant it the lake
with :meth:`RedshiftWarehouse.grant_spectrum_read`. The external schema itself is SQL, run against
the cluster, not CloudFormation: ``CREATE EXTERNAL SCHEMA ... FROM DATA CATALOG DATABASE '<db>'
IAM_ROLE '<spectrum_role ARN>'`` (the role is not the cluster's *default* role, which CloudFormation
cannot set). Spectrum's own S3 reads do not go through enhanced VPC routing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_redshift as redshift
from aws_cdk import aws_redshift_alpha as redshift_alpha
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import region_info
from constructs import Construct

from constructs_lib.common.encryption import rotating_key
from constructs_lib.common.monitoring import notify
from constructs_lib.common.nag import nag_resource
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import instance, text
from constructs_lib.governance.lake_access import (
    GLUE_TABLE_READ_ACTIONS,
    LakeLocation,
    check_prefix,
    glue_catalog_arns,
    grant_catalog_read,
    grant_prefix_read,
)

OWNER = "RedshiftWarehouse"

#: Node counts a new cluster may have per RA3 type (a count of 1 is a single-node cluster).
#: Elastic resize can go further later (ra3.xlplus to 32, ra3.4xlarge to 64 nodes). Redshift
#: creates ra3.16xlarge clusters of up to 128 nodes, but CloudFormation's schema for
#: AWS::Redshift::Cluster stops NumberOfNodes at 100.
RA3_NODE_COUNTS: dict[str, tuple[int, int]] = {
    "ra3.large": (1, 16),
    "ra3.xlplus": (1, 16),
    "ra3.4xlarge": (2, 32),
    "ra3.16xlarge": (2, 100),
}
#: Redshift's default port, which scanners try first (cdk-nag AwsSolutions-RS4).
DEFAULT_PORT = 5439
#: The ports Redshift accepts for an RA3 cluster.
PORT_RANGES = ((5431, 5455), (8191, 8215))
#: Redshift's default admin user name (cdk-nag AwsSolutions-RS3), the database's own superuser,
#: and the name every database forbids as a user.
FORBIDDEN_USERNAMES = frozenset({"awsuser", "rdsadmin", "public"})
#: Redshift's SQL reserved words: neither a user name nor a database name may be one.
#: https://docs.aws.amazon.com/redshift/latest/dg/r_pg_keywords.html
RESERVED_WORDS = frozenset(
    """
    aes128 aes256 all allowoverwrite analyse analyze and any array as asc authorization az64 backup
    between binary blanksasnull both bytedict bzip2 case cast check collate column constraint create
    credentials cross current_date current_time current_timestamp current_user current_user_id
    default deferrable deflate defrag delta delta32k desc disable distinct do else emptyasnull enable
    encode encrypt encryption end except explicit false for foreign freeze from full globaldict256
    globaldict64k grant group gzip having identity ignore ilike in initially inner intersect interval
    into is isnull join language leading left like limit localtime localtimestamp lun luns lzo lzop
    minus mostly16 mostly32 mostly8 natural new not notnull null nulls off offline offset oid old on
    only open or order outer overlaps parallel partition percent permissions pivot placing primary raw
    readratio recover references rejectlog resort respect restore right select session_user similar
    snapshot some sysdate system table tag tdes text255 text32k then timestamp to top trailing true
    truncatecolumns union unique unnest unpivot user using verbose wallet when where with without
    """.split()
)
#: Parameters the construct's parameter group fixes.
PARAMETERS = {"require_ssl": "true", "enable_user_activity_logging": "true"}
#: Glue catalog actions Spectrum needs to read a database's tables and partitions, and no more.
GLUE_READ_ACTIONS = GLUE_TABLE_READ_ACTIONS
METRIC_PERIOD = cdk.Duration.minutes(5)

_USERNAME = re.compile(r"^[a-z][a-z0-9_+.@-]{0,127}$")
_DATABASE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CLUSTER_NAME = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")
_GRANT_NAME = _CLUSTER_NAME
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_DAY_TIME = r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)"
_WINDOW = re.compile(rf"^{_DAY_TIME}-{_DAY_TIME}$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CRON = re.compile(r"^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$")
# Characters Redshift refuses in an audit-log key prefix: x00-x20, '"', "'", '\' and x7f or above.
_BAD_PREFIX_CHARACTERS = re.compile(r"[\x00-\x20\x22\x27\x5c\x7f-\U0010ffff]")


@dataclass(frozen=True)
class SnapshotCopy:
    """Copy automated snapshots to ``destination_region`` and keep them ``retention_days`` (1-35).

    The cluster is KMS-encrypted, so Redshift needs a snapshot copy grant named ``grant_name`` in
    the destination region, naming a KMS key of that region. Create it there (a stack or
    ``aws redshift create-snapshot-copy-grant`` in that region) before deploying this one: a
    stack cannot create resources in another region."""

    destination_region: str
    retention_days: int
    grant_name: str

    def __post_init__(self) -> None:
        text("SnapshotCopy", "destination_region", self.destination_region, allow_empty=True)
        text("SnapshotCopy", "grant_name", self.grant_name, allow_empty=True)


@dataclass(frozen=True)
class PauseResumeSchedule:
    """Pause and resume the cluster on schedules in Redshift's cron form, UTC:
    ``cron(Minutes Hours Day-of-month Month Day-of-week Year)``, for example
    ``cron(0 19 ? * MON-FRI *)``. A paused cluster bills storage only."""

    pause_schedule: str
    resume_schedule: str

    def __post_init__(self) -> None:
        text("PauseResumeSchedule", "pause_schedule", self.pause_schedule, allow_empty=True)
        text("PauseResumeSchedule", "resume_schedule", self.resume_schedule, allow_empty=True)


class RedshiftWarehouse(Construct):
    """Attributes: ``cluster`` (alpha ``Cluster``), ``key``, ``secret`` (the admin secret, attached
    to the cluster), ``security_group``, ``connections``, ``parameter_group``, ``spectrum_role``,
    ``rotation_schedule``, ``rotation_security_group``, ``scheduler_role`` (``None`` without a
    pause/resume schedule), ``scheduled_actions`` (pause then resume, or empty), ``alarms``
    (empty without an alarm topic), ``port``, ``database_name``, ``cluster_identifier``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        node_type: str,
        number_of_nodes: int,
        port: int,
        admin_username: str,
        database_name: str,
        audit_log_bucket: s3.IBucket,
        audit_log_prefix: str,
        snapshot_retention_days: int,
        maintenance_window: str,
        admin_secret_rotation: cdk.Duration,
        alarm_topic: sns.ITopic | None,
        encryption_key: kms.IKey | None = None,
        snapshot_copy: SnapshotCopy | None = None,
        pause_resume: PauseResumeSchedule | None = None,
        cpu_alarm_percent: float = 90,
        disk_alarm_percent: float = 80,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        cluster_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        for prop, value in (
            ("node_type", node_type), ("admin_username", admin_username), ("database_name", database_name),
            ("audit_log_prefix", audit_log_prefix), ("maintenance_window", maintenance_window),
        ):
            text(OWNER, prop, value, allow_empty=True)
        if cluster_name is not None:
            text(OWNER, "cluster_name", cluster_name, allow_empty=True)
        instance(OWNER, "vpc", vpc, ec2.IVpc)
        instance(OWNER, "vpc_subnets", vpc_subnets, ec2.SubnetSelection)
        instance(OWNER, "audit_log_bucket", audit_log_bucket, s3.IBucket)
        instance(OWNER, "admin_secret_rotation", admin_secret_rotation, cdk.Duration)
        if alarm_topic is not None:
            instance(OWNER, "alarm_topic", alarm_topic, sns.ITopic)
        if encryption_key is not None:
            instance(OWNER, "encryption_key", encryption_key, kms.IKey)
        if snapshot_copy is not None:
            instance(OWNER, "snapshot_copy", snapshot_copy, SnapshotCopy)
        if pause_resume is not None:
            instance(OWNER, "pause_resume", pause_resume, PauseResumeSchedule)
        _check_node_type_and_count(node_type, number_of_nodes)
        _check_port(port)
        _check_admin_username(admin_username)
        _check_database_name(database_name)
        check_prefix(audit_log_prefix, owner=OWNER)
        _check_audit_log_prefix(audit_log_prefix)
        _check_in_range("snapshot_retention_days", snapshot_retention_days, 1, 35)
        _check_maintenance_window(maintenance_window)
        _check_rotation(admin_secret_rotation)
        _check_percent("cpu_alarm_percent", cpu_alarm_percent)
        _check_percent("disk_alarm_percent", disk_alarm_percent)
        check_data_removal_policy(removal_policy, owner=OWNER)
        if cluster_name is not None and not _CLUSTER_NAME.match(cluster_name):
            raise ValueError(
                f"{OWNER}: cluster_name must be 1-63 lowercase letters, digits or hyphens, start with a "
                f"letter, not end with a hyphen nor contain two in a row; got {cluster_name!r}"
            )
        region = cdk.Stack.of(self).region
        if snapshot_copy is not None:
            _check_snapshot_copy(snapshot_copy, region)
        if pause_resume is not None:
            _check_pause_resume(pause_resume)
        _check_private_subnets(vpc, vpc_subnets)
        _check_audit_log_bucket(audit_log_bucket, region)

        self.port = port
        self.database_name = database_name
        self._admin_username = admin_username
        self.key: kms.IKey = (
            encryption_key
            if encryption_key is not None
            else rotating_key(
                self, "Key", description="Encrypts a Redshift cluster and its admin secret",
                removal_policy=removal_policy,
            )
        )
        self.security_group: ec2.SecurityGroup = self._security_group(vpc)
        self.connections: ec2.Connections = ec2.Connections(security_groups=[self.security_group], default_port=ec2.Port.tcp(port))
        self.parameter_group: redshift_alpha.ClusterParameterGroup = redshift_alpha.ClusterParameterGroup(
            self, "ParameterGroup", parameters=dict(PARAMETERS),
            description="TLS-only connections and user activity logging",
        )
        self.spectrum_role: iam.Role = self._spectrum_role()
        self.cluster: redshift_alpha.Cluster = redshift_alpha.Cluster(
            self,
            "Cluster",
            cluster_name=cluster_name,
            master_user=redshift_alpha.Login(master_username=admin_username, encryption_key=self.key),
            default_database_name=database_name,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=[self.security_group],
            node_type=redshift_alpha.NodeType[node_type.upper().replace(".", "_")],  # ra3.xlplus -> RA3_XLPLUS
            cluster_type=(
                redshift_alpha.ClusterType.SINGLE_NODE if number_of_nodes == 1 else redshift_alpha.ClusterType.MULTI_NODE
            ),
            number_of_nodes=None if number_of_nodes == 1 else number_of_nodes,
            port=port,
            encrypted=True,
            encryption_key=self.key,
            publicly_accessible=False,
            enhanced_vpc_routing=True,
            parameter_group=self.parameter_group,
            # Attached, not made the default role: CloudFormation cannot set a default IAM role,
            # so the alpha would add an SDK custom resource (a Lambda function outside the VPC
            # with a Resource::* policy). SQL names the role instead: IAM_ROLE '<role ARN>'.
            roles=[self.spectrum_role],
            # Redshift reports the window in lower case; rendering it so avoids drift.
            preferred_maintenance_window=maintenance_window.lower(),
            removal_policy=removal_policy,
        )
        self.cluster_identifier: str = self.cluster.cluster_name
        self._cfn_cluster = self._configure_cluster(snapshot_retention_days, snapshot_copy)
        self._audit_logging(audit_log_bucket, audit_log_prefix)
        self.secret: secretsmanager.ISecret = self._admin_secret(removal_policy)
        self.rotation_security_group, self.rotation_schedule = self._rotation(vpc, vpc_subnets, admin_secret_rotation)

        self.scheduler_role: iam.Role | None = None
        self.scheduled_actions: list[redshift.CfnScheduledAction] = []
        if pause_resume is not None:
            self._pause_resume(pause_resume)

        self.alarms: dict[str, cloudwatch.Alarm] = {}
        if alarm_topic is not None:
            self._alarms(cpu_alarm_percent, disk_alarm_percent, paused_on_schedule=pause_resume is not None)
            notify(self.alarms, alarm_topic)

        data = "the cluster, its automated snapshots, its admin secret"
        if encryption_key is None:
            data += " and its KMS key (without which no retained snapshot can be restored)"
        apply_data_removal_policy(self, removal_policy, what=data)

    # -- Spectrum ----------------------------------------------------------------------------

    def grant_spectrum_read(
        self,
        database_name: str,
        locations: Sequence[LakeLocation],
        catalog_key: kms.IKey | None = None,
    ) -> None:
        """Let Spectrum (through :attr:`spectrum_role`) read the Glue database ``database_name`` and
        the S3 prefixes of its tables: list and read under each prefix only, decrypt with each
        location's key through S3 only, and the catalog key (Glue Data Catalog encryption)
        through Glue only. When Lake Formation governs the tables, grant the role
        ``SELECT`` there too; the role already may call ``lakeformation:GetDataAccess``."""
        if not database_name:
            raise ValueError(f"{OWNER}: grant_spectrum_read needs the Glue database_name")
        if not locations:
            raise ValueError(f"{OWNER}: grant_spectrum_read needs at least one location its tables are in")
        for location in locations:
            check_prefix(location.prefix, owner=OWNER)
            grant_prefix_read(self.spectrum_role, location.bucket, location.prefix, location.key)
        grant_catalog_read(self.spectrum_role, [database_name], catalog_key)
        stack = cdk.Stack.of(self)
        # An external schema maps a whole database, so Spectrum reads every table in it.
        table_wildcard = glue_catalog_arns(stack, database_name)[2]
        finding = nag_resource(self.spectrum_role, table_wildcard)
        if finding is not None:
            cdk.Validations.of(self.spectrum_role).acknowledge(
                cdk.Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{finding}]",
                    reason=(
                        f"Spectrum maps the Glue database {database_name} as one external schema and reads any of "
                        "its tables, including tables added later; the wildcard covers that one database's "
                        "tables, with read-only catalog actions."
                    ),
                )
            )

    # -- building blocks ---------------------------------------------------------------------

    def _security_group(self, vpc: ec2.IVpc) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="Redshift cluster: no ingress unless granted; HTTPS out to the VPC endpoints only",
        )
        # Enhanced VPC routing sends COPY/UNLOAD traffic to S3 through the VPC's S3 gateway
        # endpoint (S3's public addresses, so no narrower CIDR exists) and catalog calls to
        # interface endpoints. The subnets have no route to the internet, so "any address on
        # 443" reaches those endpoints and nothing else.
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to the VPC's S3 gateway and interface endpoints")
        return group

    def _spectrum_role(self) -> iam.Role:
        role = iam.Role(
            self, "SpectrumRole", assumed_by=iam.ServicePrincipal("redshift.amazonaws.com"),
            description="Redshift Spectrum: reads the lake tables granted to it",
        )
        role.add_to_principal_policy(iam.PolicyStatement(actions=["lakeformation:GetDataAccess"], resources=["*"]))
        cdk.Validations.of(role).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "lakeformation:GetDataAccess supports no resource narrower than '*'; Lake Formation itself "
                    "decides which tables' data the role gets temporary credentials for, from its own grants."
                ),
            )
        )
        return role

    def _configure_cluster(self, retention_days: int, snapshot_copy: SnapshotCopy | None) -> redshift.CfnCluster:
        cfn = self.cluster.node.default_child
        if not isinstance(cfn, redshift.CfnCluster):
            raise TypeError(f"{OWNER}: expected the alpha Cluster to create a CfnCluster, got {type(cfn).__name__}")
        # The alpha renders the user name as a dynamic reference into the secret; the secret was
        # generated with this very name, and a literal lets the compliance rules check it.
        cfn.master_username = self._admin_username
        # The alpha Cluster always renders 1 day; the L1 property is the only way to set it.
        cfn.automated_snapshot_retention_period = retention_days
        if snapshot_copy is not None:
            cfn.destination_region = snapshot_copy.destination_region
            cfn.snapshot_copy_retention_period = snapshot_copy.retention_days
            cfn.snapshot_copy_grant_name = snapshot_copy.grant_name
        return cfn

    def _audit_logging(self, bucket: s3.IBucket, prefix: str) -> None:
        """Audit logs to ``bucket``/``prefix``. The alpha's ``ClusterLogging.s3`` would let Redshift
        write anywhere in the bucket and only warn when it cannot; here the statement is limited
        to the prefix, and an imported bucket is an error. The statement names this account, not
        the cluster: the bucket may live in another stack, which must not refer back to this one."""
        stack = cdk.Stack.of(self)
        principals = [iam.ServicePrincipal(name) for name in _redshift_log_principals(stack.region)]
        same_account = {"StringEquals": {"aws:SourceAccount": stack.account}}
        statements = (
            iam.PolicyStatement(
                principals=principals, actions=["s3:PutObject"], resources=[bucket.arn_for_objects(f"{prefix}*")],
                conditions=same_account,
            ),
            iam.PolicyStatement(
                principals=principals, actions=["s3:GetBucketAcl"], resources=[bucket.bucket_arn], conditions=same_account
            ),
        )
        for statement in statements:
            result = bucket.add_to_resource_policy(statement)
            if not result.statement_added:
                principal_names = " or ".join(_redshift_log_principals(stack.region))
                raise ValueError(
                    f"{OWNER}: cannot add Redshift's audit-log statement to the policy of audit_log_bucket "
                    f"{bucket.node.path} (an imported bucket). Its owner must allow the service principal "
                    f"{principal_names} s3:PutObject on {prefix}* and s3:GetBucketAcl on the bucket (condition "
                    "aws:SourceAccount = this account); pass the bucket construct that owns the policy instead."
                )
            if result.policy_dependable is not None:
                # Redshift checks the bucket policy when it enables logging.
                self._cfn_cluster.node.add_dependency(result.policy_dependable)
        self._cfn_cluster.logging_properties = redshift.CfnCluster.LoggingPropertiesProperty(
            bucket_name=bucket.bucket_name, s3_key_prefix=prefix, log_destination_type="s3"
        )

    def _admin_secret(self, removal_policy: cdk.RemovalPolicy) -> secretsmanager.ISecret:
        secret = self.cluster.secret
        created = self.cluster.node.try_find_child("Secret")
        if secret is None or not isinstance(created, secretsmanager.Secret):
            raise TypeError(f"{OWNER}: expected the alpha Cluster to create the admin secret")
        created.apply_removal_policy(removal_policy)
        return secret

    def _rotation(
        self, vpc: ec2.IVpc, vpc_subnets: ec2.SubnetSelection, every: cdk.Duration
    ) -> tuple[ec2.SecurityGroup, secretsmanager.RotationSchedule]:
        """Single-user rotation of the admin password by a Lambda function that Secrets Manager
        hosts (the AWS::SecretsManager transform creates it at deploy time), in the cluster's
        subnets. It reaches Secrets Manager through the VPC's interface endpoint (private DNS) on
        443 and the cluster on its port, and nothing else."""
        group = ec2.SecurityGroup(
            self, "RotationSecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="Redshift admin secret rotation: the cluster on its port, Secrets Manager over HTTPS",
        )
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to the Secrets Manager interface endpoint")
        group.connections.allow_to(self.connections, ec2.Port.tcp(self.port), "Rotate the Redshift admin password")
        schedule = self.secret.add_rotation_schedule(
            "Rotation",
            automatically_after=every,
            hosted_rotation=secretsmanager.HostedRotation.redshift_single_user(
                vpc=vpc, vpc_subnets=vpc_subnets, security_groups=[group]
            ),
        )
        return group, schedule

    def _pause_resume(self, schedule: PauseResumeSchedule) -> None:
        stack = cdk.Stack.of(self)
        cluster_arn = stack.format_arn(
            service="redshift", resource="cluster", resource_name=self.cluster_identifier,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self.scheduler_role = iam.Role(
            self, "SchedulerRole", assumed_by=iam.ServicePrincipal("scheduler.redshift.amazonaws.com"),
            description="Redshift scheduled actions: pause and resume this cluster only",
        )
        self.scheduler_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["redshift:PauseCluster", "redshift:ResumeCluster"], resources=[cluster_arn])
        )
        message = {"cluster_identifier": self.cluster_identifier}
        for construct_id, cron, target in (
            ("Pause", schedule.pause_schedule, redshift.CfnScheduledAction.ScheduledActionTypeProperty(
                pause_cluster=redshift.CfnScheduledAction.PauseClusterMessageProperty(**message))),
            ("Resume", schedule.resume_schedule, redshift.CfnScheduledAction.ScheduledActionTypeProperty(
                resume_cluster=redshift.CfnScheduledAction.ResumeClusterMessageProperty(**message))),
        ):
            action = redshift.CfnScheduledAction(
                self,
                construct_id,
                # Unique per account and region; derived from the construct path, so stable.
                scheduled_action_name=cdk.Names.unique_resource_name(
                    self, max_length=50, separator="-"
                ).lower() + f"-{construct_id.lower()}",
                scheduled_action_description=f"{construct_id} the Redshift cluster on schedule",
                schedule=cron,
                iam_role=self.scheduler_role.role_arn,
                target_action=target,
                enable=True,
            )
            # Redshift checks the role when it creates the action: its policy must exist first
            # (the role itself is referenced already).
            action.node.add_dependency(self.scheduler_role.node.find_child("DefaultPolicy"))
            self.scheduled_actions.append(action)

    def _alarms(self, cpu_percent: float, disk_percent: float, *, paused_on_schedule: bool) -> None:
        def metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/Redshift", metric_name=name, statistic=statistic, period=METRIC_PERIOD,
                dimensions_map={"ClusterIdentifier": self.cluster_identifier},
            )

        # A paused cluster publishes no metrics. With a pause schedule, missing data is the
        # expected nightly state and must not alarm; without one, a cluster that stops reporting
        # its health is not healthy (stopped, paused by hand, or failing), so HealthStatus treats
        # missing data as breaching. Missing CPU or disk data is never a problem by itself.
        health_missing = (
            cloudwatch.TreatMissingData.NOT_BREACHING if paused_on_schedule else cloudwatch.TreatMissingData.BREACHING
        )
        self.alarms["health"] = cloudwatch.Alarm(
            self, "HealthAlarm",
            alarm_description="The Redshift cluster failed its health check (HealthStatus 0) or stopped reporting it",
            metric=metric("HealthStatus", "Minimum"),
            threshold=1, comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=1, treat_missing_data=health_missing,
        )
        self.alarms["cpu"] = cloudwatch.Alarm(
            self, "CpuAlarm",
            alarm_description=f"Redshift CPU above {cpu_percent:g}% for 15 minutes",
            metric=metric("CPUUtilization", "Average"),
            threshold=cpu_percent, comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.alarms["disk"] = cloudwatch.Alarm(
            self, "DiskAlarm",
            alarm_description=f"Redshift disk space used above {disk_percent:g}%",
            metric=metric("PercentageDiskSpaceUsed", "Maximum"),
            threshold=disk_percent, comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1, treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )


# -- validation --------------------------------------------------------------------------------


def _check_node_type_and_count(node_type: str, number_of_nodes: int) -> None:
    if node_type not in RA3_NODE_COUNTS:
        hint = " (DC1/DC2/DS2 are previous-generation node types)" if node_type.startswith(("dc", "ds")) else ""
        raise ValueError(
            f"{OWNER}: node_type must be an RA3 type, one of {', '.join(RA3_NODE_COUNTS)}{hint}; got {node_type!r}"
        )
    low, high = RA3_NODE_COUNTS[node_type]
    if isinstance(number_of_nodes, bool) or not isinstance(number_of_nodes, int) or not low <= number_of_nodes <= high:
        single = " (1 means a single-node cluster)" if low == 1 else ""
        raise ValueError(
            f"{OWNER}: number_of_nodes for {node_type} must be {low} to {high}{single}; got {number_of_nodes!r}"
        )


def _check_port(port: int) -> None:
    if port == DEFAULT_PORT:
        raise ValueError(f"{OWNER}: port must not be Redshift's default {DEFAULT_PORT}; got {port}")
    if isinstance(port, bool) or not isinstance(port, int) or not any(low <= port <= high for low, high in PORT_RANGES):
        ranges = " or ".join(f"{low}-{high}" for low, high in PORT_RANGES)
        raise ValueError(f"{OWNER}: port must be in {ranges}; got {port!r}")


def _check_admin_username(username: str) -> None:
    if not _USERNAME.match(username):
        raise ValueError(
            f"{OWNER}: admin_username must be 1-128 characters, start with a lowercase letter and contain only "
            f"lowercase letters, digits, '_', '+', '.', '@' or '-'; got {username!r}"
        )
    if username in FORBIDDEN_USERNAMES or username in RESERVED_WORDS:
        raise ValueError(
            f"{OWNER}: admin_username must not be Redshift's default, a system user or a reserved word; got {username!r}"
        )


def _check_database_name(name: str) -> None:
    if not _DATABASE_NAME.match(name) or name in RESERVED_WORDS:
        raise ValueError(
            f"{OWNER}: database_name must be 1-64 lowercase letters, digits or '_', start with a letter and not be "
            f"a reserved word; got {name!r}"
        )


def _check_audit_log_prefix(prefix: str) -> None:
    if len(prefix) > 512 or _BAD_PREFIX_CHARACTERS.search(prefix):
        raise ValueError(
            f"{OWNER}: audit_log_prefix must be at most 512 characters without spaces, quotes, backslashes or "
            f"control characters; got {prefix!r}"
        )


def _check_in_range(prop: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{OWNER}: {prop} must be a whole number from {low} to {high}; got {value!r}")


def _check_percent(prop: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 100:
        raise ValueError(f"{OWNER}: {prop} must be above 0 and below 100; got {value!r}")


def _check_maintenance_window(window: str) -> None:
    match = _WINDOW.match(window.lower())
    if match is None:
        raise ValueError(
            f"{OWNER}: maintenance_window must be ddd:hh24:mi-ddd:hh24:mi in UTC (for example "
            f"'sun:03:00-sun:03:30'); got {window!r}"
        )
    start_day, start_hour, start_minute, end_day, end_hour, end_minute = match.groups()
    start = _DAYS.index(start_day) * 1440 + int(start_hour) * 60 + int(start_minute)
    end = _DAYS.index(end_day) * 1440 + int(end_hour) * 60 + int(end_minute)
    if (end - start) % (7 * 1440) < 30:
        raise ValueError(f"{OWNER}: maintenance_window must be at least 30 minutes long; got {window!r}")


def _check_rotation(every: cdk.Duration) -> None:
    millis = every.to_milliseconds()
    hour = 3_600_000
    if millis % hour or not 4 * hour <= millis <= 1000 * 24 * hour:
        raise ValueError(
            f"{OWNER}: admin_secret_rotation must be whole hours from 4 hours to 1000 days; got {every.to_human_string()}"
        )


def _check_snapshot_copy(copy: SnapshotCopy, region: str) -> None:
    if not _REGION.match(copy.destination_region):
        raise ValueError(f"{OWNER}: snapshot_copy.destination_region must be a region name; got {copy.destination_region!r}")
    if not cdk.Token.is_unresolved(region) and copy.destination_region == region:
        raise ValueError(
            f"{OWNER}: snapshot_copy.destination_region must be another region than the cluster's; got {region!r}"
        )
    _check_in_range("snapshot_copy.retention_days", copy.retention_days, 1, 35)
    if not _GRANT_NAME.match(copy.grant_name):
        raise ValueError(
            f"{OWNER}: snapshot_copy.grant_name must be 1-63 lowercase letters, digits or hyphens, start with a "
            f"letter, not end with a hyphen nor contain two in a row; got {copy.grant_name!r}"
        )


def _check_cron(prop: str, expression: str) -> None:
    match = _CRON.match(expression)
    if match is None or [match.group(3), match.group(5)].count("?") != 1:
        raise ValueError(
            f"{OWNER}: {prop} must be 'cron(Minutes Hours Day-of-month Month Day-of-week Year)' with '?' in exactly "
            f"one of day-of-month and day-of-week; got {expression!r}"
        )


def _check_pause_resume(schedule: PauseResumeSchedule) -> None:
    _check_cron("pause_resume.pause_schedule", schedule.pause_schedule)
    _check_cron("pause_resume.resume_schedule", schedule.resume_schedule)
    if schedule.pause_schedule == schedule.resume_schedule:
        raise ValueError(f"{OWNER}: pause_resume pauses and resumes at the same time: {schedule.pause_schedule!r}")


def _check_private_subnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection) -> None:
    problem = "vpc_subnets must select private or isolated subnets; the selection includes public subnets"
    if selection.subnet_type == ec2.SubnetType.PUBLIC:
        raise ValueError(f"{OWNER}: {problem}")
    public = {subnet.subnet_id for subnet in vpc.public_subnets}
    fields = ("availability_zones", "one_per_az", "subnet_filters", "subnet_group_name", "subnet_type", "subnets")
    chosen = vpc.select_subnets(**{f: getattr(selection, f) for f in fields if getattr(selection, f) is not None}).subnets
    if any(subnet.subnet_id in public for subnet in chosen):
        raise ValueError(f"{OWNER}: {problem}")


def _check_audit_log_bucket(bucket: s3.IBucket, region: str) -> None:
    bucket_region = bucket.env.region
    if not cdk.Token.is_unresolved(region) and not cdk.Token.is_unresolved(bucket_region) and bucket_region != region:
        raise ValueError(
            f"{OWNER}: audit_log_bucket must be in the cluster's region {region}; got a bucket in {bucket_region}"
        )
    algorithm = _sse_algorithm(bucket)
    if bucket.encryption_key is not None or (algorithm is not None and algorithm != "AES256"):
        raise ValueError(
            f"{OWNER}: audit_log_bucket must use SSE-S3 (S3-managed keys); Redshift cannot write audit logs to a "
            f"KMS-encrypted bucket; got {bucket.node.path} encrypted with {algorithm or 'a KMS key'}"
        )


def _sse_algorithm(bucket: s3.IBucket) -> str | None:
    """The default encryption a bucket created in this app declares (``None`` when unknown)."""
    cfn = bucket.node.default_child
    if not isinstance(cfn, s3.CfnBucket):
        return None
    encryption = cdk.Stack.of(cfn).resolve(cfn.bucket_encryption)
    if not isinstance(encryption, dict):
        return None
    rules = encryption.get("serverSideEncryptionConfiguration", [])
    for rule in rules if isinstance(rules, list) else []:
        algorithm = rule.get("serverSideEncryptionByDefault", {}).get("sseAlgorithm")
        if isinstance(algorithm, str):
            return algorithm
    return None


# -- helpers -----------------------------------------------------------------------------------


def _redshift_log_principals(region: str) -> list[str]:
    """Redshift delivers audit logs as ``redshift.amazonaws.com``, or in a region that is not
    enabled by default (an opt-in region) as ``redshift.<region>.amazonaws.com``. When the
    region is not known at synth, both are named (the regional one exists in every region)."""
    if cdk.Token.is_unresolved(region):
        return ["redshift.amazonaws.com", f"redshift.{region}.amazonaws.com"]
    if region_info.RegionInfo.get(region).is_opt_in_region:
        return [f"redshift.{region}.amazonaws.com"]
    return ["redshift.amazonaws.com"]
