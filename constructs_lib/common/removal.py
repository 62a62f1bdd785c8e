"""One rule for what happens to data when a stack is deleted.

Data survives by default. DESTROY is honoured only because a caller asked for it explicitly,
and the construct then says so in a synth warning that a reviewer sees in every ``cdk synth``
and ``cdk deploy`` of that environment.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

DATA_DESTROYED_WARNING_ID = "constructs-lib:data-destroyed-on-stack-deletion"

_ALLOWED = (cdk.RemovalPolicy.RETAIN, cdk.RemovalPolicy.DESTROY)


def check_data_removal_policy(policy: cdk.RemovalPolicy, *, owner: str) -> cdk.RemovalPolicy:
    """Reject policies that make no sense for data (SNAPSHOT on a bucket, for example)."""
    if policy not in _ALLOWED:
        raise ValueError(
            f"{owner}: removal_policy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY; got {policy}"
        )
    return policy


def apply_data_removal_policy(scope: IConstruct, policy: cdk.RemovalPolicy, *, what: str) -> None:
    """Warn on ``scope`` when ``policy`` deletes data; RETAIN needs no word."""
    if policy == cdk.RemovalPolicy.DESTROY:
        cdk.Annotations.of(scope).add_warning_v2(
            DATA_DESTROYED_WARNING_ID,
            f"removal_policy is DESTROY: {what} will be deleted with the stack, and their data "
            "with them. Use RETAIN for any environment whose data matters.",
        )
