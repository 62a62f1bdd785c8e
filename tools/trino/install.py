"""Fetch, verify and unpack the pinned Trino server: what ``make trino`` runs.

``python -m tools.trino.install`` downloads the artefacts of tools/trino/artifacts.py from Maven
Central into ``.cache/trino/downloads/`` (git-ignored; the Makefile owns ``.cache/``), checks
each file's size, SHA-256 (pinned in the repository) and SHA-1 (as Maven Central publishes it),
and unpacks the server with the Hive connector as ``plugin/hive`` into
``.cache/trino/trino-server-<version>/``. A complete installation carries a stamp naming the
checksums it was built from; with that stamp in place the command does nothing (a warm run),
so it is safe to run before every test session. A partial download or unpack never looks
complete: files are written under temporary names and renamed at the end.

``ensure_trino()`` is for code that needs the server: it returns the installation's home or
raises :class:`TrinoNotInstalled` naming ``make trino``; it never downloads.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tarfile
import time
import urllib.request
import zipfile
from pathlib import Path

from tools.trino.artifacts import ARTIFACTS, HIVE_PLUGIN, SERVER_CORE, TRINO_VERSION, Artifact

ROOT = Path(__file__).resolve().parents[2]
#: Overridable so that a machine can keep one cache for several clones.
CACHE_DIR = Path(os.environ.get("TRINO_CACHE_DIR", ROOT / ".cache" / "trino"))
STAMP_NAME = ".installed.json"
DOWNLOAD_TIMEOUT_SECONDS = 60  # per socket operation, not for the whole file
CHUNK = 1 << 20


class TrinoNotInstalled(RuntimeError):
    """The pinned Trino is not in the cache: run ``make trino``."""


class ChecksumMismatch(RuntimeError):
    """A downloaded artefact is not the pinned one."""


def trino_home(cache_dir: Path | None = None) -> Path:
    return (cache_dir or CACHE_DIR) / f"trino-server-{TRINO_VERSION}"


def _expected_stamp() -> dict:
    return {"version": TRINO_VERSION, "artifacts": {a.file_name: a.sha256 for a in ARTIFACTS}}


def is_installed(cache_dir: Path | None = None) -> bool:
    stamp = trino_home(cache_dir) / STAMP_NAME
    try:
        return json.loads(stamp.read_text()) == _expected_stamp()
    except (OSError, ValueError):
        return False


def ensure_trino(cache_dir: Path | None = None) -> Path:
    """The unpacked, verified server's home (``.cache/trino/trino-server-476``).

    Raises TrinoNotInstalled, naming ``make trino``, when it is missing or was built from other
    artefacts than the pinned ones. Never downloads (tests must not fetch behind one's back)."""
    home = trino_home(cache_dir)
    if not is_installed(cache_dir):
        raise TrinoNotInstalled(
            f"Trino {TRINO_VERSION} is not installed in {home}: run `make trino` "
            "(downloads it from Maven Central, about 450 MB, once; `make test` does it too)"
        )
    return home


def _log(message: str) -> None:
    print(f"[trino] {message}", file=sys.stderr, flush=True)


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


def download(artifact: Artifact, downloads: Path) -> Path:
    """The verified artefact in ``downloads/``, fetched unless a verified copy is there."""
    target = downloads / artifact.file_name
    if target.exists():
        try:
            verify(target, artifact)
            return target
        except ChecksumMismatch as error:
            _log(f"discarding a cached file that fails verification ({error})")
            target.unlink()
    downloads.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    _log(f"downloading {artifact.url} ({artifact.size / 1e6:.0f} MB)")
    started = time.monotonic()
    request = urllib.request.Request(artifact.url, headers={"User-Agent": "analytics-platform-make-trino"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response, partial.open("wb") as out:
        done, next_report = 0, 0.0
        while chunk := response.read(CHUNK):
            out.write(chunk)
            done += len(chunk)
            if done / artifact.size >= next_report:
                _log(f"  {artifact.file_name}: {done / 1e6:.0f} / {artifact.size / 1e6:.0f} MB")
                next_report += 0.25
    verify(partial, artifact)
    partial.rename(target)
    _log(f"  {artifact.file_name}: verified in {time.monotonic() - started:.1f} s")
    return target


def _safe_members(names: list[str], root: str) -> None:
    for name in names:
        parts = Path(name).parts
        if not parts or parts[0] != root or ".." in parts or Path(name).is_absolute():
            raise ChecksumMismatch(f"unexpected archive entry {name!r} (expected everything under {root}/)")


def unpack(core: Path, hive: Path, home: Path) -> None:
    """``core`` (tar.gz) into ``home``, ``hive`` (zip) as ``home/plugin/hive``, atomically."""
    staging = home.with_name(home.name + ".unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    core_root = f"{SERVER_CORE.artifact_id}-{TRINO_VERSION}"
    with tarfile.open(core) as archive:
        _safe_members(archive.getnames(), core_root)
        archive.extractall(staging, filter="data")
    plugin_root = f"{HIVE_PLUGIN.artifact_id}-{TRINO_VERSION}"
    with zipfile.ZipFile(hive) as archive:
        _safe_members(archive.namelist(), plugin_root)
        archive.extractall(staging)
    server = staging / core_root
    (staging / plugin_root).rename(server / "plugin" / "hive")
    (server / STAMP_NAME).write_text(json.dumps(_expected_stamp(), indent=2) + "\n")
    shutil.rmtree(home, ignore_errors=True)
    server.rename(home)
    shutil.rmtree(staging)


def install(cache_dir: Path | None = None, *, keep_downloads: bool = False) -> Path:
    """Install the pinned Trino unless it is already there; returns its home."""
    cache_dir = cache_dir or CACHE_DIR
    home = trino_home(cache_dir)
    if is_installed(cache_dir):
        return home
    started = time.monotonic()
    downloads = cache_dir / "downloads"
    core, hive = (download(artifact, downloads) for artifact in (SERVER_CORE, HIVE_PLUGIN))
    unpack(core, hive, home)
    if not keep_downloads:
        shutil.rmtree(downloads)
    _log(f"Trino {TRINO_VERSION} installed in {home} ({time.monotonic() - started:.1f} s)")
    return home


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=None, help=f"default {CACHE_DIR}")
    parser.add_argument("--keep-downloads", action="store_true", help="keep the archives after unpacking")
    args = parser.parse_args(argv)
    try:
        home = install(args.cache_dir, keep_downloads=args.keep_downloads)
    except (ChecksumMismatch, OSError) as error:
        _log(f"failed: {error}")
        return 1
    print(home)
    return 0


if __name__ == "__main__":
    sys.exit(main())
