"""The local runtime is Glue 5.1's, pinned: Spark 3.5.6 and Iceberg 1.10.0 (tools/iceberg/)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pyspark
import pytest

from tools import maven
from tools.iceberg import install
from tools.iceberg.artifacts import ARTIFACTS, ICEBERG_VERSION, SPARK_RUNTIME, SPARK_VERSION

ROOT = Path(__file__).resolve().parents[2]


def test_the_runtime_is_pinned_by_version_and_both_checksums() -> None:
    assert SPARK_RUNTIME.url == (
        "https://repo1.maven.org/maven2/org/apache/iceberg/iceberg-spark-runtime-3.5_2.12/"
        f"{ICEBERG_VERSION}/iceberg-spark-runtime-3.5_2.12-{ICEBERG_VERSION}.jar"
    )
    for artifact in ARTIFACTS:
        assert re.fullmatch(r"[0-9a-f]{64}", artifact.sha256) and re.fullmatch(r"[0-9a-f]{40}", artifact.sha1)
        assert artifact.size > 0


def test_pyspark_is_exactly_glues_spark() -> None:
    """requirements-dev.txt pins it, the installed one is it, and the jar is built for it."""
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", (ROOT / "requirements-dev.txt").read_text(), flags=re.M))
    assert pins["pyspark"] == SPARK_VERSION == pyspark.__version__
    assert SPARK_RUNTIME.artifact_id.startswith(f"iceberg-spark-runtime-{SPARK_VERSION.rsplit('.', 1)[0]}_")


def test_a_missing_runtime_names_make_iceberg(tmp_path: Path) -> None:
    with pytest.raises(install.IcebergRuntimeNotInstalled, match="run `make iceberg`"):
        install.ensure_iceberg_runtime(tmp_path)
    (tmp_path / SPARK_RUNTIME.file_name).write_bytes(b"truncated")  # a cut download is not the jar
    with pytest.raises(install.IcebergRuntimeNotInstalled):
        install.ensure_iceberg_runtime(tmp_path)


def test_a_file_that_is_not_the_pinned_one_is_rejected(tmp_path: Path) -> None:
    body = b"not a jar"
    path = tmp_path / "x.jar"
    path.write_bytes(body)
    pinned = maven.Artifact("org/x", "x", "1", "jar", hashlib.sha256(body).hexdigest(), hashlib.sha1(body).hexdigest(), len(body))
    maven.verify(path, pinned)
    for wrong in (
        maven.Artifact("org/x", "x", "1", "jar", "0" * 64, pinned.sha1, pinned.size),
        maven.Artifact("org/x", "x", "1", "jar", pinned.sha256, "0" * 40, pinned.size),
        maven.Artifact("org/x", "x", "1", "jar", pinned.sha256, pinned.sha1, pinned.size + 1),
    ):
        with pytest.raises(maven.ChecksumMismatch, match="is not the pinned file"):
            maven.verify(path, wrong)


def test_the_cache_holds_the_verified_runtime() -> None:
    """`make test` runs `make iceberg` first: the suite uses what it pinned."""
    maven.verify(install.ensure_iceberg_runtime(), SPARK_RUNTIME)
