"""Governance settings no shipped environment uses, for stack tests that build a stack directly."""

from __future__ import annotations

from constructs_lib import ResourceNamer
from stacks.lake_governance import GovernanceSettings
from stacks.lake_permissions import GrantRow, lake_grants, names_for

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
    governance = HYBRID_GOVERNANCE
    return lake_grants(
        names_for(namer),
        sensitive_columns=governance.sensitive_columns,
        row_filter=governance.row_filter,
        hybrid_access=governance.hybrid_access,
    )
