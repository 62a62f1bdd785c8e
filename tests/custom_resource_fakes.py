"""What the tests of the library's custom resource functions (constructs_lib/<domain>/functions/) share: the
functions loaded as their Lambda assets hold them, and fakes of Lambda's context, of urlopen (the
pre-signed response URL) and of threading.Timer (the watchdog), so nothing waits or reaches a network.

(It lives here, not in tests/lambda/, because ``lambda`` is a keyword: ``tests.lambda.x`` cannot be
imported by name.)
"""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from tests.synth import ROOT

LIBRARY = ROOT / "constructs_lib"
SHARED_DIR = LIBRARY / "common" / "functions" / "shared"
LOG_STREAM = "2026/11/23/[$LATEST]0123456789abcdef"
RESPONSE_URL = "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/presigned?X-Amz-Signature=abc"


def _shared_modules_importable() -> None:
    """In a function's asset the shared modules sit next to handler.py, on Lambda's sys.path."""
    if str(SHARED_DIR) not in sys.path:
        sys.path.append(str(SHARED_DIR))


def load_handler(function: str) -> ModuleType:
    """``constructs_lib/<domain>/functions/<function>/handler.py``, importing the shared modules as it does on
    Lambda."""
    _shared_modules_importable()
    (folder,) = LIBRARY.glob(f"*/functions/{function}")
    return importlib.import_module(".".join(folder.relative_to(ROOT).parts) + ".handler")


def load_shared(module: str) -> ModuleType:
    """``constructs_lib/common/functions/shared/<module>.py``, the module the handlers import."""
    _shared_modules_importable()
    return importlib.import_module(module)


@dataclass
class Context:
    """Lambda's context: remaining time goes down only when the handler sleeps (see ``Clock``)."""

    remaining_ms: int = 300_000
    log_stream_name: str = LOG_STREAM

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class Clock:
    context: Context
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.context.remaining_ms -= int(seconds * 1000)


class Answer:
    """What the fake urlopen returns: an HTTP 200, usable as a context manager."""

    status = 200

    def __enter__(self) -> Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@dataclass
class Opener:
    """A fake urlopen: records every request, fails the first ``failures`` calls."""

    failures: int = 0
    calls: list[Any] = field(default_factory=list)

    def __call__(self, request, timeout: float) -> Answer:
        self.calls.append((request, timeout))
        if len(self.calls) <= self.failures:
            raise OSError("connection reset")
        return Answer()

    def bodies(self) -> list[dict]:
        return [json.loads(request.data) for request, _ in self.calls]


@dataclass
class Timer:
    """A fake threading.Timer that fires only when the test says so."""

    delay: float
    function: Any
    args: tuple = ()
    daemon: bool = False
    started: bool = False
    cancelled: bool = False

    def start(self) -> None:
        self.started = True

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self) -> None:
        self.function(*self.args)


@dataclass
class Timers:
    """A fake ``threading.Timer`` factory that keeps every timer it made."""

    made: list[Timer] = field(default_factory=list)

    def __call__(self, delay: float, function: Any, args: tuple = ()) -> Timer:
        self.made.append(Timer(delay, function, args))
        return self.made[-1]

    def watchdog(self) -> Timer:
        (timer,) = self.made
        return timer
