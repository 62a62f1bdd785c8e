"""The pinned Trino artefacts: the one place their version and checksums live.

Read by tools/trino/install.py (which the Makefile's ``trino`` target runs) and by the server
fixture. The SHA-256 sums were computed from the downloads and cross-checked against Maven
Central's published ``.sha1`` files (both are listed; tools/maven.py verifies both and the size).

Why these two and not ``io.trino:trino-server`` (821 MB with every plugin): the core server
(no connectors) plus the Iceberg connector plugin is all the saved queries need, 540 MB
together. The curated table and its quarantine are Iceberg tables (issue 19), so the Hive
connector, which read the Parquet folders before, is no longer fetched. Trino 476's Iceberg
connector bundles Iceberg 1.9.1, which reads the format-v2 tables that Iceberg 1.10.0 writes.
"""

from __future__ import annotations

from tools.maven import Artifact

#: The Trino release. Athena engine v3 is built on Trino; 476 needs Java 24 or newer.
TRINO_VERSION = "476"

#: The server without connectors (unpacks to ``trino-server-core-476/``).
SERVER_CORE = Artifact(
    group_path="io/trino",
    artifact_id="trino-server-core",
    version=TRINO_VERSION,
    extension="tar.gz",
    sha256="0f388f9967c177ae70a47c099082fc95387f0c3cb96d8000d1d41fc3a5223158",
    sha1="6bae2db438f8e6a2a8d9c8b566bb5e5b05870138",
    size=194_358_953,
)
#: The Iceberg connector plugin (unpacks to ``trino-iceberg-476/``, installed as ``plugin/iceberg``).
ICEBERG_PLUGIN = Artifact(
    group_path="io/trino",
    artifact_id="trino-iceberg",
    version=TRINO_VERSION,
    extension="zip",
    sha256="99edba5b491ed94d599aeb61e0794272d3569d8b563f3bb8569e8a49daa87b6c",
    sha1="6a9841be7b21c71110a1efc3a98e5dd833b20a8e",
    size=345_890_737,
)
ARTIFACTS = (SERVER_CORE, ICEBERG_PLUGIN)
#: plugin/<name> for each plugin artefact.
PLUGIN_NAMES = {ICEBERG_PLUGIN.artifact_id: "iceberg"}

#: Trino 476 refuses to start on Java 17; the machines have a Temurin 25 beside the default.
#: Override with TRINO_JAVA_HOME.
DEFAULT_JAVA_HOME = "/usr/lib/jvm/temurin-25-jdk-amd64"
