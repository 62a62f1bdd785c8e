"""The deployable zip: the same bytes on every build, the layout Managed Flink expects, and a jar
whose connectors plan the deployed job and write to a (stand-in) Firehose."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.flink.conftest import ROOT, flink_env, flink_python
from tools.flink import build

APP = ROOT / "flink_apps" / "anomaly_detection"


@pytest.fixture(scope="module")
def zips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two builds (artefacts from .cache/flink, which `make flink-app` fills; no network then)."""
    folder = tmp_path_factory.mktemp("flink-zip")
    return build.build(folder / "first.zip"), build.build(folder / "second.zip")


def test_two_builds_give_the_same_bytes(zips: tuple[Path, Path]) -> None:
    first, second = zips
    assert first.read_bytes() == second.read_bytes()


def test_the_layout_the_service_expects(zips: tuple[Path, Path]) -> None:
    path = zips[0]
    assert build.layout_problems(path) == []
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        shipped = sorted(n.removeprefix("python/anomaly_detection/") for n in names if n.startswith("python/anomaly_detection/"))
        assert shipped == sorted(p.name for p in APP.glob("*.py") if p.name not in build.NOT_SHIPPED)
        assert archive.read("main.py") == (APP / "main.py").read_bytes()
        assert archive.read("python/telemetry_contract.py") == (ROOT / "lambda_src" / "telemetry_contract.py").read_bytes()
        # The run options in the example properties name what the zip holds.
        options = {g["PropertyGroupId"]: g["PropertyMap"] for g in json.loads((APP / "application_properties.json").read_text())}
        run = options["kinesis.analytics.flink.run.options"]
        assert run["python"] in names and run["jarfile"] in names
        assert any(n.startswith(run["pyFiles"]) for n in names)


def _jar(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def _artifact(name: str):
    return build.Artifact("x", name, "1", "jar", "", "", 0)


def test_the_merge_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "DUPLICATE_WINNERS", {"a/Chosen.class": "second"})
    first = _jar(tmp_path / "1.jar", {
        "META-INF/MANIFEST.MF": b"x", "META-INF/LICENSE": b"L1", "META-INF/services/s.F": b"# c\none\n",
        "a/Same.class": b"s", "a/Chosen.class": b"first", "module-info.class": b"m", "META-INF/X.SF": b"sig",
    })
    second = _jar(tmp_path / "2.jar", {
        "META-INF/LICENSE": b"L2", "META-INF/services/s.F": b"one\ntwo\n", "a/Same.class": b"s", "a/Chosen.class": b"second",
    })
    data, report = build.merge_jars([(_artifact("first"), first), (_artifact("second"), second)])
    merged = zipfile.ZipFile(io.BytesIO(data))
    assert merged.namelist()[0] == "META-INF/MANIFEST.MF"
    assert merged.read("META-INF/services/s.F") == b"one\ntwo\n"
    assert merged.read("META-INF/licenses/first/LICENSE") == b"L1" and merged.read("META-INF/licenses/second/LICENSE") == b"L2"
    assert merged.read("a/Chosen.class") == b"second" and merged.read("a/Same.class") == b"s"
    assert "module-info.class" not in merged.namelist() and "META-INF/X.SF" not in merged.namelist()
    assert report["duplicates_resolved"] == {"a/Chosen.class": "second"}


def test_a_conflict_no_rule_settles_fails_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "DUPLICATE_WINNERS", {})
    first = _jar(tmp_path / "1.jar", {"a/B.class": b"1"})
    second = _jar(tmp_path / "2.jar", {"a/B.class": b"2"})
    with pytest.raises(build.BuildError, match=r"a/B.class \(first vs second\)"):
        build.merge_jars([(_artifact("first"), first), (_artifact("second"), second)])


def test_a_stale_winner_rule_fails_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "DUPLICATE_WINNERS", {"a/Gone.class": "second"})
    with pytest.raises(build.BuildError, match="not duplicated"):
        build.merge_jars([(_artifact("first"), _jar(tmp_path / "1.jar", {"a/B.class": b"1"}))])


@pytest.mark.flink
def test_the_jar_plans_the_deployed_job_and_writes_to_firehose(zips: tuple[Path, Path], tmp_path: Path) -> None:
    with zipfile.ZipFile(zips[0]) as archive:
        jar = tmp_path / "connectors.jar"
        jar.write_bytes(archive.read(build.JAR_ENTRY))
    done = subprocess.run(
        [str(flink_python()), "-m", "tests.flink.check_jar", str(jar), str(APP / "application_properties.json")],
        env=flink_env(), cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    vertices = " | ".join(result["vertices"])
    for part in ("Source: telemetry_records", "parse readings", "detect anomalies", "publish to the alarm topic", "firehose anomaly sink"):
        assert part in vertices
    assert "Invalid efo consumer arn settings for not providing consumer arns" in result["refusal_without_consumer_arn"]
    # Throttled once (503), then every line delivered, newline-terminated, to the named stream.
    requests = result["round_trip"]["requests"]
    assert [r["refused"] for r in requests] == [True, False] and result["round_trip"]["failure"] == ""
    assert requests[1]["stream"] == "anomalies-local"
    assert sorted(requests[1]["records"]) == [json.dumps({"record_type": "anomaly", "n": n}) + "\n" for n in range(5)]
    # A fatal error is classified as such (by the classes the merge chose) and fails the job.
    assert "Encountered non-recoverable exception: AccessDeniedException" in result["access_denied"]["failure"]
