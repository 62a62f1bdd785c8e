"""A raw line that is not valid UTF-8 (issue 16): Spark's text reader keeps its bytes, but any
string function or writer would replace the bad ones with U+FFFD. It is quarantined as
``not_utf8`` with its exact bytes in ``raw_line_base64``."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

from pyspark.sql import SparkSession

from glue_scripts import raw_to_curated as job
from tests.glue import tables
from tests.glue.conftest import SHUFFLE_PARTITIONS
from tests.glue.readings import T0, line, normalised

GOOD = line(normalised()).encode()
BAD_BYTES = [
    GOOD.replace(b'"hamburg"', b'"ham\xffburg"'),  # a byte that never occurs in UTF-8
    GOOD.replace(b'"hamburg"', b'"\xed\xa0\xbd"'),  # an encoded surrogate (CESU-8)
    GOOD.replace(b'"hamburg"', b'"\xc3"'),  # a truncated sequence
    b"\xff\xfe{}",  # UTF-16 byte order mark
]
VALID_NON_ASCII = GOOD.replace(b'"hamburg"', '"Lübeck \ufffd"'.encode())  # a real U+FFFD is valid text


def test_lines_that_are_not_utf8_are_quarantined_with_their_exact_bytes(spark: SparkSession, tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "telemetry" / f"event_date={T0.date()}" / "event_hour=08"
    raw.mkdir(parents=True)
    (raw / "a.gz").write_bytes(gzip.compress(b"\n".join([*BAD_BYTES, VALID_NON_ASCII, GOOD]) + b"\n"))
    summary = job.run_local([
        "--local", "--input", str(tmp_path / "raw"), "--output", str(tmp_path / "out"), "--run-id", "bytes",
        "--master", "local[1]", "--shuffle-partitions", str(SHUFFLE_PARTITIONS),
    ])
    # GOOD and VALID_NON_ASCII share a key: one of them is the duplicate.
    assert summary["quarantined_by_reason"] == {job.NOT_UTF8: len(BAD_BYTES), job.DUPLICATE: 1}

    rows = [row.asDict() for row in tables.quarantine(spark, tmp_path / "out").collect()]
    assert [list(row) for row in rows] == [[name for name, _ in job.QUARANTINE_COLUMNS]] * len(rows)
    kept = sorted(base64.b64decode(row["raw_line_base64"]) for row in rows if row["reason"] == job.NOT_UTF8)
    assert kept == sorted(BAD_BYTES)
    assert all(row["raw_line_base64"] is None for row in rows if row["reason"] != job.NOT_UTF8)
