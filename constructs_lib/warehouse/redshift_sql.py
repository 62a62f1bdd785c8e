"""Run SQL on a provisioned Redshift cluster at deploy time, through the Redshift Data API.

Some objects can only be created with SQL, such as the Spectrum external schema that makes
``SELECT * FROM curated.telemetry`` work right after ``cdk deploy``. ``RedshiftSql`` is a
``Custom::RedshiftSql`` resource backed by one small Python function of its own (no Provider
framework, so no extra framework functions or state machine; built by
``constructs_lib.common.deploy_time_function``, as the library's other custom resource functions): the
function runs ``create_statements`` on Create and Update and ``delete_statements`` on Delete, with
the cluster's admin secret, and answers CloudFormation itself. The request semantics (one
transaction, the stable physical id, what a failed Delete does) are documented in
``constructs_lib/warehouse/functions/redshift_sql/handler.py``.

Fixed (security and correctness):

- the function runs in ``vpc_subnets`` (isolated subnets: it reaches the Data API through a
  ``redshift-data`` interface endpoint and CloudFormation's pre-signed S3 response URL through the
  S3 gateway endpoint) behind a security group that allows HTTPS egress only;
- its role may run statements on this one cluster, describe and cancel only the statements it
  submitted itself, read this one secret (and decrypt it only through Secrets Manager), write its
  own log group and traces, manage its VPC network interfaces, and nothing else;
- one concurrent execution, no asynchronous retries (the handler answers every request itself; an
  invocation that still dies goes to the encrypted dead-letter queue, and CloudFormation stops
  waiting after the custom resource's service timeout, ``timeout`` plus five minutes);
- a KMS-encrypted log group with a retention, an encrypted environment, active X-Ray tracing;
- the custom resource itself is always deleted with the stack (so ``delete_statements`` run);
  ``removal_policy`` applies to the log group, the dead-letter queue and the construct's own key.

Tunable: statements, timeout (1 to 15 minutes), log retention, removal policy, the key (``None``:
a rotating key of the construct's own that CloudWatch Logs may use), the security group.

A key passed in must let CloudWatch Logs use it (see ``monitoring.allow_cloudwatch_logs``), or the
log group fails to deploy. If the network's interface endpoints are in the same stack, make the
construct depend on them (``sql.node.add_dependency(endpoint)``) so that stack deletion removes
them only after the Delete statements have run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.common.deploy_time_function import FunctionVpc, check_timeout, deploy_time_function
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import instance, sequence, text

#: The handler's source: a self-contained folder (standard library and the runtime's boto3) inside
#: this package, shipped in the wheel as package data, so an installed library finds it too.
HANDLER_DIR = Path(__file__).resolve().parent / "functions" / "redshift_sql"
RESOURCE_TYPE = "Custom::RedshiftSql"
#: The Data API runs at most 40 statements in one batch.
MAX_STATEMENTS = 40
RESERVED_CONCURRENCY = 1

_CLUSTER_IDENTIFIER = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")
_DATABASE = re.compile(r"^[a-z_][a-z0-9_$]{0,63}$")

#: Checked in the Service Authorization Reference (Amazon EC2: DescribeNetworkInterfaces and
#: DescribeSubnets have no resource types, https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html;
#: AWS X-Ray, https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html) and the
#: Redshift Data API's authorization guide for the statement-owner condition.
_STAR_RESOURCE_REASON = (
    "Every '*' resource in this role's policy is an action with no resource-level permissions: "
    "redshift-data:DescribeStatement and CancelStatement (limited by the "
    "redshift-data:statement-owner-iam-userid = ${aws:userid} condition to statements this role's own "
    "session submitted), EC2 DescribeNetworkInterfaces and DescribeSubnets, which Lambda needs to attach "
    "the function to its VPC subnets (creating and deleting interfaces is scoped to its subnets and "
    "security group), and X-Ray's PutTraceSegments/PutTelemetryRecords for active tracing."
)


def _check_target(cluster_identifier: str, database: str) -> None:
    if not cdk.Token.is_unresolved(cluster_identifier) and not _CLUSTER_IDENTIFIER.match(cluster_identifier):
        raise ValueError(
            "RedshiftSql: cluster_identifier must be 1 to 63 lowercase letters, digits and hyphens, start "
            f"with a letter, and contain no '--' and no trailing '-'; got {cluster_identifier!r}"
        )
    if not cdk.Token.is_unresolved(database) and not _DATABASE.match(database):
        raise ValueError(
            "RedshiftSql: database must be 1 to 64 lowercase letters, digits, '_' or '$', starting with a "
            f"letter or '_'; got {database!r}"
        )


def _check_statements(statements: Sequence[str], prop: str, *, required: bool) -> list[str]:
    if isinstance(statements, str):
        raise ValueError(f"RedshiftSql: {prop} must be a sequence of SQL strings, not one string; got {statements!r}")
    checked = list(statements)
    if required and not checked:
        raise ValueError(f"RedshiftSql: {prop} must hold at least one SQL statement; got {checked!r}")
    if len(checked) > MAX_STATEMENTS:
        raise ValueError(
            f"RedshiftSql: {prop} holds {len(checked)} statements; the Data API runs at most {MAX_STATEMENTS} in one batch"
        )
    for statement in checked:
        if not isinstance(statement, str) or not statement.strip():
            raise ValueError(f"RedshiftSql: every statement of {prop} must be a non-empty string; got {statement!r}")
    return checked


class RedshiftSql(Construct):
    """``Custom::RedshiftSql``: ``create_statements`` on Create and Update, ``delete_statements``
    on Delete, run on ``cluster_identifier``/``database`` as the user of ``secret``.

    Attributes: ``resource`` (``cdk.CustomResource``), ``function``, ``role``,
    ``security_group``, ``dead_letter_queue``, ``log_group``, ``key`` (the one passed in, or the
    construct's own), ``cluster_arn``, ``create_statements``, ``delete_statements``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_identifier: str,
        database: str,
        secret: secretsmanager.ISecret,
        create_statements: Sequence[str],
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        delete_statements: Sequence[str] = (),
        key: kms.IKey | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        timeout: cdk.Duration = cdk.Duration.minutes(5),
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        text("RedshiftSql", "cluster_identifier", cluster_identifier, allow_empty=True)
        text("RedshiftSql", "database", database, allow_empty=True)
        for prop, statements in (("create_statements", create_statements), ("delete_statements", delete_statements)):
            if not isinstance(statements, str):  # one string: _check_statements says so
                sequence("RedshiftSql", prop, statements)
        instance("RedshiftSql", "secret", secret, secretsmanager.ISecret)
        instance("RedshiftSql", "vpc", vpc, ec2.IVpc)
        instance("RedshiftSql", "vpc_subnets", vpc_subnets, ec2.SubnetSelection)
        if key is not None:
            instance("RedshiftSql", "key", key, kms.IKey)
        if security_group is not None:
            instance("RedshiftSql", "security_group", security_group, ec2.ISecurityGroup)
        instance("RedshiftSql", "timeout", timeout, cdk.Duration)
        instance("RedshiftSql", "log_retention", log_retention, logs.RetentionDays)
        _check_target(cluster_identifier, database)
        self.create_statements: list[str] = _check_statements(create_statements, "create_statements", required=True)
        self.delete_statements: list[str] = _check_statements(delete_statements, "delete_statements", required=False)
        check_timeout(timeout, owner="RedshiftSql", note="Lambda's limit; the handler keeps 15 s to cancel and answer")
        check_data_removal_policy(removal_policy, owner="RedshiftSql")

        self.cluster_arn: str = cdk.Stack.of(self).format_arn(
            service="redshift",
            resource="cluster",
            resource_name=cluster_identifier,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        parts = deploy_time_function(
            self,
            owner="RedshiftSql",
            handler_dir=HANDLER_DIR,
            description="Runs deploy-time SQL on a Redshift cluster through the Data API (Custom::RedshiftSql)",
            role_description="RedshiftSql: run statements on one cluster with one secret, and answer CloudFormation",
            statements=self._statements(secret),
            statements_after=self._secret_key_statements(secret),
            policy_scope="cluster, secret",
            star_resource_reason=_STAR_RESOURCE_REASON,
            timeout=timeout,
            reserved_concurrency=RESERVED_CONCURRENCY,
            key=key,
            log_retention=log_retention,
            removal_policy=removal_policy,
            vpc=FunctionVpc(
                vpc,
                vpc_subnets,
                security_group,
                group_description="RedshiftSql function: HTTPS to the Data API endpoint and S3 only, no inbound",
                egress_description="HTTPS to VPC endpoints",
            ),
        )
        self.key: kms.IKey = parts.key
        self.log_group: logs.LogGroup = parts.log_group
        self.dead_letter_queue: sqs.Queue = parts.dead_letter_queue
        self.security_group: ec2.ISecurityGroup | None = parts.security_group
        self.role: iam.Role = parts.role
        self.function: lambda_.Function = parts.function
        self.resource: cdk.CustomResource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type=RESOURCE_TYPE,
            service_timeout=parts.service_timeout,
            properties={
                "ClusterIdentifier": cluster_identifier,
                "Database": database,
                "SecretArn": secret.secret_arn,
                "CreateStatements": self.create_statements,
                "DeleteStatements": self.delete_statements,
            },
        )
        apply_data_removal_policy(
            self, removal_policy, what="the SQL function's log group and dead-letter queue (and its own key)"
        )

    def _statements(self, secret: secretsmanager.ISecret) -> list[iam.PolicyStatement]:
        return [
            iam.PolicyStatement(
                sid="RunStatementsOnThisCluster",
                actions=["redshift-data:BatchExecuteStatement", "redshift-data:ExecuteStatement"],
                resources=[self.cluster_arn],
            ),
            iam.PolicyStatement(
                sid="FollowOwnStatementsOnly",
                actions=["redshift-data:CancelStatement", "redshift-data:DescribeStatement"],
                resources=["*"],
                conditions={"StringEquals": {"redshift-data:statement-owner-iam-userid": "${aws:userid}"}},
            ),
            iam.PolicyStatement(
                sid="ReadTheAdminSecret",
                actions=["secretsmanager:GetSecretValue"],
                # A secret imported by partial ARN needs the "-??????" suffix Secrets Manager adds.
                resources=[secret.secret_full_arn or f"{secret.secret_arn}-??????"],
            ),
        ]

    def _secret_key_statements(self, secret: secretsmanager.ISecret) -> list[iam.PolicyStatement]:
        if secret.encryption_key is None:
            return []
        stack = cdk.Stack.of(self)
        return [
            iam.PolicyStatement(
                sid="DecryptTheAdminSecret",
                actions=["kms:Decrypt"],
                resources=[secret.encryption_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{stack.region}.{stack.url_suffix}"}},
            )
        ]
