"""tools/trino: the pinned installation, how the job's Iceberg tables are found, and that the
server follows their newest commit. Only the last tests need the server."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tools.trino import install
from tools.trino.artifacts import ARTIFACTS, ICEBERG_PLUGIN, SERVER_CORE, TRINO_VERSION
from tools.trino.server import CURATED_TABLE, latest_metadata_file


def test_each_artifact_is_pinned_by_version_and_both_checksums() -> None:
    assert {a.artifact_id for a in ARTIFACTS} == {"trino-server-core", "trino-iceberg"}
    for artifact in ARTIFACTS:
        assert len(artifact.sha256) == 64 and len(artifact.sha1) == 40 and artifact.size > 0
        assert artifact.version == TRINO_VERSION
        assert artifact.url == (
            f"https://repo1.maven.org/maven2/io/trino/{artifact.artifact_id}/{TRINO_VERSION}/"
            f"{artifact.artifact_id}-{TRINO_VERSION}.{artifact.extension}"
        )


def test_a_missing_installation_names_make_trino(tmp_path) -> None:
    with pytest.raises(install.TrinoNotInstalled, match="run `make trino`"):
        install.ensure_trino(tmp_path)
    # A stamp from other artefacts (the Hive plugin of before, a version bump) is not an installation either.
    home = install.trino_home(tmp_path)
    home.mkdir()
    (home / install.STAMP_NAME).write_text(json.dumps({"version": TRINO_VERSION, "artifacts": {"trino-hive-476.zip": "x"}}))
    with pytest.raises(install.TrinoNotInstalled):
        install.ensure_trino(tmp_path)


def test_the_newest_metadata_file_is_found_whoever_wrote_the_table(tmp_path: Path) -> None:
    """Spark's Hadoop catalog writes v<N>.metadata.json, Trino and pyiceberg <NNNNN>-<uuid>."""
    assert latest_metadata_file(tmp_path / "none") is None
    spark_table = tmp_path / "spark" / "metadata"
    spark_table.mkdir(parents=True)
    for name in ("v1.metadata.json", "v2.metadata.json", "v10.metadata.json", "version-hint.text", "snap-1.avro"):
        (spark_table / name).write_text("{}")
    assert latest_metadata_file(spark_table.parent) == "v10.metadata.json"
    trino_table = tmp_path / "trino" / "metadata"
    trino_table.mkdir(parents=True)
    for name in ("00000-a.metadata.json", "00002-c.metadata.json", "00001-b.metadata.json"):
        (trino_table / name).write_text("{}")
    assert latest_metadata_file(trino_table.parent) == "00002-c.metadata.json"


@pytest.mark.trino
def test_the_cache_holds_the_pinned_installation() -> None:
    """`make test` installs before pytest runs: this suite uses what it pinned."""
    home = install.ensure_trino()
    assert (home / "plugin" / "iceberg").is_dir() and (home / "lib").is_dir()
    stamp = json.loads((home / install.STAMP_NAME).read_text())
    assert stamp["artifacts"] == {SERVER_CORE.file_name: SERVER_CORE.sha256, ICEBERG_PLUGIN.file_name: ICEBERG_PLUGIN.sha256}


@pytest.mark.trino
def test_a_refresh_follows_the_tables_newest_commit(trino_server, tmp_path) -> None:
    """The Glue Data Catalog always points at a table's newest metadata; here the metastore entry
    is moved by refresh_tables (run_saved_query does it before every query)."""
    from tests.trino import curated

    folder = tmp_path / "telemetry"
    t0 = dt.datetime(2026, 11, 23, 8, tzinfo=dt.timezone.utc)
    curated_dir = trino_server.curated_dir
    try:
        curated.write_curated(trino_server, folder, [curated.Reading("a", t0, {"x": 1.0})])
        assert trino_server.query(f"SELECT count(*) FROM {CURATED_TABLE}") == [(1,)]
        trino_server.execute("CALL system.register_table(schema_name => 'staging', table_name => 'writer', "
                             f"table_location => 'local://{folder}')")
        trino_server.execute("INSERT INTO staging.writer (device_id, event_time) VALUES ('b', TIMESTAMP '2026-11-23 09:00:00 UTC')")
        trino_server.execute("CALL system.unregister_table(schema_name => 'staging', table_name => 'writer')")
        assert trino_server.query(f"SELECT count(*) FROM {CURATED_TABLE}") == [(1,)]  # the entry still names the old commit
        trino_server.refresh_tables()
        assert trino_server.query(f"SELECT count(*) FROM {CURATED_TABLE}") == [(2,)]
    finally:
        trino_server.point_at(curated_dir)
    assert any(folder.glob("data/*/*.parquet")), "unregistering never deletes the files"


@pytest.mark.trino
def test_query_binds_parameters(trino_server) -> None:
    """``query(sql, params)``: the client binds the values (typed, quoted) for ad-hoc SQL."""
    assert trino_server.query("SELECT ? + 1, ?, typeof(?)", [41, "it's", 1.5]) == [(42, "it's", "double")]
