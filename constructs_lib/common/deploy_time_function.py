"""One definition of "a deploy-time function": the Lambda function that answers one of this library's
custom resources (``RedshiftSql``, ``IamAllowedPrincipalsRevocation``, ``SearchSecurityRoles``).

CloudFormation invokes such a function asynchronously and waits for the answer it PUTs to a
pre-signed URL; the handlers share that plumbing (``functions/shared/cfn_response.py``). Each of these
constructs builds its function here, so they agree on what such a function is:

- code: ``handler_dir/*.py`` (the ``functions/<name>/`` folder beside the construct's module, e.g.
  ``constructs_lib/warehouse/functions/redshift_sql/``) and ``functions/shared/*.py`` (beside this
  module), side by side in one asset, assembled at synthesis by local bundling (a file copy: no
  Docker); entry point ``handler.lambda_handler``; the asset hash is that of what is staged, so a
  change to a shared module redeploys every function;
- the newest Python runtime aws-cdk-lib offers, ARM64, 256 MiB, the caller's timeout and reserved
  concurrency, no asynchronous retries (the handler answers every request itself: a retry would
  only follow an invocation that died after the watchdog had answered, and would act behind
  CloudFormation's back), a KMS-encrypted dead-letter queue (``DeadLetterQueue``) for invocations
  that still die, an encrypted environment, JSON logs (application INFO, system WARN) into a
  KMS-encrypted log group of its own (``LogGroup``), active X-Ray tracing;
- a rotating key that CloudWatch Logs may use (``Key``), unless the caller passes one;
- in a VPC (``FunctionVpc``), a security group that allows HTTPS out and nothing in
  (``SecurityGroup``), unless the caller passes one;
- a role (``Role``) only Lambda may assume, whose policy lists, in this order: writing to the log
  group, the caller's ``statements``, the key through SQS only (``UseKeyForDeadLetters``), in a VPC
  the network-interface actions Lambda needs, scoped (see ``_vpc_statements``: describing on ``*``,
  creating in the function's subnets with its security group only, deleting and re-addressing only
  interfaces in those subnets), the caller's ``statements_after``, then what ``lambda.Function``
  adds itself: sending to the dead-letter queue, and X-Ray;
- the cdk-nag acknowledgments every such function has by design: the role's inline policy (the
  three packs' IAMNoInlinePolicy, a reason naming what the caller's statements are scoped to), its
  ``*`` resources (AwsSolutions-IAM5, the caller's reason: X-Ray always has them), in a VPC the
  ``network-interface/*`` of its account and region (an interface's ID does not exist before Lambda
  creates it), and the Serverless pack's on-failure destination (the dead-letter queue already
  receives every failed invocation; a destination to it would deliver each one twice).

The children are created in the scope the caller passes, under those fixed construct ids, so the
constructs keep their logical ids (the app's are pinned in tests/unit/stacks/test_logical_ids.py).
What stays with each construct: validating its props (``check_timeout`` here), its own statements and
findings, its network choices, its custom resource, and the removal-policy warning.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.common.dead_letters import dead_letter_queue
from constructs_lib.common.encryption import rotating_key
from constructs_lib.common.firehose_processing import TRANSFORM_RUNTIME
from constructs_lib.common.monitoring import allow_cloudwatch_logs, encrypted_log_group
from constructs_lib.common.nag import INLINE_POLICY_RULES, acknowledge_resources

#: The modules every function shares. Each function's own source is one self-contained folder beside
#: the construct that deploys it (``<domain>/functions/<name>/``); both ship in the wheel as package
#: data (no __init__.py: data, not packages), so an installed library finds them.
SHARED_DIR = Path(__file__).resolve().parent / "functions" / "shared"
HANDLER = "handler.lambda_handler"
#: The same runtime as the ingestion transform: the newest Python aws-cdk-lib offers.
FUNCTION_RUNTIME = TRANSFORM_RUNTIME
MEMORY_MIB = 256
MIN_TIMEOUT = cdk.Duration.minutes(1)
MAX_TIMEOUT = cdk.Duration.minutes(15)  # Lambda's limit
#: How much longer than the function's timeout CloudFormation waits for an answer that never comes
#: (an invocation that crashed before the handler could answer): queueing, a cold start (in a VPC),
#: and the function's own timeout.
SERVICE_TIMEOUT_MARGIN = cdk.Duration.minutes(5)
HTTPS = 443
#: What Lambda needs to attach a function to its VPC subnets: the actions of the AWS managed policy
#: AWSLambdaVPCAccessExecutionRole, as listed in the Lambda developer guide ("Giving Lambda functions
#: access to resources in an Amazon VPC", section on the execution role's permissions,
#: https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html). Only the two Describe actions
#: lack resource-level permissions; the others take network-interface (and, to create, subnet and
#: security-group) ARNs ("Actions, resources, and condition keys for Amazon EC2",
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
VPC_DESCRIBE_ACTIONS = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")
VPC_CREATE_ACTIONS = ("ec2:CreateNetworkInterface",)
VPC_MANAGE_ACTIONS = ("ec2:AssignPrivateIpAddresses", "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses")
VPC_NETWORK_INTERFACE_ACTIONS = tuple(sorted((*VPC_DESCRIBE_ACTIONS, *VPC_CREATE_ACTIONS, *VPC_MANAGE_ACTIONS)))

_NO_SECOND_FAILURE_TARGET = (
    "Failed asynchronous invocations of this function already go to its KMS-encrypted dead-letter queue "
    "(DeadLetterConfig), kept 14 days. An on-failure destination pointing at that queue would deliver every "
    "failed CloudFormation request twice, and a second queue would split them across two places to watch."
)


#: Checked in the Lambda developer guide (configuration-vpc.html, above: DeleteNetworkInterface needs
#: either one interface's ID or all of them) and the Service Authorization Reference for Amazon EC2
#: (network-interface ARN format, and ec2:Subnet among its condition keys).
_NETWORK_INTERFACES_REASON = (
    "Lambda creates the function's network interfaces itself, with IDs that do not exist before, so the "
    "statements name network-interface/* of this account and region only (Lambda developer guide, "
    "configuration-vpc: DeleteNetworkInterface needs one ID or all of them). Creating one also requires the "
    "function's own subnets and security group, named by ARN; deleting or re-addressing one is limited to "
    "interfaces in those subnets by the ec2:Subnet condition (Service Authorization Reference for Amazon EC2)."
)


def _inline_policy_reason(policy_scope: str) -> str:
    # IAM User Guide, "Managed policies and inline policies"
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html).
    return (
        "The function role's permissions are the one inline policy CDK generates from this construct's explicit "
        f"statements, attached to this role only and scoped to the {policy_scope}, key, queue and log group "
        "it needs. The IAM User Guide (Managed policies and inline policies) names inline policies for a strict "
        "one-to-one relationship between a policy and the identity it applies to, so the permissions cannot be "
        "attached to another identity by mistake; versions and rollback come from the template."
    )


def check_timeout(timeout: cdk.Duration, *, owner: str, note: str = "Lambda's limit") -> None:
    """A function timeout of 1 to 15 minutes; otherwise ``ValueError("<owner>: timeout must be between
    1 and 15 minutes (<note>); got ...")``."""
    seconds = timeout.to_seconds()
    if not MIN_TIMEOUT.to_seconds() <= seconds <= MAX_TIMEOUT.to_seconds():
        raise ValueError(
            f"{owner}: timeout must be between 1 and 15 minutes ({note}); got {timeout.to_human_string()}"
        )


@jsii.implements(cdk.ILocalBundling)
class _HandlerWithSharedModules:
    """Local bundling that copies the function's modules and the shared ones into one flat asset."""

    def __init__(self, handler_dir: Path) -> None:
        self._modules = [*sorted(handler_dir.glob("*.py")), *sorted(SHARED_DIR.glob("*.py"))]

    def try_bundle(self, output_dir: str, *, image: cdk.DockerImage, **_options: Any) -> bool:
        for module in self._modules:
            shutil.copyfile(module, Path(output_dir) / module.name)
        return True


def function_code(handler_dir: Path) -> lambda_.Code:
    """The asset: ``handler_dir``'s modules and the shared modules, side by side (no __pycache__,
    nothing but ``*.py``). The bundling image is never used: local bundling always succeeds."""
    names = [p.name for p in handler_dir.glob("*.py")]
    clashes = sorted(set(names) & {p.name for p in SHARED_DIR.glob("*.py")})
    if "handler.py" not in names or clashes:
        raise ValueError(
            "deploy_time_function: handler_dir must hold a handler.py and no module named like a shared one; "
            f"got {handler_dir} (clashing: {clashes})"
        )
    return lambda_.Code.from_asset(
        str(handler_dir),
        asset_hash_type=cdk.AssetHashType.OUTPUT,
        bundling=cdk.BundlingOptions(
            image=FUNCTION_RUNTIME.bundling_image, local=_HandlerWithSharedModules(handler_dir)
        ),
    )


@dataclass(frozen=True)
class FunctionVpc:
    """Where a deploy-time function runs in a VPC: ``vpc`` and ``subnets``, behind ``security_group``
    (used as it is) or, when it is ``None``, behind a group of its own (``SecurityGroup``) that
    allows HTTPS out to any address and nothing in, described by ``group_description`` and
    ``egress_description`` (any address, because the S3 gateway endpoint that carries CloudFormation's
    response serves S3's public ranges; in isolated subnets the route tables only lead to the VPC's
    endpoints anyway)."""

    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    security_group: ec2.ISecurityGroup | None = None
    group_description: str = ""
    egress_description: str = ""

    def __post_init__(self) -> None:
        if self.security_group is None and not (self.group_description and self.egress_description):
            raise ValueError(
                "FunctionVpc: group_description and egress_description describe the group made when no "
                f"security_group is given; got {self.group_description!r} and {self.egress_description!r}"
            )


@dataclass(frozen=True)
class DeployTimeFunction:
    """What :func:`deploy_time_function` created (``key`` and ``security_group`` may be the caller's;
    ``security_group`` is ``None`` outside a VPC)."""

    function: lambda_.Function
    role: iam.Role
    key: kms.IKey
    log_group: logs.LogGroup
    dead_letter_queue: sqs.Queue
    security_group: ec2.ISecurityGroup | None
    timeout: cdk.Duration

    @property
    def service_timeout(self) -> cdk.Duration:
        """How long CloudFormation should wait for an answer: the timeout plus the margin."""
        return cdk.Duration.seconds(self.timeout.to_seconds() + SERVICE_TIMEOUT_MARGIN.to_seconds())


def deploy_time_function(
    scope: Construct,
    *,
    owner: str,
    handler_dir: Path,
    description: str,
    role_description: str,
    statements: Sequence[iam.PolicyStatement],
    policy_scope: str,
    star_resource_reason: str,
    timeout: cdk.Duration,
    reserved_concurrency: int,
    key: kms.IKey | None,
    log_retention: logs.RetentionDays,
    removal_policy: cdk.RemovalPolicy,
    vpc: FunctionVpc | None = None,
    environment: Mapping[str, str] | None = None,
    statements_after: Sequence[iam.PolicyStatement] = (),
) -> DeployTimeFunction:
    """Create ``Key`` (when ``key`` is ``None``), ``LogGroup``, ``DeadLetterQueue``, ``SecurityGroup``
    (in a VPC without a group), ``Role`` and ``Function`` in ``scope``, in that order.

    ``owner`` names the construct in descriptions; ``statements`` (and ``statements_after``, which
    follow the shared ones: RedshiftSql's optional secret-key statement has always stood there) are
    what the function does; ``policy_scope`` says what they are scoped to ("cluster, secret"), and
    ``star_resource_reason`` why each ``*`` resource of the policy has none narrower. The timeout is
    the caller's to check (``check_timeout``)."""
    key = key if key is not None else _own_key(scope, owner, removal_policy)
    log_group = encrypted_log_group(scope, "LogGroup", key=key, retention=log_retention, removal_policy=removal_policy)
    queue = dead_letter_queue(
        scope,
        "DeadLetterQueue",
        key=key,
        removal_policy=removal_policy,
        dead_letters_of=f"the {owner} function's asynchronous invocations (CloudFormation's custom resource requests)",
        of_a_lambda_function=True,
    )
    security_group = None
    if vpc is not None:
        security_group = vpc.security_group if vpc.security_group is not None else _https_only(scope, vpc)
    role = _role(
        scope,
        description=role_description,
        log_group=log_group,
        statements=[*statements, *_shared_statements(scope, key, vpc=vpc, security_group=security_group), *statements_after],
        policy_scope=policy_scope,
        star_resource_reason=star_resource_reason,
    )
    if vpc is not None:
        acknowledge_resources(role, _NETWORK_INTERFACES_REASON, network_interfaces_arn(scope))
    function = lambda_.Function(
        scope,
        "Function",
        description=description,
        runtime=FUNCTION_RUNTIME,
        architecture=lambda_.Architecture.ARM_64,
        code=function_code(handler_dir),
        handler=HANDLER,
        memory_size=MEMORY_MIB,
        timeout=timeout,
        role=role,
        vpc=None if vpc is None else vpc.vpc,
        vpc_subnets=None if vpc is None else vpc.subnets,
        security_groups=None if security_group is None else [security_group],
        environment=None if environment is None else dict(environment),
        environment_encryption=key,
        reserved_concurrent_executions=reserved_concurrency,
        # The handler answers every request itself: see the module docstring.
        retry_attempts=0,
        dead_letter_queue=queue,
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
        system_log_level_v2=lambda_.SystemLogLevel.WARN,
        tracing=lambda_.Tracing.ACTIVE,
    )
    # retry_attempts=0 renders an EventInvokeConfig, which the Serverless pack wants to have an
    # on-failure destination as well; the dead-letter queue already receives every failed invocation.
    cdk.Validations.of(function).acknowledge(
        cdk.Acknowledgment(id="Serverless-LambdaAsyncFailureDestination", reason=_NO_SECOND_FAILURE_TARGET)
    )
    return DeployTimeFunction(function, role, key, log_group, queue, security_group, timeout)


def _own_key(scope: Construct, owner: str, removal_policy: cdk.RemovalPolicy) -> kms.Key:
    key = rotating_key(
        scope,
        "Key",
        description=f"Encrypts the {owner} function's log group, environment and dead-letter queue",
        removal_policy=removal_policy,
    )
    allow_cloudwatch_logs(key)
    return key


def _https_only(scope: Construct, vpc: FunctionVpc) -> ec2.SecurityGroup:
    group = ec2.SecurityGroup(
        scope, "SecurityGroup", vpc=vpc.vpc, description=vpc.group_description, allow_all_outbound=False
    )
    group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS), vpc.egress_description)
    return group


def _shared_statements(
    scope: Construct, key: kms.IKey, *, vpc: FunctionVpc | None, security_group: ec2.ISecurityGroup | None
) -> list[iam.PolicyStatement]:
    stack = cdk.Stack.of(scope)
    statements = [
        iam.PolicyStatement(
            sid="UseKeyForDeadLetters",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"sqs.{stack.region}.{stack.url_suffix}"}},
        )
    ]
    if vpc is not None and security_group is not None:
        statements.extend(_vpc_statements(scope, vpc, security_group))
    return statements


def network_interfaces_arn(scope: Construct) -> str:
    """``arn:<partition>:ec2:<region>:<account>:network-interface/*`` of ``scope``'s stack."""
    return cdk.Stack.of(scope).format_arn(service="ec2", resource="network-interface", resource_name="*")


def _vpc_statements(scope: Construct, vpc: FunctionVpc, security_group: ec2.ISecurityGroup) -> list[iam.PolicyStatement]:
    """What Lambda does with the execution role to attach the function to ``vpc``, each action on the
    narrowest resources EC2 authorises it on (see ``VPC_NETWORK_INTERFACE_ACTIONS``)."""
    stack = cdk.Stack.of(scope)
    # The Python binding of select_subnets takes the selection's fields as keyword arguments only.
    fields = ("availability_zones", "one_per_az", "subnet_filters", "subnet_group_name", "subnet_type", "subnets")
    selected = vpc.vpc.select_subnets(**{f: getattr(vpc.subnets, f) for f in fields if getattr(vpc.subnets, f) is not None})
    subnet_arns = [
        stack.format_arn(service="ec2", resource="subnet", resource_name=subnet_id) for subnet_id in selected.subnet_ids
    ]
    interfaces = network_interfaces_arn(scope)
    return [
        iam.PolicyStatement(sid="DescribeNetworkInterfacesAndSubnets", actions=list(VPC_DESCRIBE_ACTIONS), resources=["*"]),
        # A new interface is authorised on itself (no ID yet), its subnet and its security groups.
        iam.PolicyStatement(
            sid="CreateNetworkInterfacesInItsSubnets",
            actions=list(VPC_CREATE_ACTIONS),
            resources=[
                interfaces,
                *subnet_arns,
                stack.format_arn(service="ec2", resource="security-group", resource_name=security_group.security_group_id),
            ],
        ),
        iam.PolicyStatement(
            sid="ManageNetworkInterfacesInItsSubnets",
            actions=list(VPC_MANAGE_ACTIONS),
            resources=[interfaces],
            conditions={"ArnEquals": {"ec2:Subnet": subnet_arns}},
        ),
    ]


def _role(
    scope: Construct,
    *,
    description: str,
    log_group: logs.LogGroup,
    statements: Sequence[iam.PolicyStatement],
    policy_scope: str,
    star_resource_reason: str,
) -> iam.Role:
    role = iam.Role(scope, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description)
    log_group.grant_write(role)
    for statement in statements:
        role.add_to_principal_policy(statement)
    reason = _inline_policy_reason(policy_scope)
    cdk.Validations.of(role).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions-IAM5[Resource::*]", reason=star_resource_reason),
        *(cdk.Acknowledgment(id=rule_id, reason=reason) for rule_id in INLINE_POLICY_RULES),
    )
    return role
