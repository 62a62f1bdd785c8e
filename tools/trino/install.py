"""Fetch, verify and unpack the pinned Trino server: what ``make trino`` runs.

``python -m tools.trino.install`` downloads the artefacts of tools/trino/artifacts.py from Maven
Central into ``.cache/trino/downloads/`` (git-ignored; the Makefile owns ``.cache/``), checks
each file's size, SHA-256 (pinned in the repository) and SHA-1 (as Maven Central publishes it)
through tools/maven.py, and unpacks the server with the Iceberg connector as ``plugin/iceberg``
into ``.cache/trino/trino-server-<version>/``. A complete installation carries a stamp naming the
checksums it was built from; with that stamp in place the command does nothing (a warm run),
so it is safe to run before every test session. A partial download or unpack never looks
complete: files are written under temporary names and renamed at the end. An installation made
from other artefacts (the Hive plugin of before issue 19) has another stamp and is replaced.

``ensure_trino()`` is for code that needs the server: it returns the installation's home or
raises :class:`TrinoNotInstalled` naming ``make trino``; it never downloads.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tarfile
import time
import zipfile
from pathlib import Path

from tools.maven import Artifact, ChecksumMismatch, download, verify
from tools.trino.artifacts import ARTIFACTS, PLUGIN_NAMES, SERVER_CORE, TRINO_VERSION

ROOT = Path(__file__).resolve().parents[2]
#: Overridable so that a machine can keep one cache for several clones.
CACHE_DIR = Path(os.environ.get("TRINO_CACHE_DIR", ROOT / ".cache" / "trino"))
STAMP_NAME = ".installed.json"

__all__ = ["ChecksumMismatch", "TrinoNotInstalled", "ensure_trino", "install", "trino_home", "verify"]


class TrinoNotInstalled(RuntimeError):
    """The pinned Trino is not in the cache: run ``make trino``."""


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
            "(downloads it from Maven Central, about 540 MB, once; `make test` does it too)"
        )
    return home


def _log(message: str) -> None:
    print(f"[trino] {message}", file=sys.stderr, flush=True)


def _safe_members(names: list[str], root: str) -> None:
    for name in names:
        parts = Path(name).parts
        if not parts or parts[0] != root or ".." in parts or Path(name).is_absolute():
            raise ChecksumMismatch(f"unexpected archive entry {name!r} (expected everything under {root}/)")


def unpack(core: Path, plugins: dict[Artifact, Path], home: Path) -> None:
    """``core`` (tar.gz) into ``home``, each plugin (zip) as ``home/plugin/<name>``, atomically."""
    staging = home.with_name(home.name + ".unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    core_root = f"{SERVER_CORE.artifact_id}-{TRINO_VERSION}"
    with tarfile.open(core) as archive:
        _safe_members(archive.getnames(), core_root)
        archive.extractall(staging, filter="data")
    server = staging / core_root
    for artifact, path in plugins.items():
        plugin_root = f"{artifact.artifact_id}-{TRINO_VERSION}"
        with zipfile.ZipFile(path) as archive:
            _safe_members(archive.namelist(), plugin_root)
            archive.extractall(staging)
        (staging / plugin_root).rename(server / "plugin" / PLUGIN_NAMES[artifact.artifact_id])
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
    core = download(SERVER_CORE, downloads, log_prefix="trino")
    plugins = {a: download(a, downloads, log_prefix="trino") for a in ARTIFACTS if a is not SERVER_CORE}
    unpack(core, plugins, home)
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
