"""Iceberg tables read without Spark or Trino: the committed data, as another reader sees it.

The pipeline's and the end-to-end test's accounting identities are counted here, with
pyiceberg (an independent implementation of the Iceberg spec: it reads the metadata file, the
manifest list and manifests, plans the data files and reads them with pyarrow), so that a count
is never the job's own. A table is named by its folder (``<warehouse>/<database>/<table>``, what
the job's local Hadoop catalog writes); its newest metadata file is the current state.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa


def latest_metadata_file(table_dir: Path) -> str | None:
    """The name of the table's newest metadata file, or None if ``table_dir`` holds no table.

    Spark's Hadoop catalog names them ``v<N>.metadata.json`` (and writes ``version-hint.text``);
    other writers (pyiceberg, a metastore catalog) ``<NNNNN>-<uuid>.metadata.json``: both carry
    the version number first."""
    metadata = Path(table_dir) / "metadata"
    versions = []
    for path in metadata.glob("*.metadata.json") if metadata.is_dir() else []:
        match = re.match(r"v?(\d+)[-.]", path.name)
        if match:
            versions.append((int(match.group(1)), path.name))
    return max(versions)[1] if versions else None


def load(table_dir: Path) -> Any:
    """The table as pyiceberg's StaticTable at its newest metadata (None if there is none)."""
    from pyiceberg.table import StaticTable

    name = latest_metadata_file(table_dir)
    if name is None:
        return None
    return StaticTable.from_metadata((Path(table_dir).resolve() / "metadata" / name).as_uri())


def read(table_dir: Path, columns: tuple[str, ...] = ("*",), row_filter: Any = None, snapshot_id: int | None = None) -> pa.Table:
    """The committed rows (an empty table if none): ``columns``, ``row_filter`` a pyiceberg
    expression or SQL-like string (``"run_id = 'run-1'"``), at ``snapshot_id`` (default current)."""
    table = load(table_dir)
    if table is None or table.current_snapshot() is None:
        return pa.table({})
    scan = table.scan(selected_fields=columns, snapshot_id=snapshot_id, **({"row_filter": row_filter} if row_filter else {}))
    return scan.to_arrow()


def count(table_dir: Path, row_filter: Any = None) -> int:
    return read(table_dir, ("record_id",), row_filter).num_rows


def snapshot_id(table_dir: Path) -> int | None:
    table = load(table_dir)
    snapshot = None if table is None else table.current_snapshot()
    return None if snapshot is None else snapshot.snapshot_id


def _day(value: Any) -> Any:
    """A day partition's value as a date (Iceberg stores days since 1970-01-01)."""
    import datetime as dt

    return dt.date(1970, 1, 1) + dt.timedelta(days=value) if isinstance(value, int) else value


def data_files(table_dir: Path) -> list[dict[str, Any]]:
    """The current snapshot's data files: path (local), partition day, rows, bytes."""
    table = load(table_dir)
    if table is None or table.current_snapshot() is None:
        return []
    files = []
    for task in table.scan().plan_files():
        data_file = task.file
        files.append({
            "path": Path(data_file.file_path.removeprefix("file:")), "partition": _day(data_file.partition[0]),
            "records": data_file.record_count, "bytes": data_file.file_size_in_bytes, "deletes": len(task.delete_files),
        })
    return files
