"""The transform Lambda as Firehose invokes it: the template's handler with the template's
environment, a context object, and its stdout (Powertools' JSON logs and EMF metrics) kept as
the function's CloudWatch log stream.

The handler module is loaded from its file as a private module, with stdout pointed at
:data:`CLOUDWATCH`, because Powertools binds its log handler to the stdout of the moment its
``Logger()`` is created: that is how the log lines (``record failed`` with its ``record_id`` and
``reason``) reach the log file, whatever else in the process imported the module before.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_SRC = ROOT / "lambda_src"


class _LogStream:
    """A file-like stdout for the function: lines go to the current log file and are kept until
    :meth:`take` (one invocation's lines)."""

    def __init__(self) -> None:
        self._file: TextIO | None = None
        self._pending = ""
        self._lines: list[str] = []

    def open(self, path: Path) -> None:
        self.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def write(self, text: str) -> int:
        if self._file is not None:
            self._file.write(text)
        self._pending += text
        *complete, self._pending = self._pending.split("\n")
        self._lines.extend(line for line in complete if line)
        return len(text)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def take(self) -> list[str]:
        lines, self._lines = self._lines, []
        return lines


#: The one log stream of every handler loaded here (a Powertools logger, once created, keeps it).
CLOUDWATCH = _LogStream()
_LOADED: dict[tuple[str, str], Callable[..., Any]] = {}


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local/[$LATEST]pipeline"

    def get_remaining_time_in_millis(self) -> int:
        return 120_000


@contextlib.contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def load_handler(handler: str, variables: dict[str, str]) -> Callable[..., Any]:
    """``module.path.function`` from lambda_src/, loaded once per (handler, service)."""
    key = (handler, variables.get("POWERTOOLS_SERVICE_NAME", ""))
    if key not in _LOADED:
        module_name, function_name = handler.rsplit(".", 1)
        path = LAMBDA_SRC / (module_name.replace(".", "/") + ".py")
        if str(LAMBDA_SRC) not in sys.path:
            sys.path.insert(0, str(LAMBDA_SRC))
        spec = importlib.util.spec_from_file_location(f"_pipeline_lambda_{len(_LOADED)}", path)
        module = importlib.util.module_from_spec(spec)
        with environment(variables), contextlib.redirect_stdout(CLOUDWATCH):
            spec.loader.exec_module(module)
        _LOADED[key] = getattr(module, function_name)
    return _LOADED[key]


class LambdaRuntime:
    """Invokes the handler; ``invoke`` returns the response and the invocation's log lines."""

    def __init__(self, handler: str, variables: dict[str, str], *, function_name: str, memory_mib: int, arn: str) -> None:
        self.variables = dict(variables)
        self.function = load_handler(handler, self.variables)
        self.function_name, self.memory_mib, self.arn = function_name, memory_mib, arn

    def invoke(self, event: dict[str, Any], request_id: str | None = None) -> tuple[Any, list[dict[str, Any]]]:
        context = LambdaContext(self.function_name, self.memory_mib, self.arn, request_id or str(uuid.uuid4()),
                                log_group_name=f"/aws/lambda/{self.function_name}")
        with environment(self.variables), contextlib.redirect_stdout(CLOUDWATCH):
            try:
                response = self.function(event, context)
            finally:
                CLOUDWATCH.flush()
        return response, [_parse(line) for line in CLOUDWATCH.take()]


def _parse(line: str) -> dict[str, Any]:
    try:
        parsed = json.loads(line)
    except ValueError:
        return {"message": line}
    return parsed if isinstance(parsed, dict) else {"message": line}
