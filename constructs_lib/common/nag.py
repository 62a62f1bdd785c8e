"""cdk-nag 3 acknowledgments made by the constructs themselves, and the names cdk-nag gives findings.

A construct acknowledges only findings inherent to its design, on the narrowest construct, one exact
rule id at a time. For ``AwsSolutions-IAM5[Resource::<name>]`` the id contains the resource as
cdk-nag renders it, and that rendering depends on where the stack is deployed and on names CDK
generates at synthesis:

- in an environment-agnostic stack a region is ``<AWS::Region>``; with a concrete environment it
  is the literal ``eu-west-1``;
- a resource of another stack is a cross-stack reference that CDK renders only while it prepares
  the app (``{"Fn::GetStackOutput":{...,"OutputName":"PublishOutput<hash>"}}``).

So nothing here writes such a name by hand. ``acknowledge_resources`` records the ARN (a token) and
names it at validation time, after CDK has rendered every reference and before the packs run, with
the same flattening cdk-nag applies (``flatten_cfn_reference``). The acknowledgment then matches in
every account and region and follows a renamed construct. ``nag_resource`` names a resource of the
construct's own stack at construction time, for callers that need the name itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
import jsii
from constructs import IConstruct, IValidation

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


def acknowledge_resources(construct: IConstruct, reason: str, *resources: str) -> None:
    """Acknowledge ``AwsSolutions-IAM5[Resource::<r>]`` on ``construct`` for each ARN in ``resources``
    (tokens welcome: ``bucket.arn_for_objects("telemetry/*")``, ``stack.format_arn(...)``), with the
    name cdk-nag will give it in this stack, whichever stack owns the resource and wherever the stack
    is deployed. The name is computed at validation time (see the module docstring)."""
    if not resources:
        raise ValueError("acknowledge_resources: name at least one resource")
    construct.node.add_validation(_AcknowledgeAsRendered(construct, reason, tuple(resources)))


def rendered_resource(scope: IConstruct, arn: str) -> str:
    """The name cdk-nag gives ``arn`` in a finding of ``scope``'s stack, as rendered now. Call it
    after synthesis has prepared the app (in a validation, or on a synthesised app): before, a
    cross-stack reference still renders as the other stack's ``Fn::GetAtt``."""
    return flatten_cfn_reference(cdk.Stack.of(scope).resolve(arn))


def flatten_cfn_reference(node: Any) -> str:
    """cdk-nag 3.0.2's ``flattenCfnReference`` (src/utils/flatten-cfn-reference.ts), line for line:
    ``Fn::Join`` joined, ``Fn::Sub`` with ``${x}`` as ``<x>``, ``Fn::GetAtt`` as ``<Id.Attr>``,
    ``Fn::ImportValue`` as its name, ``Ref`` as ``<Id>``, anything else as compact JSON. A test
    compares it with cdk-nag's own finding ids on a synthesised app."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if node.get("Fn::Join"):
            delimiter, items = node["Fn::Join"]
            return delimiter.join(flatten_cfn_reference(item) for item in items)
        if node.get("Fn::Sub"):
            return flatten_cfn_reference(node["Fn::Sub"])
        if node.get("Fn::GetAtt"):
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten_cfn_reference(resource)}.{flatten_cfn_reference(attribute)}>"
        if node.get("Fn::ImportValue"):
            return flatten_cfn_reference(node["Fn::ImportValue"])
        if node.get("Ref"):
            return f"<{flatten_cfn_reference(node['Ref'])}>"
    # JSON.stringify: no spaces, keys in insertion order, non-ASCII as is.
    return json.dumps(node, separators=(",", ":"), ensure_ascii=False)


@jsii.implements(IValidation)
class _AcknowledgeAsRendered:
    """Runs in CDK's tree validation, which comes after references are rendered and before the
    validation plugins (the packs) read acknowledgments. Acknowledges once, however often the app
    is validated."""

    def __init__(self, construct: IConstruct, reason: str, resources: Sequence[str]) -> None:
        self._construct = construct
        self._reason = reason
        self._resources = resources
        self._done = False

    def validate(self) -> list[str]:
        if not self._done:
            self._done = True
            names = sorted({rendered_resource(self._construct, arn) for arn in self._resources})
            acknowledge(self._construct, self._reason, *(f"AwsSolutions-IAM5[Resource::{name}]" for name in names))
        return []
