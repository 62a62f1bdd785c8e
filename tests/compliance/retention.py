"""Which resources hold data, and whether a template keeps them when the stack goes away."""

from __future__ import annotations

from typing import Any

from tools.stateful_resources import KEEPING_POLICIES, STATEFUL_TYPES

__all__ = ["KEEPING_POLICIES", "STATEFUL_TYPES", "unretained_stateful_resources"]


def unretained_stateful_resources(template: dict[str, Any]) -> list[str]:
    """Logical ids of stateful resources that deletion or replacement would destroy."""
    return sorted(
        logical_id
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] in STATEFUL_TYPES
        and (
            resource.get("DeletionPolicy") not in KEEPING_POLICIES
            or resource.get("UpdateReplacePolicy") not in KEEPING_POLICIES
        )
    )
