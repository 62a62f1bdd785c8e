"""Build the anomaly-detection application's deployable zip, byte for byte the same on every build:
what ``make flink-app`` runs.

``python -m tools.flink.build`` fetches the pinned artefacts of tools/flink/artifacts.py into the
git-ignored ``.cache/flink/`` (jars from Maven Central through tools/maven.py, checked by size,
SHA-256 and the SHA-1 Maven Central publishes; wheels from PyPI through pip, checked by size and
SHA-256), merges the
jars into one, and writes ``build/flink/anomaly-detection.zip``::

    main.py                                  the entry point (run option python = main.py)
    python/anomaly_detection/*.py            the application (run option pyFiles = python/)
    python/telemetry_contract.py             the telemetry contract, shared with the Lambda
    python/{boto3,botocore,...}/             the SNS publisher's dependencies, from the wheels
    lib/anomaly-detection-connectors.jar     the connectors (run option jarfile)

Reproducible: entries sorted by name, every timestamp 1980-01-01 00:00, fixed permissions, no
directory entries, the same compression level. The merged jar is cached under a name derived
from the pins, so once fetched a build needs no network and takes seconds. Downloads are written
under a temporary name and renamed once verified.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

from tools import maven
from tools.flink.artifacts import DUPLICATE_WINNERS, JARS, WHEELS, Wheel
from tools.maven import Artifact

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = Path(os.environ.get("FLINK_CACHE_DIR", ROOT / ".cache" / "flink"))
APP_DIR = ROOT / "flink_apps" / "anomaly_detection"
CONTRACT = ROOT / "lambda_src" / "telemetry_contract.py"
OUTPUT = ROOT / "build" / "flink" / "anomaly-detection.zip"
JAR_ENTRY = "lib/anomaly-detection-connectors.jar"
ENTRY_POINT = "main.py"
#: Modules of the package that stay out of the zip: the entry point (copied to the root instead)
#: and the local mini-cluster harness.
NOT_SHIPPED = frozenset({"main.py", "local_run.py"})
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 6
#: Bump when the merge rules change, so a cached merged jar is rebuilt.
MERGE_RULES_VERSION = "1"
CHUNK = 1 << 20

_SIGNATURE = re.compile(r"META-INF/[^/]+\.(SF|DSA|RSA|EC)$")
#: Licence and notice files at the top of META-INF, kept per artefact under META-INF/licenses/.
_LICENCE = re.compile(r"META-INF/[^/]*(LICENSE|NOTICE|DEPENDENCIES)[^/]*$")


class BuildError(RuntimeError):
    """A pinned artefact does not verify, or the jars cannot be merged without a guess."""


def _log(message: str) -> None:
    print(f"[flink-app] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------- fetch


def _digests(path: Path) -> tuple[str, str, int]:
    sha256, sha1, size = hashlib.sha256(), hashlib.sha1(), 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            sha256.update(chunk)
            sha1.update(chunk)
            size += len(chunk)
    return sha256.hexdigest(), sha1.hexdigest(), size


def verify_wheel(path: Path, wheel: Wheel) -> None:
    sha256, _, size = _digests(path)
    if (sha256, size) != (wheel.sha256, wheel.size):
        raise BuildError(f"{path.name} is not the pinned wheel: SHA-256 {sha256} ({size:,} bytes), pinned {wheel.sha256} ({wheel.size:,})")


def fetch_wheel(wheel: Wheel, directory: Path) -> Path:
    target = directory / wheel.file_name
    if target.exists():
        try:
            verify_wheel(target, wheel)
            return target
        except BuildError as error:
            _log(f"discarding a cached file that fails verification ({error})")
            target.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        requirement = Path(scratch) / "requirement.txt"
        requirement.write_text(f"{wheel.name}=={wheel.version} --hash=sha256:{wheel.sha256}\n")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--require-hashes", "--dest", scratch, "-r", str(requirement)],
            check=True,
        )
        downloaded = Path(scratch) / wheel.file_name
        verify_wheel(downloaded, wheel)
        downloaded.rename(target)
    return target


# ---------------------------------------------------------------------------------------- merge


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_entries(target: Path | io.BytesIO, entries: dict[str, bytes], *, stored: Iterable[str] = (), first: Iterable[str] = ()) -> None:
    """A zip of ``entries``: ``first`` names in that order, then the rest sorted; ``stored`` names
    uncompressed (already-compressed content); everything else deflated at one fixed level."""
    leading = [name for name in first if name in entries]
    order = leading + sorted(set(entries) - set(leading))
    stored = set(stored)
    with zipfile.ZipFile(target, "w") as archive:
        for name in order:
            info = _info(name)
            if name in stored:
                info.compress_type = zipfile.ZIP_STORED
                archive.writestr(info, entries[name])
            else:
                archive.writestr(info, entries[name], compresslevel=COMPRESS_LEVEL)


def merge_jars(jars: list[tuple[Artifact, Path]]) -> tuple[bytes, dict]:
    """One jar from many; returns its bytes and a report of what the merge did."""
    entries: dict[str, bytes] = {}
    owner: dict[str, str] = {}
    services: dict[str, list[str]] = {}
    conflicts: list[str] = []
    resolved: dict[str, str] = {}
    concatenated: set[str] = set()
    dropped = 0
    for jar, path in jars:
        with zipfile.ZipFile(path) as archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                name = info.filename
                if name.endswith("/"):
                    continue
                if (
                    name in ("META-INF/MANIFEST.MF", "META-INF/INDEX.LIST")
                    or name.endswith("module-info.class")
                    or _SIGNATURE.match(name)
                ):
                    dropped += 1
                    continue
                data = archive.read(name)
                if _LICENCE.match(name):
                    name = f"META-INF/licenses/{jar.artifact_id}/{name.rsplit('/', 1)[1]}"
                if name.startswith("META-INF/services/"):
                    lines = services.setdefault(name, [])
                    for line in data.decode("utf-8").splitlines():
                        line = line.strip()
                        if line and not line.startswith("#") and line not in lines:
                            lines.append(line)
                    continue
                if name not in entries:
                    entries[name], owner[name] = data, jar.artifact_id
                    continue
                if entries[name] == data:
                    continue
                if name in DUPLICATE_WINNERS:
                    if jar.artifact_id == DUPLICATE_WINNERS[name]:
                        entries[name], owner[name] = data, jar.artifact_id
                    resolved[name] = DUPLICATE_WINNERS[name]
                elif name.startswith("META-INF/") and name.endswith((".properties", ".txt")):
                    entries[name] = entries[name].rstrip(b"\n") + b"\n" + data
                    concatenated.add(name)
                else:
                    conflicts.append(f"{name} ({owner[name]} vs {jar.artifact_id})")
    if conflicts:
        raise BuildError("jars disagree on entries no rule settles: " + ", ".join(conflicts))
    unexpected = sorted(set(DUPLICATE_WINNERS) - set(resolved))
    if unexpected:
        raise BuildError(f"DUPLICATE_WINNERS names entries that are not duplicated (update the pins' notes): {unexpected}")
    for name, lines in services.items():
        entries[name] = ("\n".join(lines) + "\n").encode("utf-8")
    entries["META-INF/MANIFEST.MF"] = b"Manifest-Version: 1.0\r\nCreated-By: tools/flink/build.py\r\n\r\n"
    buffer = io.BytesIO()
    write_entries(buffer, entries, first=["META-INF/MANIFEST.MF"])
    report = {
        "entries": len(entries),
        "dropped": dropped,
        "duplicates_resolved": resolved,
        "concatenated": sorted(concatenated),
        "services": {name: len(lines) for name, lines in sorted(services.items())},
    }
    return buffer.getvalue(), report


def pins_digest() -> str:
    text = json.dumps([[j.group_path, j.artifact_id, j.version, j.sha256] for j in JARS] + [MERGE_RULES_VERSION, DUPLICATE_WINNERS])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def connectors_jar(cache_dir: Path) -> Path:
    """The merged jar, from the cache when the pins have not changed."""
    merged = cache_dir / f"anomaly-detection-connectors-{pins_digest()}.jar"
    if merged.exists():
        return merged
    started = time.monotonic()
    downloads = cache_dir / "maven"
    jars = [(jar, maven.download(jar, downloads, log_prefix="flink-app")) for jar in JARS]
    _log(f"{len(jars)} jars verified in {time.monotonic() - started:.1f} s; merging")
    data, report = merge_jars(jars)
    partial = merged.with_name(merged.name + ".part")
    partial.write_bytes(data)
    partial.rename(merged)
    merged.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    _log(f"merged jar {merged.name}: {len(data) / 1e6:.1f} MB, {report['entries']} entries ({time.monotonic() - started:.1f} s)")
    return merged


# ------------------------------------------------------------------------------------------ zip


def _python_entries(cache_dir: Path) -> dict[str, bytes]:
    entries: dict[str, bytes] = {}
    for path in sorted(APP_DIR.glob("*.py")):
        if path.name not in NOT_SHIPPED:
            entries[f"python/anomaly_detection/{path.name}"] = path.read_bytes()
    entries["python/telemetry_contract.py"] = CONTRACT.read_bytes()
    for wheel in WHEELS:
        with zipfile.ZipFile(fetch_wheel(wheel, cache_dir / "wheels")) as archive:
            for name in archive.namelist():
                if not name.endswith("/"):
                    entries[f"python/{name}"] = archive.read(name)
    return entries


def build(output: Path = OUTPUT, cache_dir: Path | None = None) -> Path:
    cache_dir = cache_dir or CACHE_DIR
    started = time.monotonic()
    entries = _python_entries(cache_dir)
    entries[ENTRY_POINT] = (APP_DIR / ENTRY_POINT).read_bytes()
    entries[JAR_ENTRY] = connectors_jar(cache_dir).read_bytes()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".part")
    write_entries(partial, entries, stored=[JAR_ENTRY], first=[ENTRY_POINT])
    partial.rename(output)
    _log(f"{output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}: {output.stat().st_size / 1e6:.1f} MB, "
         f"{len(entries)} entries, SHA-256 {sha256_of(output)} ({time.monotonic() - started:.1f} s)")
    return output


def sha256_of(path: Path) -> str:
    return _digests(path)[0]


# ---------------------------------------------------------------------------------------- check


def layout_problems(path: Path) -> list[str]:
    """What the service would trip over in the zip (empty when the layout is right)."""
    problems = []
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if names[:1] != [ENTRY_POINT]:
            problems.append(f"{ENTRY_POINT} must be the first entry, at the root")
        jars = [n for n in names if n.startswith("lib/")]
        if jars != [JAR_ENTRY]:
            problems.append(f"lib/ must hold exactly {JAR_ENTRY}, holds {jars}")
        for required in ("python/anomaly_detection/__init__.py", "python/anomaly_detection/job.py",
                         "python/telemetry_contract.py", "python/boto3/__init__.py", "python/botocore/__init__.py"):
            if required not in names:
                problems.append(f"missing {required}")
        if any("__pycache__" in n or n.endswith(".pyc") for n in names):
            problems.append("compiled Python files in the zip")
        if any(n.endswith("/") for n in names):
            problems.append("directory entries in the zip")
        if names != [ENTRY_POINT] + sorted(set(names) - {ENTRY_POINT}):
            problems.append("entries are not sorted")
        if any(info.date_time != FIXED_TIME for info in archive.infolist()):
            problems.append("an entry's timestamp is not the fixed one")
        if JAR_ENTRY in names:
            with zipfile.ZipFile(io.BytesIO(archive.read(JAR_ENTRY))) as jar:
                jar_names = set(jar.namelist())
                factories = jar.read("META-INF/services/org.apache.flink.table.factories.Factory").decode()
                for factory in ("org.apache.flink.streaming.connectors.kinesis.table.KinesisDynamicTableFactory",
                                "org.apache.flink.connector.firehose.table.KinesisFirehoseDynamicTableFactory"):
                    if factory not in factories:
                        problems.append(f"the jar's table factories lack {factory}")
                for cls in ("org/apache/flink/connector/firehose/sink/KinesisFirehoseSink.class",
                            "org/apache/flink/streaming/connectors/kinesis/FlinkKinesisConsumer.class",
                            "software/amazon/awssdk/services/firehose/FirehoseAsyncClient.class"):
                    if cls not in jar_names:
                        problems.append(f"the jar lacks {cls}")
                if any(n.endswith("module-info.class") or _SIGNATURE.match(n) for n in jar_names):
                    problems.append("the jar keeps module descriptors or signatures")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--cache-dir", type=Path, default=None, help=f"default {CACHE_DIR}")
    args = parser.parse_args(argv)
    try:
        path = build(args.output, args.cache_dir)
    except (BuildError, maven.ChecksumMismatch, OSError, subprocess.CalledProcessError) as error:
        _log(f"failed: {error}")
        return 1
    problems = layout_problems(path)
    for problem in problems:
        _log(f"layout: {problem}")
    print(path)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
