"""The runtime properties of a Managed Service for Apache Flink application: checked at synth as
CreateApplication would check them, rendered in a fixed order.

The service passes ``EnvironmentProperties.PropertyGroups`` to the application as a list of groups,
each an id and a map of strings (Managed Service for Apache Flink API Reference, ``PropertyGroup``):
at most 50 groups; an id of 1 to 50 letters, digits, ``_``, ``.`` or ``-``; 1 to 50 properties per
group, keys and values of 1 to 2048 characters. A Python application names its entry point in the
service's own group, ``kinesis.analytics.flink.run.options`` (key ``python``; ``jarfile``,
``pyFiles`` and the like beside it).

Groups and keys are rendered sorted, so the template does not change with the order a caller
happens to build its mapping in (a reordered mapping would otherwise show as an application
update in every diff).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import aws_cdk as cdk

from constructs_lib.common.validation import string_map

RUN_OPTIONS_GROUP = "kinesis.analytics.flink.run.options"
MAX_GROUPS = 50
MAX_PROPERTIES = 50
MAX_LENGTH = 2048
GROUP_ID = re.compile(r"[a-zA-Z0-9_.-]{1,50}")


def _too_long(value: str) -> bool:
    return not cdk.Token.is_unresolved(value) and not 1 <= len(value) <= MAX_LENGTH


def check_property_groups(owner: str, property_groups: object) -> dict[str, dict[str, str]]:
    """The groups as a plain dict, or ``TypeError``/``ValueError`` naming ``owner``, the prop and the group."""
    if not isinstance(property_groups, Mapping):
        raise TypeError(f"{owner}: property_groups must be a mapping of group ids to mappings of strings; "
                        f"got {type(property_groups).__name__} {property_groups!r}")
    if not 1 <= len(property_groups) <= MAX_GROUPS:
        raise ValueError(f"{owner}: property_groups must hold 1 to {MAX_GROUPS} groups; got {len(property_groups)}")
    groups: dict[str, dict[str, str]] = {}
    for group_id, values in property_groups.items():
        if not isinstance(group_id, str) or not GROUP_ID.fullmatch(group_id):
            raise ValueError(f"{owner}: property_groups: a group id is 1 to 50 letters, digits, '_', '.' or '-'; got {group_id!r}")
        values = string_map(owner, f"property_groups[{group_id!r}]", values)
        if not 1 <= len(values) <= MAX_PROPERTIES:
            raise ValueError(f"{owner}: property_groups[{group_id!r}] must hold 1 to {MAX_PROPERTIES} properties; got {len(values)}")
        for key, value in values.items():
            if _too_long(key) or _too_long(value):
                raise ValueError(f"{owner}: property_groups[{group_id!r}]: keys and values are 1 to {MAX_LENGTH} characters; "
                                 f"got {key!r}: {value!r}")
        groups[group_id] = values
    if "python" not in groups.get(RUN_OPTIONS_GROUP, {}):
        raise ValueError(
            f"{owner}: property_groups must name the Python entry point: group {RUN_OPTIONS_GROUP!r}, key 'python' "
            "(the main file in the zip, e.g. 'main.py')"
        )
    return groups


def rendered_property_groups(property_groups: Mapping[str, Mapping[str, str]]) -> list[tuple[str, dict[str, str]]]:
    """``(group id, properties)`` sorted by id, each group's properties sorted by key."""
    return [(group, dict(sorted(values.items()))) for group, values in sorted(property_groups.items())]
