"""Counts and rows read from the files themselves, never from a stage's own summary.

The accounting identities are only worth checking on what was written: a summary can add up
while the files do not (issue 16: run 2's summary balanced while its quarantine files held
107,022 rows more than it said).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq


def read_lines(path: Path) -> list[bytes]:
    """The lines of a (gzip or plain) JSON-lines file, without their newline."""
    data = path.read_bytes()
    if path.suffix == ".gz" or data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.splitlines()


def count_lines(paths: Iterable[Path]) -> int:
    return sum(len(read_lines(path)) for path in paths)


def files(root: Path, pattern: str) -> list[Path]:
    return sorted(path for path in root.rglob(pattern) if path.is_file()) if root.exists() else []


def parquet_files(curated: Path) -> list[Path]:
    return files(curated, "*.parquet")


def fingerprint(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` (Spark's checksum files included), by relative path."""
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest() for path in files(root, "*")}


def parquet_rows(paths: Iterable[Path]) -> int:
    return sum(pq.ParquetFile(path).metadata.num_rows for path in paths)


def quarantine_files(quarantine: Path, run_id: str | None = None) -> list[Path]:
    root = quarantine / f"run_id={run_id}" if run_id else quarantine
    return [path for path in files(root, "*") if not path.name.startswith((".", "_"))]


def quarantine_rows(quarantine: Path, run_id: str | None = None) -> list[dict[str, Any]]:
    return [json.loads(line) for path in quarantine_files(quarantine, run_id) for line in read_lines(path)]


def error_records(bucket: Path, error_root: str) -> list[dict[str, Any]]:
    """Firehose's error documents under the error prefix's static part, ``rawData`` decoded into
    ``raw_bytes``."""
    documents = []
    for path in files(bucket / error_root, "*"):
        for line in read_lines(path):
            document = json.loads(line)
            document["raw_bytes"] = base64.b64decode(document["rawData"])
            document["object_key"] = str(path.relative_to(bucket))
            documents.append(document)
    return documents


def curated_rows(curated: Path) -> list[dict[str, Any]]:
    """Every curated row as Python values (maps as dicts), with the file's ``event_date`` folder
    and the Arrow types of its columns (so that types and time zones can be checked)."""
    rows = []
    for path in parquet_files(curated):
        table = pq.read_table(path)
        types = {name: str(table.schema.field(name).type) for name in table.column_names}
        event_date = path.parent.name.split("=", 1)[1]
        for row in table.to_pylist():
            row["metrics"] = dict(row["metrics"])
            row["attributes"] = dict(row["attributes"])
            row["event_date"] = event_date
            row["_types"] = types
            row["_file"] = path
            rows.append(row)
    return rows
