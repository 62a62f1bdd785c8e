"""A Trino server over a local curated folder, for tests and ``make pipeline``. Skeleton."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


class TrinoServer:
    """``with TrinoServer(curated_dir) as server: server.query("SELECT ...")``."""

    def __init__(self, curated_dir: Path, quarantine_dir: Path | None = None) -> None:
        self.curated_dir = Path(curated_dir)
        self.quarantine_dir = Path(quarantine_dir) if quarantine_dir else None

    def __enter__(self) -> "TrinoServer":
        raise NotImplementedError

    def __exit__(self, *exc: object) -> None:
        pass

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        raise NotImplementedError
