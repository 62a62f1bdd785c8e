"""Run SQL on a provisioned Redshift cluster at deploy time, through the Redshift Data API.

Some objects can only be created with SQL, such as the Spectrum external schema that makes
``SELECT * FROM curated.telemetry`` work right after ``cdk deploy``. ``RedshiftSql`` is a
``Custom::RedshiftSql`` resource backed by one small Python function of its own (no Provider
framework, so no extra framework functions or state machine): the function runs
``create_statements`` on Create and Update and ``delete_statements`` on Delete, with the cluster's
admin secret, and answers CloudFormation itself. The request semantics (one transaction, the stable
physical id, what a failed Delete does) are documented in ``constructs_lib/functions/redshift_sql/handler.py``.

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
from constructs import Construct

from constructs_lib.dead_letters import dead_letter_queue
from constructs_lib.nag import INLINE_POLICY_RULES
from constructs_lib.encryption import rotating_key
from constructs_lib.monitoring import allow_cloudwatch_logs, encrypted_log_group
from constructs_lib.firehose_processing import TRANSFORM_RUNTIME
from constructs_lib.removal import apply_data_removal_policy, check_data_removal_policy

#: The handler's source: a self-contained folder (standard library and the runtime's boto3) inside
#: this package, shipped in the wheel as package data, so an installed library finds it too.
HANDLER_DIR = Path(__file__).resolve().parent / "functions" / "redshift_sql"
HANDLER = "handler.lambda_handler"
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/README.md", "**/requirements.txt", "**/.pytest_cache"]
#: The same runtime as the ingestion transform: the newest Python aws-cdk-lib offers.
FUNCTION_RUNTIME = TRANSFORM_RUNTIME
RESOURCE_TYPE = "Custom::RedshiftSql"
#: The Data API runs at most 40 statements in one batch.
MAX_STATEMENTS = 40
MIN_TIMEOUT = cdk.Duration.minutes(1)
MAX_TIMEOUT = cdk.Duration.minutes(15)  # Lambda's limit
#: How much longer than the function's timeout CloudFormation waits for an answer that never
#: comes (an invocation that crashed before the handler could answer): queueing, a cold start in
#: the VPC, and the function's own timeout.
SERVICE_TIMEOUT_MARGIN = cdk.Duration.minutes(5)
RESERVED_CONCURRENCY = 1
MEMORY_MIB = 256
HTTPS = 443

_CLUSTER_IDENTIFIER = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")
_DATABASE = re.compile(r"^[a-z_][a-z0-9_$]{0,63}$")

_INLINE_POLICY_REASON = (
    "The function role's permissions are the one policy CDK generates from this construct's explicit "
    "statements, attached to this role only and scoped to the cluster, secret, key, queue and log group "
    "it needs. A customer-managed policy would be a separately attachable object that could be reused "
    "on other principals, which widens rather than narrows access."
)
_STAR_RESOURCE_REASON = (
    "Every '*' resource in this role's policy is an action with no resource-level permissions: "
    "redshift-data:DescribeStatement and CancelStatement (limited by the "
    "redshift-data:statement-owner-iam-userid = ${aws:userid} condition to statements this role's own "
    "session submitted), the EC2 network-interface actions Lambda needs to attach the function to its "
    "VPC subnets, and X-Ray's PutTraceSegments/PutTelemetryRecords for active tracing."
)
_NO_SECOND_FAILURE_TARGET = (
    "Failed asynchronous invocations of this function already go to its KMS-encrypted dead-letter queue "
    "(DeadLetterConfig), kept 14 days. An on-failure destination pointing at that queue would deliver every "
    "failed CloudFormation request twice, and a second queue would split them across two places to watch."
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


def _check_timeout(timeout: cdk.Duration) -> None:
    seconds = timeout.to_seconds()
    if not MIN_TIMEOUT.to_seconds() <= seconds <= MAX_TIMEOUT.to_seconds():
        raise ValueError(
            "RedshiftSql: timeout must be between 1 and 15 minutes (Lambda's limit; the handler keeps 15 s "
            f"to cancel and answer); got {timeout.to_human_string()}"
        )


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
        _check_target(cluster_identifier, database)
        self.create_statements = _check_statements(create_statements, "create_statements", required=True)
        self.delete_statements = _check_statements(delete_statements, "delete_statements", required=False)
        _check_timeout(timeout)
        check_data_removal_policy(removal_policy, owner="RedshiftSql")

        self.key = key if key is not None else self._own_key(removal_policy)
        self.log_group = encrypted_log_group(
            self, "LogGroup", key=self.key, retention=log_retention, removal_policy=removal_policy
        )
        self.dead_letter_queue = dead_letter_queue(
            self,
            "DeadLetterQueue",
            key=self.key,
            removal_policy=removal_policy,
            dead_letters_of="the RedshiftSql function's asynchronous invocations (CloudFormation's custom resource requests)",
            of_a_lambda_function=True,
        )
        self.security_group = security_group if security_group is not None else self._https_only(vpc)
        self.cluster_arn = cdk.Stack.of(self).format_arn(
            service="redshift",
            resource="cluster",
            resource_name=cluster_identifier,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self.role = self._role(secret)
        self.function = self._function(vpc, vpc_subnets, timeout)
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type=RESOURCE_TYPE,
            service_timeout=cdk.Duration.seconds(timeout.to_seconds() + SERVICE_TIMEOUT_MARGIN.to_seconds()),
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

    def _own_key(self, removal_policy: cdk.RemovalPolicy) -> kms.Key:
        key = rotating_key(
            self,
            "Key",
            description="Encrypts the RedshiftSql function's log group, environment and dead-letter queue",
            removal_policy=removal_policy,
        )
        allow_cloudwatch_logs(key)
        return key

    def _https_only(self, vpc: ec2.IVpc) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="RedshiftSql function: HTTPS to the Data API endpoint and S3 only, no inbound",
            allow_all_outbound=False,
        )
        # Any address, because the S3 gateway endpoint serves S3's public ranges; the isolated
        # subnets' route tables only lead to the VPC's endpoints anyway.
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS), "HTTPS to VPC endpoints")
        return group

    def _role(self, secret: secretsmanager.ISecret) -> iam.Role:
        stack = cdk.Stack.of(self)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="RedshiftSql: run statements on one cluster with one secret, and answer CloudFormation",
        )
        self.log_group.grant_write(role)
        statements = [
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
            iam.PolicyStatement(
                sid="UseKeyForDeadLetters",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[self.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"sqs.{stack.region}.{stack.url_suffix}"}},
            ),
            iam.PolicyStatement(
                sid="AttachToVpc",
                actions=[
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:CreateNetworkInterface",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                resources=["*"],
            ),
        ]
        if secret.encryption_key is not None:
            statements.append(
                iam.PolicyStatement(
                    sid="DecryptTheAdminSecret",
                    actions=["kms:Decrypt"],
                    resources=[secret.encryption_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{stack.region}.{stack.url_suffix}"}},
                )
            )
        for statement in statements:
            role.add_to_principal_policy(statement)
        cdk.Validations.of(role).acknowledge(
            cdk.Acknowledgment(id="AwsSolutions-IAM5[Resource::*]", reason=_STAR_RESOURCE_REASON),
            *(cdk.Acknowledgment(id=rule_id, reason=_INLINE_POLICY_REASON) for rule_id in INLINE_POLICY_RULES),
        )
        return role

    def _function(self, vpc: ec2.IVpc, vpc_subnets: ec2.SubnetSelection, timeout: cdk.Duration) -> lambda_.Function:
        function = lambda_.Function(
            self,
            "Function",
            description="Runs deploy-time SQL on a Redshift cluster through the Data API (Custom::RedshiftSql)",
            runtime=FUNCTION_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            code=lambda_.Code.from_asset(str(HANDLER_DIR), exclude=ASSET_EXCLUDES),
            handler=HANDLER,
            memory_size=MEMORY_MIB,
            timeout=timeout,
            role=self.role,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=[self.security_group],
            reserved_concurrent_executions=RESERVED_CONCURRENCY,
            # The handler answers every request itself; a retry would only come after an invocation
            # died (for example at its timeout, after the watchdog had answered FAILED) and would run
            # the statements again behind CloudFormation's back.
            retry_attempts=0,
            dead_letter_queue=self.dead_letter_queue,
            environment_encryption=self.key,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            tracing=lambda_.Tracing.ACTIVE,
        )
        # retry_attempts=0 renders an EventInvokeConfig, which the Serverless pack wants to have an
        # on-failure destination as well; the dead-letter queue above already receives every failed
        # invocation, and a destination to it would deliver each one twice.
        cdk.Validations.of(function).acknowledge(
            cdk.Acknowledgment(id="Serverless-LambdaAsyncFailureDestination", reason=_NO_SECOND_FAILURE_TARGET)
        )
        return function
