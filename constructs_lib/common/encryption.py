"""Customer-managed KMS keys with the settings every key of the platform shares."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct

#: The longest waiting period KMS allows, so a key deleted by mistake can be recovered.
KEY_DELETION_WINDOW = cdk.Duration.days(30)


def rotating_key(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    removal_policy: cdk.RemovalPolicy,
) -> kms.Key:
    """A symmetric key with yearly automatic rotation and a 30-day deletion window."""
    return kms.Key(
        scope,
        construct_id,
        description=description,
        enable_key_rotation=True,
        pending_window=KEY_DELETION_WINDOW,
        removal_policy=removal_policy,
    )
