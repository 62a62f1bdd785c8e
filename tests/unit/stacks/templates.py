"""Reading synthesised templates (plain dicts) in the stack tests."""

from __future__ import annotations


def resources(template: dict, resource_type: str) -> dict[str, dict]:
    """Logical id -> resource, for every resource of ``resource_type``."""
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def only(template: dict, resource_type: str) -> dict:
    """The one resource of ``resource_type`` (fails if there are none or several)."""
    (resource,) = resources(template, resource_type).values()
    return resource
