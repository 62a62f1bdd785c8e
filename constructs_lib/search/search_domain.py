"""An OpenSearch Service domain in private subnets, searchable only by named IAM roles.

What it creates (all in the caller's stack):

- the domain (``aws_opensearchservice.Domain``): the newest engine version aws-cdk-lib offers
  (:data:`DEFAULT_ENGINE_VERSION`), data and optional dedicated master nodes as given by
  :class:`SearchCapacity`, zone awareness over the 2 or 3 selected subnets (one per AZ), gp3 EBS
  volumes, encryption at rest with a customer-managed key, node-to-node encryption, HTTPS only
  with ``Policy-Min-TLS-1-2-PFS-2023-10``, the off-peak window (from 22:00 UTC unless given) and
  automatic service software updates, and the ``EnableVersionUpgrade`` update policy (a new
  engine version upgrades the domain in place instead of replacing it, and its data with it);
- fine-grained access control with an IAM master role (``master_role``, created when not given,
  assumable by this account's principals that IAM allows to); no internal user database and no
  anonymous access;
- four log groups (slow search, slow index, application, audit), KMS-encrypted with ``key``,
  and one CloudWatch Logs resource policy that lets ``es.amazonaws.com`` write to exactly those
  four, from this account only. The domain depends on the policy, because OpenSearch checks it
  when the domain is created;
- an IAM-based domain access policy (the ``AccessPolicies`` property, set at synth time from
  the grants, see below);
- a security group with no ingress and no egress (unless ``security_group`` is passed);
  :meth:`SearchDomain.allow_https_from` opens 443 to one peer at a time;
- alarms (``alarms``) as recommended by "Recommended CloudWatch alarms for Amazon OpenSearch
  Service" in the OpenSearch Service developer guide, sent to ``alarm_topic`` when given.

Access: who may send HTTP requests to the domain is decided twice. The domain access policy
(resource-based, here) and the caller's identity policy let a signed request reach the domain;
fine-grained access control then decides what the request may do, by the OpenSearch role the
caller's IAM role ARN is mapped to (a backend role). Only the master role is mapped from the
start (``all_access``). Every other role you grant here must also be mapped to an OpenSearch
role, for example with the security plugin's REST API (``_plugins/_security/api/rolesmapping``)
signed with the master role, or in OpenSearch Dashboards; until then its requests reach the
domain and are refused (HTTP 403). CloudFormation cannot create that mapping.

- :meth:`SearchDomain.grant_read`: ``es:ESHttpGet`` and ``es:ESHttpHead`` on ``<domain>/*``;
- :meth:`SearchDomain.grant_write`: ``es:ESHttpPost`` and ``es:ESHttpPut`` on ``<domain>/*``
  (the bulk API is ``POST /_bulk``, at the root, so an indexer needs the whole domain), or, with
  ``index_pattern``, on ``<domain>/<pattern>`` and ``<domain>/<pattern>/*`` only (enough for
  ``PUT <index>/_doc/<id>`` and ``POST <index>/_bulk``, not for ``POST /_bulk``).

Each grant adds the role to the domain access policy and the same actions to the role's own
policy, so either side of the evaluation allows it. Only roles can be granted (the policy names
principals, never ``*``).

The domain access policy cannot name the domain by its ``Arn`` attribute: the domain would
reference itself. With ``domain_name`` its resources are ``arn:...:domain/<name>/*``; without
one (CloudFormation names the domain) they are ``arn:...:domain/*/*`` in this account and
region. A resource-based policy only ever governs its own resource, so both grant access to this
domain only; the log resource policy's ``aws:SourceArn`` condition is built the same way.

CloudWatch Logs allows 10 resource policies per account and region. This construct uses one
per domain, named ``opensearch-logs-<construct address>`` (unique per stack and construct path).

Deleting the stack: with ``RemovalPolicy.RETAIN`` (default) the domain, its key and its log
groups stay; with ``DESTROY`` they are deleted (the key after its 30-day waiting period), and a
synth warning says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.common.encryption import rotating_key
from constructs_lib.common.monitoring import allow_cloudwatch_logs, encrypted_log_group, notify
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import boolean, instance, integer, text

#: The newest engine version aws-cdk-lib 2.275 offers.
DEFAULT_ENGINE_VERSION: opensearch.EngineVersion = opensearch.EngineVersion.OPENSEARCH_3_7
HTTPS = 443
#: Dedicated master node counts OpenSearch Service accepts (an odd quorum of 3 or 5), 0 for none.
MASTER_NODE_COUNTS = (0, 3, 5)
MIN_VOLUME_GIB = 10
#: Instance families without encryption at rest (which fine-grained access control needs).
NO_ENCRYPTION_AT_REST_FAMILIES = ("m3", "r3", "t2")
#: Instance families that have instance storage only, no EBS volumes.
NO_EBS_FAMILIES = ("i3", "r6gd", "i4g", "i4i", "i8g", "im4gn", "r7gd", "r8gd", "oi2")
#: Burstable families, which Multi-AZ with Standby does not support.
BURSTABLE_FAMILIES = ("t2", "t3")
READ_ACTIONS = ("es:ESHttpGet", "es:ESHttpHead")
WRITE_ACTIONS = ("es:ESHttpPost", "es:ESHttpPut")
MASTER_ACTIONS = ("es:ESHttp*",)
#: Log types as OpenSearch names them, by the key used in ``log_groups``.
LOG_TYPES = {
    "slow_search": "SEARCH_SLOW_LOGS",
    "slow_index": "INDEX_SLOW_LOGS",
    "application": "ES_APPLICATION_LOGS",
    "audit": "AUDIT_LOGS",
}

_INSTANCE_TYPE = re.compile(r"^([a-z][a-z0-9]*)\.(nano|micro|small|medium|large|\d*xlarge|metal)\.search$")
_DOMAIN_NAME = re.compile(r"^[a-z][a-z0-9-]{2,27}$")
_INDEX_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.+-]*\*?$")

_IAM_ACCESS_POLICY_IN_VPC = (
    "The domain is reachable only inside its VPC, through its own security group, and its access "
    "policy names the IAM roles that may sign requests (never '*'); fine-grained access control then "
    "maps each role to an OpenSearch role. IP-based access policies, which this rule asks for, cannot "
    "identify a caller and are not used for VPC domains."
)
_NO_DEDICATED_MASTERS = (
    "Configured choice: this domain's SearchCapacity sets master_nodes=0, so its data nodes also act "
    "as cluster managers. That is acceptable for a small domain that holds a copy of data which is "
    "also kept in the raw zone and can be re-indexed; larger or production domains configure three "
    "dedicated master nodes."
)


def selected_subnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection) -> list[ec2.ISubnet]:
    """``vpc.select_subnets(selection)`` (the Python binding takes the selection's fields as
    keyword arguments only)."""
    fields = ("availability_zones", "one_per_az", "subnet_filters", "subnet_group_name", "subnet_type", "subnets")
    return list(vpc.select_subnets(**{f: getattr(selection, f) for f in fields if getattr(selection, f) is not None}).subnets)


def _family(instance_type: str) -> str:
    return instance_type.split(".", 1)[0]


@dataclass(frozen=True)
class SearchCapacity:
    """Nodes and storage of a domain. ``volume_size_gib`` is per data node; dedicated masters
    (``master_nodes`` 3 or 5, with ``master_node_instance_type``) are optional;
    ``multi_az_with_standby`` reserves one of three AZs as a hot standby (99.99 % SLA) and needs
    dedicated masters, a multiple of three data nodes and no burstable (t2/t3) instances."""

    data_node_instance_type: str
    data_nodes: int
    volume_size_gib: int
    master_node_instance_type: str | None = None
    master_nodes: int = 0
    multi_az_with_standby: bool = False

    def __post_init__(self) -> None:
        types = {"data_node_instance_type": self.data_node_instance_type}
        if self.master_node_instance_type is not None:
            types["master_node_instance_type"] = self.master_node_instance_type
        for name, value in types.items():
            if not isinstance(value, str) or not _INSTANCE_TYPE.match(value):
                raise ValueError(
                    f"SearchCapacity.{name} must be an OpenSearch instance type ending in '.search', "
                    f"such as 'r7g.large.search'; got {value!r}"
                )
            if _family(value) in NO_ENCRYPTION_AT_REST_FAMILIES:
                raise ValueError(
                    f"SearchCapacity.{name} must support encryption at rest, which fine-grained access "
                    f"control needs ({', '.join(NO_ENCRYPTION_AT_REST_FAMILIES)} do not); got {value!r}"
                )
        if _family(self.data_node_instance_type) in NO_EBS_FAMILIES:
            raise ValueError(
                "SearchCapacity.data_node_instance_type must support EBS volumes (the domain uses gp3); "
                f"got {self.data_node_instance_type!r}"
            )
        for name in ("data_nodes", "volume_size_gib", "master_nodes"):
            integer("SearchCapacity", name, getattr(self, name))
        boolean("SearchCapacity", "multi_az_with_standby", self.multi_az_with_standby)
        if self.data_nodes < 1:
            raise ValueError(f"SearchCapacity.data_nodes must be at least 1; got {self.data_nodes}")
        if self.volume_size_gib < MIN_VOLUME_GIB:
            raise ValueError(f"SearchCapacity.volume_size_gib must be at least {MIN_VOLUME_GIB}; got {self.volume_size_gib}")
        if self.master_nodes not in MASTER_NODE_COUNTS:
            raise ValueError(f"SearchCapacity.master_nodes must be one of {MASTER_NODE_COUNTS}; got {self.master_nodes}")
        if (self.master_nodes > 0) != (self.master_node_instance_type is not None):
            raise ValueError(
                "SearchCapacity.master_node_instance_type must be given exactly when master_nodes > 0; "
                f"got master_nodes={self.master_nodes}, master_node_instance_type={self.master_node_instance_type!r}"
            )
        if self.multi_az_with_standby:
            if self.master_nodes == 0:
                raise ValueError("SearchCapacity.multi_az_with_standby needs dedicated master nodes; got master_nodes=0")
            if self.data_nodes % 3:
                raise ValueError(
                    f"SearchCapacity.multi_az_with_standby needs a multiple of 3 data nodes; got {self.data_nodes}"
                )
            burstable = [t for t in types.values() if _family(t) in BURSTABLE_FAMILIES]
            if burstable:
                raise ValueError(
                    "SearchCapacity.multi_az_with_standby does not support burstable (t2, t3) instance types; "
                    f"got {burstable[0]!r}"
                )

    @property
    def total_nodes(self) -> int:
        return self.data_nodes + self.master_nodes


@dataclass(frozen=True)
class _AlarmSpec:
    metric: cloudwatch.Metric
    comparison: cloudwatch.ComparisonOperator
    threshold: float
    evaluation_periods: int
    description: str


@jsii.implements(ec2.IConnectable)
class SearchDomain(Construct):
    """Attributes: ``domain``, ``key``, ``master_role``, ``security_group``, ``connections``
    (the security group, default port 443), ``log_groups`` (by ``slow_search``, ``slow_index``,
    ``application``, ``audit``), ``log_resource_policy``, ``alarms``, ``capacity``,
    ``availability_zone_count``, ``removal_policy``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        capacity: SearchCapacity,
        key: kms.IKey | None = None,
        master_role: iam.IRole | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        engine_version: opensearch.EngineVersion = DEFAULT_ENGINE_VERSION,
        domain_name: str | None = None,
        off_peak_window_start: opensearch.WindowStartTime | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        instance("SearchDomain", "capacity", capacity, SearchCapacity)
        if domain_name is not None and not _DOMAIN_NAME.match(text("SearchDomain", "domain_name", domain_name)):
            raise ValueError(
                "SearchDomain: domain_name must be 3-28 lowercase letters, digits and hyphens, starting with "
                f"a letter; got {domain_name!r}"
            )
        self.removal_policy: cdk.RemovalPolicy = check_data_removal_policy(removal_policy, owner="SearchDomain")
        self.capacity = capacity
        subnets = selected_subnets(vpc, vpc_subnets)
        self.availability_zone_count = len(subnets)
        if self.availability_zone_count not in (2, 3):
            raise ValueError(
                "SearchDomain: vpc_subnets must select 2 or 3 subnets, one per Availability Zone "
                f"(zone awareness); got {self.availability_zone_count}"
            )
        if capacity.data_nodes % self.availability_zone_count:
            raise ValueError(
                f"SearchDomain: capacity.data_nodes must be a multiple of the number of subnets "
                f"({self.availability_zone_count}), so every AZ holds as many nodes; got {capacity.data_nodes}"
            )
        if capacity.multi_az_with_standby and self.availability_zone_count != 3:
            raise ValueError(
                f"SearchDomain: multi_az_with_standby needs 3 subnets in 3 AZs; got {self.availability_zone_count}"
            )

        stack = cdk.Stack.of(self)
        if key is None:
            created = rotating_key(
                self, "Key", description="Encrypts the OpenSearch domain and its log groups", removal_policy=removal_policy
            )
            allow_cloudwatch_logs(created)
            self.key: kms.IKey = created
        else:
            self.key = key
        self.master_role: iam.IRole = master_role if master_role is not None else iam.Role(
            self, "MasterRole", assumed_by=iam.AccountRootPrincipal(),
            description="The OpenSearch domain's FGAC master role (fine-grained access control, mapped to all_access)",
        )
        if security_group is None:
            security_group = ec2.SecurityGroup(
                self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
                description="OpenSearch domain: HTTPS from the peers allowed explicitly, nothing else",
            )
        self.security_group = security_group
        self._connections: ec2.Connections = ec2.Connections(security_groups=[security_group], default_port=ec2.Port.tcp(HTTPS))

        self.log_groups: dict[str, logs.LogGroup] = {
            name: encrypted_log_group(
                self, "".join(part.title() for part in name.split("_")) + "Logs",
                key=self.key, retention=log_retention, removal_policy=removal_policy,
            )
            for name in LOG_TYPES
        }
        name_pattern = domain_name if domain_name is not None else "*"
        self._domain_arn_pattern = stack.format_arn(service="es", resource="domain", resource_name=name_pattern)
        self.log_resource_policy: logs.ResourcePolicy = logs.ResourcePolicy(
            self,
            "LogResourcePolicy",
            resource_policy_name=f"opensearch-logs-{self.node.addr}",
            policy_statements=[
                iam.PolicyStatement(
                    sid="OpenSearchWritesItsLogs",
                    principals=[iam.ServicePrincipal("es.amazonaws.com")],
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[group.log_group_arn for group in self.log_groups.values()],
                    conditions={
                        "StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {"aws:SourceArn": self._domain_arn_pattern},
                    },
                )
            ],
        )

        self.domain: opensearch.Domain = opensearch.Domain(
            self,
            "Domain",
            version=engine_version,
            domain_name=domain_name,
            capacity=opensearch.CapacityConfig(
                data_node_instance_type=capacity.data_node_instance_type,
                data_nodes=capacity.data_nodes,
                master_node_instance_type=capacity.master_node_instance_type,
                master_nodes=capacity.master_nodes or None,
                multi_az_with_standby_enabled=capacity.multi_az_with_standby,
            ),
            zone_awareness=opensearch.ZoneAwarenessConfig(
                enabled=True, availability_zone_count=self.availability_zone_count
            ),
            ebs=opensearch.EbsOptions(
                enabled=True, volume_size=capacity.volume_size_gib, volume_type=ec2.EbsDeviceVolumeType.GP3
            ),
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True, kms_key=self.key),
            node_to_node_encryption=True,
            enforce_https=True,
            tls_security_policy=opensearch.TLSSecurityPolicy.TLS_1_2_PFS,
            fine_grained_access_control=opensearch.AdvancedSecurityOptions(master_user_arn=self.master_role.role_arn),
            logging=opensearch.LoggingOptions(
                slow_search_log_enabled=True,
                slow_search_log_group=self.log_groups["slow_search"],
                slow_index_log_enabled=True,
                slow_index_log_group=self.log_groups["slow_index"],
                app_log_enabled=True,
                app_log_group=self.log_groups["application"],
                audit_log_enabled=True,
                audit_log_group=self.log_groups["audit"],
            ),
            suppress_logs_resource_policy=True,
            vpc=vpc,
            vpc_subnets=[vpc_subnets],
            security_groups=[security_group],
            off_peak_window_enabled=True,
            off_peak_window_start=off_peak_window_start,
            enable_auto_software_update=True,
            enable_version_upgrade=True,
            removal_policy=removal_policy,
        )
        cfn_domain = cast(opensearch.CfnDomain, self.domain.node.default_child)
        cfn_domain.add_property_override("AdvancedSecurityOptions.AnonymousAuthEnabled", False)
        cfn_domain.node.add_dependency(self.log_resource_policy)
        self._grants: list[tuple[str, tuple[str, ...], tuple[str, ...], str]] = []
        cfn_domain.access_policies = cdk.Lazy.any(_AccessPolicy(self))

        self.alarms = self._alarms()
        notify(self.alarms, alarm_topic)
        apply_data_removal_policy(
            self, removal_policy,
            what="the OpenSearch domain, " + ("its key and " if key is None else "") + "its log groups",
        )
        cdk.Validations.of(cfn_domain).acknowledge(
            cdk.Acknowledgment(id="AwsSolutions-OS3", reason=_IAM_ACCESS_POLICY_IN_VPC)
        )
        if capacity.master_nodes == 0:
            cdk.Validations.of(cfn_domain).acknowledge(
                cdk.Acknowledgment(id="AwsSolutions-OS4", reason=_NO_DEDICATED_MASTERS)
            )

    # -- network ---------------------------------------------------------------------------

    @property
    def connections(self) -> ec2.Connections:
        """The domain's security group, default port 443."""
        return self._connections

    def allow_https_from(self, peer: ec2.IConnectable, description: str = "HTTPS to the OpenSearch domain") -> None:
        """Admit HTTPS (443) from ``peer`` (a security group or anything that has one), and, when
        the peer's group restricts egress, let it send HTTPS to the domain's group."""
        self._connections.allow_from(peer, ec2.Port.tcp(HTTPS), description)

    # -- access ----------------------------------------------------------------------------

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """``es:ESHttpGet`` and ``es:ESHttpHead`` on the whole domain (searches by GET, index
        listings, cluster health)."""
        return self._grant(grantee, READ_ACTIONS, ("*",), "Read")

    def grant_write(self, grantee: iam.IGrantable, *, index_pattern: str | None = None) -> iam.Grant:
        """``es:ESHttpPost`` and ``es:ESHttpPut`` on the whole domain, or with ``index_pattern``
        (``telemetry-*``) on matching indices only (see the module docstring for what that
        excludes)."""
        if index_pattern is None:
            return self._grant(grantee, WRITE_ACTIONS, ("*",), "Write")
        if not _INDEX_PATTERN.match(index_pattern):
            raise ValueError(
                "SearchDomain: index_pattern must be a lowercase index name, optionally ending in '*' "
                f"(such as 'telemetry-*'); got {index_pattern!r}"
            )
        return self._grant(grantee, WRITE_ACTIONS, (index_pattern, f"{index_pattern}/*"), "WriteIndices")

    def _grant(self, grantee: iam.IGrantable, actions: tuple[str, ...], paths: tuple[str, ...], sid: str) -> iam.Grant:
        role_arn = getattr(grantee.grant_principal, "role_arn", None)
        if role_arn is None:
            raise ValueError(
                "SearchDomain: only IAM roles (or constructs acting through one) can be granted access; "
                f"got {grantee.grant_principal}"
            )
        self._grants.append((role_arn, actions, paths, sid))
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(actions),
            resource_arns=[f"{self.domain.domain_arn}/{path}" for path in paths],
        )

    @property
    def granted_role_arns(self) -> list[str]:
        """Every role ARN in the access policy: the master role first, then the grantees."""
        return list(dict.fromkeys([self.master_role.role_arn, *(arn for arn, *_ in self._grants)]))

    def access_policy_document(self) -> dict[str, Any]:
        """The domain access policy, as it is rendered into ``AccessPolicies``."""
        statements: list[dict[str, Any]] = [
            {
                "Sid": "MasterRole",
                "Effect": "Allow",
                "Principal": {"AWS": self.master_role.role_arn},
                "Action": list(MASTER_ACTIONS),
                "Resource": f"{self._domain_arn_pattern}/*",
            }
        ]
        grouped: dict[tuple[tuple[str, ...], tuple[str, ...], str], list[str]] = {}
        for role_arn, actions, paths, sid in self._grants:
            principals = grouped.setdefault((actions, paths, sid), [])
            if role_arn not in principals:
                principals.append(role_arn)
        for index, ((actions, paths, sid), principals) in enumerate(grouped.items()):
            resources = [f"{self._domain_arn_pattern}/{path}" for path in paths]
            statements.append(
                {
                    "Sid": f"{sid}{index}",
                    "Effect": "Allow",
                    "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
                    "Action": list(actions),
                    "Resource": resources[0] if len(resources) == 1 else resources,
                }
            )
        return {"Version": "2012-10-17", "Statement": statements}

    # -- alarms ----------------------------------------------------------------------------

    def _alarms(self) -> dict[str, cloudwatch.Alarm]:
        one_minute, five_minutes, fifteen_minutes = (cdk.Duration.minutes(m) for m in (1, 5, 15))
        at_least = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        domain = self.domain
        # 25 % of one data node's volume, in MiB (FreeStorageSpace's unit): the smallest node matters.
        storage_threshold = self.capacity.volume_size_gib * 1024 * 0.25
        specs: dict[str, _AlarmSpec] = {
            "cluster_status_red": _AlarmSpec(
                domain.metric_cluster_status_red(period=one_minute), at_least, 1, 1,
                "At least one primary shard and its replicas are not allocated to a node"),
            "cluster_status_yellow": _AlarmSpec(
                domain.metric_cluster_status_yellow(period=one_minute), at_least, 1, 5,
                "At least one replica shard has not been allocated to a node for five minutes"),
            "free_storage_space": _AlarmSpec(
                domain.metric_free_storage_space(period=one_minute),
                cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD, storage_threshold, 1,
                "A data node has 25 % or less of its storage left"),
            "cluster_index_writes_blocked": _AlarmSpec(
                domain.metric_cluster_index_writes_blocked(period=five_minutes), at_least, 1, 1,
                "The cluster is blocking write requests: indexing (and Firehose delivery) fails"),
            "automated_snapshot_failure": _AlarmSpec(
                domain.metric_automated_snapshot_failure(period=one_minute), at_least, 1, 1,
                "An automated snapshot failed"),
            "cpu_utilization": _AlarmSpec(
                domain.metric_cpu_utilization(statistic="Maximum", period=fifteen_minutes), at_least, 80, 3,
                "Data node CPU has stayed at 80 % or more for 45 minutes"),
            "jvm_memory_pressure": _AlarmSpec(
                domain.metric_jvm_memory_pressure(period=one_minute), at_least, 95, 3,
                "Data node JVM memory pressure has stayed at 95 % or more for three minutes"),
            "nodes": _AlarmSpec(
                domain.metric_nodes(statistic="Minimum", period=cdk.Duration.days(1)),
                cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, self.capacity.total_nodes, 1,
                "At least one node has been unreachable for a day"),
            "kms_key_error": _AlarmSpec(
                domain.metric_kms_key_error(period=one_minute), at_least, 1, 1,
                "The domain's KMS key is disabled: the domain cannot encrypt or decrypt data"),
            "kms_key_inaccessible": _AlarmSpec(
                domain.metric_kms_key_inaccessible(period=one_minute), at_least, 1, 1,
                "The domain's KMS key was deleted or its grants revoked: the domain cannot read its data"),
        }
        if self.capacity.master_nodes > 0:
            specs["master_cpu_utilization"] = _AlarmSpec(
                domain.metric_master_cpu_utilization(period=fifteen_minutes), at_least, 50, 3,
                "Dedicated master CPU has stayed at 50 % or more for 45 minutes")
            specs["master_jvm_memory_pressure"] = _AlarmSpec(
                domain.metric_master_jvm_memory_pressure(period=one_minute), at_least, 95, 3,
                "Dedicated master JVM memory pressure has stayed at 95 % or more for three minutes")
        return {
            name: spec.metric.create_alarm(
                self,
                "".join(part.title() for part in name.split("_")) + "Alarm",
                alarm_description=spec.description,
                threshold=spec.threshold,
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.evaluation_periods,
                comparison_operator=spec.comparison,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            for name, spec in specs.items()
        }


@jsii.implements(cdk.IStableAnyProducer)
class _AccessPolicy:
    """Renders the domain access policy when the template is synthesised, after every grant."""

    def __init__(self, search_domain: SearchDomain) -> None:
        self._search_domain = search_domain

    def produce(self) -> Any:
        return self._search_domain.access_policy_document()
