"""The library's public API is what constructs_lib/__init__.py exports: every name resolves, the list
is sorted (a reviewer sees an addition where it belongs), and nothing the app owns leaks in."""

from __future__ import annotations

import constructs_lib


def test_every_exported_name_resolves() -> None:
    assert [name for name in constructs_lib.__all__ if not hasattr(constructs_lib, name)] == []


def test_the_export_list_is_sorted_and_has_no_duplicates() -> None:
    assert constructs_lib.__all__ == sorted(set(constructs_lib.__all__))


def test_the_library_version_is_a_release_number() -> None:
    major, minor, patch = constructs_lib.__version__.split(".")
    assert all(part.isdigit() for part in (major, minor, patch))
