"""The library's public API is what constructs_lib/__init__.py exports: every name resolves, the list
is sorted (a reviewer sees an addition where it belongs), and nothing the app owns leaks in. The
module paths documented before 0.7.0 still import what they did."""

from __future__ import annotations

import ast
import importlib

import pytest

import constructs_lib
from tests.synth import ROOT


def test_every_exported_name_resolves() -> None:
    assert [name for name in constructs_lib.__all__ if not hasattr(constructs_lib, name)] == []


def test_the_export_list_is_sorted_and_has_no_duplicates() -> None:
    assert constructs_lib.__all__ == sorted(set(constructs_lib.__all__))


def test_each_name_is_imported_lazily_from_the_module_type_checkers_read_it_from() -> None:
    """``_EXPORTS`` (what ``constructs_lib.X`` imports at run time) and the ``TYPE_CHECKING`` imports
    (what type checkers read) name the same module for every public name."""
    tree = ast.parse((ROOT / "constructs_lib" / "__init__.py").read_text(encoding="utf-8"))
    (type_checking,) = [node for node in tree.body if isinstance(node, ast.If)]
    for_type_checkers = {alias.name: node.module for node in type_checking.body for alias in node.names}
    assert for_type_checkers == constructs_lib._EXPORTS
    assert sorted(for_type_checkers) == [name for name in constructs_lib.__all__ if name != "__version__"]


def test_the_library_version_is_a_release_number() -> None:
    major, minor, patch = constructs_lib.__version__.split(".")
    assert all(part.isdigit() for part in (major, minor, patch))


# -- the module paths documented before 0.7.0 --------------------------------------------------------

#: Documented to other teams before 0.7.0 grouped the library by domain (constructs_lib/README.md,
#: CHANGELOG.md), and where each moved. Each old path is kept, for compatibility, as a module that
#: only re-exports the names it offered; nothing else is left at the top of the package.
MOVED_DOCUMENTED_MODULES = {
    "constructs_lib.deploy_time_function": "constructs_lib.common.deploy_time_function",
    "constructs_lib.firehose_processing": "constructs_lib.common.firehose_processing",
    "constructs_lib.lake_access": "constructs_lib.governance.lake_access",
    "constructs_lib.lake_formation": "constructs_lib.governance.lake_formation",
    "constructs_lib.nag": "constructs_lib.common.nag",
    "constructs_lib.validation": "constructs_lib.common.validation",
}


@pytest.mark.parametrize(("old", "new"), MOVED_DOCUMENTED_MODULES.items())
def test_a_documented_module_path_still_imports_the_same_objects_from_where_they_moved(old: str, new: str) -> None:
    alias, moved = importlib.import_module(old), importlib.import_module(new)
    names = [name for name in vars(alias) if not name.startswith("_")]
    assert len(names) >= 7
    assert [name for name in names if getattr(alias, name) is not getattr(moved, name)] == []
    if hasattr(moved, "__all__"):  # the alias follows the module's own list
        assert sorted(names) == sorted(moved.__all__)


@pytest.mark.parametrize(("old", "new"), MOVED_DOCUMENTED_MODULES.items())
def test_a_compatibility_module_only_re_exports(old: str, new: str) -> None:
    """A docstring and one ``from <new> import (name as name, ...)``: nothing defined there."""
    path = ROOT / (old.replace(".", "/") + ".py")
    docstring, *statements = ast.parse(path.read_text(encoding="utf-8")).body
    assert isinstance(docstring, ast.Expr) and new in ast.literal_eval(docstring.value)
    (statement,) = statements
    assert isinstance(statement, ast.ImportFrom) and statement.module == new
    assert all(alias.asname == alias.name for alias in statement.names)


def test_the_top_of_the_package_holds_the_public_api_and_the_compatibility_modules_only() -> None:
    top = {f"constructs_lib.{path.stem}" for path in (ROOT / "constructs_lib").glob("*.py")}
    assert top == {"constructs_lib.__init__", *MOVED_DOCUMENTED_MODULES}
