"""Kept for compatibility: ``constructs_lib.nag``, documented before 0.7.0, moved to
``constructs_lib.common.nag`` (see CHANGELOG.md). The names it offered are importable from
here as before: the same objects.
"""

from constructs_lib.common.nag import (
    INLINE_POLICY_RULES as INLINE_POLICY_RULES,
    LAMBDA_IN_VPC_RULES as LAMBDA_IN_VPC_RULES,
    acknowledge as acknowledge,
    acknowledge_resources as acknowledge_resources,
    flatten_cfn_reference as flatten_cfn_reference,
    nag_resource as nag_resource,
    rendered_resource as rendered_resource,
)
