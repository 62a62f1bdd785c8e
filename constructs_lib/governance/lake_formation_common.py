"""What the Lake Formation constructs share: name and ARN checks, and the registered ARN of a lake
location.

The public constructs are in :mod:`constructs_lib.governance.lake_formation` (which re-exports everything).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk

from constructs_lib.common.validation import sequence
from constructs_lib.governance.lake_access import LakeLocation

#: An IAM role or user ARN, the two kinds of principal these constructs grant to or make admins.
IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")
#: Glue and Lake Formation names (databases, tables, columns, data cells filters): UTF-8, 1 to 255
#: bytes, the "single-line string pattern" (no control characters).
MAX_NAME_BYTES = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_token(value: str) -> bool:
    return cdk.Token.is_unresolved(value)


def check_principal_arn(arn: str, *, owner: str, prop: str) -> str:
    """An IAM role or user ARN (a token is taken as it is: it is known at deploy time only)."""
    if not isinstance(arn, str) or (not is_token(arn) and not IAM_PRINCIPAL_ARN.match(arn)):
        raise ValueError(
            f"{owner}: {prop} must be an IAM role or user ARN (arn:<partition>:iam::<account>:role/<name> "
            f"or :user/<name>); got {arn!r}"
        )
    return arn


def check_name(value: str, *, owner: str, prop: str, allow_token: bool = True) -> str:
    """A Glue / Lake Formation name: 1 to 255 UTF-8 bytes on one line, no control characters."""
    if isinstance(value, str) and is_token(value):
        if allow_token:
            return value
        raise ValueError(
            f"{owner}: {prop} must be a literal name, not a token (construct ids are derived from it: "
            f"pass the name you gave the resource, and add a dependency on it); got {value!r}"
        )
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value.encode("utf-8")) > MAX_NAME_BYTES
        or _CONTROL.search(value)
    ):
        raise ValueError(
            f"{owner}: {prop} must be 1 to {MAX_NAME_BYTES} bytes of UTF-8 on one line, without control "
            f"characters; got {value!r}"
        )
    return value


def check_names(values: Sequence[str], *, owner: str, prop: str) -> tuple[str, ...]:
    """Distinct names (columns), each checked as :func:`check_name`."""
    if isinstance(values, str):
        raise ValueError(f"{owner}: {prop} must be a sequence of names, not one string; got {values!r}")
    checked = tuple(check_name(v, owner=owner, prop=prop, allow_token=False) for v in sequence(owner, prop, values))
    duplicates = sorted({v for v in checked if checked.count(v) > 1})
    if duplicates:
        raise ValueError(f"{owner}: {prop} names each column once; got {duplicates!r} more than once")
    return checked


def location_arn(location: LakeLocation) -> str:
    """The ARN a location is registered under and granted on: ``arn:<partition>:s3:::<bucket>/<prefix>``
    without the prefix's trailing slash (Lake Formation shows and lists registered locations that way,
    and a DATA_LOCATION_ACCESS grant must name exactly the registered ARN)."""
    return location.bucket.arn_for_objects(location.prefix.rstrip("/"))


def location_label(location: LakeLocation) -> str:
    """A readable, stable key for a location: ``<bucket construct path>/<prefix>``. Derived from the
    bucket's place in the construct tree, not from its (generated) name, so it never changes."""
    return f"{location.bucket.node.path}/{location.prefix}"


def construct_id_of(label: str) -> str:
    """``label`` made usable as a construct id ('/' separates construct paths)."""
    return label.rstrip("/").replace("/", ".")
