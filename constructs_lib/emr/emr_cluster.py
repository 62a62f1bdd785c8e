"""A long-running Spark and Hive EMR cluster in one private subnet, with the Glue Data Catalog as
its Hive metastore.

What it creates, all in the caller's stack (cdk-nag's EMR rules look for the security
configuration in the cluster's stack):

- the cluster (``AWS::EMR::Cluster``, instance groups): one on-demand primary instance, an
  on-demand core group, and, when ``capacity.max_task_instances`` is above 0, a Spot task group
  that starts empty. Managed scaling grows the core group up to ``max_core_instances`` on demand
  and then adds Spot task instances (no bid price: Spot is capped at the on-demand price). The
  cluster ends itself after ``idle_timeout`` without work.
- a security configuration: at-rest encryption always (EMRFS objects SSE-KMS with ``data_key``,
  local disks and EBS volumes encrypted with ``data_key``); in-transit encryption with your PEM
  certificates when ``tls_certificates_s3_uri`` is given; a cluster-dedicated KDC when
  ``kerberos`` is given (its admin password is generated in Secrets Manager).
- a service role (``AmazonEMRServicePolicy_v2``, which works only on resources tagged
  ``for-use-with-amazon-emr-managed-policies=true``) and an instance role and profile that can
  read ``read_locations``, write ``write_locations`` and ``log_prefix``, and read the catalog
  entries of ``catalog_databases``, and nothing else of the lake.
- the three EMR-managed security groups (primary, core and task, service access), tagged for
  the v2 policy. EMR adds the rules the cluster needs between them.

What the caller provides: a private subnet that carries the tag
``for-use-with-amazon-emr-managed-policies=true`` (the v2 service policy launches instances only
into tagged subnets; the network owner tags it) and, when the subnet has no route to the
internet, VPC endpoints for the AWS services the nodes call (S3 gateway endpoint, EMR, Glue, KMS,
STS and others your jobs use).

Fixed (security): a private subnet only; at-rest encryption; IMDSv2 only on the nodes; TLS when
certificates are given; the service role can pass the instance role only, and only to EC2; the
instance role reaches only the listed prefixes, databases and keys. Spark and Hive always use the
Glue Data Catalog as their metastore.
Tunable: release, extra applications, capacity, idle timeout, TLS, Kerberos, key pair, locations,
databases, termination protection, Apache Iceberg (``iceberg``).

Iceberg (``EmrIceberg``, EMR 6.9.0 or later): the ``iceberg-defaults`` classification with
``iceberg.enabled=true`` makes EMR install its Iceberg runtime for Spark and Hive (Hive then reads the
Glue catalog's Iceberg tables through the metastore it already has, "Use an Iceberg cluster with
Hive", https://docs.aws.amazon.com/emr/latest/ReleaseGuide/emr-iceberg-use-hive-cluster.html), and
``spark-defaults`` adds Iceberg's SQL extensions and a Spark catalog on the Glue Data Catalog with
Iceberg's S3 file IO and the given warehouse ("Use an Iceberg cluster with Spark",
https://docs.aws.amazon.com/emr/latest/ReleaseGuide/emr-iceberg-use-spark-cluster.html), so Spark
reads ``<catalog>.<database>.<table>`` at its current snapshot, with time travel and metadata tables.
The catalog is the same Glue Data Catalog as the metastore: what the instance role may read there
is unchanged (``catalog_databases``). EMR applies configurations only when it creates a cluster:
adding or changing ``iceberg`` replaces the cluster (``make diff`` reports it).

Deleting the stack: EMR adds inbound rules that make the three security groups reference each
other, which CloudFormation does not know about; if the deletion of a group fails with a
dependency error, remove those rules (or the groups) by hand and retry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_emr as emr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import boolean, instance, instance_list, integer, sequence, text
from constructs_lib.governance.lake_access import (
    GLUE_TABLE_READ_ACTIONS,
    LakeLocation,
    check_prefix,
    grant_catalog_read,
    grant_prefix_read,
    grant_prefix_write,
)

#: The tag AmazonEMRServicePolicy_v2 requires on the subnet, the security groups and the cluster.
EMR_MANAGED_POLICY_TAG = "for-use-with-amazon-emr-managed-policies"
SERVICE_POLICY = "service-role/AmazonEMRServicePolicy_v2"
#: Always installed, in this order; ``applications`` are appended after them.
BASE_APPLICATIONS = ("Spark", "Hive")
#: Auto-termination and managed scaling exist from emr-6.1.0 on; EMR's own components use
#: IMDSv2 only from emr-6.2.0 on, which the security configuration enforces.
MIN_RELEASE = (6, 2)
#: The first release whose iceberg-defaults classification sets Iceberg up for Hive as well as Spark.
MIN_ICEBERG_RELEASE = (6, 9)
#: Iceberg's Spark session extensions (MERGE, CALL, metadata tables) and its catalog classes.
ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
ICEBERG_SPARK_CATALOG = "org.apache.iceberg.spark.SparkCatalog"
ICEBERG_GLUE_CATALOG = "org.apache.iceberg.aws.glue.GlueCatalog"
ICEBERG_S3_FILE_IO = "org.apache.iceberg.aws.s3.S3FileIO"
#: EMR's range for AutoTerminationPolicy.IdleTimeout.
MIN_IDLE_TIMEOUT_SECONDS = 60
MAX_IDLE_TIMEOUT_SECONDS = 7 * 24 * 60 * 60
#: The Hive metastore client that talks to the Glue Data Catalog (hive-site, spark-hive-site).
GLUE_CLIENT_FACTORY = "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"
#: What the Hive metastore client needs to read tables and partitions, and nothing that writes.
CATALOG_READ_ACTIONS = GLUE_TABLE_READ_ACTIONS
#: What it needs to resolve user-defined functions. These authorise on the catalog, the database and
#: the function (userDefinedFunction/<database>/<function>), not on tables ("Actions, resources, and
#: condition keys for AWS Glue", https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsglue.html).
FUNCTION_READ_ACTIONS = ("glue:GetUserDefinedFunction", "glue:GetUserDefinedFunctions")
#: What EC2 needs, on behalf of the service role, to create and attach EBS volumes encrypted
#: with ``data_key`` (EBS encryption of the security configuration).
EBS_KEY_ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
EBS_GRANT_ACTIONS = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")

_RELEASE_LABEL = re.compile(r"^emr-(\d+)\.(\d+)\.(\d+)$")
_SPARK_CATALOG_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,127}$")
_APPLICATION = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|\d*xlarge|metal)$")
_TLS_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(\S+\.zip)$")
_REALM = re.compile(r"^[A-Z][A-Z0-9.-]{0,254}$")
_DATABASE = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,254}$")
_CLUSTER_NAME = re.compile(r"^[^\x00-\x1f]{1,256}$")

_AT_REST_CHECK = (
    "cdk-nag 3.0.2 reads EnableAtRestEncryption and LocalDiskEncryptionConfiguration at the root of "
    "the security configuration, while EMR's schema nests them under EncryptionConfiguration. This "
    "construct always enables at-rest encryption there (EMRFS SSE-KMS, LUKS local disks and EBS "
    "volumes with the data key); the unit tests pin that JSON."
)
_IN_TRANSIT_CHECK = (
    "cdk-nag 3.0.2 reads EnableInTransitEncryption and InTransitEncryptionConfiguration at the root "
    "of the security configuration, while EMR's schema nests them under EncryptionConfiguration. "
    "With tls_certificates_s3_uri given, this construct enables in-transit encryption there with a "
    "PEM certificate provider; the unit tests pin that JSON."
)
_SERVICE_POLICY_REASON = (
    "AmazonEMRServicePolicy_v2 is EMR's documented, scoped service-role policy: it lets EMR create "
    "and manage EC2 resources only in subnets and security groups tagged "
    "for-use-with-amazon-emr-managed-policies=true, and AWS updates it as EMR changes. A copy as a "
    "customer-managed policy would drift from what the service needs. The statements added next to it "
    "are iam:PassRole on this cluster's instance role (to EC2 only) and the data key through EC2 for "
    "the cluster's encrypted EBS volumes."
)
_ALL_TABLES_OF_A_DATABASE = (
    "The cluster reads every table of each database listed in catalog_databases through the Hive "
    "metastore (table/<database>/*): Spark and Hive resolve whatever table a query names, and tables "
    "are added without redeploying the cluster. The actions are read-only (Get* and BatchGetPartition); "
    "no other database is reachable."
)
_ALL_FUNCTIONS_OF_A_DATABASE = (
    "The cluster resolves the user-defined functions of each database listed in catalog_databases "
    "through the Hive metastore (userDefinedFunction/<database>/*): a query names whatever function it "
    "calls, and functions are registered without redeploying the cluster. The actions are read-only "
    "(GetUserDefinedFunction and GetUserDefinedFunctions); no other database is reachable."
)
_KDC_PASSWORD_NOT_ROTATED = (
    "EMR reads the KDC admin password once, when the cluster is created, and sets it on the "
    "cluster-dedicated KDC; a rotated secret would no longer match the KDC, and CloudFormation would "
    "replace the whole cluster (KerberosAttributes require replacement) on the next deployment that "
    "resolves the new value. The secret is encrypted with the data key and used only at creation."
)


@dataclass(frozen=True)
class EmrCapacity:
    """Instance types and counts. The primary is one on-demand instance; core instances are
    on-demand (HDFS lives there, and Spot interruptions would lose blocks); task instances are
    Spot and only ever added by managed scaling (``max_task_instances`` 0: no task group)."""

    primary_instance_type: str
    core_instance_type: str
    core_instances: int
    max_core_instances: int
    task_instance_type: str
    max_task_instances: int

    def __post_init__(self) -> None:
        for name in ("primary_instance_type", "core_instance_type", "task_instance_type"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _INSTANCE_TYPE.match(value):
                raise ValueError(f"EmrCapacity.{name} must be an EC2 instance type such as 'm7g.xlarge'; got {value!r}")
        for name in ("core_instances", "max_core_instances", "max_task_instances"):
            integer("EmrCapacity", name, getattr(self, name))
        if self.core_instances < 1:
            raise ValueError(f"EmrCapacity.core_instances must be at least 1 (the on-demand minimum); got {self.core_instances}")
        if self.max_core_instances < self.core_instances:
            raise ValueError(
                f"EmrCapacity.max_core_instances must be at least core_instances ({self.core_instances}); "
                f"got {self.max_core_instances}"
            )
        if self.max_task_instances < 0:
            raise ValueError(f"EmrCapacity.max_task_instances must be 0 or more; got {self.max_task_instances}")


@dataclass(frozen=True)
class EmrKerberos:
    """A cluster-dedicated KDC on the primary node for ``realm`` (by convention the upper-case
    domain, e.g. ``ANALYTICS.EXAMPLE.COM``)."""

    realm: str
    ticket_lifetime_hours: int = 24

    def __post_init__(self) -> None:
        if not isinstance(self.realm, str) or not _REALM.match(self.realm):
            raise ValueError(
                "EmrKerberos.realm must be upper-case letters, digits, '.' and '-', starting with a letter "
                f"(e.g. 'ANALYTICS.EXAMPLE.COM'); got {self.realm!r}"
            )
        integer("EmrKerberos", "ticket_lifetime_hours", self.ticket_lifetime_hours)
        if self.ticket_lifetime_hours < 1:
            raise ValueError(f"EmrKerberos.ticket_lifetime_hours must be at least 1; got {self.ticket_lifetime_hours}")


@dataclass(frozen=True)
class EmrIceberg:
    """Apache Iceberg on the cluster: a Spark catalog ``catalog_name`` on the Glue Data Catalog whose
    tables without a location of their own go under ``warehouse`` (an ``s3://`` URI). Not
    ``spark_catalog``: that is Spark's session catalog, which the Hive tables of the metastore need."""

    warehouse: str
    catalog_name: str = "glue_catalog"

    def __post_init__(self) -> None:
        text("EmrIceberg", "warehouse", self.warehouse)
        if not self.warehouse.startswith("s3://") or len(self.warehouse) <= len("s3://"):
            raise ValueError(f"EmrIceberg: warehouse must be an s3:// URI such as 's3://lake-curated/tables'; got {self.warehouse!r}")
        text("EmrIceberg", "catalog_name", self.catalog_name)
        if not _SPARK_CATALOG_NAME.match(self.catalog_name) or self.catalog_name == "spark_catalog":
            raise ValueError(
                "EmrIceberg: catalog_name must be a lower-case identifier other than 'spark_catalog' "
                f"(Spark's session catalog, which the metastore's Hive tables use); got {self.catalog_name!r}"
            )

    def spark_defaults(self) -> dict[str, str]:
        """The ``spark-defaults`` properties: the extensions and the Glue-backed Iceberg catalog."""
        prefix = f"spark.sql.catalog.{self.catalog_name}"
        return {
            "spark.sql.extensions": ICEBERG_EXTENSIONS,
            prefix: ICEBERG_SPARK_CATALOG,
            f"{prefix}.catalog-impl": ICEBERG_GLUE_CATALOG,
            f"{prefix}.io-impl": ICEBERG_S3_FILE_IO,
            f"{prefix}.warehouse": self.warehouse,
        }


def check_release_label(release_label: str) -> str:
    """``emr-<major>.<minor>.<patch>``, 6.2.0 or later."""
    match = _RELEASE_LABEL.match(release_label)
    if match is None:
        raise ValueError(f"EmrCluster: release_label must look like 'emr-7.5.0'; got {release_label!r}")
    if (int(match.group(1)), int(match.group(2))) < MIN_RELEASE:
        raise ValueError(
            "EmrCluster: release_label must be emr-6.2.0 or later (auto-termination, managed scaling "
            f"and IMDSv2-only nodes); got {release_label!r}"
        )
    return release_label


def application_names(extra: Sequence[str]) -> tuple[str, ...]:
    """Spark and Hive, then ``extra`` in order, without case-insensitive repeats."""
    names = list(BASE_APPLICATIONS)
    seen = {name.lower() for name in names}
    for name in extra:
        if not isinstance(name, str) or not _APPLICATION.match(name):
            raise ValueError(f"EmrCluster: an application name must be letters and digits (e.g. 'Livy'); got {name!r}")
        if name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return tuple(names)


def check_tls_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key.zip`` -> (bucket, key)."""
    match = _TLS_URI.match(uri)
    if match is None:
        raise ValueError(f"EmrCluster: tls_certificates_s3_uri must look like 's3://bucket/path/certs.zip'; got {uri!r}")
    return match.group(1), match.group(2)


def check_idle_timeout(idle_timeout: cdk.Duration) -> int:
    seconds = int(idle_timeout.to_seconds())
    if not MIN_IDLE_TIMEOUT_SECONDS <= seconds <= MAX_IDLE_TIMEOUT_SECONDS:
        raise ValueError(
            f"EmrCluster: idle_timeout must be between {MIN_IDLE_TIMEOUT_SECONDS} seconds and 7 days "
            f"({MAX_IDLE_TIMEOUT_SECONDS} seconds), EMR's range; got {seconds} seconds"
        )
    return seconds


def check_databases(databases: Sequence[str]) -> tuple[str, ...]:
    for name in databases:
        if not isinstance(name, str) or not _DATABASE.match(name):
            raise ValueError(
                "EmrCluster: a catalog database name must be lower-case letters, digits, '_' and '-' "
                f"(no wildcards); got {name!r}"
            )
    repeated = sorted({name for name in databases if list(databases).count(name) > 1})
    if repeated:
        raise ValueError(f"EmrCluster: catalog_databases names a database more than once: {', '.join(repeated)}")
    return tuple(databases)


def _check_name(cluster_name: str) -> str:
    if not isinstance(cluster_name, str) or not _CLUSTER_NAME.match(cluster_name) or not cluster_name.strip():
        raise ValueError(
            f"EmrCluster: cluster_name must be 1 to 256 characters without control characters; got {cluster_name!r}"
        )
    return cluster_name


def _check_key_pair(key_pair_name: str | None) -> str | None:
    if key_pair_name is not None and not 1 <= len(key_pair_name) <= 255:
        raise ValueError(f"EmrCluster: key_pair_name must be 1 to 255 characters; got {key_pair_name!r}")
    return key_pair_name


def _check_private(vpc: ec2.IVpc, subnet: ec2.ISubnet) -> None:
    public = {s.subnet_id for s in vpc.public_subnets}
    if subnet.subnet_id in public:
        raise ValueError(f"EmrCluster: subnet must be a private subnet; got the public subnet {subnet.node.path}")


def _check_types(
    *,
    cluster_name: object,
    release_label: object,
    vpc: object,
    subnet: object,
    capacity: object,
    data_key: object,
    log_bucket: object,
    log_prefix: object,
    idle_timeout: object,
    read_locations: object,
    write_locations: object,
    catalog_databases: object,
    applications: object,
    tls_certificates_s3_uri: object,
    kerberos: object,
    key_pair_name: object,
    log_key: object,
    catalog_key: object,
    termination_protection: object,
    iceberg: object,
) -> None:
    """Wrong types (a ``str`` where a list is, an ARN where a CDK object is) and props without
    effect, before the value checks below."""
    owner = "EmrCluster"
    for prop, value in (("cluster_name", cluster_name), ("release_label", release_label), ("log_prefix", log_prefix)):
        text(owner, prop, value, allow_empty=True)
    instance(owner, "vpc", vpc, ec2.IVpc)
    instance(owner, "subnet", subnet, ec2.ISubnet)
    instance(owner, "capacity", capacity, EmrCapacity)
    instance(owner, "data_key", data_key, kms.IKey)
    instance(owner, "log_bucket", log_bucket, s3.IBucket)
    instance(owner, "idle_timeout", idle_timeout, cdk.Duration)
    instance_list(owner, "read_locations", read_locations, LakeLocation)
    instance_list(owner, "write_locations", write_locations, LakeLocation)
    databases = sequence(owner, "catalog_databases", catalog_databases)
    sequence(owner, "applications", applications)
    if tls_certificates_s3_uri is not None:
        text(owner, "tls_certificates_s3_uri", tls_certificates_s3_uri, allow_empty=True)
    if kerberos is not None:
        instance(owner, "kerberos", kerberos, EmrKerberos)
    if key_pair_name is not None:
        text(owner, "key_pair_name", key_pair_name, allow_empty=True)
    if log_key is not None:
        instance(owner, "log_key", log_key, kms.IKey)
    if catalog_key is not None:
        instance(owner, "catalog_key", catalog_key, kms.IKey)
        if not databases:
            raise ValueError(
                f"{owner}: catalog_key has no effect without catalog_databases (the nodes read no catalog entry "
                "to decrypt); leave it out"
            )
    boolean(owner, "termination_protection", termination_protection)
    if iceberg is not None:
        instance(owner, "iceberg", iceberg, EmrIceberg)


def _check_iceberg_release(release_label: str) -> None:
    major, minor = (int(part) for part in release_label.split("-")[1].split(".")[:2])
    if (major, minor) < MIN_ICEBERG_RELEASE:
        raise ValueError(
            "EmrCluster: iceberg needs emr-6.9.0 or later (the iceberg-defaults classification sets Iceberg up for "
            f"Hive from then on); got {release_label!r}"
        )


def _nag_arn(stack: cdk.Stack, service: str, resource: str) -> str:
    """How cdk-nag names ``stack.format_arn(...)`` in a finding id: pseudo parameters that are
    still tokens (an environment-agnostic stack) appear as ``<AWS::Region>`` and so on."""
    parts = [
        value if not cdk.Token.is_unresolved(value) else f"<AWS::{name}>"
        for value, name in ((stack.partition, "Partition"), (stack.region, "Region"), (stack.account, "AccountId"))
    ]
    return f"arn:{parts[0]}:{service}:{parts[1]}:{parts[2]}:{resource}"


def _acknowledge(construct: Construct, reason: str, *rule_ids: str) -> None:
    cdk.Validations.of(construct).acknowledge(*(cdk.Acknowledgment(id=rule_id, reason=reason) for rule_id in rule_ids))


class EmrCluster(Construct):
    """Attributes: ``cluster`` (``emr.CfnCluster``), ``security_configuration``
    (``emr.CfnSecurityConfiguration``), ``service_role``, ``instance_role``,
    ``instance_profile`` (``iam.CfnInstanceProfile``, the cluster's JobFlowRole),
    ``primary_security_group``, ``core_security_group``, ``service_access_security_group``,
    ``kdc_admin_secret`` (``None`` without Kerberos), ``applications`` (names, in order),
    ``log_uri``, and the chosen ``tls_certificates_s3_uri``, ``kerberos``, ``key_pair_name`` and ``iceberg``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_name: str,
        release_label: str,
        vpc: ec2.IVpc,
        subnet: ec2.ISubnet,
        capacity: EmrCapacity,
        data_key: kms.IKey,
        log_bucket: s3.IBucket,
        log_prefix: str,
        idle_timeout: cdk.Duration,
        read_locations: Sequence[LakeLocation],
        write_locations: Sequence[LakeLocation],
        catalog_databases: Sequence[str],
        applications: Sequence[str] = (),
        tls_certificates_s3_uri: str | None = None,
        kerberos: EmrKerberos | None = None,
        key_pair_name: str | None = None,
        log_key: kms.IKey | None = None,
        catalog_key: kms.IKey | None = None,
        termination_protection: bool = False,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        iceberg: EmrIceberg | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        _check_types(
            cluster_name=cluster_name, release_label=release_label, vpc=vpc, subnet=subnet, capacity=capacity,
            data_key=data_key, log_bucket=log_bucket, log_prefix=log_prefix, idle_timeout=idle_timeout,
            read_locations=read_locations, write_locations=write_locations, catalog_databases=catalog_databases,
            applications=applications, tls_certificates_s3_uri=tls_certificates_s3_uri, kerberos=kerberos,
            key_pair_name=key_pair_name, log_key=log_key, catalog_key=catalog_key,
            termination_protection=termination_protection, iceberg=iceberg,
        )
        check_data_removal_policy(removal_policy, owner="EmrCluster")
        _check_name(cluster_name)
        check_release_label(release_label)
        if iceberg is not None:
            _check_iceberg_release(release_label)
        self.applications: tuple[str, ...] = application_names(applications)
        check_prefix(log_prefix, owner="EmrCluster")
        idle_seconds = check_idle_timeout(idle_timeout)
        databases = check_databases(catalog_databases)
        tls_object = check_tls_uri(tls_certificates_s3_uri) if tls_certificates_s3_uri is not None else None
        _check_key_pair(key_pair_name)
        _check_private(vpc, subnet)
        self.log_uri: str = f"s3://{log_bucket.bucket_name}/{log_prefix}"
        # What the caller chose, for whoever must account for it (acknowledgments, docs).
        self.tls_certificates_s3_uri = tls_certificates_s3_uri
        self.kerberos = kerberos
        self.key_pair_name = key_pair_name
        self.iceberg = iceberg

        self._security_groups(vpc)
        self._instance_role(data_key, read_locations, write_locations, databases, catalog_key, tls_object)
        grant_prefix_write(self.instance_role, log_bucket, log_prefix, log_key)
        self._service_role(data_key)
        self.security_configuration: emr.CfnSecurityConfiguration = self._security_configuration(data_key, tls_certificates_s3_uri, kerberos)
        self.kdc_admin_secret: secretsmanager.Secret | None = self._kdc_secret(cluster_name, data_key) if kerberos is not None else None
        self.cluster: emr.CfnCluster = self._cluster(
            cluster_name=cluster_name,
            release_label=release_label,
            subnet=subnet,
            capacity=capacity,
            idle_seconds=idle_seconds,
            kerberos=kerberos,
            key_pair_name=key_pair_name,
            log_key=log_key,
            termination_protection=termination_protection,
        )
        # RETAIN keeps a long-running cluster (and its HDFS) and the KDC password through a stack
        # deletion or an accidental replacement; a retained cluster keeps running and billing.
        self.cluster.apply_removal_policy(removal_policy)
        if self.kdc_admin_secret is not None:
            self.kdc_admin_secret.apply_removal_policy(removal_policy)
        apply_data_removal_policy(self, removal_policy, what="the EMR cluster (with its HDFS) and its KDC password")
        _acknowledge(self.cluster, _AT_REST_CHECK, "AwsSolutions-EMR4")
        if tls_object is not None:
            _acknowledge(self.cluster, _IN_TRANSIT_CHECK, "AwsSolutions-EMR5")

    # -- network ---------------------------------------------------------------------------

    def _security_groups(self, vpc: ec2.IVpc) -> None:
        """The three EMR-managed groups, created empty of inbound rules: EMR adds the inbound
        rules the cluster needs (between primary and core, and from the service-access group)
        when the cluster starts."""
        # EMR creates only missing *inbound* rules in custom managed groups, so egress is ours.
        # The nodes talk to each other on any port, to the service-access group on 9443 and to
        # AWS endpoints (S3 prefix list, interface endpoints) whose addresses this construct
        # cannot know; EMR's own default private groups allow all outbound traffic for this
        # reason. The subnet is private, so 0.0.0.0/0 reaches only the VPC, its endpoints and
        # whatever egress the network owner provides.
        self.primary_security_group: ec2.SecurityGroup = self._group(
            vpc, "PrimarySecurityGroup", "EMR-managed group of the primary node", allow_all_outbound=True
        )
        self.core_security_group: ec2.SecurityGroup = self._group(
            vpc, "CoreSecurityGroup", "EMR-managed group of the core and task nodes", allow_all_outbound=True
        )
        # The service-access group is EMR's own channel to the nodes of a private subnet: it
        # sends to the nodes' cluster manager on 8443 and receives from the primary on 9443,
        # and nothing else (the rules of EMR's default ElasticMapReduce-ServiceAccess group).
        self.service_access_security_group: ec2.SecurityGroup = self._group(
            vpc, "ServiceAccessSecurityGroup", "EMR-managed service access group (private subnet)",
            allow_all_outbound=False,
        )
        for node_group, name in ((self.primary_security_group, "primary"), (self.core_security_group, "core and task")):
            self.service_access_security_group.add_egress_rule(
                node_group, ec2.Port.tcp(8443), f"EMR service to the {name} nodes' cluster manager"
            )
        self.service_access_security_group.add_ingress_rule(
            self.primary_security_group, ec2.Port.tcp(9443), "Primary node to the EMR service"
        )

    def _group(self, vpc: ec2.IVpc, construct_id: str, description: str, *, allow_all_outbound: bool) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self, construct_id, vpc=vpc, description=description, allow_all_outbound=allow_all_outbound
        )
        cdk.Tags.of(group).add(EMR_MANAGED_POLICY_TAG, "true")
        return group

    # -- IAM -------------------------------------------------------------------------------

    def _instance_role(
        self,
        data_key: kms.IKey,
        read_locations: Sequence[LakeLocation],
        write_locations: Sequence[LakeLocation],
        databases: tuple[str, ...],
        catalog_key: kms.IKey | None,
        tls_object: tuple[str, str] | None,
    ) -> None:
        """The nodes' role: the lake prefixes, the catalog read-only, the data key, the log prefix."""
        stack = cdk.Stack.of(self)
        self.instance_role: iam.Role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="EMR cluster nodes: listed lake prefixes, read-only catalog, log prefix",
        )
        self.instance_profile: iam.CfnInstanceProfile = iam.CfnInstanceProfile(self, "InstanceProfile", roles=[self.instance_role.role_name])
        for location in read_locations:
            grant_prefix_read(self.instance_role, location.bucket, location.prefix, location.key)
        for location in write_locations:
            # Spark's output committer deletes its _temporary objects after a commit.
            grant_prefix_write(self.instance_role, location.bucket, location.prefix, location.key, delete=True)
        # Local disk encryption (LUKS) asks KMS for data keys from the nodes themselves, not
        # through another service, so no kms:ViaService condition; EMRFS writes objects
        # SSE-KMS with the same key.
        self.instance_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[data_key.key_arn])
        )
        if databases:
            grant_catalog_read(self.instance_role, databases, catalog_key, actions=CATALOG_READ_ACTIONS)
            self.instance_role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="ResolveUserDefinedFunctions",
                    actions=list(FUNCTION_READ_ACTIONS),
                    resources=[
                        stack.format_arn(service="glue", resource="catalog"),
                        *(
                            arn
                            for database in databases
                            for arn in (
                                stack.format_arn(service="glue", resource="database", resource_name=database),
                                stack.format_arn(service="glue", resource="userDefinedFunction", resource_name=f"{database}/*"),
                            )
                        ),
                    ],
                )
            )
            _acknowledge(
                self.instance_role, _ALL_TABLES_OF_A_DATABASE,
                *(f"AwsSolutions-IAM5[Resource::{_nag_arn(stack, 'glue', f'table/{database}/*')}]" for database in databases),
            )
            _acknowledge(
                self.instance_role, _ALL_FUNCTIONS_OF_A_DATABASE,
                *(
                    f"AwsSolutions-IAM5[Resource::{_nag_arn(stack, 'glue', f'userDefinedFunction/{database}/*')}]"
                    for database in databases
                ),
            )
        # The Hive metastore client looks up the "default" database when it starts.
        self.instance_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["glue:GetDatabase"],
                resources=[
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(service="glue", resource="database", resource_name="default"),
                ],
            )
        )
        if tls_object is not None:
            bucket, key = tls_object
            # EMR downloads the certificates to every node with the instance profile.
            self.instance_role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject"],
                    resources=[stack.format_arn(service="s3", region="", account="", resource=bucket, resource_name=key)],
                )
            )

    def _service_role(self, data_key: kms.IKey) -> None:
        stack = cdk.Stack.of(self)
        self.service_role: iam.Role = iam.Role(
            self,
            "ServiceRole",
            # Only EMR acting for a cluster of this account and region (confused-deputy guard).
            assumed_by=iam.ServicePrincipal(
                "elasticmapreduce.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": stack.format_arn(service="elasticmapreduce", resource="*")},
                },
            ),
            description="EMR service role: AmazonEMRServicePolicy_v2 and this cluster's instance role",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(SERVICE_POLICY)],
        )
        _acknowledge(
            self.service_role, _SERVICE_POLICY_REASON,
            f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{SERVICE_POLICY}]",
        )
        self.service_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.instance_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            )
        )
        # EBS encryption: EC2 creates the cluster's encrypted volumes on the service role's
        # behalf, which needs the key through EC2 and grants for the attached volumes.
        via_ec2 = {"kms:ViaService": f"ec2.{stack.region}.{stack.url_suffix}"}
        self.service_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(EBS_KEY_ACTIONS), resources=[data_key.key_arn], conditions={"StringEquals": via_ec2}
            )
        )
        self.service_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(EBS_GRANT_ACTIONS),
                resources=[data_key.key_arn],
                conditions={"StringEquals": via_ec2, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )
        self.service_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:DescribeKey"], resources=[data_key.key_arn])
        )

    # -- security configuration and Kerberos -----------------------------------------------

    def _security_configuration(
        self, data_key: kms.IKey, tls_uri: str | None, kerberos: EmrKerberos | None
    ) -> emr.CfnSecurityConfiguration:
        encryption: dict[str, object] = {
            "EnableAtRestEncryption": True,
            "EnableInTransitEncryption": tls_uri is not None,
            "AtRestEncryptionConfiguration": {
                "S3EncryptionConfiguration": {"EncryptionMode": "SSE-KMS", "AwsKmsKey": data_key.key_arn},
                "LocalDiskEncryptionConfiguration": {
                    "EncryptionKeyProviderType": "AwsKms",
                    "AwsKmsKey": data_key.key_arn,
                    "EnableEbsEncryption": True,
                },
            },
        }
        if tls_uri is not None:
            encryption["InTransitEncryptionConfiguration"] = {
                "TLSCertificateConfiguration": {"CertificateProviderType": "PEM", "S3Object": tls_uri}
            }
        document: dict[str, object] = {
            "EncryptionConfiguration": encryption,
            # IMDSv2 only, one hop: instance-role credentials cannot be read through an SSRF-style
            # request or from a container on the node.
            "InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": 2, "HttpPutResponseHopLimit": 1},
        }
        if kerberos is not None:
            document["AuthenticationConfiguration"] = {
                "KerberosConfiguration": {
                    "Provider": "ClusterDedicatedKdc",
                    "ClusterDedicatedKdcConfiguration": {"TicketLifetimeInHours": kerberos.ticket_lifetime_hours},
                }
            }
        # No name: CloudFormation generates one, so a replacement never clashes with the old one.
        return emr.CfnSecurityConfiguration(self, "SecurityConfiguration", security_configuration=document)

    def _kdc_secret(self, cluster_name: str, data_key: kms.IKey) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            "KdcAdminPassword",
            description=f"KDC admin password of the EMR cluster {cluster_name} (read by EMR at creation only)",
            encryption_key=data_key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=32,
                # Letters and digits only: the password is handed to the KDC set-up scripts on
                # the primary node; 32 alphanumerics are ~190 bits.
                exclude_punctuation=True,
            ),
        )
        _acknowledge(
            secret, _KDC_PASSWORD_NOT_ROTATED,
            "AwsSolutions-SMG4",
            "HIPAA.Security-SecretsManagerRotationEnabled",
            "NIST.800.53.R5-SecretsManagerRotationEnabled",
        )
        return secret

    # -- cluster ---------------------------------------------------------------------------

    def _configurations(self) -> list[emr.CfnCluster.ConfigurationProperty]:
        """The Glue Data Catalog as Hive's and Spark's metastore; with ``iceberg``, EMR's Iceberg runtime
        and the Glue-backed Iceberg catalog for Spark."""
        classifications: list[tuple[str, dict[str, str]]] = [
            (classification, {"hive.metastore.client.factory.class": GLUE_CLIENT_FACTORY})
            for classification in ("hive-site", "spark-hive-site")
        ]
        if self.iceberg is not None:
            classifications += [("iceberg-defaults", {"iceberg.enabled": "true"}), ("spark-defaults", self.iceberg.spark_defaults())]
        return [
            emr.CfnCluster.ConfigurationProperty(classification=classification, configuration_properties=properties)
            for classification, properties in classifications
        ]

    def _cluster(
        self,
        *,
        cluster_name: str,
        release_label: str,
        subnet: ec2.ISubnet,
        capacity: EmrCapacity,
        idle_seconds: int,
        kerberos: EmrKerberos | None,
        key_pair_name: str | None,
        log_key: kms.IKey | None,
        termination_protection: bool,
    ) -> emr.CfnCluster:
        kerberos_attributes = None
        if kerberos is not None and self.kdc_admin_secret is not None:
            kerberos_attributes = emr.CfnCluster.KerberosAttributesProperty(
                realm=kerberos.realm,
                # A {{resolve:secretsmanager:...}} dynamic reference: CloudFormation resolves it
                # at deployment; the password never appears in the template.
                kdc_admin_password=self.kdc_admin_secret.secret_value.unsafe_unwrap(),
            )
        cluster = emr.CfnCluster(
            self,
            "Cluster",
            name=cluster_name,
            release_label=release_label,
            applications=[emr.CfnCluster.ApplicationProperty(name=name) for name in self.applications],
            service_role=self.service_role.role_name,
            job_flow_role=self.instance_profile.ref,
            security_configuration=self.security_configuration.ref,
            log_uri=self.log_uri,
            log_encryption_kms_key_id=log_key.key_arn if log_key is not None else None,
            visible_to_all_users=True,
            scale_down_behavior="TERMINATE_AT_TASK_COMPLETION",
            auto_termination_policy=emr.CfnCluster.AutoTerminationPolicyProperty(idle_timeout=idle_seconds),
            managed_scaling_policy=emr.CfnCluster.ManagedScalingPolicyProperty(
                compute_limits=emr.CfnCluster.ComputeLimitsProperty(
                    unit_type="Instances",
                    minimum_capacity_units=capacity.core_instances,
                    maximum_capacity_units=capacity.max_core_instances + capacity.max_task_instances,
                    # Beyond the on-demand core maximum, scaling adds Spot task instances.
                    maximum_on_demand_capacity_units=capacity.max_core_instances,
                    maximum_core_capacity_units=capacity.max_core_instances,
                )
            ),
            configurations=self._configurations(),
            kerberos_attributes=kerberos_attributes,
            instances=emr.CfnCluster.JobFlowInstancesConfigProperty(
                ec2_subnet_id=subnet.subnet_id,
                ec2_key_name=key_pair_name,
                emr_managed_master_security_group=self.primary_security_group.security_group_id,
                emr_managed_slave_security_group=self.core_security_group.security_group_id,
                service_access_security_group=self.service_access_security_group.security_group_id,
                # Long-running: the cluster waits for work and ends on the idle timeout.
                keep_job_flow_alive_when_no_steps=True,
                termination_protected=termination_protection,
                master_instance_group=emr.CfnCluster.InstanceGroupConfigProperty(
                    name="Primary", instance_type=capacity.primary_instance_type, instance_count=1, market="ON_DEMAND"
                ),
                core_instance_group=emr.CfnCluster.InstanceGroupConfigProperty(
                    name="Core", instance_type=capacity.core_instance_type,
                    instance_count=capacity.core_instances, market="ON_DEMAND",
                ),
                task_instance_groups=(
                    [
                        # No bid price: Spot capacity is capped at the on-demand price.
                        emr.CfnCluster.InstanceGroupConfigProperty(
                            name="Task", instance_type=capacity.task_instance_type, instance_count=0, market="SPOT"
                        )
                    ]
                    if capacity.max_task_instances > 0
                    else None
                ),
            ),
        )
        cdk.Tags.of(cluster).add(EMR_MANAGED_POLICY_TAG, "true")
        # The roles' policies (PassRole, the instance role's grants) and the security groups'
        # separate rule resources are not referenced by the cluster, but EMR needs them when it
        # creates the cluster and when it terminates it on stack deletion. Only those parts: the
        # roles and groups themselves are referenced already (a second DependsOn is noise).
        for owner in (
            self.service_role,
            self.instance_role,
            self.primary_security_group,
            self.core_security_group,
            self.service_access_security_group,
        ):
            for part in owner.node.children:
                if part.node.id != "Resource":
                    cluster.node.add_dependency(part)
        return cluster
