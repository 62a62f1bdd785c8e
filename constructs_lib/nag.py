"""cdk-nag 3 acknowledgments made by the constructs themselves, and the names cdk-nag gives findings.

A construct acknowledges only findings inherent to its design, on the narrowest construct, one exact
rule id at a time. For ``AwsSolutions-IAM5[Resource::<name>]`` the id contains the resource as
cdk-nag renders it; ``nag_resource`` computes that name, and returns ``None`` for a resource in
another stack (CDK renders that cross-stack reference only at synthesis, so it is the app's to
name and acknowledge).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

#: The three packs' rule against inline IAM policies, which every CDK grant policy trips.
INLINE_POLICY_RULES = (
    "HIPAA.Security-IAMNoInlinePolicy",
    "NIST.800.53.R5-IAMNoInlinePolicy",
    "PCI.DSS.321-IAMNoInlinePolicy",
)
LAMBDA_IN_VPC_RULES = (
    "HIPAA.Security-LambdaInsideVPC",
    "NIST.800.53.R5-LambdaInsideVPC",
    "PCI.DSS.321-LambdaInsideVPC",
)


def acknowledge(construct: IConstruct, reason: str, *rule_ids: str) -> None:
    """Acknowledge each of ``rule_ids`` on ``construct`` (and its children) for ``reason``."""
    cdk.Validations.of(construct).acknowledge(*(cdk.Acknowledgment(id=rule_id, reason=reason) for rule_id in rule_ids))


def nag_resource(scope: IConstruct, arn: str) -> str | None:
    """How cdk-nag 3 names ``arn`` in an ``AwsSolutions-IAM5[Resource::...]`` finding id, as its
    ``flattenCfnReference`` does: ``Fn::Join`` parts joined, ``Fn::GetAtt`` as ``<Id.Attr>``, ``Ref`` as
    ``<Id>``. ``None`` when the ARN refers to another stack."""
    stack = cdk.Stack.of(scope)
    return _flatten(stack.resolve(arn), stack)


def _flatten(node: Any, stack: cdk.Stack) -> str | None:
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and len(node) == 1:
        ((function, argument),) = node.items()
        if function == "Fn::Join":
            delimiter, items = argument
            parts = [_flatten(item, stack) for item in items]
            return None if any(part is None for part in parts) else delimiter.join(parts)
        if function == "Fn::GetAtt":
            resource, attribute = argument
            if not _is_logical_id_of(stack, resource):
                return None
            return f"<{resource}.{attribute}>"
        if function == "Ref":
            if not str(argument).startswith("AWS::") and not _is_logical_id_of(stack, argument):
                return None
            return f"<{argument}>"
        if function == "Fn::Sub":
            return _flatten(argument, stack)
    return None


def _is_logical_id_of(stack: cdk.Stack, logical_id: str) -> bool:
    return any(
        isinstance(child, cdk.CfnElement) and stack.resolve(child.logical_id) == logical_id
        for child in stack.node.find_all()
    )
