"""Tags on every taggable resource, including the ones CDK generates as raw ``CfnResource``.

``Tags.of(scope).add`` reaches every L1/L2 resource, but CDK's own custom-resource providers
(for example the function that empties buckets on deletion) are plain ``CfnResource`` objects
that the tag aspect skips. Cost reports and ownership lookups need them tagged too.
"""

from __future__ import annotations

import jsii
import aws_cdk as cdk
from constructs import IConstruct

#: Raw resource types that CDK emits for its providers and that accept a list of tags.
_RAW_TAGGABLE_TYPES = frozenset({"AWS::IAM::Role", "AWS::Lambda::Function"})


def apply_tags(scope: IConstruct, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        cdk.Tags.of(scope).add(key, value)
    cdk.Aspects.of(scope).add(_TagRawResources(tags))


@jsii.implements(cdk.IAspect)
class _TagRawResources:
    def __init__(self, tags: dict[str, str]) -> None:
        self._tags = [{"Key": key, "Value": value} for key, value in sorted(tags.items())]

    def visit(self, node: IConstruct) -> None:
        if (
            isinstance(node, cdk.CfnResource)
            and node.cfn_resource_type in _RAW_TAGGABLE_TYPES
            and not cdk.TagManager.is_taggable(node)
        ):
            node.add_property_override("Tags", self._tags)
