"""The pinned Trino artefacts: the one place their version and checksums live.

Read by tools/trino/install.py (which the Makefile's ``trino`` target runs) and by the server
fixture. The SHA-256 sums were computed from the downloads and cross-checked against Maven
Central's published ``.sha1`` files (both are listed; install verifies both).

Why these two and not ``io.trino:trino-server`` (821 MB with every plugin): the core server
(no connectors) plus the Hive connector plugin is all the saved queries need, 452 MB together.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The Trino release. Athena engine v3 is built on Trino; 476 needs Java 24 or newer.
TRINO_VERSION = "476"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"


@dataclass(frozen=True)
class Artifact:
    group_path: str  # io/trino
    artifact_id: str
    extension: str  # tar.gz or zip
    sha256: str
    sha1: str  # as published by Maven Central (<file>.sha1)
    size: int  # bytes

    @property
    def file_name(self) -> str:
        return f"{self.artifact_id}-{TRINO_VERSION}.{self.extension}"

    @property
    def url(self) -> str:
        return f"{MAVEN_CENTRAL}/{self.group_path}/{self.artifact_id}/{TRINO_VERSION}/{self.file_name}"


#: The server without connectors (unpacks to ``trino-server-core-476/``).
SERVER_CORE = Artifact(
    group_path="io/trino",
    artifact_id="trino-server-core",
    extension="tar.gz",
    sha256="0f388f9967c177ae70a47c099082fc95387f0c3cb96d8000d1d41fc3a5223158",
    sha1="6bae2db438f8e6a2a8d9c8b566bb5e5b05870138",
    size=194_358_953,
)
#: The Hive connector plugin (unpacks to ``trino-hive-476/``, installed as ``plugin/hive``).
HIVE_PLUGIN = Artifact(
    group_path="io/trino",
    artifact_id="trino-hive",
    extension="zip",
    sha256="611bacdb07d9f3cf7b9d47f97ecc76fa2e7ff8bfe8a9728c3d06adc1bfb8662e",
    sha1="7b2a4b6468ebf92b47cf096d43c4133eea88ae20",
    size=258_326_133,
)
ARTIFACTS = (SERVER_CORE, HIVE_PLUGIN)

#: Trino 476 refuses to start on Java 17; the machines have a Temurin 25 beside the default.
#: Override with TRINO_JAVA_HOME.
DEFAULT_JAVA_HOME = "/usr/lib/jvm/temurin-25-jdk-amd64"
