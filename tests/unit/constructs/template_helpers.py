"""Readers of synthesised templates the construct tests share: a construct's logical id, ``Ref`` and
``Fn::GetAtt Arn`` as they render, ``kms:ViaService`` in the test region, and one role's policy
statements."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Template
from constructs import IConstruct

ACCOUNT = "111122223333"
REGION = "eu-west-1"


def via_service(service: str) -> dict:
    """How ``kms:ViaService`` renders for ``service`` in this region (the URL suffix is a token)."""
    return {"Fn::Join": ["", [f"{service}.{REGION}.", {"Ref": "AWS::URLSuffix"}]]}


def logical_id(construct: IConstruct) -> str:
    """The logical id of an L1, or of an L2's default child."""
    target = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child
    return cdk.Stack.of(construct).get_logical_id(target)


def arn_of(construct: IConstruct) -> dict:
    return {"Fn::GetAtt": [logical_id(construct), "Arn"]}


def ref(construct: IConstruct) -> dict:
    return {"Ref": logical_id(construct)}


def role_statements(template: Template, role: IConstruct) -> list[dict]:
    """Every statement of the identity policies attached to ``role``."""
    role_ref = ref(role)
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if role_ref in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def actions(statement: dict) -> list[str]:
    return as_list(statement["Action"])


def with_action(statements: list[dict], action: str) -> list[dict]:
    return [s for s in statements if action in actions(s)]


def with_prefix(statements: list[dict], service: str) -> list[dict]:
    """Statements with at least one action of ``service`` (``"glue"``, ``"s3"``...)."""
    return [s for s in statements if any(a.startswith(f"{service}:") for a in actions(s))]
