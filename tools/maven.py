"""Pinned artefacts from Maven Central: fetched once, verified, cached under ``.cache/``.

One implementation for every JVM artefact the project downloads (``make trino``: the Trino
server and its connector plugins, tools/trino/; ``make iceberg``: the Iceberg Spark runtime,
tools/iceberg/), so that each pin is checked the same way: the file's size and SHA-256 (pinned
in the repository, computed once from the download) and its SHA-1 (as Maven Central publishes it
beside the file, ``<file>.sha1``; pinned too, so a check needs no second request). A download is
written under a temporary name and renamed only once verified, so a cut connection never leaves
a file that looks complete.
"""

from __future__ import annotations

import hashlib
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
DOWNLOAD_TIMEOUT_SECONDS = 60  # per socket operation, not for the whole file
CHUNK = 1 << 20


class ChecksumMismatch(RuntimeError):
    """A downloaded artefact is not the pinned one."""


@dataclass(frozen=True)
class Artifact:
    """``group:artifact_id:version`` with its packaging, pinned by size and both checksums."""

    group_path: str  # io/trino, org/apache/iceberg
    artifact_id: str
    version: str
    extension: str  # jar, tar.gz or zip
    sha256: str
    sha1: str  # as published by Maven Central (<file>.sha1)
    size: int  # bytes

    @property
    def file_name(self) -> str:
        return f"{self.artifact_id}-{self.version}.{self.extension}"

    @property
    def coordinates(self) -> str:
        return f"{self.group_path.replace('/', '.')}:{self.artifact_id}:{self.version}"

    @property
    def url(self) -> str:
        return f"{MAVEN_CENTRAL}/{self.group_path}/{self.artifact_id}/{self.version}/{self.file_name}"


def verify(path: Path, artifact: Artifact) -> None:
    """Size, SHA-256 and SHA-1 of ``path`` against the pins, or ChecksumMismatch."""
    sha256, sha1, size = hashlib.sha256(), hashlib.sha1(), 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            sha256.update(chunk)
            sha1.update(chunk)
            size += len(chunk)
    problems = []
    if size != artifact.size:
        problems.append(f"size {size:,} bytes, pinned {artifact.size:,}")
    if sha256.hexdigest() != artifact.sha256:
        problems.append(f"SHA-256 {sha256.hexdigest()}, pinned {artifact.sha256}")
    if sha1.hexdigest() != artifact.sha1:
        problems.append(f"SHA-1 {sha1.hexdigest()}, Maven Central publishes {artifact.sha1}")
    if problems:
        raise ChecksumMismatch(f"{path.name} from {artifact.url} is not the pinned file: " + "; ".join(problems))


def download(artifact: Artifact, downloads: Path, *, log_prefix: str = "maven") -> Path:
    """The verified artefact in ``downloads/``, fetched unless a verified copy is there."""

    def log(message: str) -> None:
        print(f"[{log_prefix}] {message}", file=sys.stderr, flush=True)

    target = downloads / artifact.file_name
    if target.exists():
        try:
            verify(target, artifact)
            return target
        except ChecksumMismatch as error:
            log(f"discarding a cached file that fails verification ({error})")
            target.unlink()
    downloads.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    log(f"downloading {artifact.url} ({artifact.size / 1e6:.0f} MB)")
    started = time.monotonic()
    request = urllib.request.Request(artifact.url, headers={"User-Agent": f"analytics-platform-make-{log_prefix}"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response, partial.open("wb") as out:
        done, next_report = 0, 0.0
        while chunk := response.read(CHUNK):
            out.write(chunk)
            done += len(chunk)
            if done / artifact.size >= next_report:
                log(f"  {artifact.file_name}: {done / 1e6:.0f} / {artifact.size / 1e6:.0f} MB")
                next_report += 0.25
    verify(partial, artifact)
    partial.rename(target)
    log(f"  {artifact.file_name}: verified in {time.monotonic() - started:.1f} s")
    return target
