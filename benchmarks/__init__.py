"""Benchmarks (``make bench``): measured, reported, never asserted in the test suite."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def publish(name: str, data: dict[str, Any], markdown: Callable[[dict[str, Any]], str]) -> None:
    """Write ``results/<name>.json`` and ``.md``, and print the Markdown."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = markdown(data)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(text)
    print(text)
    print(f"written to {RESULTS.relative_to(ROOT)}/{name}.{{md,json}}")
