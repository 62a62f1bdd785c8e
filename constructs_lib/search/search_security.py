"""OpenSearch security roles, and the IAM roles mapped to them, on a SearchDomain with fine-grained
access control (FGAC), kept by CloudFormation.

With FGAC on, the domain access policy only lets a signed request reach the domain; what the request
may then do depends on the OpenSearch security role its IAM role is mapped to (a *backend role*).
A fresh domain maps only its master role. A Firehose delivery role that ``grant_write`` let in is
therefore refused every bulk request (``AuthFailure``, every document in the backup bucket) until
something maps it. CloudFormation has no resource for that; ``SearchSecurityRoles`` is one
``Custom::OpenSearchSecurityRoles`` resource answered by one small Python function of its own
(``constructs_lib/search/functions/opensearch_security/handler.py``, which documents the request semantics;
no Provider framework; built by ``constructs_lib.common.deploy_time_function``). On Create and Update it
puts every role and its mapping through the security plugin's REST API
(``_plugins/_security/api/roles`` and ``rolesmapping``), signed with the domain's FGAC master role;
on Update it removes the roles no longer listed; on Delete it removes its roles.
It refuses to overwrite a reserved role or one that anything but this stack wrote.

Roles (:class:`SearchRole`): a name, the IAM role ARNs mapped to it, index patterns with index
action groups, and cluster action groups. Two factories cover the usual cases:

- :meth:`SearchRole.firehose_writer`: what the Amazon Data Firehose developer guide lists for a
  delivery role on an FGAC domain: cluster ``cluster_composite_ops`` and ``cluster_monitor``, index
  ``crud``, ``create_index`` and ``manage`` on ``<index_name>`` and ``<index_name>-*`` (the indices
  Firehose writes with and without index rotation);
- :meth:`SearchRole.reader`: ``read`` on the given index patterns and ``cluster_composite_ops_ro``
  (mget, msearch and scroll are cluster-level actions in the security plugin).

Fixed (security and correctness):

- the function runs in ``vpc_subnets`` behind a security group of its own with no ingress and two
  egress rules: HTTPS to the domain's security group (the domain admits it on 443, through
  ``SearchDomain.allow_https_from``), and HTTPS to VPC endpoints (STS, and S3's gateway endpoint for
  CloudFormation's pre-signed response URL). The subnets need an STS interface endpoint (private
  DNS) and the S3 gateway endpoint, or a NAT;
- its role may assume exactly the domain's master role (``sts:AssumeRole``), write its own log
  group and traces, send to its dead-letter queue, manage its VPC network interfaces, and nothing
  else. SearchDomain's own master role trusts this account's principals that IAM allows, so that
  statement suffices; a master role passed to SearchDomain must trust this function's role;
- one concurrent execution, no asynchronous retries (the handler answers every request itself; an
  invocation that still dies goes to the encrypted dead-letter queue, and CloudFormation stops
  waiting after ``timeout`` plus five minutes); a KMS-encrypted log group with a retention, an
  encrypted environment, active X-Ray tracing, ARM64 and the newest Python runtime;
- the custom resource is always deleted with the stack (so its roles are removed); it waits for the
  domain (it references its endpoint and master role) and for the two security group rules.

Tunable: the roles, timeout (1 to 15 minutes), log retention, removal policy (log group, dead-letter
queue, own key), the key (``None``: a rotating key of the construct's own that CloudWatch Logs may use).

Ordering the caller does. A mapping does not let a role past the domain access policy: grant the same
roles there (``domain.grant_write(delivery.role)``, ``domain.grant_read(reader)``). Anything that
writes to or reads the domain should wait for the mapping:
``delivery.delivery_stream.node.add_dependency(security_roles.resource)``; otherwise its first
requests may be refused. If the network's STS endpoint is in the same stack, make the construct depend
on it (``security_roles.node.add_dependency(endpoint)``) so that stack deletion removes the roles
before the endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.common.deploy_time_function import FunctionVpc, check_timeout, deploy_time_function
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import instance, sequence
from constructs_lib.search.search_domain import SearchDomain

OWNER = "SearchSecurityRoles"
#: The handler's source: a self-contained folder (standard library and the runtime's boto3) shipped
#: as package data.
HANDLER_DIR = Path(__file__).resolve().parent / "functions" / "opensearch_security"
RESOURCE_TYPE = "Custom::OpenSearchSecurityRoles"
RESERVED_CONCURRENCY = 1
MAX_ROLE_NAME_LENGTH = 64

#: Per the Amazon Data Firehose developer guide (OpenSearch Service destination with fine-grained
#: access control).
FIREHOSE_INDEX_ACTIONS = ("crud", "create_index", "manage")
FIREHOSE_CLUSTER_ACTIONS = ("cluster_composite_ops", "cluster_monitor")
READER_INDEX_ACTIONS = ("read",)
READER_CLUSTER_ACTIONS = ("cluster_composite_ops_ro",)

#: Roles the security plugin and its plugins define (reserved on OpenSearch 2.x and 3.x), and the
#: ones Amazon OpenSearch Service adds. The handler also refuses, at deploy time, any reserved,
#: static or hidden role and any role that another stack or a person wrote.
RESERVED_ROLE_NAMES = frozenset({
    "all_access", "security_manager", "security_rest_api_access", "security_rest_api_full_access",
    "kibana_user", "kibana_read_only", "kibana_server", "opensearch_dashboards_user",
    "opensearch_dashboards_read_only", "own_index", "manage_snapshots", "logstash", "readall",
    "readall_and_monitor", "alerting_read_access", "alerting_ack_alerts", "alerting_full_access",
    "anomaly_read_access", "anomaly_full_access", "knn_read_access", "knn_full_access",
    "ip2geo_datasource_read_access", "ip2geo_datasource_full_access", "notebooks_read_access",
    "notebooks_full_access", "observability_read_access", "observability_full_access", "ppl_full_access",
    "reports_instances_read_access", "reports_read_access", "reports_full_access",
    "asynchronous_search_full_access", "asynchronous_search_read_access", "index_management_full_access",
    "cross_cluster_replication_leader_full_access", "cross_cluster_replication_follower_full_access",
    "cross_cluster_search_remote_full_access", "query_assistant_access", "ml_read_access", "ml_full_access",
    "notifications_full_access", "notifications_read_access", "snapshot_management_full_access",
    "snapshot_management_read_access", "point_in_time_full_access", "security_analytics_read_access",
    "security_analytics_full_access", "security_analytics_ack_alerts", "flow_framework_full_access",
    "flow_framework_read_access", "ultrawarm_manager", "cold_manager",
})
#: Action groups and permissions that would make a mapped role as powerful as the master user (all
#: cluster or index actions, or the security REST API): they belong to the master user alone.
FORBIDDEN_ACTIONS = frozenset({"*", "unlimited", "cluster_all", "indices_all", "cluster:*", "indices:*"})
FORBIDDEN_ACTION_PREFIXES = ("restapi:",)

_ROLE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
# Lowercase index names with '*' wildcards; never starting with '.', '_', '-' or '+' (hidden and
# system indices, or names OpenSearch refuses).
_INDEX_PATTERN = re.compile(r"^[a-z0-9*][a-z0-9*._+-]*$")
_ACTION = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_:/*.-]*$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")

#: Checked in the Service Authorization Reference (Amazon EC2: DescribeNetworkInterfaces and
#: DescribeSubnets have no resource types, https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html;
#: AWS X-Ray: PutTraceSegments and PutTelemetryRecords have none,
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html).
_STAR_RESOURCE_REASON = (
    "Every '*' resource in this role's policy is an action without resource-level permissions: EC2 "
    "DescribeNetworkInterfaces and DescribeSubnets, which Lambda needs to attach the function to its VPC "
    "subnets (creating and deleting interfaces is scoped to its subnets and security group), and X-Ray's "
    "PutTraceSegments/PutTelemetryRecords for active tracing. Its only other power, sts:AssumeRole, names "
    "the domain's master role alone."
)


def _texts(value: Sequence[str], prop: str, *, required: bool) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ValueError(f"SearchRole: {prop} must be a sequence of strings, not one string; got {value!r}")
    items = tuple(sequence("SearchRole", prop, value))
    if required and not items:
        raise ValueError(f"SearchRole: {prop} must not be empty; got {items!r}")
    for item in items:
        if not isinstance(item, str) or not item:
            raise ValueError(f"SearchRole: every item of {prop} must be a non-empty string; got {item!r}")
    duplicates = sorted({item for item in items if items.count(item) > 1})
    if duplicates:
        raise ValueError(f"SearchRole: {prop} lists {duplicates} more than once")
    return items


@dataclass(frozen=True)
class SearchRole:
    """One OpenSearch security role, and the IAM roles mapped to it (its backend roles).

    ``name``: 1 to 64 lowercase letters, digits, '_' and '-' (a literal, not a token: it is part of
    the REST API's path), not a role OpenSearch or OpenSearch Service defines.
    ``backend_role_arns``: IAM role ARNs (tokens allowed). ``index_patterns``: lowercase index names
    with '*' wildcards. ``index_actions`` / ``cluster_actions``: action groups (``crud``,
    ``cluster_monitor``) or permissions (``indices:data/write/bulk*``); the all-powerful ones and the
    security REST API's are refused."""

    name: str
    backend_role_arns: Sequence[str]
    index_patterns: Sequence[str]
    index_actions: Sequence[str]
    cluster_actions: Sequence[str] = ()

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, str) or cdk.Token.is_unresolved(name) or len(name) > MAX_ROLE_NAME_LENGTH or not _ROLE_NAME.match(name):
            raise ValueError(
                f"SearchRole: name must be 1-{MAX_ROLE_NAME_LENGTH} lowercase letters, digits, '_' or '-', starting "
                f"with a letter or digit (no token); got {name!r}"
            )
        if name in RESERVED_ROLE_NAMES:
            raise ValueError(f"SearchRole: name must not be a role OpenSearch defines itself; got {name!r}")
        arns = _texts(self.backend_role_arns, "backend_role_arns", required=True)
        for arn in arns:
            if not cdk.Token.is_unresolved(arn) and not _ROLE_ARN.match(arn):
                raise ValueError(f"SearchRole: backend_role_arns must be IAM role ARNs; got {arn!r}")
        patterns = _texts(self.index_patterns, "index_patterns", required=True)
        for pattern in patterns:
            if cdk.Token.is_unresolved(pattern) or not _INDEX_PATTERN.match(pattern):
                raise ValueError(
                    "SearchRole: index_patterns must be lowercase index names with '*' wildcards, not starting "
                    f"with '.', '_', '-' or '+' (no token); got {pattern!r}"
                )
        actions = {
            "index_actions": _texts(self.index_actions, "index_actions", required=True),
            "cluster_actions": _texts(self.cluster_actions, "cluster_actions", required=False),
        }
        for prop, values in actions.items():
            for action in values:
                if action in FORBIDDEN_ACTIONS or action.startswith(FORBIDDEN_ACTION_PREFIXES):
                    raise ValueError(
                        f"SearchRole: {prop} must not grant everything or the security REST API (that is the "
                        f"master user's); got {action!r}"
                    )
                if cdk.Token.is_unresolved(action) or not _ACTION.match(action):
                    raise ValueError(f"SearchRole: {prop} must be action group or permission names; got {action!r}")
        object.__setattr__(self, "backend_role_arns", arns)
        object.__setattr__(self, "index_patterns", patterns)
        object.__setattr__(self, "index_actions", actions["index_actions"])
        object.__setattr__(self, "cluster_actions", actions["cluster_actions"])

    @classmethod
    def firehose_writer(cls, role_arn: str, index_name: str, *, name: str | None = None) -> SearchRole:
        """The role of a Firehose delivery stream that indexes into ``index_name`` (the stream's
        ``IndexName``): ``<index_name>`` and, with index rotation, ``<index_name>-*``. ``name``
        defaults to ``<index_name>_firehose_writer`` ('.' replaced by '_')."""
        if not isinstance(index_name, str) or cdk.Token.is_unresolved(index_name) or not _INDEX_NAME.match(index_name):
            raise ValueError(
                "SearchRole: index_name must be a lowercase index name (letters, digits, '.', '_', '-'; no '*', "
                f"no token), as the delivery stream's IndexName; got {index_name!r}"
            )
        return cls(
            name=name if name is not None else f"{index_name.replace('.', '_')}_firehose_writer",
            backend_role_arns=(role_arn,),
            index_patterns=(index_name, f"{index_name}-*"),
            index_actions=FIREHOSE_INDEX_ACTIONS,
            cluster_actions=FIREHOSE_CLUSTER_ACTIONS,
        )

    @classmethod
    def reader(cls, role_arns: Sequence[str], index_patterns: Sequence[str], *, name: str) -> SearchRole:
        """Read-only (search, get, mget, msearch, scroll) on ``index_patterns`` for ``role_arns``."""
        return cls(
            name=name,
            backend_role_arns=role_arns,
            index_patterns=index_patterns,
            index_actions=READER_INDEX_ACTIONS,
            cluster_actions=READER_CLUSTER_ACTIONS,
        )

    def to_properties(self) -> dict[str, object]:
        """How the role travels in the custom resource's properties."""
        return {
            "Name": self.name,
            "BackendRoles": list(self.backend_role_arns),
            "IndexPatterns": list(self.index_patterns),
            "IndexActions": list(self.index_actions),
            "ClusterActions": list(self.cluster_actions),
        }


def _check_roles(roles: Sequence[SearchRole]) -> tuple[SearchRole, ...]:
    checked = tuple(sequence(OWNER, "roles", roles))
    if not checked:
        raise ValueError(f"{OWNER}: roles must hold at least one SearchRole; got {checked!r}")
    for role in checked:
        if not isinstance(role, SearchRole):
            raise ValueError(f"{OWNER}: every item of roles must be a SearchRole; got {role!r}")
    names = [role.name for role in checked]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{OWNER}: roles names {duplicates} more than once; got {names}")
    return checked


class SearchSecurityRoles(Construct):
    """``Custom::OpenSearchSecurityRoles`` on ``domain``: every role of ``roles`` and its mapping,
    written with the domain's FGAC master role (see the module docstring).

    Attributes: ``resource`` (``cdk.CustomResource``), ``function``, ``role``, ``security_group``,
    ``dead_letter_queue``, ``log_group``, ``key`` (the one passed in, or the construct's own),
    ``roles`` (the SearchRoles), ``domain``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain: SearchDomain,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        roles: Sequence[SearchRole],
        key: kms.IKey | None = None,
        timeout: cdk.Duration = cdk.Duration.minutes(5),
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        if not isinstance(domain, SearchDomain):
            raise ValueError(f"{OWNER}: domain must be a SearchDomain (its master role signs the requests); got {domain!r}")
        self.roles: tuple[SearchRole, ...] = _check_roles(roles)
        instance(OWNER, "vpc", vpc, ec2.IVpc)
        instance(OWNER, "vpc_subnets", vpc_subnets, ec2.SubnetSelection)
        if key is not None:
            instance(OWNER, "key", key, kms.IKey)
        instance(OWNER, "timeout", timeout, cdk.Duration)
        instance(OWNER, "log_retention", log_retention, logs.RetentionDays)
        self._check_unclaimed(domain)
        check_timeout(timeout, owner=OWNER)
        check_data_removal_policy(removal_policy, owner=OWNER)
        self.domain = domain

        parts = deploy_time_function(
            self,
            owner=OWNER,
            handler_dir=HANDLER_DIR,
            description="Writes OpenSearch security roles and role mappings with the domain's master role (Custom::OpenSearchSecurityRoles)",
            role_description="SearchSecurityRoles: assume the OpenSearch domain's master role to map roles, and answer CloudFormation",
            statements=[
                iam.PolicyStatement(
                    sid="AssumeTheDomainsMasterRole", actions=["sts:AssumeRole"], resources=[domain.master_role.role_arn]
                )
            ],
            policy_scope="master role",
            star_resource_reason=_STAR_RESOURCE_REASON,
            timeout=timeout,
            reserved_concurrency=RESERVED_CONCURRENCY,
            key=key,
            log_retention=log_retention,
            removal_policy=removal_policy,
            vpc=FunctionVpc(
                vpc,
                vpc_subnets,
                group_description="SearchSecurityRoles function: HTTPS to the OpenSearch domain and to VPC endpoints only, no inbound",
                egress_description="HTTPS to VPC endpoints (STS, S3 for the CloudFormation response)",
            ),
            # Regional STS, reached through the VPC's STS endpoint (the global endpoint is not).
            environment={"AWS_STS_REGIONAL_ENDPOINTS": "regional"},
        )
        self.key: kms.IKey = parts.key
        self.log_group: logs.LogGroup = parts.log_group
        self.dead_letter_queue: sqs.Queue = parts.dead_letter_queue
        self.security_group: ec2.ISecurityGroup | None = parts.security_group
        self.role: iam.Role = parts.role
        self.function: lambda_.Function = parts.function
        domain.allow_https_from(self.security_group, "HTTPS between the SearchSecurityRoles function and the domain")
        self.resource: cdk.CustomResource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type=RESOURCE_TYPE,
            service_timeout=parts.service_timeout,
            properties={
                "Endpoint": domain.domain.domain_endpoint,
                "MasterRoleArn": domain.master_role.role_arn,
                "Roles": [role.to_properties() for role in self.roles],
            },
        )
        # The function reaches the domain only once both ends of the HTTPS rule exist (the domain's
        # ingress rule is a child of the domain's security group, the egress one of ours); on
        # deletion the roles are removed before the rules.
        self.resource.node.add_dependency(domain.security_group, self.security_group)
        apply_data_removal_policy(
            self, removal_policy, what="the security roles function's log group and dead-letter queue (and its own key)"
        )

    def _check_unclaimed(self, domain: SearchDomain) -> None:
        """Two of these constructs writing the same role on one domain would overwrite each other."""
        names = {role.name for role in self.roles}
        for other in self.node.root.node.find_all():
            if other is self or not isinstance(other, SearchSecurityRoles) or getattr(other, "domain", None) is not domain:
                continue
            shared = sorted(names & {role.name for role in other.roles})
            if shared:
                raise ValueError(
                    f"{OWNER}: roles {shared} are already written on this domain by {other.node.path}; got them again"
                )
