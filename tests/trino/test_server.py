"""tools/trino: the pinned installation, the table DDL derived from the declaration, and the
server's optional quarantine table. Only the last test needs the server."""

from __future__ import annotations

import gzip
import hashlib
import json

import pytest

from tools.trino import install
from tools.trino.artifacts import ARTIFACTS, HIVE_PLUGIN, SERVER_CORE, TRINO_VERSION, Artifact
from tools.trino.server import QUARANTINE_TABLE, curated_table_ddl, trino_type


def test_each_artifact_is_pinned_by_version_and_both_checksums() -> None:
    assert {a.artifact_id for a in ARTIFACTS} == {"trino-server-core", "trino-hive"}
    for artifact in ARTIFACTS:
        assert len(artifact.sha256) == 64 and len(artifact.sha1) == 40 and artifact.size > 0
        assert artifact.url == (
            f"https://repo1.maven.org/maven2/io/trino/{artifact.artifact_id}/{TRINO_VERSION}/"
            f"{artifact.artifact_id}-{TRINO_VERSION}.{artifact.extension}"
        )


def test_a_file_that_is_not_the_pinned_one_is_rejected(tmp_path) -> None:
    body = b"not trino"
    path = tmp_path / "x.zip"
    path.write_bytes(body)
    pinned = Artifact("io/trino", "x", "zip", hashlib.sha256(body).hexdigest(), hashlib.sha1(body).hexdigest(), len(body))
    install.verify(path, pinned)
    for wrong in (
        Artifact("io/trino", "x", "zip", "0" * 64, pinned.sha1, pinned.size),
        Artifact("io/trino", "x", "zip", pinned.sha256, "0" * 40, pinned.size),
        Artifact("io/trino", "x", "zip", pinned.sha256, pinned.sha1, pinned.size + 1),
    ):
        with pytest.raises(install.ChecksumMismatch, match="is not the pinned file"):
            install.verify(path, wrong)


def test_a_missing_installation_names_make_trino(tmp_path) -> None:
    with pytest.raises(install.TrinoNotInstalled, match="run `make trino`"):
        install.ensure_trino(tmp_path)
    # A stamp from other artefacts (a version bump) is not an installation either.
    home = install.trino_home(tmp_path)
    home.mkdir()
    (home / install.STAMP_NAME).write_text(json.dumps({"version": "475", "artifacts": {}}))
    with pytest.raises(install.TrinoNotInstalled):
        install.ensure_trino(tmp_path)


@pytest.mark.trino
def test_the_cache_holds_the_pinned_installation() -> None:
    """`make test` installs before pytest runs: this suite uses what it pinned."""
    home = install.ensure_trino()
    assert (home / "plugin" / "hive").is_dir() and (home / "lib").is_dir()
    stamp = json.loads((home / install.STAMP_NAME).read_text())
    assert stamp["artifacts"] == {SERVER_CORE.file_name: SERVER_CORE.sha256, HIVE_PLUGIN.file_name: HIVE_PLUGIN.sha256}


@pytest.mark.parametrize(
    ("glue", "trino"),
    [
        ("string", "varchar"),
        ("int", "integer"),
        ("timestamp", "timestamp(3)"),
        ("map<string,double>", "map(varchar, double)"),
        ("array<struct<a:int,b:map<string,string>>>", 'array(row("a" integer, "b" map(varchar, varchar)))'),
        ("decimal(38,9)", "decimal(38,9)"),
    ],
)
def test_glue_types_in_trino(glue, trino) -> None:
    assert trino_type(glue) == trino


def test_an_unknown_glue_type_is_an_error() -> None:
    with pytest.raises(ValueError, match="uniontype"):
        trino_type("uniontype<int,string>")


def test_the_ddl_follows_the_declaration(monkeypatch) -> None:
    """Derived from stacks/telemetry_tables.py, not restated: a new column appears in it."""
    from aws_cdk import aws_glue as glue

    import stacks.telemetry_tables as tables

    extra = glue.Column(name="firmware", type=glue.Schema.STRING)
    monkeypatch.setattr(tables, "CURATED_COLUMNS", (*tables.CURATED_COLUMNS, extra))
    ddl = curated_table_ddl("db", "local:///data")
    assert '"firmware" varchar,\n    "event_date" date' in ddl


@pytest.mark.trino
def test_the_quarantine_folder_is_a_table(trino_server, tmp_path) -> None:
    """The job's quarantine layout (gzip JSON lines under run_id=<run>/) can be counted."""
    quarantine = tmp_path / "quarantine"
    for run, reasons in {"r1": ["duplicate", "bad_metrics"], "r2": ["duplicate"]}.items():
        folder = quarantine / f"run_id={run}"
        folder.mkdir(parents=True)
        lines = [
            json.dumps({"raw_line": '{"x": 1}', "reason": reason, "source_file": "f.gz", "run_id": run, "quarantined_at": "2026-11-23T01:02:03.004Z"})
            for reason in reasons
        ]
        (folder / "part-00000.json.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    curated_dir = trino_server.curated_dir
    try:
        trino_server.point_at(tmp_path / "curated", quarantine)
        rows = trino_server.query(f"SELECT run_id, reason, count(*) FROM {QUARANTINE_TABLE} GROUP BY 1, 2 ORDER BY 1, 2")
        assert rows == [("r1", "bad_metrics", 1), ("r1", "duplicate", 1), ("r2", "duplicate", 1)]
    finally:
        trino_server.point_at(curated_dir)
    # Re-pointing drops the tables, never the files: they are external, as in the Glue catalog.
    assert sorted(p.name for p in quarantine.rglob("*.json.gz")) == ["part-00000.json.gz"] * 2


@pytest.mark.trino
def test_query_binds_parameters(trino_server) -> None:
    """``query(sql, params)``: the client binds the values (typed, quoted) for ad-hoc SQL."""
    assert trino_server.query("SELECT ? + 1, ?, typeof(?)", [41, "it's", 1.5]) == [(42, "it's", "double")]
