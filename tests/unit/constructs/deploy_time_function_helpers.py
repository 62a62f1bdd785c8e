"""Shared reading and checks for the constructs whose custom resource is answered by a function of
``constructs_lib.common.deploy_time_function`` (RedshiftSql, IamAllowedPrincipalsRevocation,
SearchSecurityRoles): a stack's template read by construct, and what every such function, its key,
log group, dead-letter queue, role and acknowledgments must look like in it. ``construct`` below is
any of those constructs: they expose ``function``, ``role``, ``key``, ``log_group`` and
``dead_letter_queue``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Annotations, Match, Template
from constructs import IConstruct

from constructs_lib.common.deploy_time_function import FUNCTION_RUNTIME, SHARED_DIR, network_interfaces_arn
from constructs_lib.common.nag import rendered_resource
from tests.compliance.nag import acknowledgments
from tests.unit.constructs.template_helpers import arn_of, logical_id, ref, via_service

#: What every deploy-time function acknowledges by design, relative to its construct.
FUNCTION_ACKNOWLEDGMENTS = frozenset({
    ("/Role", "AwsSolutions-IAM5[Resource::*]"),
    ("/Role", "HIPAA.Security-IAMNoInlinePolicy"),
    ("/Role", "NIST.800.53.R5-IAMNoInlinePolicy"),
    ("/Role", "PCI.DSS.321-IAMNoInlinePolicy"),
    ("/Function", "Serverless-LambdaAsyncFailureDestination"),
    # made by constructs_lib.common.dead_letters; AwsSolutions-SQS3 recognises a Lambda DLQ by itself
    ("/DeadLetterQueue", "Serverless-SQSRedrivePolicy"),
})
def vpc_function_acknowledgments(construct: Any) -> frozenset[tuple[str, str]]:
    """In a VPC, what a deploy-time function's role acknowledges on top of FUNCTION_ACKNOWLEDGMENTS:
    the network interfaces of its account and region (their IDs do not exist before Lambda creates
    them), named as cdk-nag names them in ``construct``'s stack."""
    interfaces = rendered_resource(construct, network_interfaces_arn(construct))
    return frozenset({("/Role", f"AwsSolutions-IAM5[Resource::{interfaces}]")})


def ec2_arn(stack: cdk.Stack, resource: str, resource_id: Any) -> Any:
    """``arn:<partition>:ec2:<region>:<account>:<resource>/<id>`` as ``stack``'s template renders it
    (pseudo parameters in an environment-agnostic stack, literals in a deployed one)."""
    rendered = stack.resolve(stack.format_arn(service="ec2", resource=resource, resource_name="ID"))
    if isinstance(rendered, str):
        prefix = rendered.removesuffix("ID")
        return prefix + resource_id if isinstance(resource_id, str) else {"Fn::Join": ["", [prefix, resource_id]]}
    parts = list(rendered["Fn::Join"][1])
    parts[-1] = parts[-1].removesuffix("ID")
    if isinstance(resource_id, str):
        parts[-1] += resource_id
    else:
        parts.append(resource_id)
    return {"Fn::Join": ["", parts]}


def attach_to_vpc(construct: Any, vpc_config: dict) -> list[dict]:
    """The network-interface statements of ``construct``'s function, whose template VpcConfig is
    ``vpc_config``: describing on ``*`` (no resource-level permissions), creating interfaces only in
    its subnets with its security group, deleting or re-addressing only interfaces in those subnets."""
    stack = cdk.Stack.of(construct)
    subnets = [ec2_arn(stack, "subnet", subnet_id) for subnet_id in vpc_config["SubnetIds"]]
    (group,) = vpc_config["SecurityGroupIds"]
    interfaces = ec2_arn(stack, "network-interface", "*")
    return [
        {
            "Action": ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
            "Effect": "Allow",
            "Resource": "*",
            "Sid": "DescribeNetworkInterfacesAndSubnets",
        },
        {
            "Action": "ec2:CreateNetworkInterface",
            "Effect": "Allow",
            "Resource": [interfaces, *subnets, ec2_arn(stack, "security-group", group)],
            "Sid": "CreateNetworkInterfacesInItsSubnets",
        },
        {
            "Action": ["ec2:AssignPrivateIpAddresses", "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"],
            "Condition": {"ArnEquals": {"ec2:Subnet": subnets}},
            "Effect": "Allow",
            "Resource": interfaces,
            "Sid": "ManageNetworkInterfacesInItsSubnets",
        },
    ]


XRAY = {"Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Effect": "Allow", "Resource": "*"}


@dataclass
class Synthesised:
    """A stack's template, read by construct."""

    scope: cdk.Stack
    template: Template
    resources: dict

    @staticmethod
    def template_of(scope: cdk.Stack) -> tuple[Template, dict]:
        template = Template.from_stack(scope)
        return template, template.to_json()["Resources"]

    def resource(self, construct: IConstruct) -> dict:
        return self.resources[logical_id(construct)]

    def props(self, construct: IConstruct) -> dict:
        return self.resource(construct)["Properties"]

    def of_type(self, resource_type: str) -> dict[str, dict]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}


def assert_function(built: Synthesised, construct: Any, *, timeout: int, concurrency: int) -> dict:
    """The fixed settings of every deploy-time function, with the caller's timeout and reserved
    concurrency; returns the function's properties for what differs between constructs."""
    props = built.props(construct.function)
    assert (props["Runtime"], props["Handler"], props["Architectures"]) == (FUNCTION_RUNTIME.name, "handler.lambda_handler", ["arm64"])
    assert FUNCTION_RUNTIME.name == "python3.14"
    assert (props["MemorySize"], props["Timeout"], props["ReservedConcurrentExecutions"]) == (256, timeout, concurrency)
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["LoggingConfig"] == {
        "ApplicationLogLevel": "INFO",
        "LogFormat": "JSON",
        "LogGroup": ref(construct.log_group),
        "SystemLogLevel": "WARN",
    }
    assert props["KmsKeyArn"] == arn_of(construct.key)
    assert "Layers" not in props
    return props


def assert_asset_is_the_handler_and_the_shared_modules(built: Synthesised, construct: Any, handler_dir: Path) -> None:
    """The staged asset holds the function's handler.py and the shared cfn_response.py, side by
    side and as in the package, and nothing else (no __pycache__)."""
    asset_hash = built.props(construct.function)["Code"]["S3Key"].removesuffix(".zip")
    staged = Path(cdk.Stage.of(built.scope).outdir) / f"asset.{asset_hash}"
    assert sorted(p.name for p in staged.iterdir()) == ["cfn_response.py", "handler.py"]
    assert (staged / "handler.py").read_text() == (handler_dir / "handler.py").read_text()
    assert (staged / "cfn_response.py").read_text() == (SHARED_DIR / "cfn_response.py").read_text()
    assert not (handler_dir / "__init__.py").exists()  # package data, not a package
    assert "aws_cdk" not in (handler_dir / "handler.py").read_text()


def assert_failed_invocations_go_to_the_encrypted_dead_letter_queue(built: Synthesised, construct: Any) -> None:
    (config,) = [
        c["Properties"]
        for c in built.of_type("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == ref(construct.function)
    ]
    assert (config["MaximumRetryAttempts"], config["Qualifier"]) == (0, "$LATEST")
    assert built.props(construct.function)["DeadLetterConfig"] == {"TargetArn": arn_of(construct.dead_letter_queue)}
    queue = built.props(construct.dead_letter_queue)
    assert (queue["KmsMasterKeyId"], queue["MessageRetentionPeriod"]) == (arn_of(construct.key), 1_209_600)


def assert_log_group_and_queue(built: Synthesised, construct: Any, *, key: IConstruct, days: int, policy: str) -> None:
    """The log group is encrypted with ``key`` and kept ``days``; it and the dead-letter queue have
    the deletion policy ``policy``."""
    group = built.resource(construct.log_group)
    assert group["Properties"] == {"KmsKeyId": arn_of(key), "RetentionInDays": days}
    assert (group["DeletionPolicy"], built.resource(construct.dead_letter_queue)["DeletionPolicy"]) == (policy, policy)


def assert_own_key(built: Synthesised, construct: Any) -> None:
    """A key of the construct's own: rotating, retained, usable by CloudWatch Logs, used by the function."""
    key = built.resource(construct.key)
    assert (key["Properties"]["EnableKeyRotation"], key["Properties"]["PendingWindowInDays"], key["DeletionPolicy"]) == (True, 30, "Retain")
    assert "AllowCloudWatchLogsOfThisAccount" in [s.get("Sid") for s in key["Properties"]["KeyPolicy"]["Statement"]]
    assert built.props(construct.function)["KmsKeyArn"] == arn_of(construct.key)


def assert_passed_key(built: Synthesised, construct: Any, key: IConstruct) -> None:
    """A key passed in encrypts the function's environment and dead-letter queue; none is created."""
    assert construct.key is key and construct.node.try_find_child("Key") is None
    assert built.props(construct.function)["KmsKeyArn"] == arn_of(key)
    assert built.props(construct.dead_letter_queue)["KmsMasterKeyId"] == arn_of(key)


def assert_destroy_is_warned_about_only_on(scope: cdk.Stack, warned: str, quiet: str) -> None:
    annotations = Annotations.from_stack(scope)
    assert annotations.find_warning(warned, Match.string_like_regexp(".*DESTROY.*"))
    assert annotations.find_warning(quiet, Match.string_like_regexp(".*DESTROY.*")) == []


def expected_role_statements(
    construct: Any, own: list[dict], *, after: list[dict] = (), vpc_config: dict | None
) -> list[dict]:
    """A deploy-time function's role policy, in order: its log group, the construct's own statements,
    the key through SQS, in a VPC (``vpc_config``: the function's VpcConfig in the template) its
    network interfaces, ``after``, its dead-letter queue, X-Ray."""
    return [
        {"Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Effect": "Allow", "Resource": arn_of(construct.log_group)},
        *own,
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Condition": {"StringEquals": {"kms:ViaService": via_service("sqs")}},
            "Effect": "Allow",
            "Resource": arn_of(construct.key),
            "Sid": "UseKeyForDeadLetters",
        },
        *(attach_to_vpc(construct, vpc_config) if vpc_config is not None else []),
        *after,
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": arn_of(construct.dead_letter_queue)},
        XRAY,
    ]


def assert_role_is_lambdas_alone(built: Synthesised, construct: Any) -> None:
    role = built.props(construct.role)
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in role and "Policies" not in role


def acknowledged(construct: Any) -> dict[tuple[str, str], str]:
    """``(path below the construct, rule id) -> reason`` of every acknowledgment in the construct."""
    path = construct.node.path
    return {
        (ack.path.removeprefix(path), ack.rule_id): ack.reason
        for ack in acknowledgments(construct.node.root)
        if ack.path == path or ack.path.startswith(f"{path}/")
    }


class DeployTimeFunctionContract:
    """What every construct built on ``deploy_time_function`` must pass, whatever its own
    resources. A construct's test module subclasses it (``class TestItsFunction(...)``), sets
    ``handler_dir``, ``plain`` and ``tuned`` (the attributes of its ``built`` fixture holding a
    construct with every default, and one with the key ``built.caller_key``, one month of log
    retention and ``RemovalPolicy.DESTROY``), and provides the module's ``built`` fixture."""

    handler_dir: Path
    plain: str
    tuned: str

    def test_the_asset_is_the_handler_and_the_shared_modules(self, built) -> None:
        assert_asset_is_the_handler_and_the_shared_modules(built, getattr(built, self.plain), self.handler_dir)

    def test_no_async_retries_and_failed_invocations_go_to_the_encrypted_dead_letter_queue(self, built) -> None:
        for name in (self.plain, self.tuned):
            assert_failed_invocations_go_to_the_encrypted_dead_letter_queue(built, getattr(built, name))

    def test_its_own_key_and_log_group_are_retained_and_the_logs_kept_a_year_by_default(self, built) -> None:
        plain = getattr(built, self.plain)
        assert_log_group_and_queue(built, plain, key=plain.key, days=365, policy="Retain")
        assert_own_key(built, plain)

    def test_a_passed_key_retention_and_removal_policy_are_used(self, built) -> None:
        tuned = getattr(built, self.tuned)
        assert_passed_key(built, tuned, built.caller_key)
        assert_log_group_and_queue(built, tuned, key=built.caller_key, days=30, policy="Delete")

    def test_destroy_is_warned_about_and_retain_is_not(self, built) -> None:
        plain, tuned = getattr(built, self.plain), getattr(built, self.tuned)
        assert_destroy_is_warned_about_only_on(built.scope, f"/{tuned.node.path}", f"/{plain.node.path}")
