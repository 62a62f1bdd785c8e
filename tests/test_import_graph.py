"""The house rules that keep stacks/ readable: no import cycles, no stack imported only for a type
hint, and no CDK-generated name (a logical id's or an output's hash) written by hand outside tests.

A hashed name is the CDK's to derive: written by hand it is right for one environment-agnostic
template and wrong as soon as an account and region are set (issue 15's acknowledgments broke so).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.synth import ROOT

#: A CDK logical id or output name: a construct path in PascalCase ending in the 8-character
#: upper-case hexadecimal hash CDK appends (``DataLakeRawBucket881B694B``).
HASHED_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*[0-9A-F]{8}\b")
#: Where hand-written generated names would end up in templates or acknowledgments.
NON_TEST_CODE = ("app.py", "stacks", "constructs_lib", "tools", "config")


def python_files(*names: str) -> list[Path]:
    paths: list[Path] = []
    for name in names:
        path = ROOT / name
        paths.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return paths


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def stack_imports(path: Path) -> tuple[set[str], set[str]]:
    """The ``stacks.*`` modules ``path`` imports at run time, and those it imports under ``TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    type_only = {
        node
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
        for statement in block.body
        for node in ast.walk(statement)
    }
    runtime: set[str] = set()
    hints: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found = {name for name in names if name.startswith("stacks.") or name == "stacks"}
        (hints if node in type_only else runtime).update(found)
    return runtime, hints


def import_graph(paths: list[Path]) -> dict[str, set[str]]:
    """Module -> the modules of ``paths`` it imports, at run time or for type checking (a cycle
    through a ``TYPE_CHECKING`` import is still one for every reader and type checker)."""
    modules = {module_name(path): path for path in paths}
    return {
        name: {target for target in set().union(*stack_imports(path)) if target in modules and target != name}
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules (first == last), or ``None``."""
    state: dict[str, str] = {}
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        trail.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return trail[trail.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        trail.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def docstrings(tree: ast.AST) -> set[ast.AST]:
    """The docstring nodes of ``tree``: an example name in documentation is not code that uses it."""
    owners = [node for node in ast.walk(tree) if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)]
    return {
        owner.body[0].value
        for owner in owners
        if owner.body and isinstance(owner.body[0], ast.Expr) and isinstance(owner.body[0].value, ast.Constant)
    }


def hashed_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    documentation = docstrings(tree)
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: {match}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node not in documentation
        for match in HASHED_NAME.findall(node.value)
    ]


def test_stacks_have_no_import_cycle() -> None:
    graph = import_graph(python_files("stacks", "app.py"))
    assert len(graph) > 10 and any(graph.values()), "the graph is empty: the check would pass vacuously"
    assert find_cycle(graph) is None


def test_no_module_imports_a_stack_only_for_a_type_hint() -> None:
    hinted = {str(path.relative_to(ROOT)): sorted(stack_imports(path)[1]) for path in python_files(*NON_TEST_CODE)}
    assert {path: modules for path, modules in hinted.items() if modules} == {}


def test_no_hashed_logical_id_or_output_name_outside_tests() -> None:
    assert [hit for path in python_files(*NON_TEST_CODE) for hit in hashed_literals(path)] == []


# --- The checks can fail -------------------------------------------------------------------------


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = {"stacks.a": {"stacks.b"}, "stacks.b": {"stacks.c"}, "stacks.c": {"stacks.a"}, "stacks.d": set()}
    assert find_cycle(graph) == ["stacks.a", "stacks.b", "stacks.c", "stacks.a"]
    assert find_cycle({"stacks.a": {"stacks.b"}, "stacks.b": set()}) is None


@pytest.mark.parametrize(
    ("source", "runtime", "hints"),
    [
        ("from stacks.catalog_stack import CatalogStack\n", {"stacks.catalog_stack", "stacks.catalog_stack.CatalogStack"}, set()),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from stacks.emr_stack import EmrStack\n",
            set(), {"stacks.emr_stack", "stacks.emr_stack.EmrStack"},
        ),
    ],
)
def test_the_import_reader_tells_run_time_from_type_hints(tmp_path: Path, source: str, runtime: set[str], hints: set[str]) -> None:
    module = tmp_path / "module.py"
    module.write_text(source)
    assert stack_imports(module) == (runtime, hints)


def test_the_hash_check_catches_the_names_that_broke_the_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The literals stacks/acknowledgments.py held before issue 18, and names it must not flag."""
    monkeypatch.setattr("tests.test_import_graph.ROOT", tmp_path)
    module = tmp_path / "acks.py"
    module.write_text(
        'A = "Resource::{\\"Fn::GetStackOutput\\":{\\"OutputName\\":\\"PublishOutputFnGetAttDataLakeRawBucket881B694BArnAF96B5B0\\"}}"\n'
        'B = "DataLakeRawBucket881B694B"\n'
        'C = "AWSLambdaPowertoolsPythonV3-python314-x86_64"\nD = "sha256:DEADBEEF"\nE = "RawCrawlerRole"\n'
        'def f():\n    """``DataLakeRawBucket881B694B`` -> ``Data Lake Raw Bucket``: documentation."""\n'
    )
    assert hashed_literals(module) == [
        "acks.py:1: PublishOutputFnGetAttDataLakeRawBucket881B694BArnAF96B5B0",
        "acks.py:2: DataLakeRawBucket881B694B",
    ]
