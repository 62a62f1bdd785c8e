"""Physical names for the resources that must have one: ``<project>-<stage>-<part>``.

Glue databases, crawlers and jobs and Athena workgroups are addressed by name (in SQL, in the
console, in job arguments), so they need stable, predictable names. Everything else is left
to CloudFormation, which avoids name clashes and allows replacements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from constructs_lib.common.validation import text

_SEGMENT = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
#: Glue database and table names, the strictest consumer, allow at most 255 characters;
#: Athena workgroups 128. Keep names short enough for every consumer.
MAX_NAME_LENGTH = 128


@dataclass(frozen=True)
class ResourceNamer:
    """Builds ``<project>-<stage>-<part>`` names and their underscore form for SQL identifiers."""

    project: str
    stage: str

    def __post_init__(self) -> None:
        for field_name in ("project", "stage"):
            value = text("ResourceNamer", field_name, getattr(self, field_name), allow_empty=True)
            if not _SEGMENT.match(value):
                raise ValueError(
                    f"ResourceNamer.{field_name} must be lowercase letters, digits and single "
                    f"hyphens, starting with a letter; got {value!r}"
                )

    def name(self, part: str) -> str:
        """``analytics-dev-raw-crawler`` for part ``raw-crawler``."""
        if not _SEGMENT.match(text("ResourceNamer.name", "part", part, allow_empty=True)):
            raise ValueError(
                "name part must be lowercase letters, digits and single hyphens, starting "
                f"with a letter; got {part!r}"
            )
        name = f"{self.project}-{self.stage}-{part}"
        if len(name) > MAX_NAME_LENGTH:
            raise ValueError(f"name {name!r} is longer than {MAX_NAME_LENGTH} characters")
        return name

    def sql_name(self, part: str) -> str:
        """``analytics_dev_raw`` for part ``raw``: Glue databases are SQL identifiers in Athena."""
        return self.name(part).replace("-", "_")
