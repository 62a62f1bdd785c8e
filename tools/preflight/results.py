"""One line per check: PASS, WARN, SKIP (not applicable) or FAIL with the fix."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Status(enum.Enum):
    PASS = "PASS"
    WARN = "WARN"
    SKIP = "SKIP"
    FAIL = "FAIL"


@dataclass(frozen=True)
class CheckResult:
    """``fix`` is a command to run or a config key to change; only a FAIL or WARN needs one."""

    name: str
    status: Status
    message: str
    fix: str | None = None

    def line(self) -> str:
        fix = f" -- fix: {self.fix}" if self.fix else ""
        return f"{self.status.value} {self.name}: {self.message}{fix}"


def passed(name: str, message: str) -> CheckResult:
    return CheckResult(name, Status.PASS, message)


def failed(name: str, message: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.FAIL, message, fix)


def skipped(name: str, message: str) -> CheckResult:
    return CheckResult(name, Status.SKIP, message)


def warned(name: str, message: str, fix: str | None = None) -> CheckResult:
    return CheckResult(name, Status.WARN, message, fix)
