"""Counts and rows read from the files and the committed tables, never from a stage's own summary.

The accounting identities are only worth checking on what was written: a summary can add up
while the files do not (issue 16: run 2's summary balanced while its quarantine files held
107,022 rows more than it said). The raw zone and Firehose's error objects are read as files;
the curated table and the quarantine as committed Iceberg tables, with pyiceberg
(tools/iceberg/tables.py: the current snapshot's data files and rows, as any reader sees them).
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

from tools.iceberg import tables as iceberg


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


def table_state(table: Path) -> dict[str, Any]:
    """What a commit would change: the current snapshot id and each data file's SHA-256."""
    return {
        "snapshot": iceberg.snapshot_id(table),
        "files": {str(f["path"]): hashlib.sha256(f["path"].read_bytes()).hexdigest() for f in iceberg.data_files(table)},
    }


def table_rows(table: Path) -> int:
    return iceberg.count(table)


def quarantine_rows(quarantine: Path, run_id: str | None = None) -> list[dict[str, Any]]:
    """The committed quarantine's rows (of ``run_id``, or all) as dicts."""
    return iceberg.read(quarantine, row_filter=f"run_id = '{run_id}'" if run_id else None).to_pylist()


def lineage(table: Path) -> list[tuple[str, str]]:
    """(source_file, record_id) of every committed row."""
    rows = iceberg.read(table, ("source_file", "record_id")).to_pylist()
    return [(row["source_file"], row["record_id"]) for row in rows]


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
    """Every curated row as Python values (maps as dicts), read from the data files of the
    table's current snapshot (pyarrow, so that the files' own types and time zones can be
    checked), with the file's partition day as ``event_date``. The job never deletes or updates
    a row, so the current snapshot has data files only; a delete file would be an error here."""
    rows = []
    for data_file in iceberg.data_files(curated):
        if data_file.get("deletes"):
            raise AssertionError(f"{data_file['path']} has delete files: the job only ever inserts")
        table = pq.read_table(data_file["path"])
        types = {name: str(table.schema.field(name).type) for name in table.column_names}
        for row in table.to_pylist():
            row["metrics"] = dict(row["metrics"])
            row["attributes"] = dict(row["attributes"])
            row["event_date"] = data_file["partition"].isoformat()
            row["_types"] = types
            row["_file"] = data_file["path"]
            rows.append(row)
    return rows
