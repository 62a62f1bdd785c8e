"""Fetch, verify and unpack the pinned Trino server (``make trino``). Skeleton: see below."""

from __future__ import annotations

from pathlib import Path


class TrinoNotInstalled(RuntimeError):
    """The pinned Trino is not in the cache: run ``make trino``."""


def ensure_trino() -> Path:
    """The unpacked server's home (``.cache/trino/trino-server-476``), or TrinoNotInstalled."""
    raise NotImplementedError
