"""Bounded polling with a progress line: every wait of the smoke test goes through here, so none
can hang, and the user sees what each poll found."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tools.smoke.context import SmokeContext, StageFailed

T = TypeVar("T")


def wait_for(ctx: SmokeContext, what: str, poll: Callable[[], tuple[bool, str, T]], *, timeout: float) -> tuple[str, T]:
    """Calls ``poll()`` every ``poll_seconds`` until it reports done, or fails after ``timeout``
    seconds. ``poll`` returns (done, what it saw, value) and raises StageFailed when waiting
    longer cannot help."""
    start = ctx.clock()
    while True:
        done, seen, value = poll()
        elapsed = ctx.clock() - start
        ctx.progress(f"{what}: {seen} ({elapsed:.0f} s of {timeout:g} s)")
        if done:
            return seen, value
        remaining = timeout - elapsed
        if remaining <= 0:
            raise StageFailed(f"timed out after {timeout:g} s: {seen}")
        ctx.sleep(min(ctx.options.poll_seconds, remaining))
