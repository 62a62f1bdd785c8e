"""Governance settings no shipped environment uses, for stack tests that build a stack directly."""

from __future__ import annotations

from app import environment_lake_grants
from constructs_lib import ResourceNamer
from stacks.lake_governance import GovernanceSettings
from stacks.lake_permissions import GrantRow

IMPORTED_ANALYST_ARN = "arn:aws:iam::111122223333:role/team-analyst"
#: Hybrid access, imported analyst role, two hidden columns and another row filter.
HYBRID_GOVERNANCE = GovernanceSettings(
    hybrid_access=True,
    sensitive_columns=("attributes", "ingested_at"),
    row_filter="schema_version >= 2",
    analyst_role_arn=IMPORTED_ANALYST_ARN,
    restricted_analyst_role_arn=None,
)


def hybrid_grants(namer: ResourceNamer) -> list[GrantRow]:
    """The grants the app makes from ``HYBRID_GOVERNANCE``."""
    return environment_lake_grants(namer, HYBRID_GOVERNANCE)
