"""Kept for compatibility: ``constructs_lib.validation``, documented before 0.7.0, moved to
``constructs_lib.common.validation`` (see CHANGELOG.md). The names it offered are importable from
here as before: the same objects.
"""

from constructs_lib.common.validation import (
    boolean as boolean,
    instance as instance,
    instance_list as instance_list,
    integer as integer,
    no_effect as no_effect,
    not_both as not_both,
    sequence as sequence,
    string_list as string_list,
    string_map as string_map,
    text as text,
)
