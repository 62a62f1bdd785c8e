"""Fetch and verify the pinned Iceberg Spark runtime: what ``make iceberg`` runs.

``python -m tools.iceberg.install`` downloads the jar of tools/iceberg/artifacts.py from Maven
Central into ``.cache/iceberg/`` (git-ignored; the Makefile owns ``.cache/``) and verifies its
size, SHA-256 and SHA-1 (tools/maven.py). With a verified jar in place it does nothing (a warm
run re-hashes 47 MB, well under a second), so it is safe before every test session.

``ensure_iceberg_runtime()`` is for code that needs the jar: it returns its path or raises
:class:`IcebergRuntimeNotInstalled` naming ``make iceberg``; it never downloads (tests must not
fetch behind one's back). It checks the size only: the hashes were checked when the file was
written, and re-hashing in every Spark start would cost for nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from tools.iceberg.artifacts import ICEBERG_VERSION, SPARK_RUNTIME
from tools.maven import ChecksumMismatch, download

ROOT = Path(__file__).resolve().parents[2]
#: Overridable so that a machine can keep one cache for several clones.
CACHE_DIR = Path(os.environ.get("ICEBERG_CACHE_DIR", ROOT / ".cache" / "iceberg"))


class IcebergRuntimeNotInstalled(RuntimeError):
    """The pinned Iceberg runtime is not in the cache: run ``make iceberg``."""


def runtime_jar_path(cache_dir: Path | None = None) -> Path:
    return (cache_dir or CACHE_DIR) / SPARK_RUNTIME.file_name


def ensure_iceberg_runtime(cache_dir: Path | None = None) -> Path:
    """The verified runtime jar (``.cache/iceberg/iceberg-spark-runtime-3.5_2.12-1.10.0.jar``)."""
    jar = runtime_jar_path(cache_dir)
    if not jar.is_file() or jar.stat().st_size != SPARK_RUNTIME.size:
        raise IcebergRuntimeNotInstalled(
            f"the Iceberg {ICEBERG_VERSION} Spark runtime is not in {jar.parent}: run `make iceberg` "
            f"(downloads {SPARK_RUNTIME.coordinates} from Maven Central, {SPARK_RUNTIME.size / 1e6:.0f} MB, once; "
            "`make test` does it too)"
        )
    return jar


def install(cache_dir: Path | None = None) -> Path:
    started = time.monotonic()
    jar = download(SPARK_RUNTIME, cache_dir or CACHE_DIR, log_prefix="iceberg")
    print(f"[iceberg] {jar.name} verified in {jar.parent} ({time.monotonic() - started:.1f} s)", file=sys.stderr)
    return jar


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=None, help=f"default {CACHE_DIR}")
    args = parser.parse_args(argv)
    try:
        jar = install(args.cache_dir)
    except (ChecksumMismatch, OSError) as error:
        print(f"[iceberg] failed: {error}", file=sys.stderr)
        return 1
    print(jar)
    return 0


if __name__ == "__main__":
    sys.exit(main())
